"""Catalogue-level exposure and popularity metrics: coverage, Gini, novelty, ARP, long tail,
and position-discounted exposure by group (brand, category, ...).

`item_popularity` is the `(n_items,)` count of training interactions per item.
"""

from __future__ import annotations

import math

import numpy as np

from engine.core.errors import DataError
from engine.metrics._lists import as_topk, check_items, mean_over_slots, per_slot, valid_mask

HEAD_SHARE = 0.2  # the most popular 20% of items are the head; the other 80% the long tail


def _recommendation_counts(lists: np.ndarray, n_items: int) -> np.ndarray:
    check_items(lists, n_items, "the catalogue")
    return np.bincount(lists[valid_mask(lists)], minlength=n_items).astype(np.float64)


def catalog_coverage(topk: np.ndarray, n_items: int, k: int | None = None) -> float:
    """Catalogue coverage@K = |∪_u L_u| / n_items."""
    counts = _recommendation_counts(as_topk(topk, k), n_items)
    return float((counts > 0).sum() / max(n_items, 1))


def gini(amounts: np.ndarray) -> np.ndarray:
    """Gini of non-negative amounts along the last axis: 0 = all equal, → 1 = one holder takes
    everything; 0 for an empty or all-zero row. With x sorted ascending,
    G = Σ_{i=1..n} (2i − n − 1)·x_(i) / (n·Σ x). (n,) input gives a 0-d array, (R, n) gives (R,).
    """
    x = np.sort(np.asarray(amounts, dtype=np.float64), axis=-1)
    n = x.shape[-1]
    if n == 0:
        return np.zeros(x.shape[:-1])
    totals = x.sum(axis=-1)
    top = ((2 * np.arange(1, n + 1) - n - 1) * x).sum(axis=-1)
    return np.divide(top, n * totals, out=np.zeros_like(totals), where=totals > 0)


def gini_index(topk: np.ndarray, n_items: int, k: int | None = None) -> float:
    """Gini of recommendation counts over all items: 0 = equal exposure, → 1 = one item gets
    all (`gini`)."""
    return float(gini(_recommendation_counts(as_topk(topk, k), n_items)))


def _popularity(item_popularity: np.ndarray) -> np.ndarray:
    pop = np.asarray(item_popularity, dtype=np.float64)
    if pop.ndim != 1 or (pop.size and (pop.min() < 0 or not np.all(np.isfinite(pop)))):
        raise DataError("item_popularity must be a 1-D array of non-negative counts per item")
    return pop


def novelty_at_k(topk: np.ndarray, item_popularity: np.ndarray,
                 k: int | None = None) -> np.ndarray:
    """Novelty@K = mean over i ∈ L_u of −log2(share_i), share_i = pop_i / Σ_j pop_j.

    An item never seen in training counts as seen once, so novelty stays finite.
    """
    lists = as_topk(topk, k)
    pop = _popularity(item_popularity)
    total = pop.sum()
    if total <= 0:
        raise DataError("item_popularity is all zero; novelty needs training counts")
    surprisal = -np.log2(np.maximum(pop, 1.0) / total)
    return mean_over_slots(per_slot(surprisal, lists), lists)


def arp_at_k(topk: np.ndarray, item_popularity: np.ndarray, k: int | None = None) -> np.ndarray:
    """ARP@K = mean over i ∈ L_u of pop_i (average training popularity of recommended items)."""
    lists = as_topk(topk, k)
    return mean_over_slots(per_slot(_popularity(item_popularity), lists), lists)


def long_tail_items(item_popularity: np.ndarray) -> np.ndarray:
    """(n_items,) bool: True for the long tail, all but the ceil(20%) most popular items.

    Ties in popularity are broken by item index (lower index ranks as more popular).
    """
    pop = _popularity(item_popularity)
    n_head = math.ceil(HEAD_SHARE * len(pop))
    by_popularity = np.argsort(-pop, kind="stable")
    tail = np.ones(len(pop), dtype=bool)
    tail[by_popularity[:n_head]] = False
    return tail


def tail_share_at_k(topk: np.ndarray, item_popularity: np.ndarray,
                    k: int | None = None) -> np.ndarray:
    """Tail share@K = fraction of L_u's items from the long tail (bottom 80% by popularity)."""
    lists = as_topk(topk, k)
    tail = long_tail_items(item_popularity).astype(np.float64)
    return mean_over_slots(per_slot(tail, lists), lists)


def position_weights(k: int) -> np.ndarray:
    """(k,) exposure weight of each slot: 1 / log2(rank + 1), rank 1..k (the NDCG discount)."""
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def _slot_groups(lists: np.ndarray, item_groups: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per slot of `lists (n_users, k)`: its item's group code (-1 for padding or no group),
    its position weight 1 / log2(r + 1), and whether it counts towards a group."""
    codes = np.asarray(item_groups, dtype=np.int64)
    valid = valid_mask(lists)
    groups = np.where(valid, codes[np.where(valid, lists, 0)], -1)
    weights = np.broadcast_to(position_weights(lists.shape[1]), lists.shape)
    return groups, weights, groups >= 0


def group_exposure(topk: np.ndarray, item_groups: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_users, n_groups) position-discounted exposure each group gets in each list.

    `item_groups (n_items,)` holds a group code per item (-1 = no group: counted nowhere);
    slot r of a list gives its item's group 1 / log2(r + 1). Padding (-1 items) gives nothing.
    """
    lists = np.asarray(topk)
    groups, weights, keep = _slot_groups(lists, item_groups)
    rows = np.broadcast_to(np.arange(len(lists))[:, None], lists.shape)
    flat = np.bincount(rows[keep] * n_groups + groups[keep], weights=weights[keep],
                       minlength=len(lists) * n_groups)
    return flat.reshape(len(lists), n_groups)


def total_group_exposure(topk: np.ndarray, item_groups: np.ndarray,
                         n_groups: int) -> np.ndarray:
    """(n_groups,) position-discounted exposure summed over all lists (`group_exposure`
    summed over users, without the per-user matrix)."""
    groups, weights, keep = _slot_groups(np.asarray(topk), item_groups)
    return np.bincount(groups[keep], weights=weights[keep], minlength=n_groups)


def exposure_shares(per_user: np.ndarray, user_weights: np.ndarray | None = None) -> np.ndarray:
    """(n_groups,) each group's share of all position-discounted exposure over the users.

    share_g = Σ_u w_u·e_ug / Σ_u w_u·Σ_g e_ug; `user_weights` (default 1) lets a bootstrap
    resample shoppers without copying lists. All zeros when nothing was shown.
    """
    mass = np.asarray(per_user, dtype=np.float64)
    weights = np.ones(len(mass)) if user_weights is None else np.asarray(user_weights, float)
    totals = weights @ mass
    whole = totals.sum()
    return totals / whole if whole > 0 else np.zeros_like(totals)
