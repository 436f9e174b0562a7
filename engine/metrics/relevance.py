"""Relevance metrics over top-K lists, RecBole's definitions, vectorised over users.

Each function takes `topk (n_users, K)` item indices (-1 pads short lists), `truth` (one array
of held-out item indices per user) and `k`, and returns a per-user `(n_users,)` float array.
Users with no held-out item score 0; `compute_metrics` averages over users that have some.
"""

from __future__ import annotations

import numpy as np

from engine.metrics._lists import as_topk, hits_and_counts


def _hits(topk: np.ndarray, truth: list[np.ndarray], k: int | None):
    lists = as_topk(topk, k)
    hits, n_truth = hits_and_counts(lists, truth)
    return hits, n_truth


def precision_at_k(topk: np.ndarray, truth: list[np.ndarray], k: int | None = None) -> np.ndarray:
    """Precision@K = |L_u ∩ T_u| / K (K is the list width, also for short lists)."""
    hits, _ = _hits(topk, truth, k)
    return hits.sum(axis=1) / max(hits.shape[1], 1)


def recall_at_k(topk: np.ndarray, truth: list[np.ndarray], k: int | None = None) -> np.ndarray:
    """Recall@K = |L_u ∩ T_u| / |T_u| (0 when T_u is empty)."""
    hits, n_truth = _hits(topk, truth, k)
    return hits.sum(axis=1) / np.maximum(n_truth, 1)


def ndcg_from_hits(hits: np.ndarray, n_truth: np.ndarray) -> np.ndarray:
    """NDCG@K = DCG / IDCG with binary gains and a log2 discount, from the (n, K) hit matrix.

    DCG = Σ_{r=1..K} hit_r / log2(r + 1); IDCG = Σ_{r=1..min(|T_u|, K)} 1 / log2(r + 1).
    """
    width = hits.shape[1]
    discount = 1.0 / np.log2(np.arange(2, width + 2))  # (K,)
    dcg = hits @ discount
    ideal_cum = np.concatenate([[0.0], np.cumsum(discount)])
    idcg = ideal_cum[np.minimum(n_truth, width).astype(np.int64)]
    return np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0)


def ndcg_at_k(topk: np.ndarray, truth: list[np.ndarray], k: int | None = None) -> np.ndarray:
    """NDCG@K (`ndcg_from_hits`)."""
    return ndcg_from_hits(*_hits(topk, truth, k))


def hit_at_k(topk: np.ndarray, truth: list[np.ndarray], k: int | None = None) -> np.ndarray:
    """HitRate@K = 1 if any held-out item is in L_u, else 0."""
    hits, _ = _hits(topk, truth, k)
    return hits.any(axis=1).astype(np.float64)


def relevance_from_hits(hits: np.ndarray, n_truth: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Per-user NDCG/recall/precision/hit@k from one (n, K) hit matrix: the definitions above,
    for a caller that needs all four of the same lists."""
    count = hits.sum(axis=1)
    return {f"ndcg@{k}": ndcg_from_hits(hits, n_truth),
            f"recall@{k}": count / np.maximum(n_truth, 1),
            f"precision@{k}": count / max(hits.shape[1], 1),
            f"hit@{k}": (count > 0).astype(np.float64)}


def mrr_at_k(topk: np.ndarray, truth: list[np.ndarray], k: int | None = None) -> np.ndarray:
    """MRR@K = 1 / rank of the first held-out item in L_u (0 when none is in the list)."""
    hits, _ = _hits(topk, truth, k)
    first = hits.argmax(axis=1)
    return np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0)
