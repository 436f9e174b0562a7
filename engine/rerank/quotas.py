"""Category quotas: hard floors and caps per category, checked up front and kept while filling.

An item counts towards every category in which it has mass (one category for single-label
items). `quotas` maps a category column to `(floor, cap)`; either may be None.
"""

from __future__ import annotations

import numpy as np

from engine.errors import RequestError

Quotas = dict[int, tuple[int | None, int | None]]


def _bound(value: object, category: int, which: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise RequestError(f"quotas[{category}] {which} must be a non-negative integer or "
                           f"None, got {value!r}")
    return int(value)


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
        floor, cap = _bound(bounds[0], category, "floor"), _bound(bounds[1], category, "cap")
        if floor is not None and cap is not None and floor > cap:
            raise RequestError(f"quotas[{category}]: floor {floor} is above cap {cap}")
        columns.append(int(category))
        floors.append(floor or 0)
        caps.append(np.inf if cap is None else cap)
    return np.array(columns, dtype=np.int64), np.array(floors, float), np.array(caps, float)


class QuotaTracker:
    """Which candidates may take the next slot without breaking a cap or an unmeetable floor."""

    def __init__(self, quotas: Quotas, categories: np.ndarray, n_slots: int) -> None:
        self.columns, self.floors, self.caps = parse_quotas(quotas, categories.shape[1])
        self.member = categories[:, self.columns] > 0  # (N, q)
        self.n_slots = n_slots
        self.counts = np.zeros(len(self.columns))
        self._check_feasible()

    def _check_feasible(self) -> None:
        wanted = self.floors.sum()
        if wanted > self.n_slots:
            raise RequestError(f"quotas cannot be met together: the floors ask for {wanted:.0f} "
                               f"items but the list has {self.n_slots} slots; lower the floors")
        available = self.member.sum(axis=0)
        for col, floor, n in zip(self.columns, self.floors, available, strict=True):
            if floor > n:
                raise RequestError(f"quota floor {floor:.0f} for category {col} cannot be met: "
                                   f"only {n} candidates are in that category")
        capped = np.isfinite(self.caps)
        free = int((~self.member[:, capped].any(axis=1)).sum())
        room = free + np.minimum(self.caps[capped], available[capped]).sum()
        if room < self.n_slots:
            raise RequestError(f"quota caps leave only {room:.0f} eligible candidates for a "
                               f"list of {self.n_slots}; raise the caps or lower k")

    def admissible(self, slot: int) -> np.ndarray:
        """(N,) bool: True where taking the candidate now keeps every quota reachable."""
        full = self.counts >= self.caps
        cap_ok = ~self.member[:, full].any(axis=1)
        shortfall = np.maximum(self.floors - self.counts, 0.0)
        need_after = shortfall.sum() - self.member[:, shortfall > 0].sum(axis=1)
        return cap_ok & (need_after <= self.n_slots - slot - 1)

    def update(self, chosen: int) -> None:
        self.counts += self.member[chosen]
