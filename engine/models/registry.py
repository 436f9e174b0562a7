"""Model names → classes; the two-tower class is imported lazily (baselines need no torch)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from engine.core.errors import ConfigError
from engine.models.base import BaseModel
from engine.models.baselines import EASE, ItemKNN, MostPopular

MODEL_NAMES = ("twotower", "pop", "itemknn", "ease")


def get_model_class(name: str) -> type[BaseModel]:
    """The model class registered under `name`; ConfigError listing the valid names otherwise."""
    if name == "twotower":
        from engine.models.twotower import TwoTowerModel

        return TwoTowerModel
    baselines: dict[str, type[BaseModel]] = {"pop": MostPopular, "itemknn": ItemKNN, "ease": EASE}
    if name not in baselines:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    return baselines[name]


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
