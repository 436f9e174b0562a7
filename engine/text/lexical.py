"""Word matches between a search query and the catalogue: BM25 over each item's title,
category and brand (the `bm25s` package), and the words of a query the catalogue holds.

Search ranks by meaning (text embeddings, `engine.text.matching`); the words are its
evidence: a query none of whose words occur in the catalogue ("zzqxj") matches only when
its meaning is closer than any nonsense probe gets. Words are runs of two or more letters or
digits, lower-cased; Chinese text, written without spaces, counts each character and each
pair of neighbouring characters as a word.
"""

from __future__ import annotations

import re

import bm25s
import numpy as np
import pandas as pd
from bm25s.stopwords import STOPWORDS_EN

from engine.core.columns import (
    BRAND,
    CATEGORY,
    CATEGORY_SEP,
    MULTI_CATEGORY_SEP,
    TITLE,
    UNKNOWN_CATEGORY,
)

WORD = re.compile(r"[^\W_]{2,}")
CJK = re.compile(r"[\u3400-\u9fff]+")


def _stopwords() -> frozenset[str]:
    return frozenset(STOPWORDS_EN)


def words(text: str) -> list[str]:
    """The words of `text` as BM25 counts them (see the module docstring)."""
    lowered = str(text).lower()
    found = [w for w in WORD.findall(CJK.sub(" ", lowered))]
    for run in CJK.findall(lowered):
        found += list(run) + [run[i:i + 2] for i in range(len(run) - 1)]
    return found


def field_text(items: pd.DataFrame) -> list[str]:
    """Per item the fields words are matched in: title, category path and brand."""
    parts = [items[c].fillna("").astype(str) if c in items else pd.Series("", index=items.index)
             for c in (TITLE, CATEGORY, BRAND)]
    return (parts[0] + " " + parts[1] + " " + parts[2]).tolist()


class LexicalIndex:
    """BM25 over the catalogue's title, category and brand words."""

    def __init__(self, items: pd.DataFrame) -> None:
        self.n_items = len(items)
        corpus = [words(text) for text in field_text(items)]
        self._stop = _stopwords()
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)
        self._vocabulary = set(self._bm25.vocab_dict) - {""}

    def query_words(self, query: str) -> list[str]:
        """The query's words that count: not stopwords, each once, in order."""
        return list(dict.fromkeys(w for w in words(query) if w not in self._stop))

    def matched_words(self, query: str) -> list[str]:
        """The query's words that occur in at least one item's title, category or brand."""
        return [w for w in self.query_words(query) if w in self._vocabulary]

    def scores(self, query: str) -> np.ndarray:
        """(n_items,) BM25 score of each item for the query's matched words (0 for none)."""
        matched = self.matched_words(query)
        if not matched or self.n_items == 0:
            return np.zeros(self.n_items)
        return np.asarray(self._bm25.get_scores(matched), dtype=np.float64)


def suggested_queries(items: pd.DataFrame, n: int = 6) -> list[str]:
    """The names of the catalogue's `n` largest diversity categories (their deepest level),
    as example queries: whole names ("Tapes, Adhesives & Sealants"), never "unknown"."""
    paths = items["div_category"] if "div_category" in items else items.get(CATEGORY)
    if paths is None:
        return []
    first = paths.fillna("").astype(str).str.split(MULTI_CATEGORY_SEP, regex=False).str[0]
    labels = first.str.split(CATEGORY_SEP, regex=False).str[-1].str.strip()
    labels = labels[(labels.str.len() > 0) & (labels != UNKNOWN_CATEGORY)]
    return labels.value_counts().index[:n].tolist()
