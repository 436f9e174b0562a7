"""The constrained greedy pass: the diversify stage's scorer plus caps and at-least shares.

Candidates arrive sorted by boosted relevance (best first), as the re-rankers in
`engine.rerank` expect, and their scorers (MMR, DPP, calibrated) give the diversity term.
Each slot takes the admissible candidate with the best (1 − w)·rel + diversity term, where
admissible means: not taken, within every cap, and — once the open at-least requirements
(promotion shares, quota floors) need every remaining slot — matching one of them. When no
admissible candidate exists the share is relaxed (caps win); when nothing fits the caps the
list ends early.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from engine.core.messages import Message
from engine.rerank.greedy import CalibratedScorer, DPPScorer, MMRScorer, Scorer, run_greedy
from engine.rerank.methods import NEEDS_SIMILARITY
from engine.rerank.plan import RankPlan, required_slots
from engine.rerank.scaling import min_max


@dataclass
class GreedyOutcome:
    """Per shopper and greedy pick: candidate index, reserved-slot flag, terms."""

    order: np.ndarray  # (B, k) index into the candidates, -1 pads (after the picks)
    forced: np.ndarray  # (B, k) bool: a reserved slot changed the pick
    relevance: np.ndarray  # (B, k) scaled boosted relevance of the pick
    diversity: np.ndarray  # (B, k) diversity term of the pick
    fallback: np.ndarray  # (B, k) bool: DPP had no diversity gain left for the slot
    scaled: np.ndarray  # (B, N) scaled boosted relevance of every candidate
    capped_out: dict[str, np.ndarray]  # cap label -> (B,) best candidates a cap kept out


def _mover(device: Any) -> Callable[[np.ndarray], Any]:
    """What puts a numpy array on the device the loop runs on (None: it stays numpy)."""
    if device is None:
        return np.asarray
    import torch

    return partial(torch.as_tensor, device=device)


def _scorer(plan: RankPlan, rel_part: Any, safe: np.ndarray, targets: np.ndarray | None,
            k: int, move: Callable[[np.ndarray], Any]) -> Scorer:
    """The diversify step's scorer over the candidates (sorted by relevance), its arrays put
    where `rel_part` is by `move`. No diversity term for no step, 'none', a zero weight, or a
    calibrated list without targets."""
    stage = plan.diversify
    if stage is None or stage.method == "none" or stage.weight == 0 or (
            stage.method == "calibrated" and targets is None):
        return Scorer(rel_part)
    if stage.method in NEEDS_SIMILARITY:
        unit = move(plan.similarity_rows[safe])  # (B, N, d)
        if stage.method == "dpp":
            return DPPScorer(unit, stage.weight, shifted=plan.unit_vectors is not None,
                             n_slots=k)
        return MMRScorer(unit, stage.weight)
    targets = move(targets)
    support = (targets > 0).any(axis=0)  # KL terms outside the target's support are 0
    return CalibratedScorer(move(plan.item_categories[safe])[:, :, support],
                            targets[:, support], stage.weight)


def _pinned_counts(plan: RankPlan, masks: np.ndarray, pins: np.ndarray, k: int,
                   ) -> tuple[list[np.ndarray], np.ndarray]:
    """Per cap, (B, G) the items each shopper's pins put in each group; and (B, J) the slots
    each at-least rule (`masks (n_items, J)`) still needs once the pins count."""
    pinned = pins >= 0
    rows, items = np.nonzero(pinned)[0], pins[pinned]
    counts = []
    for cap in plan.caps:
        count = np.zeros((len(pins), len(cap.limits)), dtype=np.int64)
        code = cap.codes[items]
        np.add.at(count, (rows[code >= 0], code[code >= 0]), 1)
        counts.append(count)
    required = np.array([required_slots(rule, k) for rule in plan.at_least], dtype=np.int64)
    pinned_matches = (masks[np.where(pinned, pins, 0)] & pinned[:, :, None]).sum(axis=1)
    return counts, required - pinned_matches


class _PolicyRules:
    """Caps and at-least shares as rules of the one greedy loop (`engine.rerank.greedy`),
    per shopper: admissible candidates per slot, picks written as -1-padded rows, lists that
    end early when nothing fits the caps. Pins count towards both."""

    def __init__(self, plan: RankPlan, safe: np.ndarray, valid: np.ndarray, pins: np.ndarray,
                 k: int, notices: list[Counter]) -> None:
        n_users = len(valid)
        self.caps, self.notices = plan.caps, notices
        self.cap_codes = [np.where(valid, cap.codes[safe], -1) for cap in plan.caps]  # -1 free
        masks = np.array([rule.mask for rule in plan.at_least], dtype=bool).reshape(
            len(plan.at_least), plan.n_items).T  # (n_items, J): counts towards at-least rule j
        self.cap_counts, self.need = _pinned_counts(plan, masks, pins, k)
        self.matches = np.take(masks.T, safe, axis=1) & valid  # (J, B, N), rule-major
        self.blocked, self.to_fill = ~valid, k - (pins >= 0).sum(axis=1)
        self.rows = np.arange(n_users)
        self.filled = np.zeros(n_users, dtype=np.int64)
        self.relaxed = np.zeros(n_users, dtype=bool)  # shares given up (caps won)
        self.order = np.full((n_users, k), -1, dtype=np.int64)
        self.forced = np.zeros((n_users, k), dtype=bool)
        self.capped_seen = [np.zeros(valid.shape, dtype=bool) for _ in plan.caps]

    def finished(self) -> bool:
        return not (self.filled < self.to_fill).any()

    def cap_ok(self) -> list[np.ndarray]:
        """Per cap, (B, N) whether each candidate's group has room left."""
        out = []
        for codes, counts, cap in zip(self.cap_codes, self.cap_counts, self.caps, strict=True):
            clipped = np.clip(codes, 0, None)
            out.append((codes < 0) | (counts[self.rows[:, None], clipped] < cap.limits[clipped]))
        return out

    def admissible(self, caps_ok: list[np.ndarray], active: np.ndarray,
                   ) -> tuple[np.ndarray, np.ndarray]:
        """(B, N) candidates allowed in this slot and (B,) whether the slot is reserved for
        owed shares; relaxes shares caps block and ends lists nothing fits."""
        notices = self.notices
        within = ~self.blocked & np.all(caps_ok, axis=0)  # room under every cap
        owed = np.clip(self.need, 0, None)
        forced = active & ~self.relaxed & (owed.sum(axis=1) >= self.to_fill - self.filled) & \
            (owed.sum(axis=1) > 0)
        wanted = (self.matches & (owed.T > 0)[:, :, None]).any(axis=0)
        admissible = within & (~forced[:, None] | wanted)
        stuck = forced & ~admissible.any(axis=1)
        for row in np.flatnonzero(stuck):
            notices[row][Message("floor_not_met_caps" if (wanted[row] & ~self.blocked[row]).any()
                                 else "floor_not_met_short")] = 1
        self.relaxed |= stuck
        forced &= ~stuck
        admissible[stuck] = within[stuck]
        ended = active & ~admissible.any(axis=1)
        for row in np.flatnonzero(ended & (~self.blocked).any(axis=1)):
            notices[row][Message("caps_leave_fewer")] = 1
        self.to_fill[ended] = self.filled[ended]
        return admissible, forced

    def choose(self, slot: int, objective: np.ndarray) -> np.ndarray:
        """(B,) the best admissible candidate per shopper, written and counted for the live."""
        rows = self.rows
        caps_ok = self.cap_ok()
        admissible, forced = self.admissible(caps_ok, self.filled < self.to_fill)
        active = self.filled < self.to_fill
        chosen = np.where(admissible, objective, -np.inf).argmax(axis=1)
        best = objective.argmax(axis=1)
        for ok, seen in zip(caps_ok, self.capped_seen, strict=True):
            out_by_cap = active & (best != chosen) & ~ok[rows, best] & ~self.blocked[rows, best]
            seen[rows[out_by_cap], best[out_by_cap]] = True
        live, pick = rows[active], chosen[active]
        self.order[live, slot] = pick
        self.forced[live, slot] = (forced & (best != chosen))[active]
        self.filled[active] += 1
        for codes, counts in zip(self.cap_codes, self.cap_counts, strict=True):
            code = codes[live, pick]
            counts[live[code >= 0], code[code >= 0]] += 1
        self.need[live] -= self.matches[:, live, pick].T
        return chosen


def constrained_greedy(plan: RankPlan, targets: np.ndarray | None, candidates: np.ndarray,
                       values: np.ndarray, pins: np.ndarray, k: int, notices: list[Counter],
                       device: Any = None) -> GreedyOutcome:
    """Fill each shopper's open slots (k minus their pins) from `candidates (B, N)`, sorted
    by `values (B, N)` (boosted relevance, -inf pads) best first. A batch with no caps, shares
    or pins whose lists all fill runs on the torch `device` when one is given."""
    valid = candidates >= 0
    safe = np.where(valid, candidates, 0)
    scaled = np.where(valid, min_max(values, valid), 0.0)
    weight = 0.0 if plan.diversify is None else plan.diversify.weight
    free = not (plan.caps or plan.at_least or (pins >= 0).any()) and \
        bool((valid.sum(axis=1) >= k).all())  # nothing to constrain, every list fills
    rules = None if free else _PolicyRules(plan, safe, valid, pins, k, notices)
    move = _mover(device if free else None)
    rel_part = move((1.0 - weight) * scaled)
    picks = run_greedy(rel_part, _scorer(plan, rel_part, safe, targets, k, move), k,
                       move(~valid) if rules is None else rules.blocked, rules)
    picks = {key: np.asarray(value if isinstance(value, np.ndarray) else value.cpu())
             for key, value in picks.items()}
    if rules is None:
        order, capped_out = picks["order"].astype(np.int64), {}
        forced = np.zeros(order.shape, dtype=bool)
    else:
        for row in np.flatnonzero((rules.need > 0).any(axis=1) & ~rules.relaxed):
            notices[row][Message("floor_not_met_pins")] = 1
        order, forced = rules.order, rules.forced
        capped_out = {cap.label: seen.sum(axis=1)
                      for cap, seen in zip(plan.caps, rules.capped_seen, strict=True)}
    taken = order >= 0
    n_run = picks["order"].shape[1]  # the loop may end before k slots
    diversity, fallback = np.zeros(order.shape), np.zeros(order.shape, dtype=bool)
    diversity[:, :n_run] = np.where(taken[:, :n_run], picks["diversity_part"], 0.0)
    fallback[:, :n_run] = taken[:, :n_run] & picks["fallback"].astype(bool)
    relevance = np.take_along_axis(scaled, np.clip(order, 0, None), axis=1)
    return GreedyOutcome(order, forced, np.where(taken, relevance, np.nan), diversity,
                         fallback, scaled, capped_out)
