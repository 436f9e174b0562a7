"""Where each served item stood before the greedy pass, for attribution that counts from the
list the model alone serves.

An item's rank by boosted relevance among the candidates is a list nobody sees: the filters,
the floor and the pins took items out, and the boosts reordered what was left. The trace keeps
the item's rank in the model's own list of the unseen items (what a request without a policy
serves), its rank by model score once those stages took items out, and which filters, floor
and pins took out an item above it and which boosts changed its rank. Ties fall as `top_n`
breaks them: equal scores by ascending item position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.rerank.plan import RankPlan


@dataclass
class RankTrace:
    """Per shopper and served slot (0 for a pin or a pad)."""

    model_rank: np.ndarray  # (B, k) 1-based rank in the model's own list of the unseen items
    kept_rank: np.ndarray  # (B, k) 1-based rank by model score among the items left in
    boosted_rank: np.ndarray  # (B, k) 1-based rank by boosted relevance among those (an item
    # owed a promoted slot can lie beyond the candidates)
    left_out_by: np.ndarray  # (B, k, F + 1 + P) bool: filter f, the floor, pin p took out an
    # item above it in the model's own list
    boosted_by: np.ndarray  # (B, k, R) bool: boost or bury r changed its rank


def _ahead(values: np.ndarray, columns: np.ndarray, item: int, value: float) -> np.ndarray:
    """Which of `columns` (their `values`) rank above `item` (its `value`); ties: lower
    position first."""
    return (values > value) | ((values == value) & (columns < item))


def trace_ranks(plan: RankPlan, scores: np.ndarray, unseen: np.ndarray, allowed: np.ndarray,
                boosted: np.ndarray, pins: np.ndarray, items: np.ndarray,
                picked: np.ndarray) -> RankTrace:
    """The trace of the greedy pass's `picked` slots of `items` (B, k): `unseen` the items the
    model's own list ranks, `allowed` those left after filters, floor and pins, `boosted` the
    relevance the candidates were drawn by, `pins` (B, k) the pinned items (-1 none)."""
    n_users, k = items.shape
    n_filters = len(plan.filters)
    trace = RankTrace(model_rank=np.zeros((n_users, k), dtype=np.int64),
                      kept_rank=np.zeros((n_users, k), dtype=np.int64),
                      boosted_rank=np.zeros((n_users, k), dtype=np.int64),
                      left_out_by=np.zeros((n_users, k, n_filters + 1 + len(plan.pins)),
                                           dtype=bool),
                      boosted_by=np.zeros((n_users, k, len(plan.boosts)), dtype=bool))
    pin_items = np.array([pin.item for pin in plan.pins], dtype=np.int64)
    for row in np.flatnonzero(picked.any(axis=1)):
        served = items[row, picked[row]]
        # only items above some pick in either order can count: a short list of columns
        near = unseen[row] & (scores[row] >= scores[row, served].min())
        near |= allowed[row] & (boosted[row] >= boosted[row, served].min())
        columns = np.flatnonzero(near)
        score, boost, kept = scores[row, columns], boosted[row, columns], allowed[row, columns]
        pinned = np.isin(columns, pins[row][pins[row] >= 0])
        for slot in np.flatnonzero(picked[row]):
            item = int(items[row, slot])
            ahead = _ahead(score, columns, item, scores[row, item]) & unseen[row, columns]
            trace.model_rank[row, slot] = 1 + ahead.sum()
            trace.kept_rank[row, slot] = 1 + (ahead & kept).sum()
            out = ahead & ~kept & ~pinned
            trace.left_out_by[row, slot] = [
                *((out & ~rule.mask[columns]).any() for rule in plan.filters),
                (out & plan.static_allowed[columns]).any(),
                *np.isin(pin_items, columns[ahead & pinned])]
            boosted_ahead = _ahead(boost, columns, item, boosted[row, item]) & kept
            trace.boosted_rank[row, slot] = 1 + boosted_ahead.sum()
            crossed = (ahead & kept) ^ boosted_ahead
            if crossed.any():  # the boosts on it or on an item it swapped places with
                trace.boosted_by[row, slot] = [
                    rule.mask[item] or (rule.mask[columns] & crossed).any() for rule in plan.boosts]
    return trace
