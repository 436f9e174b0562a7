"""Frozen, validated configuration dataclasses: one per component, defaults in one place.

Each config validates itself on creation and names the offending field in its message.
`from_dict` rejects unknown keys so a typo in a saved config never passes silently.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Self

from engine.columns import DEFAULT_EVENT_WEIGHTS
from engine.errors import ConfigError


def _check(condition: bool, cls_name: str, field_name: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{cls_name}.{field_name}: {message}")


class _ConfigMixin:
    """Shared helpers: dict round-trip with unknown-key rejection."""

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"{cls.__name__}: unknown setting(s) {unknown}; known settings are {sorted(known)}"
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclass(frozen=True)
class DataConfig(_ConfigMixin):
    """How raw tables become a clean dataset."""

    category_depth: int = 2  # level of the category path used for diversity (else the deepest)
    event_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))
    min_user_events: int = 1
    min_item_events: int = 1
    max_price: float = 100_000.0  # prices above this (or below 0) are absurd

    def __post_init__(self) -> None:
        name = type(self).__name__
        _check(self.category_depth >= 1, name, "category_depth", "must be >= 1")
        _check(self.min_user_events >= 1, name, "min_user_events", "must be >= 1")
        _check(self.min_item_events >= 1, name, "min_item_events", "must be >= 1")
        _check(self.max_price > 0, name, "max_price", "must be > 0")
        for event, weight in self.event_weights.items():
            _check(weight > 0, name, "event_weights", f"weight of {event!r} must be > 0")


@dataclass(frozen=True)
class EncoderConfig(_ConfigMixin):
    """Which pretrained text model encodes item text, and how."""

    model_name_or_path: str = ""  # "" means the bundled all-MiniLM-L6-v2
    max_length: int = 128
    batch_size: int = 64
    pooling: str = "auto"  # auto | mean | cls | last
    device: str = "auto"  # auto | cpu | cuda

    def __post_init__(self) -> None:
        name = type(self).__name__
        _check(self.max_length >= 8, name, "max_length", "must be >= 8")
        _check(self.batch_size >= 1, name, "batch_size", "must be >= 1")
        _check(self.pooling in {"auto", "mean", "cls", "last"}, name, "pooling",
               "must be one of auto, mean, cls, last")
        _check(self.device in {"auto", "cpu", "cuda"}, name, "device",
               "must be one of auto, cpu, cuda")


@dataclass(frozen=True)
class RerankConfig(_ConfigMixin):
    """Serve-time re-ranking: what the diversity slider drives."""

    method: str = "mmr"  # none | mmr | dpp | calibrated | quota
    diversity_weight: float = 0.0
    n_candidates: int = 200
    similarity: str = "cosine"  # cosine | category

    def __post_init__(self) -> None:
        name = type(self).__name__
        _check(self.method in {"none", "mmr", "dpp", "calibrated", "quota"}, name, "method",
               "must be one of none, mmr, dpp, calibrated, quota")
        _check(0.0 <= self.diversity_weight <= 1.0, name, "diversity_weight",
               "must be in [0, 1]")
        _check(self.n_candidates >= 1, name, "n_candidates", "must be >= 1")
        _check(self.similarity in {"cosine", "category"}, name, "similarity",
               "must be cosine or category")
