"""Category quotas: floors and caps per category, checked up front; the pipeline's rules
(`engine.rerank.plan.quota_rules`) keep them while filling.

An item counts towards the floor of every category in which it has mass, and towards the cap
of its main category. `quotas` maps a category column to `(floor, cap)`; either may be None.
Category targets by name (floor, cap, share per category) become the `quotas=` and
`target=` arguments of a request at the end of this file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from engine.core.errors import RequestError, ValueCheckError
from engine.core.messages import Message

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
        raise ValueCheckError(Message("quota_floor_cap", name=name, floor=floor, cap=cap))
    return floor, cap


POOLS = {"catalogue items": "pool_catalogue", "candidates": "pool_candidates"}  # message codes


def check_supply(quotas: Mapping[Any, tuple[int | None, int | None]],
                 available: Mapping[Any, int] | None, k: int | None, pool: str) -> None:
    """Quotas a list of `k` drawn from `pool` can meet: each floor within what `pool` holds of
    its category (`available[name]`; None: not known yet), the floors together within k
    (items in one category each; pass k=None when an item may count towards several)."""
    for name, (floor, _) in quotas.items():
        if available is not None and floor is not None and floor > available[name]:
            raise ValueCheckError(Message("quota_short", name=name, floor=floor,
                                          n=int(available[name]), pool=Message(POOLS[pool]),
                                          fix=Message("fix_lower_floor")))
    floors = sum(floor or 0 for floor, _ in quotas.values())
    if k is not None and floors > k:
        raise ValueCheckError(Message("quota_floors_over_k", floors=floors, k=k))


class CategorySupply(NamedTuple):
    """What quotas can draw on, per category column of an item table."""

    carrying: np.ndarray  # (C,) items carrying the category (what a floor can draw on)
    main: np.ndarray  # (C,) items whose main category it is (what the cap rule counts)
    single_label: bool  # no item carries two categories: each floor needs slots of its own


def category_supply(categories: np.ndarray) -> CategorySupply:
    """The `CategorySupply` of the rows of `categories (N, C)`."""
    member = categories > 0
    main = np.bincount(categories.argmax(axis=1), minlength=categories.shape[1]) \
        if len(categories) else np.zeros(categories.shape[1], dtype=np.int64)
    return CategorySupply(member.sum(axis=0), main, bool((member.sum(axis=1) <= 1).all()))


def check_quota_room(quotas: Mapping[Any, tuple[int | None, int | None]],
                     columns: Sequence[int], counts: CategorySupply,
                     n_slots: int, pool: str, floor_slots: int | None) -> None:
    """The one check that quotas (bounds already checked, by name, at category `columns`) fit
    a list of `n_slots` drawn from `pool`, whose `category_supply` is `counts`: each floor
    within the items of its category, the floors together within `floor_slots`
    (`check_supply`), and room under the caps for a full list. Plain requests, policies and
    the array re-rankers all refuse with its messages."""
    main = counts.main
    check_supply(quotas, {name: int(counts.carrying[c])
                          for name, c in zip(quotas, columns, strict=True)},
                 floor_slots, pool)
    room = int(main.sum()) - sum(max(int(main[c]) - cap, 0)  # each cap's excess is lost
                                 for c, (_, cap) in zip(columns, quotas.values(), strict=True)
                                 if cap is not None)
    if room < n_slots:
        raise RequestError(Message("quota_caps_room", room=room, pool=Message(POOLS[pool]),
                                   slots=n_slots))


def check_quota_columns(quotas: Quotas, categories: np.ndarray, n_slots: int,
                        pool: str) -> Quotas:
    """Quotas keyed by category column that a list of `n_slots` drawn from the rows of
    `categories (N, C)` can meet: known columns, (floor, cap) pairs and `check_quota_room`
    (the floors together need not fit the list when an item may count towards several)."""
    if not isinstance(quotas, dict):
        raise RequestError("quotas must be a dict {category index: (floor, cap)}")
    n_categories = categories.shape[1]
    checked: Quotas = {}
    for category, bounds in quotas.items():
        if isinstance(category, bool) or not isinstance(category, int | np.integer) or not (
                0 <= category < n_categories):
            raise RequestError(f"quotas names category {category!r}, but item_categories has "
                               f"columns 0..{n_categories - 1}")
        checked[int(category)] = check_bounds(int(category), bounds)
    checked = dict(sorted(checked.items()))
    counts = category_supply(categories)
    check_quota_room(checked, list(checked), counts, n_slots, pool,
                     n_slots if counts.single_label else None)
    return checked


# ---- category targets by name (the studio's panel, a scenario's settings) ----------------
TargetRows = Mapping[str, Mapping[str, Any]]  # {category: {"floor", "cap", "share"}}


def quotas_from_targets(target_rows: TargetRows) -> dict[str, list[int | None]]:
    """{category: [floor, cap]} for the quota re-ranker: the categories with a bound only."""
    bounds = {category: [row.get("floor"), row.get("cap")]
              for category, row in target_rows.items()}
    return {category: [None if value is None else int(value) for value in pair]
            for category, pair in bounds.items() if pair != [None, None]}


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
