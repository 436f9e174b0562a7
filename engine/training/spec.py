"""What to train, as one object: `TrainSpec`, built once by each caller (`prism train`, the
studio's Training page and starter run, tuning and the benchmarks) and handed to
`engine.training.pipeline.train`.

The spec names a registry model (or `auto`, the model search of engine/training/search.py)
and its settings: the training configs for the configured model (`ModelConfig`,
`TrainConfig`), a baseline's own settings otherwise. `build()` turns it into the unfitted
model (through the registry's one `build`) and the settings run.json records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.core.config import EncoderConfig, ModelConfig, TrainConfig
from engine.core.errors import ConfigError
from engine.data import Dataset
from engine.models.base import BaseModel
from engine.models.registry import CONFIGURED_MODEL, ModelSpec, build, get_model_class
from engine.training.search import ModelSearch

AUTO = "auto"


@dataclass(frozen=True)
class TrainSpec:
    """One training run: the data, the model and its settings, the split and the outputs."""

    data: str | Path | Dataset
    out: str | Path | None = None  # the run folder to write (None: nothing saved)
    model: str = CONFIGURED_MODEL  # a registry name, or `auto`
    model_config: ModelConfig | None = None  # the configured model's (and a search's) settings
    train_config: TrainConfig | None = None
    model_settings: Mapping[str, Any] = field(default_factory=dict)  # another model's own
    encoder_config: EncoderConfig | None = None  # item text encoded with it (None: no text)
    text_embeddings: np.ndarray | None = field(default=None, compare=False, repr=False)
    protocol: str = "leave-last-out"
    seed: int = 0
    fmt: str = "auto"
    k: int = 10
    rerank: Any = None  # a re-rank applied in the evaluation
    tune: int = 0  # settings-search trials over the configured model (0: none)
    configured_only: bool = False  # `auto`: only the configured model competes
    fixed: frozenset[str] = frozenset()  # settings the user chose: never searched
    progress: bool = False  # the encoder's own progress bar
    search_vectors: bool = False  # encode the catalogue for search after saving
    refit: bool = True  # refit the chosen model on every event for serving
    ann: bool | None = None  # build the candidate index (None: by catalogue size)

    def __post_init__(self) -> None:
        searched = self.model == AUTO or self.tune > 0
        model_class = None if self.model == AUTO else get_model_class(self.model)
        if self.tune and model_class is not None and not model_class.configurable:
            raise ConfigError(f"a settings search tunes the training configs; model "
                              f"{self.model!r} has none to search: use auto or "
                              f"{CONFIGURED_MODEL}, or drop the search")
        if self.model_settings and (searched or model_class.configurable):
            raise ConfigError(f"model {self.model!r} takes the training configs, not "
                              f"settings {sorted(self.model_settings)}")

    @property
    def model_class(self) -> type[BaseModel] | type[ModelSearch]:
        """The class that will be fitted (ModelSearch for `auto` or a search)."""
        if self.model == AUTO or self.tune:
            return ModelSearch
        return get_model_class(self.model)

    @property
    def epochs(self) -> int | None:
        """The most epochs a fit may run, for models that train in epochs."""
        if not self.model_class.trains_in_epochs:
            return None
        return (self.train_config or TrainConfig()).epochs

    def configs(self) -> tuple[ModelConfig, TrainConfig]:
        """The training configs (defaults, seeded with the spec's seed, where not given)."""
        return (self.model_config or ModelConfig(),
                self.train_config or TrainConfig(seed=self.seed))

    def model_spec(self) -> ModelSpec:
        """The registry spec of the named model (not `auto`)."""
        if get_model_class(self.model).configurable:
            model_config, train_config = self.configs()
            return ModelSpec(self.model, {"model_config": model_config,
                                          "train_config": train_config})
        return ModelSpec(self.model, dict(self.model_settings))

    def build(self) -> tuple[BaseModel | ModelSearch, dict[str, Any]]:
        """The unfitted model (or model search) and the settings run.json records."""
        if self.model == AUTO or self.tune:
            model_config, train_config = self.configs()
            search = ModelSearch(model_config, train_config,
                                 self.configured_only or self.model != AUTO, self.tune,
                                 frozenset(self.fixed))
            return search, {"model_config": model_config.to_dict(),
                            "train_config": train_config.to_dict()}
        model = build(self.model_spec())
        return model, model.config()

    def replace(self, **changes: Any) -> TrainSpec:
        return replace(self, **changes)
