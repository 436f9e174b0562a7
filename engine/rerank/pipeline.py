"""The one ranking pipeline: apply a plan (a compiled policy or a plain request) to model
scores, for one shopper or a batch, as array work.

Pipeline (whatever the stage order in the list): filter → boost/bury → floor → candidates
(top-N by boosted relevance) → one greedy pass of the diversify stage in which caps, promotion
shares and quota floors are constraints → pins inserted at their slots.

Precedence when rules cannot all hold (each case is a notice, never an exception):
1. filters (and already-bought items) win over everything: a filtered item is never shown,
   even when pinned;
2. pins win over caps, promotion and the floor: a pinned item takes its slot, and counts
   towards caps and promotion shares; a pin beyond k is skipped; an earlier pin wins a slot;
3. caps win over promotion shares: when only capped items could fill a promoted slot, the
   share is relaxed;
4. the floor wins over list length: fewer than k items rather than poor ones;
5. diversify and boosts decide the order among what is left.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from engine.core.messages import Message
from engine.models.topn import order_top_n, top_n
from engine.rerank.constrained import GreedyOutcome, constrained_greedy
from engine.rerank.narrow import narrow_columns, narrowed, widened
from engine.rerank.plan import RankPlan, required_slots
from engine.rerank.scaling import min_max
from engine.rerank.trace import RankTrace, trace_ranks


@dataclass
class ShopperBatch:
    """What a policy needs per shopper: scores, what they bought, their top category."""

    scores: np.ndarray  # (B, n_items) model scores; -inf = not available
    seen: sp.csr_matrix | None  # (B, n_items) already-bought items (None: nothing to hide)
    top_category: np.ndarray  # (B,) category index of the history's main category, -1 none
    targets: np.ndarray | None = None  # (B, C) calibrated targets
    exclude_seen: bool = True  # the request's own setting (a filter stage can force it)


@dataclass
class PolicyLists:
    """Per shopper and slot: the items and what the policy did to them (-1 / 0 pads)."""

    items: np.ndarray  # (B, k) catalogue positions, -1 pads
    pinned: np.ndarray  # (B, k) bool: the slot holds a pin
    forced: np.ndarray  # (B, k) bool: a slot reserved for a promotion share or quota floor
    base_rank: np.ndarray  # (B, k) 1-based rank by boosted relevance among candidates (0 pin)
    greedy_slot: np.ndarray  # (B, k) 1-based slot the greedy pass gave it (0 pin)
    relevance: np.ndarray  # (B, k) min-max scaled boosted relevance among the candidates
    diversity: np.ndarray  # (B, k) the diversify term at the time of choice
    alone_slot: np.ndarray | None = None  # (B, k) slot under the diversify stage without caps
    # and shares (0: not in that list); set for attribution when both act
    candidates: np.ndarray | None = None  # (B, N) the candidates by boosted relevance, -1 pads
    candidate_relevance: np.ndarray | None = None  # (B, N) their scaled boosted relevance
    removed: dict[str, np.ndarray] = field(default_factory=dict)  # label -> (B,) count
    trace: RankTrace | None = None  # where each pick stood before the greedy pass (counted
    # with `removed`, for attribution)
    notices: list[Counter] = field(default_factory=list)  # per shopper, message -> 1


def _with_owed_items(plan: RankPlan, boosted: np.ndarray, candidates: np.ndarray,
                     k: int) -> np.ndarray:
    """Candidates plus, per promotion share or quota floor, its best matching items, so a
    share is feasible whenever enough matching items pass the filters and the floor.
    Merged rows stay sorted by boosted relevance (ties by position), -1 at the end."""
    merged = [candidates]
    for rule in plan.at_least:
        need, columns = required_slots(rule, k), np.flatnonzero(rule.mask)
        if need > 0 and len(columns):  # top items among the matching columns only
            best = top_n(np.ascontiguousarray(boosted[:, columns]), None, need)
            merged.append(np.where(best >= 0, columns[np.clip(best, 0, None)], -1))
    if len(merged) == 1:
        return candidates
    items = np.hstack(merged)
    values = np.take_along_axis(boosted, np.clip(items, 0, None), axis=1)
    items, values = order_top_n(items, np.where(items >= 0, values, -np.inf))
    values[:, 1:][items[:, 1:] == items[:, :-1]] = -np.inf  # an item again: drop the repeat
    items = order_top_n(items, values)[0]  # by boosted relevance, ties by position, -1 last
    width = int((items >= 0).sum(axis=1).max(initial=0))
    return items[:, :max(width, 1)]


def _floor_mask(plan: RankPlan, scores: np.ndarray, relevance: np.ndarray,
                allowed: np.ndarray) -> np.ndarray:
    floor = plan.floor
    if floor is None:
        return allowed
    if floor.min_relevance is not None:
        return allowed & (relevance >= floor.min_relevance)
    with np.errstate(invalid="ignore"):
        thresholds = np.nanquantile(np.where(allowed, scores, np.nan), floor.quantile, axis=1,
                                    keepdims=True)
    return allowed & (scores >= thresholds)


def _assign_pins(plan: RankPlan, batch: ShopperBatch, available: np.ndarray, k: int,
                 notices: list[Counter]) -> np.ndarray:
    """(B, k) pinned item per slot (-1 none): filters win, earlier pins win a slot."""
    n_users = len(batch.scores)
    pins = np.full((n_users, k), -1, dtype=np.int64)
    for pin in plan.pins:
        if pin.slot > k:
            for row in range(n_users):
                notices[row][Message("pin_beyond_list", label=pin.label, slot=pin.slot, k=k)] = 1
            continue
        in_segment = pin.for_shoppers(batch.top_category)
        applies = in_segment & available[:, pin.item]
        for row in np.flatnonzero(in_segment & ~available[:, pin.item]):
            notices[row][Message("pin_filtered", label=pin.label)] = 1
        taken = pins[:, pin.slot - 1] >= 0
        already = (pins == pin.item).any(axis=1)
        for row in np.flatnonzero(applies & taken & ~already):
            notices[row][Message("pin_slot_taken", label=pin.label, slot=pin.slot)] = 1
        chosen = applies & ~taken & ~already
        pins[chosen, pin.slot - 1] = pin.item
    return pins


def _lists(outcome: GreedyOutcome, candidates: np.ndarray, pins: np.ndarray,
           notices: list[Counter]) -> PolicyLists:
    """(B, k) items with pins at their slots and greedy picks in the open ones, compacted,
    with what the greedy pass did to each pick (-1 / 0 pads)."""
    n_users, k = pins.shape
    rows = np.arange(n_users)[:, None]
    open_slot = pins < 0
    pick_index = np.cumsum(open_slot, axis=1) - 1
    has_pick = open_slot & (pick_index < (outcome.order >= 0).sum(axis=1)[:, None])
    safe = np.clip(pick_index, 0, max(outcome.order.shape[1] - 1, 0))
    picked = candidates[rows, outcome.order[rows, safe]]
    items = np.where(open_slot, np.where(has_pick, picked, -1), pins)
    gaps = items < 0
    order = np.argsort(gaps, axis=1, kind="stable")
    moved = ~open_slot & ~gaps & (np.argsort(order, axis=1) != np.arange(k)[None, :])
    for row in np.flatnonzero(moved.any(axis=1)):
        notices[row][Message("pin_moved_up")] = 1
    items, has, safe = (np.take_along_axis(a, order, axis=1) for a in (items, has_pick, safe))

    def pick(values: np.ndarray, pad: float) -> np.ndarray:
        return np.where(has, values[rows, safe], pad)

    return PolicyLists(
        items=items, pinned=(items >= 0) & ~has,
        forced=pick(outcome.forced, False).astype(bool),
        base_rank=np.where(has, pick(outcome.order, -1) + 1, 0).astype(np.int64),
        greedy_slot=np.where(has, safe + 1, 0).astype(np.int64),
        relevance=pick(outcome.relevance, np.nan), diversity=pick(outcome.diversity, 0.0),
        notices=notices)


def apply_policy(plan: RankPlan, batch: ShopperBatch, k: int, *,
                 count_removed: bool = False) -> PolicyLists:
    """Lists of up to k items per shopper under `plan` (see the module docstring); over the
    items that can be shown when those are few (`engine.rerank.narrow`)."""
    columns = narrow_columns(plan, batch)
    if columns is not None:
        lists = apply_policy(*narrowed(plan, batch, columns), k, count_removed=count_removed)
        return widened(lists, columns)
    n_users = len(batch.scores)
    notices = [Counter() for _ in range(n_users)]
    scores = np.asarray(batch.scores)  # min_max scales non-float scores as float64
    unseen = np.isfinite(scores)
    if batch.exclude_seen or plan.exclude_seen:
        unseen[batch.seen.nonzero()] = False
    available = unseen & plan.static_allowed[None, :]
    if not plan.has_steps:
        return _model_top(scores, available, k, notices)
    relevance = np.where(available, min_max(scores, available), -np.inf)
    allowed = _floor_mask(plan, scores, relevance, available)
    pins = _assign_pins(plan, batch, available, k, notices)
    pinned_rows, pinned_slots = np.nonzero(pins >= 0)
    allowed[pinned_rows, pins[pinned_rows, pinned_slots]] = False
    boosted = np.where(allowed, relevance + plan.boost_vector[None, :], -np.inf)
    n_candidates = max(plan.n_candidates, k)
    candidates = _with_owed_items(plan, boosted, top_n(boosted, None, n_candidates), k)
    safe = np.clip(candidates, 0, None)
    values = np.where(candidates >= 0, np.take_along_axis(boosted, safe, axis=1), -np.inf)
    if plan.exposure_bonus is not None:  # prices are fitted on relevance scaled over the pool
        values = min_max(values, fill=-np.inf) + plan.exposure_bonus[safe]
    outcome = constrained_greedy(plan, batch.targets, candidates, values, pins, k, notices)
    lists = _lists(outcome, candidates, pins, notices)
    lists.candidates, lists.candidate_relevance = candidates, outcome.scaled
    if count_removed:
        lists.removed = _removed_counts(plan, scores, unseen, available, allowed, n_candidates)
        lists.removed.update(outcome.capped_out)
        lists.trace = trace_ranks(plan, scores, unseen, allowed, boosted, pins, lists.items,
                                  (lists.items >= 0) & ~lists.pinned)
        stage = plan.diversify
        if stage is not None and stage.weight > 0 and (plan.caps or plan.at_least):
            alone = constrained_greedy(replace(plan, caps=[], at_least=[]), batch.targets,
                                       candidates, values, pins, k,
                                       [Counter() for _ in range(n_users)])
            lists.alone_slot = _alone_slots(outcome, alone, lists)
    shown = (lists.items >= 0).sum(axis=1)
    for row in np.flatnonzero(shown < k):
        notices[row][Message("only_n_pass", n=int(shown[row]), k=k)] = 1
    return lists


def _alone_slots(outcome: GreedyOutcome, alone: GreedyOutcome,
                 lists: PolicyLists) -> np.ndarray:
    """Per served slot, the slot the diversify stage alone gave the same candidate (0: none)."""
    served = np.take_along_axis(outcome.order, np.clip(lists.greedy_slot - 1, 0, None), axis=1)
    same = (alone.order[:, None, :] == served[:, :, None]) & (alone.order >= 0)[:, None, :]
    return np.where((lists.greedy_slot > 0) & same.any(axis=2), same.argmax(axis=2) + 1, 0)


def _model_top(scores: np.ndarray, available: np.ndarray, k: int,
               notices: list[Counter]) -> PolicyLists:
    """No stages: the model's own top-k of the available items."""
    items = top_n(np.where(available, scores, -np.inf), None, k)
    if items.shape[1] < k:
        items = np.pad(items, ((0, 0), (0, k - items.shape[1])), constant_values=-1)
    ranks = np.where(items >= 0, np.arange(1, k + 1)[None, :], 0)
    return PolicyLists(items=items, pinned=np.zeros(items.shape, dtype=bool),
                       forced=np.zeros(items.shape, dtype=bool), base_rank=ranks,
                       greedy_slot=ranks, relevance=np.full(items.shape, np.nan),
                       diversity=np.zeros(items.shape), notices=notices)


def _removed_counts(plan: RankPlan, scores: np.ndarray, unseen: np.ndarray,
                    available: np.ndarray, allowed: np.ndarray,
                    n: int) -> dict[str, np.ndarray]:
    """Per filter, how many of the top-n unseen items by model score it removed; for the
    floor, how many of the top-n filtered items by model score it dropped."""
    counts = {}
    if plan.filters:
        top = top_n(np.where(unseen, scores, -np.inf), None, n)
        counts = {rule.label: (~rule.mask[np.clip(top, 0, None)] & (top >= 0)).sum(axis=1)
                  for rule in plan.filters}
    if plan.floor is not None:
        top = top_n(np.where(available, scores, -np.inf), None, n)
        below = ~np.take_along_axis(allowed, np.where(top >= 0, top, 0), axis=1)
        counts[plan.floor.label or "floor"] = (below & (top >= 0)).sum(axis=1)
    return counts


def rank_candidates(plan: RankPlan, candidates: np.ndarray, values: np.ndarray, k: int,
                    targets: np.ndarray | None = None, device: object = None) -> GreedyOutcome:
    """The plan's diversify step, quotas and caps over candidates already retrieved (an
    evaluation's or a sweep's top-N): `candidates (B, N)` item positions (-1 pads) with
    `values (B, N)`. The outcome's `order` holds the chosen item positions (-1 pads); ties
    keep the column order. `device`: a torch device for lists with nothing to constrain."""
    valid = np.asarray(candidates) >= 0
    values = np.where(valid, values, -np.inf)
    perm = np.argsort(-values, axis=1, kind="stable")
    ranked = np.take_along_axis(np.where(valid, candidates, -1), perm, axis=1)
    pins = np.full((len(ranked), k), -1, dtype=np.int64)
    outcome = constrained_greedy(plan, targets, ranked, np.take_along_axis(values, perm, axis=1),
                                 pins, k, [Counter() for _ in range(len(ranked))], device)
    taken = outcome.order >= 0
    items = np.take_along_axis(ranked, np.where(taken, outcome.order, 0), axis=1)
    return replace(outcome, order=np.where(taken, items, -1))
