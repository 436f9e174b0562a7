"""How well a search query matches each item: meaning from two text views, and words.

An item's similarity to a query is the mean of two cosines of MiniLM-style embeddings: the
query against the item's whole text (title, category, brand, description) and against its
title alone — a title says what the product is, a description can talk about anything
("safety glasses" finds "Protective Eyewear" by its title, not a glass printer bed whose
description mentions safety). A query matches well when the catalogue holds one of its words
(`engine.text.lexical`), or when its best similarity exceeds the ceiling: the highest any of
a fixed set of nonsense probes reaches in this catalogue, measured per catalogue and encoder
instead of a fixed cut-off.
"""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.core.columns import TITLE
from engine.core.config import EncoderConfig
from engine.text.lexical import LexicalIndex
from engine.text.search import (
    TextIndex,
    ensure_run_vectors,
)

SEARCH_TITLES = "search_titles.npy"  # title vectors beside the run's tensors
N_PROBES = 24
PROBE_SEED = 0


class TitleIndex(TextIndex):
    """A TextIndex over item titles alone; with `share`, it encodes through that index's
    encoders (one model load serves both text views)."""

    def __init__(self, config: EncoderConfig, stored: np.ndarray | None = None,
                 share: TextIndex | None = None) -> None:
        super().__init__(config, stored)
        self._share = share

    def _get_encoder(self, cached: bool) -> Any:
        if self._share is not None:
            return self._share._get_encoder(cached)
        return super()._get_encoder(cached)

    def texts(self, items: pd.DataFrame) -> list[str]:
        titles = items[TITLE] if TITLE in items else pd.Series("", index=items.index)
        return titles.fillna("").astype(str).str.strip().tolist()


def stored_title_embeddings(run_path: Path) -> np.ndarray | None:
    """(n_items, d) title vectors saved with the run, or None."""
    path = Path(run_path) / SEARCH_TITLES
    if not path.exists():
        return None
    vectors = np.load(path, allow_pickle=False).astype(np.float32, copy=False)
    return vectors if vectors.ndim == 2 and vectors.shape[1] > 0 else None


def nonsense_probes(n: int = N_PROBES, seed: int = PROBE_SEED) -> list[str]:
    """`n` seeded strings of 4 to 9 random letters: queries that mean nothing."""
    rng = random.Random(seed)
    return ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 9)))
            for _ in range(n)]


@dataclass(frozen=True)
class QueryMatch:
    """A query's similarity to every item, and the evidence that it matches at all."""

    similarity: np.ndarray  # (n_items,) mean of the text and title cosines
    words: list[str]  # the query's words found in the catalogue's titles, categories, brands
    ceiling: float  # the best similarity a nonsense probe reaches in this catalogue
    best: float = field(init=False)

    def __post_init__(self) -> None:
        best = float(self.similarity.max()) if len(self.similarity) else 0.0
        object.__setattr__(self, "best", best)

    @property
    def good(self) -> bool:
        """True when a word matches or the meaning beats every nonsense probe."""
        return bool(self.words) or self.best > self.ceiling


class SearchIndex:
    """Both text views, the word index and the nonsense ceiling, per catalogue size."""

    def __init__(self, text: TextIndex, titles: TitleIndex) -> None:
        self.text, self.titles = text, titles
        self._lock = threading.Lock()
        self._lexical: LexicalIndex | None = None
        self._ceiling: tuple[int, float] | None = None

    def ready(self, n_items: int) -> bool:
        """True when both views hold vectors for every item (a search answers at once)."""
        return self.text.known(n_items) is not None and self.titles.known(n_items) is not None

    def prepare(self, items: pd.DataFrame,
                progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray,
                                                                              np.ndarray]:
        """Encode what is missing of both views (progress over both) and return them."""
        views = (self.text, self.titles)
        missing = [max(0, len(items) - view.n_known()) for view in views]
        out = []
        for view, offset in zip(views, (0, missing[0]), strict=True):
            tell = None if progress is None else (
                lambda done, _total, offset=offset: progress(offset + done, sum(missing)))
            out.append(view.item_embeddings(items, progress=tell))
        return out[0], out[1]

    def _lexical_for(self, items: pd.DataFrame) -> LexicalIndex:
        with self._lock:
            if self._lexical is None or self._lexical.n_items != len(items):
                self._lexical = LexicalIndex(items)
            return self._lexical

    def _ceiling_for(self, text: np.ndarray, titles: np.ndarray) -> float:
        with self._lock:
            if self._ceiling is None or self._ceiling[0] != len(text):
                probes = self.text.encode(nonsense_probes(), cached=False)  # (P, d)
                similarity = 0.5 * (probes @ text.T) + 0.5 * (probes @ titles.T)
                self._ceiling = (len(text), float(similarity.max()) if similarity.size else 1.0)
            return self._ceiling[1]

    def match(self, items: pd.DataFrame, query: str) -> QueryMatch:
        """How `query` matches each item of `items` (encoding what is missing first)."""
        text, titles = self.prepare(items)
        vector = self.text.encode_query(query)
        similarity = 0.5 * (text @ vector) + 0.5 * (titles @ vector)
        return QueryMatch(similarity=similarity,
                          words=self._lexical_for(items).matched_words(query),
                          ceiling=self._ceiling_for(text, titles))


def ensure_title_vectors(run_path: str | Path,
                         progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """The run's item title vectors (search's second text view), encoded and saved once."""
    return ensure_run_vectors(run_path, stored_title_embeddings(Path(run_path)), TitleIndex,
                              SEARCH_TITLES, progress)
