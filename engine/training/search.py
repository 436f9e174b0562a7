"""A model chosen on the validation part: `auto` (the candidates of
engine/training/selection.py) and/or a `tune`-trial search of the configured model's settings
(engine/training/tuning.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.core.config import ModelConfig, TrainConfig
from engine.models.base import TrainData
from engine.models.callbacks import tell
from engine.training.selection import (
    Candidate,
    Selection,
    configured,
    default_candidates,
    select_model,
)
from engine.training.tuning import tuned_selection


@dataclass(frozen=True)
class ModelSearch:
    """The candidates to fit on the training part and compare on the validation part."""

    model_config: ModelConfig
    train_config: TrainConfig
    configured_only: bool = False  # only the configured model competes (e.g. a diversity loss)
    tune: int = 0  # settings-search trials (0: no search)
    fixed: frozenset[str] = frozenset()  # settings the user chose: never searched

    name = "auto"
    trains_in_epochs = True  # the configured model among the candidates has epochs

    @property
    def device(self) -> str:
        return self.train_config.device

    def select(self, data: TrainData, callbacks: Sequence[Any] = ()) -> Selection:
        """Fit the candidates, keep the best on validation (its `selection_` is set)."""

        def notify(label: str) -> None:
            tell(callbacks, "on_candidate", label)

        if self.tune:
            selection = tuned_selection(
                data, self.model_config, self.train_config, self.tune,
                configured_only=self.configured_only, fixed=self.fixed, callbacks=callbacks,
                on_trial=lambda *trial: tell(callbacks, "on_trial", *trial), notify=notify)
        else:
            pair = (self.model_config, self.train_config)
            spec = configured(*pair)
            candidates = [Candidate(spec.name, spec)] if self.configured_only \
                else default_candidates(data.n_items, pair)
            selection = select_model(data, candidates, callbacks=callbacks, notify=notify)
        selection.model.selection_ = selection
        return selection
