"""How well a shopper's question matches each FAQ entry: meaning from two text views, and words.

An entry's similarity to a question is the mean of two cosines, through the same encoder as
the catalogue's item text: the question against the entry's own question, and against its
question and answer together (a paraphrase matches the question; a question about a detail
the answer gives matches the whole entry). Words are the evidence a match is good, as in
product search (`engine.text.matching`): a question word in the FAQ (BM25 over question and
answer, `bm25s`), or a similarity above the best a set of nonsense probes reaches in this FAQ.
The entry vectors are encoded once per FAQ text and kept in a file named by its digest.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import bm25s
import numpy as np
import pandas as pd

from engine.text.lexical import _stopwords, words
from engine.text.matching import QueryMatch, nonsense_probes
from engine.text.search import TextIndex, write_search_vectors

QUESTION, ANSWER = "question", "answer"


def faq_views(faq: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Per entry: its question, and its question and answer together."""
    questions = faq[QUESTION].fillna("").astype(str).tolist()
    answers = faq[ANSWER].fillna("").astype(str).tolist()
    return questions, [f"{q} {a}" for q, a in zip(questions, answers, strict=True)]


def faq_digest(faq: pd.DataFrame, encoder: str) -> str:
    """A short digest of the FAQ text and the encoder: the name of its vectors' file."""
    questions, whole = faq_views(faq)
    blob = "\x1f".join([encoder, *questions, *whole]).encode("utf-8", "surrogatepass")
    return hashlib.sha256(blob).hexdigest()[:16]


class FaqBM25:
    """BM25 over each entry's question and answer words (the word evidence, and a baseline)."""

    def __init__(self, faq: pd.DataFrame) -> None:
        self._words, self._stop = words, _stopwords()
        self.n = len(faq)
        self._bm25 = bm25s.BM25()
        self._bm25.index([words(text) for text in faq_views(faq)[1]], show_progress=False)
        self._vocabulary = set(self._bm25.vocab_dict) - {""}

    def matched_words(self, question: str) -> list[str]:
        """The question's words (not stopwords) that occur in some entry."""
        found = dict.fromkeys(w for w in self._words(question) if w not in self._stop)
        return [w for w in found if w in self._vocabulary]

    def scores(self, question: str) -> np.ndarray:
        """(n,) BM25 score of each entry for the question's matched words (0 for none)."""
        matched = self.matched_words(question)
        if not matched or self.n == 0:
            return np.zeros(self.n)
        return np.asarray(self._bm25.get_scores(matched), dtype=np.float64)


class FaqIndex:
    """The FAQ's entry vectors (both views), its word index and its nonsense ceiling."""

    def __init__(self, faq: pd.DataFrame, text: TextIndex, cache_dir: Path | None = None) -> None:
        self.faq = faq.reset_index(drop=True)
        self.text = text
        self.cache_dir = cache_dir
        self.words = FaqBM25(self.faq)
        self._lock = threading.Lock()
        self._vectors: tuple[np.ndarray, np.ndarray] | None = None
        self._ceiling: float | None = None

    def _cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        name = self.text.config.model_name_or_path or "bundled"
        return Path(self.cache_dir) / f"faq-{faq_digest(self.faq, name)}.npy"

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(question vectors, question-and-answer vectors), encoded once (or read back)."""
        with self._lock:
            if self._vectors is None:
                self._vectors = self._load_or_encode()
            return self._vectors

    def _load_or_encode(self) -> tuple[np.ndarray, np.ndarray]:
        path, n = self._cache_path(), len(self.faq)
        if path is not None and path.is_file():
            stored = np.load(path, allow_pickle=False)
            if stored.ndim == 2 and len(stored) == 2 * n:
                return stored[:n], stored[n:]
        questions, whole = faq_views(self.faq)
        vectors = self.text.encode(questions + whole) if n else np.zeros((0, 1), np.float32)
        if path is not None:
            write_search_vectors(path.parent, vectors, path.name)
        return vectors[:n], vectors[n:]

    def similarity(self, vector: np.ndarray) -> np.ndarray:
        """(n,) mean of the two cosines of a unit query vector to each entry."""
        questions, whole = self.vectors()
        return 0.5 * (questions @ vector) + 0.5 * (whole @ vector)

    def _ceiling_value(self) -> float:
        with self._lock:
            cached = self._ceiling
        if cached is None:
            probes = self.text.encode(nonsense_probes(), cached=False)
            cached = float(self.similarity(probes.T).max()) if len(self.faq) else 1.0
            with self._lock:
                self._ceiling = cached
        return cached

    def match(self, question: str) -> QueryMatch:
        """How `question` matches each entry, with the evidence that it matches at all."""
        similarity = self.similarity(self.text.encode_query(question))
        return QueryMatch(similarity=np.asarray(similarity, dtype=np.float64),
                          words=self.words.matched_words(question),
                          ceiling=self._ceiling_value())
