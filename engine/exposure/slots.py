"""Recommendation slots over a shopper sample: per item, per category, and the long-tail curve.

The Trade-off page compares the current re-rank setting with the relevance order on the same
sample of test shoppers the sweep uses (`engine.evaluation.sweep.sample_users`): how many of
the sample's K·n slots each item and each category gets, and how those slots spread over the
catalogue from the most to the least popular item (a Lorenz-style curve: the diagonal is
equal exposure, a curve bowed to the top-left means the head takes the slots).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.evaluation.protocol import RerankSpec, rank_users
from engine.evaluation.sweep import sample_users
from engine.exposure.ledger import item_exposure
from engine.models.base import BaseModel, TrainData

LORENZ_POINTS = 200


def sample_slots(model: BaseModel, data: TrainData, method: str, weight: float, *,
                 n_users: int | None, k: int, seed: int = 0) -> np.ndarray:
    """(n_items,) slots each item gets in the sampled test shoppers' top-k lists.

    `method` 'none' (or weight 0) is the model's own order; otherwise the re-ranker at
    `weight`, exactly as the sweep evaluates it.
    """
    users = sample_users(data, n_users, seed=seed)
    rerank = None if method == "none" or weight == 0 else RerankSpec(method, weight)
    topk = rank_users(model, data, users, k=k, rerank=rerank)
    return item_exposure(topk, data.n_items, discounted=False).astype(np.int64)


def category_slots(item_slots: np.ndarray, item_categories: np.ndarray) -> np.ndarray:
    """(C,) slots per category: an item's slots spread over its categories by its row of
    `item_categories (n_items, C)` (rows sum to 1, so the total is kept). Items beyond the
    category table (added after the slots were counted) are left out."""
    rows = min(len(item_slots), len(item_categories))
    return np.asarray(item_slots[:rows], dtype=np.float64) @ item_categories[:rows]


def popularity_lorenz(item_slots: np.ndarray, popularity: np.ndarray,
                      n_points: int = LORENZ_POINTS) -> pd.DataFrame:
    """Cumulative slot share over items sorted by training popularity (most popular first).

    Columns `item_share, slot_share`, from (0, 0) to (1, 1) in at most `n_points + 1` rows;
    ties in popularity keep catalogue order. No slots at all gives a flat curve at 0.
    """
    order = np.argsort(-np.asarray(popularity, dtype=np.float64), kind="stable")
    cumulative = np.cumsum(np.asarray(item_slots, dtype=np.float64)[order])
    total = cumulative[-1] if len(cumulative) and cumulative[-1] > 0 else 1.0
    positions = np.unique(np.linspace(0, len(order) - 1, n_points).astype(int))
    return pd.DataFrame({
        "item_share": np.concatenate([[0.0], (positions + 1) / len(order)]),
        "slot_share": np.concatenate([[0.0], cumulative[positions] / total]),
    })
