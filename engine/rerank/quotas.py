"""Category quotas: hard floors and caps per category, checked up front and kept while filling.

An item counts towards every category in which it has mass (one category for single-label
items). `quotas` maps a category column to `(floor, cap)`; either may be None.
Category targets by name (floor, cap, share per category) become the `quotas=` and
`target=` arguments of a request at the end of this file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from engine.core.errors import RequestError, ValueCheckError

Quotas = dict[int, tuple[int | None, int | None]]


def check_bounds(name: object, bounds: object) -> tuple[int | None, int | None]:
    """One category's (floor, cap): a pair of whole numbers >= 0 or None, floor <= cap. The one
    check of a quota's shape, for requests, policies, the CLI's --quotas and the re-rankers."""
    if isinstance(bounds, str | bytes) or not isinstance(bounds, Sequence) or len(bounds) != 2:
        raise ValueCheckError(f"quotas[{name!r}] must be a pair [floor, cap] (null for no "
                              f"bound), got {bounds!r}")
    for label, value in zip(("floor", "cap"), bounds, strict=True):
        if value is not None and (isinstance(value, bool) or not isinstance(
                value, int | np.integer) or value < 0):
            raise ValueCheckError(f"quotas[{name!r}]: {label} must be a whole number >= 0 or "
                                  f"null, got {value!r}")
    floor, cap = (None if v is None else int(v) for v in bounds)
    if floor is not None and cap is not None and floor > cap:
        raise ValueCheckError(f"quotas[{name!r}]: floor {floor} is above cap {cap}")
    return floor, cap


def check_supply(quotas: Mapping[Any, tuple[int | None, int | None]],
                 available: Mapping[Any, int], k: int | None, pool: str,
                 fix: str = "lower the floor") -> None:
    """Quotas a list of `k` drawn from `pool` can meet: each floor within what `pool` holds of
    its category (`available[name]`), the floors together within k (items in one category
    each; pass k=None when an item may count towards several)."""
    for name, (floor, _) in quotas.items():
        if floor is not None and floor > available[name]:
            raise ValueCheckError(f"quotas[{name!r}]: floor {floor} but only "
                                  f"{int(available[name])} {pool} are in that category; {fix}")
    floors = sum(floor or 0 for floor, _ in quotas.values())
    if k is not None and floors > k:
        raise ValueCheckError(f"quotas: floors add up to {floors}, more than the list length "
                              f"k={k}; lower the floors or raise k")


def parse_quotas(quotas: Quotas, n_categories: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(columns, floors, caps) arrays from the quota dict; caps without a limit are +inf."""
    if not isinstance(quotas, dict):
        raise RequestError("quotas must be a dict {category index: (floor, cap)}")
    columns, floors, caps = [], [], []
    for category, bounds in sorted(quotas.items()):
        if isinstance(category, bool) or not isinstance(category, int | np.integer) or not (
                0 <= category < n_categories):
            raise RequestError(f"quotas names category {category!r}, but item_categories has "
                               f"columns 0..{n_categories - 1}")
        if not isinstance(bounds, tuple | list) or len(bounds) != 2:
            raise RequestError(f"quotas[{category}] must be a (floor, cap) pair, got {bounds!r}")
        floor, cap = check_bounds(int(category), bounds)
        columns.append(int(category))
        floors.append(floor or 0)
        caps.append(np.inf if cap is None else cap)
    return np.array(columns, dtype=np.int64), np.array(floors, float), np.array(caps, float)


def feasible(counts: np.ndarray, left: np.ndarray, patterns: np.ndarray, floors: np.ndarray,
             caps: np.ndarray, remaining: int) -> bool:
    """Can `remaining` more candidates be picked so that every category ends within its
    (floor, cap)? `counts (q,)` are the quota categories' counts so far; candidates are
    grouped by which quota categories they count towards, `patterns (P, q)` bool, with
    `left (P,)` candidates of each group still free.

    Items in at most one quota category: a closed form (floors first, then any room under the
    caps). Items in several: a small integer programme over the groups (scipy's HiGHS).
    """
    if (counts > caps).any():
        return False
    need, room = np.maximum(floors - counts, 0.0), caps - counts
    if (patterns.sum(axis=1) <= 1).all():
        in_quota = patterns.any(axis=1)
        available = patterns[in_quota].T.astype(float) @ left[in_quota]  # (q,)
        usable = np.minimum(room, available)
        if (need > usable).any():
            return False
        return need.sum() <= remaining <= left[~in_quota].sum() + usable.sum()
    return _feasible_by_milp(left, patterns, floors - counts, room, remaining)


def _feasible_by_milp(left: np.ndarray, patterns: np.ndarray, low: np.ndarray,
                      high: np.ndarray, remaining: int) -> bool:
    n_groups = len(left)
    constraints = [LinearConstraint(np.ones((1, n_groups)), remaining, remaining),
                   LinearConstraint(patterns.T.astype(float), low, high)]
    result = milp(np.zeros(n_groups), constraints=constraints, integrality=np.ones(n_groups),
                  bounds=Bounds(np.zeros(n_groups), left.astype(float)))
    return result.status == 0


class QuotaTracker:
    """Which candidates may take the next slot so that the rest of the list can still meet
    every floor and cap (room under the caps as well as the floors' shortfall), so a
    feasible request is never refused."""

    def __init__(self, quotas: Quotas, categories: np.ndarray, n_slots: int) -> None:
        self.columns, self.floors, self.caps = parse_quotas(quotas, categories.shape[1])
        self.member = categories[:, self.columns] > 0  # (N, q)
        # group candidates by which quota categories they count towards (a bit code per row)
        codes = self.member.astype(np.int64) @ (1 << np.arange(len(self.columns), dtype=np.int64))
        unique, self.group = np.unique(codes, return_inverse=True)  # (N,) candidate -> group
        self.group = self.group.reshape(-1)
        self.patterns = (unique[:, None] >> np.arange(len(self.columns))) & 1 > 0  # (P, q)
        self.left = np.bincount(self.group, minlength=len(self.patterns)).astype(float)
        self.n_slots = n_slots
        self.counts = np.zeros(len(self.columns))
        self._check_feasible()

    def _check_feasible(self) -> None:
        single_label = bool((self.patterns.sum(axis=1) <= 1).all())
        available = self.member.sum(axis=0)
        columns = [int(c) for c in self.columns]
        check_supply({c: (int(f), None) for c, f in zip(columns, self.floors, strict=True)},
                     dict(zip(columns, available, strict=True)),
                     self.n_slots if single_label else None,  # an item may fill several
                     "candidates")
        capped = np.isfinite(self.caps)
        free = int((~self.member[:, capped].any(axis=1)).sum())
        room = free + np.minimum(self.caps[capped], available[capped]).sum()
        if room < self.n_slots:
            raise RequestError(f"quota caps leave only {room:.0f} eligible candidates for a "
                               f"list of {self.n_slots}; raise the caps or lower k")
        if not feasible(self.counts, self.left, self.patterns, self.floors, self.caps,
                        self.n_slots):
            raise RequestError(f"quotas cannot be met together: no list of {self.n_slots} of "
                               "these candidates meets every floor and cap (items in several "
                               "categories count towards each); loosen a floor or a cap")

    def admissible(self, slot: int) -> np.ndarray:
        """(N,) bool: True where taking the candidate now keeps every quota reachable."""
        remaining = self.n_slots - slot - 1
        if (self.patterns.sum(axis=1) <= 1).all():
            return self._single_label_ok(remaining)[self.group]
        ok = np.zeros(len(self.patterns), dtype=bool)
        for group in np.flatnonzero(self.left > 0):
            left = self.left.copy()
            left[group] -= 1
            ok[group] = feasible(self.counts + self.patterns[group], left, self.patterns,
                                 self.floors, self.caps, remaining)
        return ok[self.group]

    def _single_label_ok(self, remaining: int) -> np.ndarray:
        """(P,) `feasible` after taking one candidate of each group, all groups at once
        (items in at most one quota category: the closed form, broadcast over groups)."""
        taken = self.patterns.astype(float)  # (P, q): the category a group's item adds to
        counts = self.counts[None, :] + taken
        in_quota = self.patterns.any(axis=1)
        available = self.patterns[in_quota].T.astype(float) @ self.left[in_quota]  # (q,)
        usable = np.minimum(self.caps[None, :] - counts, available[None, :] - taken)
        need = np.maximum(self.floors[None, :] - counts, 0.0)
        free = self.left[~in_quota].sum() - (~in_quota)
        ok = (counts <= self.caps).all(axis=1) & (need <= usable).all(axis=1)
        ok &= (need.sum(axis=1) <= remaining) & (remaining <= free + usable.sum(axis=1))
        return ok & (self.left > 0)

    def update(self, chosen: int) -> None:
        self.counts += self.member[chosen]
        self.left[self.group[chosen]] -= 1


# ---- category targets by name (the studio's panel, a scenario's settings) ----------------
TargetRows = Mapping[str, Mapping[str, Any]]  # {category: {"floor", "cap", "share"}}


def quotas_from_targets(target_rows: TargetRows) -> dict[str, list[int | None]]:
    """{category: [floor, cap]} for the quota re-ranker: the categories with a bound only."""
    quotas: dict[str, list[int | None]] = {}
    for category, row in target_rows.items():
        floor, cap = row.get("floor"), row.get("cap")
        if floor is not None or cap is not None:
            quotas[category] = [None if floor is None else int(floor),
                                None if cap is None else int(cap)]
    return quotas


def shares_from_targets(target_rows: TargetRows) -> dict[str, float]:
    """{category: share} for the calibrated re-ranker: the categories with a positive share."""
    return {category: float(row["share"]) for category, row in target_rows.items()
            if row.get("share") is not None and float(row["share"]) > 0}


def target_arguments(method: str, target_rows: TargetRows) -> dict[str, Any]:
    """The `quotas=` (method 'quota') or `target=` (method 'calibrated') argument a re-rank
    request takes from category targets; empty when the method uses none or none are set."""
    if method == "quota" and (quotas := quotas_from_targets(target_rows)):
        return {"quotas": quotas}
    if method == "calibrated" and (shares := shares_from_targets(target_rows)):
        return {"target": shares}
    return {}


DEFAULT_CAP_SHARE = 0.25  # with no targets set, 'quota' caps each category at a quarter


def default_cap(k: int) -> int:
    """The per-category cap the quota re-ranker uses when no floors or caps are set."""
    return max(1, math.ceil(k * DEFAULT_CAP_SHARE))


def default_quotas(category_names: Sequence[str], k: int) -> dict[str, list[int | None]]:
    """{category: [None, default_cap(k)]} for every category: no category fills the list."""
    return {name: [None, default_cap(k)] for name in category_names}
