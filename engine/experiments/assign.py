"""An experiment's arms and which arm a shopper sees: sticky, by keyed hash.

A shopper's arm is HMAC-SHA256(home key, experiment name + shopper id) read as a number in
[0, 1) and placed on the arms' cumulative shares. The same shopper always gets the same arm
of an experiment (on every worker, across restarts), different experiments split shoppers
independently, and nobody without the key can steer or predict a shopper's arm.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.core.errors import ConfigError
from engine.core.keys import keyed_shopper_id
from engine.core.messages import Message
from engine.core.names import is_name, name_problem

METRICS = ("clicks_per_list", "conversion", "revenue_per_list")
HEX_DIGITS = 16  # keyed_shopper_id keeps the first 16 hex digits of the HMAC
MAX_SPREAD = 40  # (pool - 1) / temperature: beyond it the tail of the pool is never shown


@dataclass(frozen=True)
class Arm:
    """One arm: its name, the policy it serves (name@version, or 'none' for the plain
    ranking) and its share of shoppers."""

    name: str
    policy: str
    share: float


@dataclass(frozen=True)
class Exploration:
    """Randomise served lists: a Plackett–Luce sample of `k` from the top `pool` of the
    ranking, item of rank r weighted exp(−(r − 1) / temperature)."""

    temperature: float
    pool: int


@dataclass(frozen=True)
class Experiment:
    """A named split of shoppers between arms; the first arm is the control."""

    name: str
    arms: tuple[Arm, ...]
    metric: str = "clicks_per_list"
    exploration: Exploration | None = None
    status: str = "running"
    info: dict[str, Any] = field(default_factory=dict, compare=False)  # who, when

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["arms"] = [asdict(arm) for arm in self.arms]
        return body

    @property
    def control(self) -> Arm:
        return self.arms[0]

    def arm(self, name: str) -> Arm:
        return next(arm for arm in self.arms if arm.name == name)


def check_name(name: str, what: str) -> str:
    """`name` when it follows the one name rule, else ConfigError naming `what` ("experiment
    name" or "arm name")."""
    if not is_name(name):
        raise ConfigError(name_problem(name, what.removesuffix(" name")))
    return name


def check_arms(arms: list[Arm]) -> tuple[Arm, ...]:
    """The arms, or ConfigError: at least one, distinct names, shares > 0 summing to 1."""
    if not arms:
        raise ConfigError(Message("no_arms"))
    names = [check_name(arm.name, "arm name") for arm in arms]
    if len(set(names)) != len(names):
        raise ConfigError(Message("arm_names_repeat", names=", ".join(names)))
    for arm in arms:
        if not (isinstance(arm.share, float) and math.isfinite(arm.share) and arm.share > 0):
            raise ConfigError(Message("arm_share", arm=arm.name, share=arm.share))
    total = sum(arm.share for arm in arms)
    if abs(total - 1.0) > 1e-6:
        raise ConfigError(Message("arm_shares_sum", total=total))
    return tuple(arms)


def check_exploration(temperature: float | None, pool: int | None) -> Exploration | None:
    if temperature is None:
        return None
    if not (math.isfinite(temperature) and 0.05 <= temperature <= 20.0):
        raise ConfigError(Message("temperature_range", temperature=temperature))
    pool = 20 if pool is None else pool
    if not 2 <= pool <= 50:
        raise ConfigError(Message("pool_range", pool=pool))
    if (pool - 1) / temperature > MAX_SPREAD:
        raise ConfigError(Message("pool_too_wide", pool=pool, temperature=temperature,
                                  power=(pool - 1) / temperature, most=MAX_SPREAD))
    return Exploration(float(temperature), int(pool))


def unit_hash(experiment: str, user_id: str, key: bytes) -> float:
    """The shopper's point in [0, 1) for this experiment (keyed, so not guessable)."""
    digest = keyed_shopper_id(f"experiment\x1f{experiment}\x1f{user_id}", key)
    return int(digest[2:], 16) / float(16 ** HEX_DIGITS)


def arm_for(experiment: Experiment, user_id: str, key: bytes) -> Arm:
    """The arm this shopper sees in this experiment, always the same one."""
    point = unit_hash(experiment.name, user_id, key)
    edge = 0.0
    for arm in experiment.arms:
        edge += arm.share
        if point < edge:
            return arm
    return experiment.arms[-1]  # shares sum to 1 up to rounding
