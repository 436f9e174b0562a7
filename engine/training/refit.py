"""Serving what the shop knows: after evaluation, the chosen model refit on every event.

The run's evaluation model never saw the held-out events, so its metrics are honest; but a
shop serving it would not know each shopper's latest purchases. `prism train` therefore fits
the chosen model a second time, with the same settings, on every event (no part held out),
and the run serves that one (engine/runs/store.py keeps both). The two-tower has no
validation part left to stop on, so it trains for the epoch count early stopping chose on the
split (the epoch of its best validation score); EASE, item-kNN and popularity have no
epochs: their refit is a plain fit on every event.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.core.messages import Message
from engine.data import Dataset, interactions
from engine.data.splits import Split
from engine.models.base import BaseModel, TrainData
from engine.models.callbacks import notify_progress, notify_stage

EVERY_EVENT = "every event"


@dataclass
class Refit:
    """The serving side of a run: every event indexed, and the model refit on it (None when
    the refit was turned off)."""

    data: TrainData
    model: BaseModel | None = None
    fit_seconds: float = 0.0
    record: dict[str, Any] = field(default_factory=dict)  # run.json `models.serving`


def every_event_data(dataset: Dataset, text_embeddings: np.ndarray | None = None) -> TrainData:
    """All of the dataset's interactions as training data, nothing held out."""
    every = interactions(dataset.events)
    empty = every.iloc[0:0]
    return TrainData.from_split(dataset, Split(train=every, valid=empty, test=empty),
                                text_embeddings=text_embeddings)


def chosen_epochs(model: BaseModel) -> int | None:
    """The epoch whose weights the fitted model kept (its best validation score), or None for
    a model without epochs. Without validation scores, every epoch it ran; a fit stopped by
    hand before its first epoch ended counts one."""
    logs = list(model.logs_)
    if not logs:
        return 1 if model.trains_in_epochs else None
    metric = next((key for key in logs[0] if key.startswith("val_")), None)
    if metric is None:
        return len(logs)
    scores = [float(log[metric]) for log in logs]
    return int(logs[int(np.argmax(scores))].get("epoch", int(np.argmax(scores)) + 1))


class _RefitProgress:
    """The trainer's callback during a refit: each epoch becomes counted stage progress, so
    the callers' bars move, while their epoch logs, time budgets and stop buttons (which
    belong to the evaluated fit) stay out of it."""

    def __init__(self, callbacks: Sequence[Any], stage: str, epochs: int) -> None:
        self.callbacks, self.stage, self.epochs = callbacks, stage, epochs

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        notify_progress(self.callbacks, self.stage, epoch, self.epochs)


def refit(model: BaseModel, dataset: Dataset, text_embeddings: np.ndarray | None,
          callbacks: Sequence[Any] = (), enabled: bool = True) -> Refit:
    """Every event indexed, and (when `enabled`) `model`'s settings fitted on them."""
    data = every_event_data(dataset, text_embeddings)
    if not enabled:
        return Refit(data, record={"refit": False, "model": model.name,
                                   "history": EVERY_EVENT})
    epochs = chosen_epochs(model)
    fresh = model.unfitted(epochs)
    stage = Message("stage_refit", model=model.name)
    notify_stage(callbacks, stage if epochs is None else Message("stage_refit_epochs",
                                                                 model=model.name, epochs=epochs))
    started, cpu = time.perf_counter(), time.process_time()
    fresh.fit(data, callbacks=[] if epochs is None else [_RefitProgress(callbacks, stage,
                                                                           epochs)])
    seconds = time.perf_counter() - started
    record = {"refit": True, "model": fresh.name, "trained_on": EVERY_EVENT,
              "history": EVERY_EVENT, "interactions": int(len(data.train)),
              "fit_seconds": round(seconds, 3),
              "fit_cpu_seconds": round(time.process_time() - cpu, 3), **fresh.config()}
    if epochs is not None:
        record["epochs"] = epochs
    return Refit(data, fresh, seconds, record)


def evaluation_record(model: BaseModel, data: TrainData, protocol: str,
                      fit_seconds: float, fit_cpu_seconds: float | None = None
                      ) -> dict[str, Any]:
    """run.json `models.evaluation`: the model every held-out comparison reads, with its fit's
    wall and (when measured) process CPU seconds."""
    record = {"model": model.name, "trained_on": f"the training part of the {protocol} split",
              "history": "the training part", "interactions": int(len(data.train)),
              "fit_seconds": round(fit_seconds, 3), **model.config()}
    if fit_cpu_seconds is not None:
        record["fit_cpu_seconds"] = round(fit_cpu_seconds, 3)
    logs = list(model.logs_)
    if logs:
        record["epochs_run"], record["best_epoch"] = len(logs), chosen_epochs(model)
    return record
