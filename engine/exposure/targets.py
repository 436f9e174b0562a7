"""Population exposure targets: floors and ceilings on group shares, validated up front.

A target set names a grouping (`by`) and a list of bounds, e.g.

    {"by": "brand", "targets": [{"group": "Acme", "max": 0.20}]}
    {"by": "new", "new_days": 30, "targets": [{"group": "new", "min": 0.10}]}
    {"by": "top_category", "targets": [{"group": "*", "min": 0.03}]}

`group: "*"` means every group. Shares are position-discounted exposure shares by default
(`share: "slots"` bounds plain slot shares). `check_feasible` rejects sets that no ranking
can meet (floors summing over 100%, a floor above a ceiling, ceilings below 100% in total
when they cover every group) with a message naming the groups.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.core.errors import ConfigError
from engine.core.field_errors import readable
from engine.core.messages import Message, json_problem
from engine.exposure.groups import Grouping, GroupSpec

EVERY = "*"
SHARE_SLACK = 1e-9


class Target(BaseModel):
    """One bound on one group's share (or on every group's, with group '*')."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group: str = Field(..., min_length=1)
    min: float | None = Field(None, ge=0.0, le=1.0, description="floor on the share")
    max: float | None = Field(None, ge=0.0, le=1.0, description="ceiling on the share")

    @model_validator(mode="after")
    def _bounds(self) -> Target:
        if self.min is None and self.max is None:
            raise ValueError(Message("target_needs_bound", group=self.group))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(Message("target_floor_above", group=self.group, floor=self.min,
                                     ceiling=self.max))
        return self


class TargetSet(BaseModel):
    """A grouping and the bounds on its groups' exposure shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: str = "brand"
    new_days: int = Field(30, ge=1, le=3650)
    n_bands: int = Field(5, ge=2, le=20)
    share: Literal["exposure", "slots"] = "exposure"
    targets: list[Target] = Field(..., min_length=1)

    def group_spec(self) -> GroupSpec:
        return GroupSpec(by=self.by, new_days=self.new_days, n_bands=self.n_bands)


def parse_targets(value: object, where: str = "targets") -> TargetSet:
    """A TargetSet from a dict (or JSON text); ConfigError says which field is wrong."""
    try:
        if isinstance(value, str | bytes):
            return TargetSet.model_validate_json(value)
        return TargetSet.model_validate(value)
    except ValidationError as exc:
        raise ConfigError(readable(exc, whole=where)) from None


def load_targets(path: str | Path) -> TargetSet:
    """Read a target set from a JSON file."""
    path = Path(path)
    try:
        text = path.read_text()
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(Message("targets_not_json", path=str(path), error=json_problem(exc.msg),
                                  line=exc.lineno)) from None
    return parse_targets(text, str(path))


def resolve(targets: TargetSet, grouping: Grouping) -> dict[str, tuple[float, float]]:
    """Per group label, the (floor, ceiling) it must keep (0 and 1 where unbounded).

    A bound on a named group overrides the '*' bound for that group; unknown groups are
    an error naming the known ones.
    """
    bounds: dict[str, tuple[float, float]] = {}
    every = [t for t in targets.targets if t.group == EVERY]
    for target in every:
        for label in grouping.labels:
            bounds[label] = _merge(bounds.get(label), target)
    for target in targets.targets:
        if target.group != EVERY:
            grouping.position(target.group)  # raises for unknown groups
            bounds[target.group] = _merge(None, target)
    check_feasible(bounds, grouping.n_groups)
    return bounds


def _merge(current: tuple[float, float] | None, target: Target) -> tuple[float, float]:
    floor, ceiling = current or (0.0, 1.0)
    return (target.min if target.min is not None else floor,
            target.max if target.max is not None else ceiling)


def check_feasible(bounds: dict[str, tuple[float, float]], n_groups: int | None = None) -> None:
    """ConfigError when no allocation of shares can meet the bounds together."""
    for label, (floor, ceiling) in bounds.items():
        if floor > ceiling + SHARE_SLACK:
            raise ConfigError(Message("targets_clash", group=label, floor=floor,
                                      ceiling=ceiling))
    floors = sum(floor for floor, _ in bounds.values())
    if floors > 1.0 + SHARE_SLACK:
        raise ConfigError(Message("floors_over", total=floors,
                                  groups=sum(1 for f, _ in bounds.values() if f > 0)))
    if n_groups is not None and len(bounds) == n_groups:
        ceilings = sum(ceiling for _, ceiling in bounds.values())
        if ceilings < 1.0 - SHARE_SLACK:
            raise ConfigError(Message("ceilings_under", total=ceilings))
