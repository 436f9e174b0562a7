"""`rerank_batch`: re-rank many users' candidate lists at once, for evaluation and sweeps.

The greedy loop runs k vectorised steps over a (B, N) block of users; blocks are sized to
bound memory. With torch and a CUDA device the same code runs on the GPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.device import resolve_device
from engine.core.errors import ConfigError, RequestError
from engine.rerank._inputs import check_relevance, unit_rows
from engine.rerank.core import _checked, build_scorer, rerank
from engine.rerank.greedy import run_greedy
from engine.rerank.quotas import Quotas
from engine.rerank.scaling import min_max

BLOCK_ELEMENTS = 4_000_000  # (users × candidates × features) per block


def _check_candidates(candidates: np.ndarray, shape: tuple[int, ...], n_items: int | None,
                      ) -> np.ndarray:
    items = np.asarray(candidates)
    if items.shape != shape:
        raise RequestError(f"candidates must have the shape of relevance {shape}, got "
                           f"{items.shape}")
    if items.size and not np.issubdtype(items.dtype, np.integer):
        raise RequestError(f"candidates must hold integer item indices, got {items.dtype}")
    if items.size and (items.min() < 0 or (n_items is not None and items.max() >= n_items)):
        raise RequestError(f"candidates hold item indices outside 0..{(n_items or 0) - 1}")
    return items.astype(np.int64, copy=False)


def _backend(device: str) -> Any:
    """None for numpy, else the torch device to run on ('auto' picks CUDA when present)."""
    if device == "numpy":
        return None
    try:
        import torch
    except ImportError:
        if device == "auto":
            return None
        raise RequestError(f"device {device!r} needs torch, which is not installed") from None
    if device == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else None

    try:
        return resolve_device(device, "re-rank device")
    except ConfigError as exc:
        raise RequestError(f"{exc} ('numpy' runs without torch)") from None


def _block(method: str, weight: float, rel_part: np.ndarray, unit: np.ndarray | None,
           categories: np.ndarray | None, targets: np.ndarray | None, from_vectors: bool,
           n_slots: int, torch_device: Any) -> np.ndarray:
    """(B, n_slots) positions into the sorted candidates, for one block of users."""
    arrays = [rel_part, unit, categories, targets]
    if torch_device is not None:
        import torch

        arrays = [None if a is None else torch.as_tensor(a, device=torch_device) for a in arrays]
    scorer = build_scorer(method, weight, arrays[0], *arrays[1:], from_vectors, n_slots)
    order = run_greedy(arrays[0], scorer, n_slots)["order"]
    return order if torch_device is None else order.cpu().numpy()


def rerank_batch(method: str, relevance: np.ndarray, candidates: np.ndarray, k: int,
                 diversity_weight: float, item_vectors: np.ndarray | None = None,
                 item_categories: np.ndarray | None = None, targets: np.ndarray | None = None,
                 *, quotas: Quotas | None = None, device: str = "auto") -> np.ndarray:
    """Re-rank B users at once: `relevance (B, N)` scores of `candidates (B, N)` catalogue
    item indices → `(B, min(k, N))` item indices, the same lists `rerank` gives per user.

    `item_vectors (n_items, d)` and `item_categories (n_items, C)` cover the catalogue;
    `targets (B, C)` are the calibrated method's per-user distributions. `device`: 'auto'
    (torch on CUDA when available, else numpy), 'numpy', or a torch device such as 'cuda'.
    """
    scores = check_relevance(relevance, 2)
    n_items = None
    for array in (item_vectors, item_categories):
        n_items = n_items if array is None else len(array)
    items = _check_candidates(candidates, scores.shape, n_items)
    weight, vectors, categories, dist = _checked(
        method, k, diversity_weight, n_items or 0, item_vectors, item_categories, targets,
        "catalogue items")
    if dist is not None and dist.shape != (len(scores), categories.shape[1]):
        raise RequestError(f"targets must have shape ({len(scores)}, {categories.shape[1]}): "
                           f"one category distribution per user, got {dist.shape}")
    if quotas or method == "quota":
        return _per_user(method, scores, items, k, weight, vectors, categories, dist, quotas)
    return _blocked(method, scores, items, k, weight, vectors, categories, dist, device)


def _per_user(method: str, scores: np.ndarray, items: np.ndarray, k: int, weight: float,
              vectors: np.ndarray | None, categories: np.ndarray | None,
              dist: np.ndarray | None, quotas: Quotas | None) -> np.ndarray:
    """Quotas keep per-user state, so those lists are filled one user at a time."""
    lists = [items[b][rerank(method, scores[b], k, weight,
                             item_vectors=None if vectors is None else vectors[items[b]],
                             item_categories=None if categories is None else categories[items[b]],
                             target=None if dist is None else dist[b], quotas=quotas).order]
             for b in range(len(scores))]
    return np.stack(lists) if lists else np.zeros((0, min(k, scores.shape[1])), np.int64)


def _blocked(method: str, scores: np.ndarray, items: np.ndarray, k: int, weight: float,
             vectors: np.ndarray | None, categories: np.ndarray | None,
             dist: np.ndarray | None, device: str) -> np.ndarray:
    n_users, n_cand = scores.shape
    n_slots = min(k, n_cand)
    perm = np.argsort(-scores, axis=1, kind="stable")
    sorted_items = np.take_along_axis(items, perm, axis=1)
    rel_part = (1.0 - weight) * np.take_along_axis(min_max(scores), perm, axis=1)
    source = vectors if vectors is not None else categories
    unit = None if source is None else unit_rows(source, "item_vectors" if vectors is not None
                                                 else "item_categories")
    width = max(n_cand * max(1 if unit is None else unit.shape[1],
                             1 if categories is None else categories.shape[1]), 1)
    step = max(1, BLOCK_ELEMENTS // width)
    torch_device = _backend(device)
    out = np.zeros((n_users, n_slots), dtype=np.int64)
    for start in range(0, n_users, step):
        block = slice(start, start + step)
        idx = sorted_items[block]
        order = _block(method, weight, rel_part[block],
                       None if unit is None else unit[idx],
                       None if categories is None else categories[idx],
                       None if dist is None else dist[block], vectors is not None, n_slots,
                       torch_device)
        out[block] = np.take_along_axis(idx, order.astype(np.int64), axis=1)
    return out
