"""`compute_metrics`: every list metric for a batch of users, averaged into one flat dict."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.core.errors import DataError
from engine.metrics._lists import as_topk, category_mass, hits_and_counts
from engine.metrics.diversity import (
    category_coverage_at_k,
    category_entropy_at_k,
    counted_categories,
    ild_at_k,
    ild_category_at_k,
    miscalibration_at_k,
)
from engine.metrics.exposure import (
    arp_at_k,
    catalog_coverage,
    gini_index,
    novelty_at_k,
    tail_share_at_k,
)
from engine.metrics.relevance import hit_at_k, mrr_at_k, ndcg_at_k, precision_at_k, recall_at_k
from engine.metrics.stats import mean_intervals

RELEVANCE = {"ndcg": ndcg_at_k, "recall": recall_at_k, "precision": precision_at_k,
             "hit": hit_at_k, "mrr": mrr_at_k}


def popularity_category_dist(item_categories: np.ndarray, item_popularity: np.ndarray,
                             n_users: int) -> np.ndarray:
    """(n_users, C) the training interactions' category distribution, the same for everyone."""
    pop = np.asarray(item_popularity, dtype=np.float64)
    dist = pop @ np.asarray(item_categories, dtype=np.float64)
    if dist.sum() <= 0:
        dist = np.asarray(item_categories, dtype=np.float64).sum(axis=0)
    return np.broadcast_to(dist / dist.sum(), (n_users, dist.shape[0]))


def _check_shapes(lists: np.ndarray, truth: list[np.ndarray], item_categories: np.ndarray,
                  item_popularity: np.ndarray, item_vectors: np.ndarray | None) -> None:
    n_items = len(item_categories)
    if len(truth) != len(lists):
        raise DataError(f"truth has {len(truth)} users but topk has {len(lists)} rows")
    if len(item_popularity) != n_items:
        raise DataError(f"item_popularity has {len(item_popularity)} items but item_categories "
                        f"has {n_items}; both must cover the whole catalogue")
    if item_vectors is not None and len(item_vectors) != n_items:
        raise DataError(f"item_vectors has {len(item_vectors)} rows but item_categories has "
                        f"{n_items}; both must cover the whole catalogue")


def per_user_metrics(topk: np.ndarray, truth: list[np.ndarray], *, k: int,
                     item_categories: np.ndarray, item_popularity: np.ndarray,
                     item_vectors: np.ndarray | None = None,
                     user_category_dist: np.ndarray | None = None,
                     category_names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Every list metric at K that is a mean over shoppers, one value per shopper.

    Relevance metrics keep only users with at least one held-out item; the others keep every
    list. `ild@K` is the category variant; `ild_vec@K` (1 − cosine of item vectors) is added
    when `item_vectors` is given. Without `user_category_dist`, miscalibration is measured
    against the training interactions' category distribution (the same p for every user).
    With `category_names`, items in the "unknown" category count toward no category's
    coverage or entropy (`counted_categories`).
    """
    lists = as_topk(topk, k)
    cats = np.asarray(item_categories, dtype=np.float64)
    _check_shapes(lists, truth, cats, np.asarray(item_popularity), item_vectors)
    category_mass(lists, cats)  # raises early if a list names an unknown item
    _, n_truth = hits_and_counts(lists, truth)
    judged = n_truth > 0
    if not judged.any():
        raise DataError("no user has a held-out item; relevance metrics need a test set that "
                        "overlaps the users being evaluated")
    out = {f"{name}@{k}": fn(lists, truth)[judged] for name, fn in RELEVANCE.items()}
    if user_category_dist is None:
        user_category_dist = popularity_category_dist(cats, item_popularity, len(lists))
    counted = counted_categories(cats, category_names)
    out.update({
        f"category_coverage@{k}": category_coverage_at_k(lists, counted),
        f"category_entropy@{k}": category_entropy_at_k(lists, counted),
        f"ild@{k}": ild_category_at_k(lists, cats),
        f"novelty@{k}": novelty_at_k(lists, item_popularity),
        f"arp@{k}": arp_at_k(lists, item_popularity),
        f"tail_share@{k}": tail_share_at_k(lists, item_popularity),
        f"miscalibration@{k}": miscalibration_at_k(lists, cats, user_category_dist),
    })
    if item_vectors is not None:
        out[f"ild_vec@{k}"] = ild_at_k(lists, item_vectors)
    return {name: np.asarray(values, dtype=np.float64) for name, values in out.items()}


def compute_metrics(topk: np.ndarray, truth: list[np.ndarray], *, k: int,
                    item_categories: np.ndarray, item_popularity: np.ndarray,
                    item_vectors: np.ndarray | None = None,
                    user_category_dist: np.ndarray | None = None,
                    intervals: int = 0,
                    category_names: Sequence[str] | None = None) -> dict[str, float]:
    """All list metrics at K: the per-shopper ones (`per_user_metrics`) as means, plus the
    catalogue-level catalog coverage and Gini.

    `intervals` > 0 adds `<metric> low` and `<metric> high` for every per-shopper metric: its
    95% percentile bootstrap interval over shoppers with that many resamples
    (engine/metrics/stats.py).
    """
    per_user = per_user_metrics(topk, truth, k=k, item_categories=item_categories,
                                item_popularity=item_popularity, item_vectors=item_vectors,
                                user_category_dist=user_category_dist,
                                category_names=category_names)
    lists = as_topk(topk, k)
    n_items = len(item_categories)
    out: dict[str, float] = {}
    for name, values in per_user.items():
        out[name] = float(values.mean())
        if name == f"ild@{k}":  # the catalogue-level pair sits after the list diversity
            out[f"catalog_coverage@{k}"] = catalog_coverage(lists, n_items)
            out[f"gini@{k}"] = gini_index(lists, n_items)
    if intervals > 0:
        for name, interval in mean_intervals(per_user, n_resamples=intervals).items():
            out[f"{name} low"], out[f"{name} high"] = interval.low, interval.high
    return out
