"""Model names → classes, and the one way to build a model: `build(ModelSpec(name, config))`.

The two-tower class is imported when first asked for (it needs torch; the baselines do not).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from engine.core.errors import ConfigError
from engine.models.base import BaseModel

# name -> (module, class); the order is the one `prism train --help` lists
_CLASSES = {"twotower": ("engine.models.twotower", "TwoTowerModel"),
            "pop": ("engine.models.baselines", "MostPopular"),
            "itemknn": ("engine.models.baselines", "ItemKNN"),
            "ease": ("engine.models.baselines", "EASE")}
MODEL_NAMES = tuple(_CLASSES)
# The model the training configs (ModelConfig, TrainConfig) build: what a settings search
# tunes and what distributed training trains
CONFIGURED_MODEL = "twotower"


def get_model_class(name: str) -> type[BaseModel]:
    """The model class registered under `name`; ConfigError listing the valid names otherwise."""
    if name not in _CLASSES:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    module, attribute = _CLASSES[name]
    return getattr(import_module(module), attribute)


@dataclass(frozen=True)
class ModelSpec:
    """A model to build: its registry name and its config in run.json form (what the model's
    `config()` returns; configs may be given as objects or dicts)."""

    name: str
    config: Mapping[str, Any] = field(default_factory=dict)


def build(spec: ModelSpec) -> BaseModel:
    """The unfitted model `spec` describes; ConfigError for an unknown name or setting."""
    return get_model_class(spec.name).from_config(spec.config)


class _LazyRegistry(Mapping[str, type[BaseModel]]):
    """Read-only mapping view over `get_model_class` (the contract's MODEL_REGISTRY)."""

    def __getitem__(self, name: str) -> type[BaseModel]:
        return get_model_class(name)

    def __contains__(self, name: object) -> bool:
        return name in MODEL_NAMES

    def __iter__(self) -> Iterator[str]:
        return iter(MODEL_NAMES)

    def __len__(self) -> int:
        return len(MODEL_NAMES)


MODEL_REGISTRY: Mapping[str, type[BaseModel]] = _LazyRegistry()
