"""Public re-ranking entry points: `rerank` for one list, `rerank_batch` for many users.

rel is the candidates' score min-max scaled to [0, 1]; w the diversity weight. Every method
picks greedily, slot by slot, the candidate maximising (1 − w)·rel + diversity term:
- none: 0 (plain relevance order);
- mmr: −w · max cosine to the items already chosen;
- dpp: w · log d², d² the candidate's residual variance given the chosen set under the
  similarity kernel (fast greedy MAP; w·log of the determinant gain);
- calibrated: −w · KL(target ‖ q̃(list + candidate));
- quota: as mmr, restricted to candidates that keep every category floor/cap reachable.
Quotas, when given, constrain every method. Ties go to the more relevant candidate, then the
lower index, so w = 0 gives exactly the relevance order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.core.checks import check_k, check_weight
from engine.core.errors import RequestError
from engine.rerank._inputs import (
    check_categories,
    check_matrix,
    check_method_inputs,
    check_relevance,
    check_target,
    unit_rows,
)
from engine.rerank.greedy import (
    CalibratedScorer,
    DPPScorer,
    MMRScorer,
    NoDiversity,
    QuotaRules,
    Scorer,
    run_greedy,
)
from engine.rerank.methods import check_method
from engine.rerank.quotas import Quotas, QuotaTracker
from engine.rerank.scaling import min_max


@dataclass(frozen=True)
class RerankResult:
    """Per slot: `order` (indices into the candidate arrays), the (1 − w)·rel term, the
    diversity term at the time of choice, their sum, and `fallback` (True where DPP had no
    diversity gain left and the slot was filled in relevance order)."""

    order: np.ndarray
    relevance_part: np.ndarray
    diversity_part: np.ndarray
    objective: np.ndarray
    fallback: np.ndarray


def build_scorer(method: str, weight: float, rel_part: Any, unit: Any | None,
                 categories: Any | None, targets: Any | None, from_vectors: bool,
                 n_slots: int) -> Scorer:
    """The scorer for `method` over (B, N, ·) arrays already sorted by relevance."""
    if method == "none" or weight == 0.0:
        return NoDiversity(rel_part)
    if method in ("mmr", "quota"):
        return MMRScorer(unit, weight)
    if method == "dpp":
        return DPPScorer(unit, weight, shifted=from_vectors, n_slots=n_slots)
    support = (targets > 0).any(axis=0)  # KL terms outside the target's support are 0
    return CalibratedScorer(categories[:, :, support], targets[:, support], weight)


def _similarity_rows(vectors: np.ndarray | None, categories: np.ndarray | None,
                     ) -> np.ndarray | None:
    """Unit rows whose dot products are the similarity: item vectors, else category rows."""
    if vectors is not None:
        return unit_rows(vectors, "item_vectors")
    return None if categories is None else unit_rows(categories, "item_categories")


def _checked(method: str, k: int, diversity_weight: float, n_rows: int,
             item_vectors: np.ndarray | None, item_categories: np.ndarray | None,
             target: np.ndarray | None, rows_named: str) -> tuple[Any, ...]:
    check_method(method)
    check_k(k)
    weight = check_weight(diversity_weight)
    vectors = check_matrix(item_vectors, "item_vectors", n_rows, rows_named)
    categories = check_categories(
        check_matrix(item_categories, "item_categories", n_rows, rows_named))
    if target is not None and categories is None:
        raise RequestError("target needs item_categories (one target weight per column)")
    target_name = "target" if rows_named == "candidates" else "targets"
    dist = None if categories is None else check_target(target, categories.shape[1],
                                                        target_name)
    check_method_inputs(method, vectors, categories, dist)
    return weight, vectors, categories, dist


def rerank(method: str, relevance: np.ndarray, k: int, diversity_weight: float, *,
           item_vectors: np.ndarray | None = None, item_categories: np.ndarray | None = None,
           target: np.ndarray | None = None, quotas: Quotas | None = None) -> RerankResult:
    """Re-rank one user's N candidates into a list of min(k, N); see the module docstring.

    `item_vectors (N, d)` give cosine similarity (else the `(N, C)` category rows do);
    `target (C,)` is the calibrated method's distribution; `quotas` maps a category column
    to (floor, cap). Bad arguments raise `RequestError` naming the argument.
    """
    scores = check_relevance(relevance, 1)
    weight, vectors, categories, dist = _checked(method, k, diversity_weight, len(scores),
                                                 item_vectors, item_categories, target,
                                                 "candidates")
    if quotas and categories is None:
        raise RequestError("quotas need item_categories to know each candidate's category")
    if method == "quota" and quotas is None:
        quotas = {}
    perm = np.argsort(-scores, kind="stable")
    n_slots = min(k, len(scores))
    rel_part = (1.0 - weight) * min_max(scores)[perm][None, :]
    unit = _similarity_rows(vectors, categories)
    sorted_cats = None if categories is None else categories[perm]
    scorer = build_scorer(method, weight, rel_part,
                          None if unit is None else unit[perm][None],
                          None if sorted_cats is None else sorted_cats[None],
                          None if dist is None else dist[None], vectors is not None, n_slots)
    rules = QuotaRules(QuotaTracker(quotas, sorted_cats, n_slots)) if quotas else None
    picks = run_greedy(rel_part, scorer, n_slots, rules)
    rel, div = picks["relevance_part"][0], picks["diversity_part"][0]
    return RerankResult(order=perm[picks["order"][0].astype(np.int64)], relevance_part=rel,
                        diversity_part=div, objective=rel + div,
                        fallback=picks["fallback"][0].astype(bool))
