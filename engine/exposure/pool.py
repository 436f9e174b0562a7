"""Candidate pools for many shoppers at once, and the lists chosen from them.

Each shopper's pool is the top `n_candidates` unseen items by model score (as serving and
the evaluation harness take them). Relevance is the score min-max scaled over the pool, so
it lies in [0, 1] for every shopper and a price (an additive bonus) means the same thing
for everyone: a price of 0.1 moves an item by a tenth of that shopper's candidate range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.evaluation.protocol import (
    RerankSpec,
    histories_before_test,
    rerank_plan,
    reranked_pools,
)
from engine.models.base import BaseModel, TrainData, seen_matrix
from engine.models.topn import batch_size_for
from engine.rerank.scaling import min_max

DISCOUNT_BASE = 2.0


@dataclass(frozen=True)
class Pool:
    """Candidates (U, N) item indices (-1 pads) and their relevance (U, N) in [0, 1]."""

    users: np.ndarray  # (U,) user indices
    items: np.ndarray  # (U, N)
    relevance: np.ndarray  # (U, N) float64, -inf where items is -1

    def subset(self, rows: np.ndarray) -> Pool:
        return Pool(self.users[rows], self.items[rows], self.relevance[rows])


def slot_weights(k: int) -> np.ndarray:
    """(k,) position discount 1/log2(rank + 1), rank 1..k (the exposure weight of a slot)."""
    return 1.0 / np.log2(np.arange(1, k + 1) + 1.0)


def candidate_pool(model: BaseModel, data: TrainData, users: np.ndarray,
                   n_candidates: int = 200) -> Pool:
    """Score `users` against the whole catalogue in batches and keep their top-N candidates.

    Seen items are hidden as in the evaluation harness: training and validation items for the
    test part; a sequential model reads training + validation history.
    """
    users = np.asarray(users, dtype=np.int64)
    seen = seen_matrix(data, "test")
    latest = model.sequential
    histories = histories_before_test(data) if latest else None
    width = min(n_candidates, data.n_items)
    step = model.top_n_batch or batch_size_for(data.n_items)
    items, scores = [], []
    for start in range(0, len(users), step):
        batch = users[start:start + step]
        if histories is not None:
            top, values = model.top_n_histories([histories[u] for u in batch], width,
                                                seen[batch], user_idx=batch)
        else:
            top, values = model.top_n_users(batch, width, seen[batch])
        items.append(np.asarray(top, dtype=np.int64))
        scores.append(np.where(np.asarray(top) >= 0, np.asarray(values, dtype=np.float64),
                               -np.inf))
    if not items:
        return Pool(users, np.zeros((0, width), np.int64), np.zeros((0, width)))
    return Pool(users, np.concatenate(items), min_max(np.concatenate(scores), fill=-np.inf))


def top_k(pool: Pool, k: int, bonus: np.ndarray | None = None) -> np.ndarray:
    """(U, k) item indices by descending relevance + bonus[item] (-1 pads short pools).

    Ties keep the pool's order (the model's score order), so the result is deterministic.
    """
    adjusted = pool.relevance if bonus is None else pool.relevance + np.where(
        pool.items >= 0, bonus[np.maximum(pool.items, 0)], 0.0)
    k = min(k, adjusted.shape[1])
    part = np.argpartition(-adjusted, k - 1, axis=1)[:, :k] if k < adjusted.shape[1] else \
        np.broadcast_to(np.arange(adjusted.shape[1]), adjusted.shape)
    values = np.take_along_axis(adjusted, part, axis=1)
    order = np.lexsort((part, -values), axis=-1)
    chosen = np.take_along_axis(part, order, axis=1)
    lists = np.take_along_axis(pool.items, chosen, axis=1)
    return np.where(np.isneginf(np.take_along_axis(values, order, axis=1)), -1, lists)


def reranked(pool: Pool, k: int, spec: RerankSpec, model: BaseModel, data: TrainData,
             bonus: np.ndarray | None = None) -> np.ndarray:
    """(U, k) lists from a diversity re-ranker over the pool (relevance + bonus as its input),
    through the one pipeline."""
    if spec.method == "none":
        return top_k(pool, k, bonus)
    adjusted = pool.relevance if bonus is None else pool.relevance + np.where(
        pool.items >= 0, bonus[np.maximum(pool.items, 0)], 0.0)
    return reranked_pools(rerank_plan(spec, model, data), spec, data, pool.users, pool.items,
                          adjusted, k)
