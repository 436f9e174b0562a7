"""Candidate retrieval for large catalogues: the top-n items by inner product for many users.

`build_index(item_vectors, kind)` returns an index with `search(query_vectors, n)` giving
`(scores, indices)`, both (B, n), best first; where fewer than n items can be returned the
row is padded with index -1 and score -inf.

- `exact`: torch matmul + top-k over blocks of items and users, merged as it goes, so memory
  stays at one (user block × item block) score tile whatever the catalogue size.
- `faiss`: an inverted-file index (IVF, inner-product metric) from the optional `faiss-cpu`
  package; `nprobe` (lists scanned per query) can be tuned on sample queries to reach a
  target recall against the exact answer (`FaissIndex.tune`).
- `auto`: FAISS when it is installed and the catalogue has at least `AUTO_FAISS_MIN_ITEMS`
  items, exact otherwise (exact search on a small catalogue is already fast and exact).
"""

from __future__ import annotations

import importlib.util
import math
from typing import Any, Protocol

import numpy as np
import torch

from engine.core.device import resolve_device
from engine.core.errors import ConfigError, RequestError

KINDS = ("auto", "exact", "faiss")
AUTO_FAISS_MIN_ITEMS = 100_000
ITEM_BLOCK = 65_536  # items per score tile
QUERY_BLOCK = 1_024  # users per score tile
FAISS_INSTALL_HINT = "pip install prism-studio[ann]"


class VectorIndex(Protocol):
    """What every index offers: the item count and a top-n search."""

    n_items: int

    def search(self, query_vectors: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]: ...


def faiss_available() -> bool:
    """True when the optional `faiss` package can be imported."""
    return importlib.util.find_spec("faiss") is not None


def _as_matrix(values: np.ndarray, name: str, dim: int | None = None) -> np.ndarray:
    """A C-contiguous float32 2-D array of finite values; RequestError naming `name` otherwise."""
    matrix = np.ascontiguousarray(np.asarray(values, dtype=np.float32))
    if matrix.ndim != 2:
        raise RequestError(f"{name} must be a 2-D array (rows, dim), got shape {matrix.shape}")
    if dim is not None and matrix.shape[1] != dim:
        raise RequestError(f"{name} must have {dim} columns (the item vectors' width), "
                           f"got {matrix.shape[1]}")
    if not np.isfinite(matrix).all():
        raise RequestError(f"{name} holds NaN or infinite values")
    return matrix


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise RequestError(f"n (results per query) must be a positive integer, got {n!r}")
    return int(n)


def _device(name: str) -> torch.device:
    return resolve_device(name, "ann device")


def _pad(scores: np.ndarray, indices: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Widen (B, m) results to (B, n) with -inf scores and -1 indices."""
    if scores.shape[1] >= n:
        return scores, indices
    extra = n - scores.shape[1]
    rows = scores.shape[0]
    return (np.hstack([scores, np.full((rows, extra), -np.inf, np.float32)]),
            np.hstack([indices, np.full((rows, extra), -1, np.int64)]))


class ExactIndex:
    """Exact maximum-inner-product search with memory-bounded torch matmul + top-k."""

    def __init__(self, item_vectors: np.ndarray, *, device: str = "auto",
                 item_block: int = ITEM_BLOCK, query_block: int = QUERY_BLOCK):
        if item_block < 1 or query_block < 1:
            raise ConfigError("ann item_block and query_block must be >= 1")
        self.device = _device(device)
        items = _as_matrix(item_vectors, "item_vectors")
        self.items = torch.from_numpy(items).to(self.device)  # (N, d)
        self.n_items, self.dim = items.shape
        self.item_block, self.query_block = item_block, query_block

    def search(self, query_vectors: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(B, n) scores and item indices by descending inner product."""
        n = _check_n(n)
        queries = _as_matrix(query_vectors, "query_vectors", self.dim)
        width = min(n, self.n_items)
        scores = np.empty((len(queries), width), np.float32)
        indices = np.empty((len(queries), width), np.int64)
        with torch.no_grad():
            for start in range(0, len(queries), self.query_block):
                block = torch.from_numpy(queries[start:start + self.query_block]).to(self.device)
                top_s, top_i = self._search_block(block, width)
                scores[start:start + len(block)] = top_s.float().cpu().numpy()
                indices[start:start + len(block)] = top_i.cpu().numpy()
        return _pad(scores, indices, n)

    def _search_block(self, queries: torch.Tensor, width: int
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """Running top-`width` over item blocks for one block of queries (b, d)."""
        best_s = queries.new_empty((len(queries), 0))
        best_i = torch.empty((len(queries), 0), dtype=torch.long, device=queries.device)
        for begin in range(0, self.n_items, self.item_block):
            tile = queries @ self.items[begin:begin + self.item_block].T  # (b, block)
            take = min(width, tile.shape[1])
            tile_s, tile_i = torch.topk(tile, take, dim=1)
            merged_s = torch.cat([best_s, tile_s], dim=1)  # (b, <= 2 * width)
            merged_i = torch.cat([best_i, tile_i + begin], dim=1)
            best_s, order = torch.topk(merged_s, min(width, merged_s.shape[1]), dim=1)
            best_i = torch.gather(merged_i, 1, order)
        return best_s, best_i


class FaissIndex:
    """Approximate inner-product search through a FAISS IVF-Flat index."""

    def __init__(self, item_vectors: np.ndarray, *, n_lists: int | None = None,
                 nprobe: int = 16, seed: int = 0, train_size: int = 100_000):
        faiss = _import_faiss()
        items = _as_matrix(item_vectors, "item_vectors")
        self.n_items, self.dim = items.shape
        self.items = items  # kept (not copied when already float32) for `tune`
        self.n_lists = n_lists or default_n_lists(self.n_items, train_size)
        if not 1 <= self.n_lists <= self.n_items:
            raise ConfigError(f"ann n_lists must be in 1..{self.n_items} (the item count), "
                              f"got {self.n_lists}")
        quantizer = faiss.IndexFlatIP(self.dim)
        self.index = faiss.IndexIVFFlat(quantizer, self.dim, self.n_lists,
                                        faiss.METRIC_INNER_PRODUCT)
        self.index.cp.seed = seed
        rng = np.random.default_rng(seed)
        sample = items if len(items) <= train_size else \
            items[np.sort(rng.choice(len(items), train_size, replace=False))]
        self.index.train(sample)
        self.index.add(items)
        self.nprobe = nprobe

    @property
    def nprobe(self) -> int:
        """Inverted lists scanned per query: higher is slower and closer to exact."""
        return int(self.index.nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if value < 1:
            raise ConfigError(f"ann nprobe must be >= 1, got {value}")
        self.index.nprobe = int(min(value, self.n_lists))

    def search(self, query_vectors: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(B, n) approximate scores and item indices, best first (-1 / -inf pad short rows)."""
        n = _check_n(n)
        queries = _as_matrix(query_vectors, "query_vectors", self.dim)
        scores, indices = self.index.search(queries, n)
        scores = scores.astype(np.float32)
        scores[indices < 0] = -np.inf
        return scores, indices.astype(np.int64)

    def tune(self, sample_queries: np.ndarray, n: int, target_recall: float = 0.95,
             exact: ExactIndex | None = None) -> float:
        """Smallest power-of-two nprobe whose recall@n vs exact reaches `target_recall`.

        Sets `nprobe` and returns the recall reached on `sample_queries` (the last one tried
        when even scanning every list falls short, which cannot happen for IVF-Flat).
        """
        if not 0.0 < target_recall <= 1.0:
            raise ConfigError(f"target_recall must be in (0, 1], got {target_recall!r}")
        exact = exact or ExactIndex(self.items, device="cpu")
        _, truth = exact.search(sample_queries, n)
        probe, reached = 1, 0.0
        while True:
            self.nprobe = probe
            reached = recall_at_n(self.search(sample_queries, n)[1], truth)
            if reached >= target_recall or probe >= self.n_lists:
                return reached
            probe *= 2


def default_n_lists(n_items: int, train_size: int = 100_000) -> int:
    """About 4·sqrt(N) inverted lists, at most one per 39 training vectors (FAISS's floor)."""
    return max(1, min(int(4 * math.sqrt(n_items)), min(n_items, train_size) // 39))


def _import_faiss() -> Any:
    """The optional faiss module, or a ConfigError saying how to install it."""
    try:
        import faiss
    except ImportError as exc:
        raise ConfigError(f"ann kind 'faiss' needs the optional faiss package: "
                          f"{FAISS_INSTALL_HINT}") from exc
    return faiss


def recall_at_n(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean over rows of |found ∩ truth| / |truth| (valid entries only; -1 pads ignored)."""
    found, truth = np.asarray(found), np.asarray(truth)
    if found.shape[0] != truth.shape[0]:
        raise RequestError(f"found and truth need the same number of rows, "
                           f"got {found.shape[0]} and {truth.shape[0]}")
    hits, totals = 0, 0
    for got, want in zip(found, truth, strict=True):
        want = want[want >= 0]
        hits += len(np.intersect1d(got[got >= 0], want, assume_unique=False))
        totals += len(want)
    return hits / totals if totals else 1.0


def build_index(item_vectors: np.ndarray, kind: str = "auto", *, device: str = "auto",
                n_lists: int | None = None, nprobe: int = 16,
                tune_queries: np.ndarray | None = None, tune_n: int = 200,
                target_recall: float = 0.95, seed: int = 0) -> ExactIndex | FaissIndex:
    """An index over `item_vectors` (N, d); see the module docstring for the kinds.

    With `tune_queries`, a FAISS index picks the smallest nprobe reaching `target_recall`
    for the top `tune_n`; without, it uses `nprobe`.
    """
    if kind not in KINDS:
        raise ConfigError(f"ann kind must be one of {', '.join(KINDS)}, got {kind!r}")
    n_items = np.shape(item_vectors)[0] if np.ndim(item_vectors) == 2 else 0
    use_faiss = kind == "faiss" or (kind == "auto" and faiss_available()
                                    and n_items >= AUTO_FAISS_MIN_ITEMS)
    if not use_faiss:
        return ExactIndex(item_vectors, device=device)
    index = FaissIndex(item_vectors, n_lists=n_lists, nprobe=nprobe, seed=seed)
    if tune_queries is not None:
        index.tune(tune_queries, tune_n, target_recall,
                   exact=ExactIndex(item_vectors, device=device))
    return index
