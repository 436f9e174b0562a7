"""Request checks and input preparation shared by every re-ranker.

Every problem raises `RequestError` naming the argument, so the CLI and the API can show it.
"""

from __future__ import annotations

import numpy as np

from engine.core.errors import RequestError
from engine.rerank.methods import NEEDS_SIMILARITY


def check_matrix(values: np.ndarray | None, name: str, n_rows: int,
                 rows_named: str) -> np.ndarray | None:
    """A finite float64 2-D array with `n_rows` rows (one per `rows_named`), or None."""
    if values is None:
        return None
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != n_rows:
        raise RequestError(f"{name} must have shape ({n_rows}, ...) — one row per "
                           f"{rows_named[:-1]} — got {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise RequestError(f"{name} holds NaN or infinite values")
    return matrix


def check_nonzero_rows(vectors: np.ndarray, name: str) -> None:
    """RequestError on a zero row: cosine similarity needs a length for every row (the plan
    scales them, `engine.rerank.plan.plan_arrays`)."""
    zero = np.linalg.norm(vectors, axis=-1) == 0
    if zero.any():
        bad = int(np.argmax(zero))
        raise RequestError(f"{name} row {bad} is all zeros; cosine similarity needs a "
                           f"non-zero vector for every item")


def check_categories(categories: np.ndarray | None) -> np.ndarray | None:
    """Row-normalised category matrix: non-negative, every row with some mass."""
    if categories is None:
        return None
    if categories.min(initial=0.0) < 0:
        raise RequestError("item_categories must be non-negative (a row-stochastic matrix)")
    sums = categories.sum(axis=1, keepdims=True)
    if np.any(sums <= 0):
        bad = int(np.argmax(sums.reshape(-1) <= 0))
        raise RequestError(f"item_categories row {bad} has no category mass")
    return categories / sums


def check_target(target: np.ndarray | None, n_categories: int, name: str = "target",
                 ) -> np.ndarray | None:
    """A category distribution over `n_categories`, normalised to sum 1."""
    if target is None:
        return None
    dist = np.asarray(target, dtype=np.float64)
    if dist.shape[-1:] != (n_categories,):
        raise RequestError(f"{name} must have {n_categories} entries (one per category column "
                           f"of item_categories), got shape {dist.shape}")
    if not np.all(np.isfinite(dist)) or dist.min(initial=0.0) < 0:
        raise RequestError(f"{name} must hold finite, non-negative category weights")
    sums = dist.sum(axis=-1, keepdims=True)
    if np.any(sums <= 0):
        raise RequestError(f"{name} has no mass; give at least one category a positive weight")
    return dist / sums


def check_method_inputs(method: str, vectors: np.ndarray | None, categories: np.ndarray | None,
                        target: np.ndarray | None) -> None:
    """The arrays each method needs are present."""
    if method in NEEDS_SIMILARITY and vectors is None and categories is None:
        raise RequestError(f"method {method!r} needs item_vectors or item_categories to "
                           f"measure similarity")
    if method in ("calibrated", "quota") and categories is None:
        raise RequestError(f"method {method!r} needs item_categories")
    if method == "calibrated" and target is None:
        raise RequestError("method 'calibrated' needs a target: the user's category "
                           "distribution or a merchandiser's target, one weight per category")


def check_relevance(relevance: np.ndarray, ndim: int) -> np.ndarray:
    scores = np.asarray(relevance, dtype=np.float64)
    if scores.ndim != ndim:
        shape = "(N,)" if ndim == 1 else "(B, N)"
        raise RequestError(f"relevance must have shape {shape}, got {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise RequestError("relevance holds NaN or infinite scores")
    return scores
