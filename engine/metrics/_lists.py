"""Shared helpers for list metrics: input checks, the hit matrix and per-list category mass.

A batch of recommendation lists is `topk`, an `(n_users, K)` integer array of item indices;
short lists are padded with -1. Every metric truncates to the first `k` columns.
"""

from __future__ import annotations

import numpy as np

from engine.core.checks import check_k
from engine.core.errors import DataError


def as_topk(topk: np.ndarray, k: int | None) -> np.ndarray:
    """Return `topk` as an int64 (n_users, k) array, truncated to its first k columns."""
    lists = np.asarray(topk)
    if lists.ndim != 2:
        raise DataError(f"topk must be a 2-D (n_users, K) array of item indices, got shape "
                        f"{lists.shape}; stack the lists and pad short ones with -1")
    if lists.size and not np.issubdtype(lists.dtype, np.integer):
        raise DataError(f"topk must hold integer item indices, got dtype {lists.dtype}")
    if k is not None:
        check_k(k)
        lists = lists[:, :k]
    if lists.size and lists.min() < -1:
        raise DataError("topk holds negative item indices other than the -1 padding")
    return lists.astype(np.int64, copy=False)


def check_items(lists: np.ndarray, n_items: int, what: str) -> None:
    """Raise DataError if a list names an item beyond the `n_items` rows of `what`."""
    if lists.size and lists.max() >= n_items:
        raise DataError(f"topk names item {int(lists.max())} but {what} has only {n_items} "
                        f"rows; pass per-item arrays covering the whole catalogue")


def valid_mask(lists: np.ndarray) -> np.ndarray:
    """(n_users, K) bool: True where a slot holds an item (not -1 padding)."""
    return lists >= 0


def list_lengths(lists: np.ndarray) -> np.ndarray:
    """(n_users,) number of real items per list."""
    return valid_mask(lists).sum(axis=1)


def truth_codes(truth: list[np.ndarray], n_users: int, base: int) -> np.ndarray:
    """Unique `user * base + item` codes of the held-out items (duplicates collapse)."""
    if len(truth) != n_users:
        raise DataError(f"truth has {len(truth)} users but topk has {n_users} rows; "
                        f"give one array of held-out items per list")
    lengths = [len(np.atleast_1d(items)) for items in truth]
    if sum(lengths) == 0:
        return np.zeros(0, dtype=np.int64)
    items = np.concatenate([np.atleast_1d(np.asarray(t, dtype=np.int64)) for t in truth])
    if items.min() < 0:
        raise DataError("truth holds negative item indices")
    users = np.repeat(np.arange(n_users, dtype=np.int64), lengths)
    return np.unique(users * base + items)


def hits_and_counts(lists: np.ndarray, truth: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(n_users, K) bool hit matrix and (n_users,) number of distinct held-out items."""
    n_users = lists.shape[0]
    biggest = max((int(np.max(t)) for t in truth if len(np.atleast_1d(t))), default=0)
    base = max(biggest, int(lists.max()) if lists.size else 0) + 1
    codes = truth_codes(truth, n_users, base)
    n_truth = np.bincount(codes // base, minlength=n_users) if codes.size else np.zeros(n_users)
    list_codes = np.arange(n_users, dtype=np.int64)[:, None] * base + lists
    hits = np.isin(list_codes, codes) & valid_mask(lists)
    return hits, n_truth.astype(np.float64)


def category_mass(lists: np.ndarray, item_categories: np.ndarray) -> np.ndarray:
    """(n_users, C) summed category rows of the items in each list (padding adds nothing)."""
    cats = np.asarray(item_categories, dtype=np.float64)
    if cats.ndim != 2:
        raise DataError(f"item_categories must be a 2-D (n_items, C) matrix, got shape "
                        f"{cats.shape}")
    check_items(lists, cats.shape[0], "item_categories")
    rows = cats[np.where(lists >= 0, lists, 0)]  # (U, K, C)
    return (rows * valid_mask(lists)[:, :, None]).sum(axis=1)


def per_slot(values: np.ndarray, lists: np.ndarray) -> np.ndarray:
    """(n_users, K) per-item `values` looked up for each slot; 0 in padded slots."""
    check_items(lists, len(values), "the per-item array")
    looked_up = np.asarray(values, dtype=np.float64)[np.where(lists >= 0, lists, 0)]
    return np.where(valid_mask(lists), looked_up, 0.0)


def mean_over_slots(values: np.ndarray, lists: np.ndarray) -> np.ndarray:
    """(n_users,) mean of per-slot values over each list's real items; 0 for empty lists."""
    lengths = list_lengths(lists)
    return values.sum(axis=1) / np.maximum(lengths, 1)
