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
            raise ValueError(f"target for {self.group!r} needs a min (floor) or a max (ceiling)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"target for {self.group!r}: floor {self.min:.1%} is above "
                             f"ceiling {self.max:.1%}")
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
        parts = []
        for error in exc.errors():
            loc = ".".join(str(p) for p in error.get("loc", ()))
            msg = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
            parts.append(f"{loc}: {msg}" if loc else msg)
        raise ConfigError(f"{where}: " + "; ".join(parts)) from None


def load_targets(path: str | Path) -> TargetSet:
    """Read a target set from a JSON file."""
    path = Path(path)
    try:
        text = path.read_text()
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}); see "
                          "docs/exposure.md for the format") from None
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
            raise ConfigError(f"targets for {label!r} cannot both hold: floor {floor:.1%} is "
                              f"above ceiling {ceiling:.1%}")
    floors = sum(floor for floor, _ in bounds.values())
    if floors > 1.0 + SHARE_SLACK:
        raise ConfigError(f"the floors add up to {floors:.1%} of exposure over "
                          f"{sum(1 for f, _ in bounds.values() if f > 0)} groups, more than "
                          "100%; lower some floors so they sum to at most 100%")
    if n_groups is not None and len(bounds) == n_groups:
        ceilings = sum(ceiling for _, ceiling in bounds.values())
        if ceilings < 1.0 - SHARE_SLACK:
            raise ConfigError(f"the ceilings cover every group but add up to only "
                              f"{ceilings:.1%}; raise some ceilings so they reach 100%")
