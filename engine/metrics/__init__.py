"""Relevance, diversity and exposure metrics over top-K lists: pure numpy, one function each.

Lists are `topk (n_users, K)` item indices padded with -1; see each function for its formula.
"""

from engine.metrics.diversity import (
    CALIBRATION_MIX,
    calibration_kl,
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
    long_tail_items,
    novelty_at_k,
    tail_share_at_k,
)
from engine.metrics.relevance import hit_at_k, mrr_at_k, ndcg_at_k, precision_at_k, recall_at_k
from engine.metrics.summary import compute_metrics, popularity_category_dist

__all__ = [
    "CALIBRATION_MIX",
    "arp_at_k",
    "calibration_kl",
    "catalog_coverage",
    "category_coverage_at_k",
    "category_entropy_at_k",
    "compute_metrics",
    "counted_categories",
    "gini_index",
    "hit_at_k",
    "ild_at_k",
    "ild_category_at_k",
    "long_tail_items",
    "miscalibration_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "novelty_at_k",
    "popularity_category_dist",
    "precision_at_k",
    "recall_at_k",
    "tail_share_at_k",
]
