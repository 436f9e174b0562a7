"""One shopper's list through the one pipeline (`engine.rerank.pipeline`), a plain request's
(a plan with one diversify step) and a policy's alike, and the columns it is served as.

relevance = min-max scaled model score over the allowed items (so boosts are in units of the
score range: a boost of 0.1 moves an item by a tenth of the range), plus category and promo
boosts; the top `n_candidates` by that relevance go to the one greedy loop, with quota floors
and caps as its rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from engine.core.checks import check_k
from engine.core.errors import RequestError
from engine.rerank.pipeline import PolicyLists, ShopperBatch, apply_policy
from engine.rerank.plan import Diversify, RankPlan, diversify_plan
from engine.serving.catalogue import Catalogue
from engine.serving.explain import explain, slot_notes
from engine.serving.requests import ListRequest, category_positions, category_vector, quota_map
from engine.serving.results import Columns, list_columns


@dataclass(frozen=True)
class RankRequest:
    """A valid request checked against one catalogue: its plan (one diversify step, as a
    policy compiles to), the list length and the calibrated target it names, if any."""

    plan: RankPlan
    k: int
    target: np.ndarray | None = None  # (C,) category shares summing to 1; None: the shopper's mix


@dataclass(frozen=True)
class Shopper:
    """Whom a list is for, as served: past item positions (oldest first), every item's score,
    the items left out because they cannot be bought now, the model index (-1: none) and the
    model that scored them (None: no model's own reasons, e.g. a search or trending items),
    and, for a fallback, the notice and the per-item note (`note_for(position)`) it carries."""

    past: np.ndarray
    scores: np.ndarray  # (n_items,) -inf: not available
    left_out: np.ndarray
    user: int = -1
    model: object | None = None
    alpha: float | None = None  # the model's loss weight the list is served at
    notice: str | None = None
    note_for: Callable[[int], str | None] | None = None


NOTHING_LEFT = ("no item is left after the category filter, the already-seen items and the "
                "items that cannot be bought now are removed; widen the categories, set "
                "exclude_seen=false or include_unavailable=true")


def shopper_lists(catalogue: Catalogue, plan: RankPlan, shopper: Shopper, k: int, *,
                  exclude_seen: bool, target: np.ndarray | None = None,
                  count_removed: bool = False, shown: np.ndarray | None = None) -> PolicyLists:
    """The shopper's list under `plan`, for a plain request and a policy alike: unavailable
    items left out, seen ones too with `exclude_seen`; a calibrated list aims at `target`,
    else at the shopper's category mix blended with the catalogue's. `shown`: the scores to
    rank when the caller already made them (a float64 array of its own, left-out items -inf)."""
    if shown is None:
        shown = np.array(shopper.scores, dtype=np.float64)
        shown[shopper.left_out] = -np.inf
    past = np.unique(shopper.past)
    seen = sp.csr_matrix((np.ones(len(past)), past, [0, len(past)]), shape=(1, catalogue.n_items))
    mix = catalogue.item_categories[shopper.past].sum(axis=0)
    top = int(np.argmax(mix)) if len(shopper.past) else -1
    stage = plan.diversify
    if target is None and stage is not None and stage.method == "calibrated":
        target = catalogue.calibration_target(shopper.past, stage.target_mix)
    batch = ShopperBatch(scores=shown[None, :], seen=seen, top_category=np.array([top]),
                         targets=None if target is None else target[None, :],
                         exclude_seen=exclude_seen)
    return apply_policy(plan, batch, k, count_removed=count_removed)


def rank(catalogue: Catalogue, request: RankRequest, shopper: Shopper,
         exclude_seen: bool = False) -> tuple[PolicyLists, int]:
    """A plain request's list for the shopper, and how many items passed its filters
    (RequestError when none did)."""
    allowed = request.plan.static_allowed & np.isfinite(shopper.scores)
    allowed[shopper.left_out] = False
    if exclude_seen:
        allowed[shopper.past] = False
    if not allowed.any():
        raise RequestError(NOTHING_LEFT)
    shown = np.where(allowed, shopper.scores, -np.inf).astype(np.float64, copy=False)
    lists = shopper_lists(catalogue, request.plan, shopper, request.k, exclude_seen=False,
                          target=request.target, shown=shown)
    return lists, int(allowed.sum())


def served_columns(catalogue: Catalogue, plan: RankPlan, lists: PolicyLists,
                   shopper: Shopper) -> Columns:
    """Shopper 0's list in `lists` as every result column, as a plain request and a policy
    serve it: catalogue positions, candidate-scaled relevance (1 for a slot without one: a
    pin), the variety each slot adds (`variety_added`), the objective (1 − w)·relevance +
    diversify term, and each item's explanation, with the shopper's note and the boost the
    item received."""
    weight = 0.0 if plan.diversify is None else plan.diversify.weight
    n = int((lists.items[0] >= 0).sum())
    items = lists.items[0, :n]
    relevance = np.nan_to_num(lists.relevance[0, :n], nan=1.0)
    gains = variety_added(plan, items, weight)
    score = (1.0 - weight) * relevance + np.nan_to_num(lists.diversity[0, :n])
    notes = slot_notes(shopper.note_for, items, plan.boost_vector[items])
    texts = explain(catalogue, items, shopper.past, gains, notes, model=shopper.model,
                    user=shopper.user)
    return list_columns(catalogue, items, relevance, gains, score, texts)


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
    rows = np.asarray(plan.similarity_rows[items], dtype=np.float64)
    above = np.tril(np.ones((len(items), len(items)), dtype=bool), k=-1)
    sims = np.where(above, np.clip(rows @ rows.T, 0.0, 1.0), 0.0)
    return weight * (1.0 - sims.max(axis=1))


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
    if target is not None:  # one target, one list: however it was spelled, it sums to 1
        target = category_vector(target, names, "target")
        target /= target.sum()
    plan = diversify_plan(
        Diversify(request.method, request.diversity_weight, request.target_mix),
        max(request.n_candidates, k), catalogue.rank_arrays, category_names=list(names),
        quotas=quota_map(quotas, names, k, catalogue.category_supply) if quotas else None,
        allowed=allowed, boosts=vector)
    return RankRequest(plan, k, target)
