"""A plain request's list: its plan through the one pipeline (`engine.rerank.pipeline`).

relevance = min-max scaled model score over the allowed items (so boosts are in units of the
score range: a boost of 0.1 moves an item by a tenth of the range), plus category and promo
boosts; the top `n_candidates` by that relevance go to the one greedy loop, with quota floors
and caps as its rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.checks import check_k
from engine.core.errors import RequestError
from engine.rerank.pipeline import PolicyLists, ShopperBatch, apply_policy
from engine.rerank.plan import Diversify, RankPlan, diversify_plan, plan_arrays
from engine.serving.catalogue import Catalogue
from engine.serving.requests import ListRequest, category_positions, category_vector, quota_map


@dataclass(frozen=True)
class RankRequest:
    """A valid request checked against one catalogue: its plan (one diversify step, as a
    policy compiles to), the list length and the calibrated target it names, if any."""

    plan: RankPlan
    k: int
    target: np.ndarray | None = None  # (C,) category shares (any sum); None: the shopper's mix

    @property
    def diversify(self) -> Diversify:
        return self.plan.diversify


@dataclass(frozen=True)
class RankedList:
    """Catalogue positions in final order, with the per-slot parts of the decision."""

    items: np.ndarray  # (k',) catalogue positions
    relevance: np.ndarray  # (k',) candidate-scaled relevance in [0, 1]
    diversity_gain: np.ndarray  # (k',) the re-ranker's diversity part for the slot
    score: np.ndarray  # (k',) the re-ranker's objective for the slot
    relevance_only: np.ndarray  # (k',) plain top-k by relevance, for side-by-side views
    relevance_only_scores: np.ndarray  # (k',) their candidate-scaled relevance
    boosts: np.ndarray  # (k',) category + promo boost each final item received
    n_allowed: int  # items that passed the filters


NOTHING_LEFT = ("no item is left after the category filter, the already-seen items and the "
                "items that cannot be bought now are removed; widen the categories, set "
                "exclude_seen=false or include_unavailable=true")


def rank(catalogue: Catalogue, scores: np.ndarray, request: RankRequest, *,
         exclude: np.ndarray, target: np.ndarray | None) -> RankedList:
    """A plain request through the one pipeline: its plan applied to this shopper's scores,
    with `exclude` (positions) left out."""
    plan, weight = request.plan, request.diversify.weight
    scores = np.where(plan.static_allowed, scores, -np.inf)
    scores[exclude] = -np.inf
    n_allowed = int(np.isfinite(scores).sum())
    if not n_allowed:
        raise RequestError(NOTHING_LEFT)
    if target is not None:  # one target, one list: however it was spelled, it sums to 1
        target = np.asarray(target, dtype=np.float64) / float(np.sum(target))
    batch = ShopperBatch(scores=scores[None, :], seen=None, top_category=np.array([-1]),
                         targets=None if target is None else target[None, :],
                         exclude_seen=False)
    lists = apply_policy(plan, batch, request.k)
    items, relevance, gains, score = list_parts(plan, lists, weight)
    pool = lists.candidates[0]
    top = pool[: request.k][pool[: request.k] >= 0]
    return RankedList(
        items=items, relevance=relevance, diversity_gain=gains, score=score,
        relevance_only=top, relevance_only_scores=lists.candidate_relevance[0, :len(top)],
        boosts=plan.boost_vector[items], n_allowed=n_allowed,
    )


def list_parts(plan: RankPlan, lists: PolicyLists, weight: float,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shopper 0's list in `lists`, as a plain request and a policy serve it: catalogue
    positions, candidate-scaled relevance (1 for a slot without one: a pin), the variety
    each slot adds (`variety_added`) and the objective (1 − w)·relevance + diversify term."""
    n = int((lists.items[0] >= 0).sum())
    items = lists.items[0, :n]
    relevance = np.nan_to_num(lists.relevance[0, :n], nan=1.0)
    return (items, relevance, variety_added(plan, items, weight),
            (1.0 - weight) * relevance + np.nan_to_num(lists.diversity[0, :n]))


def variety_added(plan: RankPlan, items: np.ndarray, weight: float) -> np.ndarray:
    """Per slot, the variety the item adds to the list, one definition for every method:
    w × (1 − the item's largest similarity to the items above it), the similarity being the
    cosine the re-rankers measure (model vectors, else category rows) clipped to [0, 1].

    Never negative, at most w: w for the first slot and for an item unlike everything above it
    (a category the list has not shown yet, without vectors), 0 for a copy of one above. MMR's
    term is −w·max sim, so its own choice is this number minus w; DPP and Calibrated rank by
    their own objectives (a log-determinant, a KL divergence), whose per-slot values have
    other signs and scales and are not variety (docs/explanations.md)."""
    if len(items) == 0 or weight <= 0:
        return np.zeros(len(items), dtype=np.float64)
    unit = plan.unit_vectors if plan.unit_vectors is not None else plan.unit_categories
    rows = np.asarray(unit[items], dtype=np.float64)
    above = np.tril(np.ones((len(items), len(items)), dtype=bool), k=-1)
    sims = np.where(above, np.clip(rows @ rows.T, 0.0, 1.0), 0.0)
    return weight * (1.0 - sims.max(axis=1))


def item_arrays(catalogue: Catalogue) -> dict[str, np.ndarray | None]:
    """The catalogue's `plan_arrays`, made once per snapshot."""
    cached = catalogue.similarity_cache.get("plan")
    if cached is None:
        cached = plan_arrays(catalogue.item_categories, catalogue.similarity_vectors())
        catalogue.similarity_cache["plan"] = cached
    return cached


def compile_request(catalogue: Catalogue, request: ListRequest) -> RankRequest:
    """A valid request (`engine.serving.requests`) checked against this catalogue — k within
    it, category names known, quota floors within each category's supply — as a plan with
    one diversify step: the category filter, the category and promo boosts, the quotas."""
    names = catalogue.category_names
    k = check_k(request.k, catalogue.n_items)
    categories, boosts, target, quotas = (getattr(request, name, None) for name in (
        "categories", "category_boosts", "target", "quotas"))  # a list request has none
    allowed = None if not categories else catalogue.in_categories(
        category_positions(categories, names, "categories"))
    vector = getattr(request, "promo_boost", 0.0) * catalogue.promo
    if boosts:
        vector = vector + catalogue.item_categories @ category_vector(boosts, names,
                                                                      "category_boosts")
    target = None if target is None else category_vector(target, names, "target")
    plan = diversify_plan(
        Diversify(request.method, request.diversity_weight, request.target_mix),
        max(request.n_candidates, k), item_arrays(catalogue), category_names=list(names),
        quotas=quota_map(quotas, names, k, catalogue.category_supply) if quotas else None,
        allowed=allowed, boosts=vector)
    return RankRequest(plan, k, target)
