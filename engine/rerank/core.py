"""The re-rankers' array entry points, `rerank` for one list and `rerank_batch` for many
users, and the checks of their arguments.

Both rank through the one pipeline (`engine.rerank.pipeline.rank_candidates`): the method,
weight and quotas become a plan with one diversify step, the same plan a plain request and a
policy compile to. Each slot takes the candidate maximising (1 − w)·rel + the method's
diversity term (`engine.rerank.greedy`), rel being the candidates' score min-max scaled to
[0, 1]; quotas constrain every method as in serving (`engine.rerank.constrained`). Ties go
to the more relevant candidate, then the lower index, so w = 0 gives the relevance order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.core.checks import check_k, check_weight
from engine.core.device import resolve_device
from engine.core.errors import ConfigError, RequestError
from engine.rerank.methods import NEEDS_SIMILARITY, check_method
from engine.rerank.pipeline import rank_candidates
from engine.rerank.plan import Diversify, RankPlan, diversify_plan, plan_arrays
from engine.rerank.quotas import Quotas, check_quota_columns

BLOCK_ELEMENTS = 4_000_000  # (users × candidates × features) per block


@dataclass(frozen=True)
class RerankResult:
    """Per slot: `order` (indices into the candidate arrays), the (1 − w)·rel term, the
    diversity term at the time of choice, their sum, and `fallback` (True where DPP had no
    diversity gain left and the slot was filled in relevance order)."""

    order: np.ndarray
    relevance_part: np.ndarray
    diversity_part: np.ndarray
    objective: np.ndarray
    fallback: np.ndarray


# ---- argument checks: each problem raises RequestError naming the argument ----------------
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


def check_distributions(weights: np.ndarray, name: str) -> np.ndarray:
    """Category weights (item_categories' rows, targets) with every row scaled to sum 1:
    finite, non-negative, every row with some mass."""
    if not np.all(np.isfinite(weights)) or weights.min(initial=0.0) < 0:
        raise RequestError(f"{name} must hold finite, non-negative category weights")
    sums = weights.sum(axis=-1, keepdims=True)
    if np.any(sums <= 0):
        row = f" row {np.argmax(sums.reshape(-1) <= 0)}" if weights.ndim > 1 else ""
        raise RequestError(f"{name}{row} has no category mass; give at least one category a "
                           f"positive weight")
    return weights / sums


def check_target(target: np.ndarray | None, shape: tuple[int, ...], name: str,
                 ) -> np.ndarray | None:
    """Category distributions of `shape`: (C,) for one list, (B, C) one per user of a batch,
    C the category columns of item_categories; each normalised to sum 1."""
    if target is None:
        return None
    dist = np.asarray(target, dtype=np.float64)
    if dist.shape != shape:
        raise RequestError(f"{name} must have shape {shape}: one weight per category column "
                           f"of item_categories, a row per list, got shape {dist.shape}")
    return check_distributions(dist, name)


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


def _check_candidates(candidates: np.ndarray, shape: tuple[int, ...], n_items: int | None,
                      ) -> np.ndarray:
    items = np.asarray(candidates)
    if items.shape != shape:
        raise RequestError(f"candidates must have the shape of relevance {shape}, got "
                           f"{items.shape}")
    if items.size and not np.issubdtype(items.dtype, np.integer):
        raise RequestError(f"candidates must hold integer item indices, got {items.dtype}")
    if items.size and (items.min() < -1 or (n_items is not None and items.max() >= n_items)):
        raise RequestError(f"candidates hold item indices outside 0..{(n_items or 0) - 1}")
    return items.astype(np.int64, copy=False)


def _request_plan(method: str, k: int, diversity_weight: float, n_candidates: int,
                  n_rows: int, item_vectors: np.ndarray | None,
                  item_categories: np.ndarray | None, target: np.ndarray | None,
                  quotas: Quotas | None, pool: str, target_rows: tuple[int, ...],
                  ) -> tuple[RankPlan, np.ndarray | None, int]:
    """The checked arguments as a plan with one diversify step (and the quotas) over `n_rows`
    items drawn from `pool` ('candidates' for one list, 'catalogue items' for a batch); also
    the normalised target (shape `target_rows` + (C,): () for one list, (B,) for a batch) and
    the list length."""
    check_method(method)
    check_k(k)
    weight = check_weight(diversity_weight)
    vectors = check_matrix(item_vectors, "item_vectors", n_rows, pool)
    if vectors is not None:
        check_nonzero_rows(vectors, "item_vectors")
    categories = check_matrix(item_categories, "item_categories", n_rows, pool)
    if categories is not None:
        categories = check_distributions(categories, "item_categories")
    if target is not None and categories is None:
        raise RequestError("target needs item_categories (one target weight per column)")
    dist = None if categories is None else check_target(
        target, (*target_rows, categories.shape[1]), "targets" if target_rows else "target")
    check_method_inputs(method, vectors, categories, dist)
    n_slots = min(k, n_candidates)
    columns = np.zeros((n_rows, 0)) if categories is None else categories
    if quotas:
        if categories is None:
            raise RequestError("quotas need item_categories to know each candidate's category")
        quotas = check_quota_columns(quotas, categories, n_slots, pool)
    plan = diversify_plan(Diversify(method, weight), n_candidates,
                          plan_arrays(columns, vectors, np.float64),
                          category_names=[str(c) for c in range(columns.shape[1])], quotas=quotas)
    return plan, dist, n_slots


def rerank(method: str, relevance: np.ndarray, k: int, diversity_weight: float, *,
           item_vectors: np.ndarray | None = None, item_categories: np.ndarray | None = None,
           target: np.ndarray | None = None, quotas: Quotas | None = None) -> RerankResult:
    """Re-rank one user's N candidates into a list of up to min(k, N); see the module
    docstring. `item_vectors (N, d)` give cosine similarity (else the `(N, C)` category rows
    do); `target (C,)` is the calibrated method's distribution; `quotas` maps a category
    column to (floor, cap). Bad arguments raise `RequestError` naming the argument."""
    scores = check_relevance(relevance, 1)
    plan, dist, n_slots = _request_plan(method, k, diversity_weight, len(scores), len(scores),
                                        item_vectors, item_categories, target, quotas,
                                        "candidates", ())
    outcome = rank_candidates(plan, np.arange(len(scores))[None], scores[None], n_slots,
                              None if dist is None else dist[None])
    n = int((outcome.order[0] >= 0).sum())
    rel = (1.0 - plan.diversify.weight) * outcome.relevance[0, :n]
    div = outcome.diversity[0, :n]
    return RerankResult(order=outcome.order[0, :n].astype(np.int64), relevance_part=rel,
                        diversity_part=div, objective=rel + div,
                        fallback=outcome.fallback[0, :n])


def rerank_device(device: str) -> Any:
    """None for numpy, else the torch device to run on ('auto': CUDA when present, else
    numpy)."""
    if device == "numpy":
        return None
    try:
        resolved = resolve_device(device, "re-rank device")
    except ConfigError as exc:
        raise RequestError(f"{exc} ('numpy' runs without torch)") from None
    return None if device == "auto" and resolved.type != "cuda" else resolved


def rerank_batch(method: str, relevance: np.ndarray, candidates: np.ndarray, k: int,
                 diversity_weight: float, item_vectors: np.ndarray | None = None,
                 item_categories: np.ndarray | None = None, targets: np.ndarray | None = None,
                 *, quotas: Quotas | None = None, device: str = "auto") -> np.ndarray:
    """Re-rank B users at once: `relevance (B, N)` scores of `candidates (B, N)` catalogue
    item indices (-1 pads) → `(B, min(k, N))` item indices (-1 pads), the same lists `rerank`
    gives per user. `item_vectors (n_items, d)` and `item_categories (n_items, C)` cover the
    catalogue; `targets (B, C)` are the calibrated method's per-user distributions.
    `device`: 'auto' (torch on CUDA when available, else numpy), 'numpy', or a torch device
    such as 'cuda' (lists under quotas always run on numpy). Users go in blocks that bound
    memory."""
    scores = np.where(np.asarray(candidates) >= 0, relevance, 0.0) \
        if np.shape(candidates) == np.shape(relevance) else relevance
    scores = check_relevance(scores, 2)
    n_items = next((len(a) for a in (item_categories, item_vectors) if a is not None), None)
    items = _check_candidates(candidates, scores.shape, n_items)
    plan, dist, n_slots = _request_plan(method, k, diversity_weight, scores.shape[1],
                                        n_items or int(items.max(initial=0)) + 1, item_vectors,
                                        item_categories, targets, quotas, "catalogue items",
                                        (len(scores),))
    return rank_pools(plan, items, scores, n_slots, dist, rerank_device(device))


def rank_pools(plan: RankPlan, candidates: np.ndarray, values: np.ndarray, k: int,
               targets: np.ndarray | None = None, device: Any = None) -> np.ndarray:
    """(B, k) item indices (-1 pads): `plan` over each user's retrieved `candidates (B, N)`
    (-1 pads) with `values (B, N)`, in blocks of users that bound memory; `device` from
    `rerank_device` (None: numpy). Evaluation, sweeps and exposure pools rank with this."""
    widest = max(plan.similarity_rows.shape[1], plan.item_categories.shape[1], 1)
    width = candidates.shape[1] * widest
    step = max(1, BLOCK_ELEMENTS // max(width, 1))
    out = np.full((len(candidates), k), -1, dtype=np.int64)
    for start in range(0, len(candidates), step):
        block = slice(start, start + step)
        order = rank_candidates(plan, candidates[block], values[block], k,
                                None if targets is None else targets[block], device).order
        out[block, :order.shape[1]] = order
    return out
