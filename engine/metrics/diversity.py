"""Within-list diversity metrics: category coverage, category entropy, ILD, miscalibration.

`item_categories` is the `(n_items, C)` row-stochastic category matrix (one-hot for a single
category, spread evenly over several paths or genres). Every function returns `(n_users,)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.core.columns import UNKNOWN_CATEGORY
from engine.core.errors import ConfigError, DataError
from engine.metrics._lists import as_topk, category_mass, check_items, list_lengths

CALIBRATION_MIX = 0.01  # q̃ = (1 - 0.01)·q + 0.01·p keeps KL finite (Steck 2018)


def counted_categories(item_categories: np.ndarray,
                       category_names: Sequence[str] | None) -> np.ndarray:
    """The category matrix coverage and entropy count: the "unknown" column (items without a
    category) zeroed, so a missing category is never counted as one more category."""
    cats = np.asarray(item_categories, dtype=np.float64)
    if not category_names or UNKNOWN_CATEGORY not in category_names:
        return cats
    counted = cats.copy()
    counted[:, list(category_names).index(UNKNOWN_CATEGORY)] = 0.0
    return counted


def counted_category_names(item_categories: np.ndarray,
                           category_names: Sequence[str]) -> list[str]:
    """The categories diversity counts: those `counted_categories` keeps with an item in them
    (never "unknown"), in the matrix's order."""
    held = counted_categories(item_categories, category_names).sum(axis=0) > 0
    return [name for name, kept in zip(category_names, held, strict=True) if kept]


def category_coverage_at_k(topk: np.ndarray, item_categories: np.ndarray,
                           k: int | None = None) -> np.ndarray:
    """Coverage@K = number of distinct categories with mass in L_u: |{c : Σ_{i∈L_u} C_ic > 0}|."""
    mass = category_mass(as_topk(topk, k), item_categories)
    return (mass > 1e-12).sum(axis=1).astype(np.float64)


def category_entropy_at_k(topk: np.ndarray, item_categories: np.ndarray, k: int | None = None,
                          normalize: bool = False) -> np.ndarray:
    """Entropy@K = −Σ_c p(c) ln p(c), p(c) = the list's category mass share (nats).

    With `normalize`, divided by ln |L_u| (0 for lists of one item); it can exceed 1 for
    multi-label items, whose mass spreads over more categories than there are slots.
    """
    lists = as_topk(topk, k)
    mass = category_mass(lists, item_categories)
    total = mass.sum(axis=1, keepdims=True)
    share = np.divide(mass, total, out=np.zeros_like(mass), where=total > 0)
    logs = np.log(np.where(share > 0, share, 1.0))
    entropy = -(share * logs).sum(axis=1)
    if not normalize:
        return entropy
    scale = np.log(np.maximum(list_lengths(lists), 1).astype(np.float64))
    return np.divide(entropy, scale, out=np.zeros_like(entropy), where=scale > 0)


def _unit_rows(matrix: np.ndarray, what: str) -> np.ndarray:
    rows = np.asarray(matrix, dtype=np.float64)
    if rows.ndim != 2:
        raise DataError(f"{what} must be a 2-D (n_items, d) array, got shape {rows.shape}")
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


def _mean_pairwise_distance(lists: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Mean over pairs i < j of the list of 1 − <unit_i, unit_j>; 0 for lists under 2 items."""
    valid = lists >= 0
    rows = unit[np.where(valid, lists, 0)] * valid[:, :, None]  # (U, K, d)
    gram = rows @ rows.transpose(0, 2, 1)  # (U, K, K)
    pair = valid[:, :, None] & valid[:, None, :]
    upper = np.triu(np.ones(gram.shape[1:], dtype=bool), k=1)
    pair &= upper
    n_pairs = pair.sum(axis=(1, 2))
    total = ((1.0 - gram) * pair).sum(axis=(1, 2))
    return np.divide(total, n_pairs, out=np.zeros_like(total), where=n_pairs > 0)


def ild_at_k(topk: np.ndarray, item_vectors: np.ndarray, k: int | None = None) -> np.ndarray:
    """ILD@K (vectors) = mean over pairs i < j in L_u of 1 − cos(v_i, v_j)."""
    lists = as_topk(topk, k)
    check_items(lists, len(item_vectors), "item_vectors")
    return _mean_pairwise_distance(lists, _unit_rows(item_vectors, "item_vectors"))


def ild_category_at_k(topk: np.ndarray, item_categories: np.ndarray,
                      k: int | None = None) -> np.ndarray:
    """ILD@K (categories) = mean over pairs i < j in L_u of 1 − cos(C_i, C_j).

    For one-hot categories this is the share of pairs in different categories.
    """
    lists = as_topk(topk, k)
    check_items(lists, len(item_categories), "item_categories")
    return _mean_pairwise_distance(lists, _unit_rows(item_categories, "item_categories"))


def calibration_kl(p: np.ndarray, q: np.ndarray, mix: float = CALIBRATION_MIX) -> np.ndarray:
    """KL(p ‖ q̃) over the last axis, q̃ = (1 − mix)·q + mix·p; terms with p = 0 add nothing."""
    q_mix = (1.0 - mix) * q + mix * p
    positive = p > 0
    ratio = np.where(positive, p, 1.0) / np.where(positive, q_mix, 1.0)
    return (p * np.log(ratio)).sum(axis=-1)


def normalize_rows(dist: np.ndarray, what: str) -> np.ndarray:
    """Rows scaled to sum 1; DataError for negative entries or rows with no mass."""
    rows = np.asarray(dist, dtype=np.float64)
    if rows.size and (not np.all(np.isfinite(rows)) or rows.min() < 0):
        raise DataError(f"{what} must hold finite, non-negative category weights")
    sums = rows.sum(axis=-1, keepdims=True)
    if np.any(sums <= 0):
        bad = int(np.argmax(sums.reshape(-1) <= 0))
        raise DataError(f"{what} row {bad} has no category mass; give every user a "
                        f"distribution (e.g. from the training history)")
    return rows / sums


def miscalibration_at_k(topk: np.ndarray, item_categories: np.ndarray,
                        user_category_dist: np.ndarray, k: int | None = None) -> np.ndarray:
    """Miscalibration@K = KL(p_u ‖ q̃_u) = Σ_c p_u(c) ln(p_u(c) / q̃_u(c)).

    p_u: the user's category distribution (rows normalised to 1); q_u: the list's category mass
    share; q̃_u = 0.99·q_u + 0.01·p_u (Steck 2018). An empty list gives ln 100.
    """
    lists = as_topk(topk, k)
    p = normalize_rows(user_category_dist, "user_category_dist")
    mass = category_mass(lists, item_categories)
    if p.shape != mass.shape:
        raise DataError(f"user_category_dist has shape {p.shape} but the lists need "
                        f"{mass.shape} (n_users, n_categories)")
    total = mass.sum(axis=1, keepdims=True)
    q = np.divide(mass, total, out=np.zeros_like(mass), where=total > 0)
    return calibration_kl(p, q)


def category_prior(item_categories: np.ndarray, kind: str = "catalog") -> np.ndarray:
    """(C,) the category prior g: the catalogue's category shares, or uniform.

    `kind="catalog"` gives the mean of the item category rows, normalised (uniform when the
    catalogue is empty or carries no category mass); `kind="uniform"` gives 1/C each. The
    calibration target blends it with a shopper's history; training's diversity loss aims at it.
    """
    if kind not in ("catalog", "uniform"):
        raise ConfigError(f"category prior must be 'catalog' or 'uniform', got {kind!r}")
    rows = np.asarray(item_categories, dtype=np.float64)
    n_categories = rows.shape[-1]
    uniform = np.full(n_categories, 1.0 / max(n_categories, 1))
    if kind == "uniform" or len(rows) == 0:
        return uniform
    mass = rows.sum(axis=0)
    total = mass.sum()
    return mass / total if total > 0 else uniform
