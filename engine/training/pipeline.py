"""Train a model from a data folder into a run folder: load, encode, split, fit, evaluate, save.

One engine function behind both `prism train` and the dashboard, so every run folder records
the same run.json keys whichever way it was trained. Progress goes through trainer callbacks:
besides `on_batch_end` / `on_epoch_end`, a callback with `on_stage(name)` hears each stage.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from engine.core.config import EncoderConfig, ModelConfig, TrainConfig
from engine.models.base import BaseModel

if TYPE_CHECKING:
    from engine.data import Dataset, Split
    from engine.models.base import TrainData


class SavedRun(NamedTuple):
    """What `train_and_save` wrote: the run folder, its evaluation and its run.json meta."""

    path: Path
    evaluation: dict[str, Any]
    meta: dict[str, Any]


def build_model(model_name: str, model_config: ModelConfig | None = None,
                train_config: TrainConfig | None = None,
                seed: int = 0) -> tuple[BaseModel, dict[str, Any]]:
    """The unfitted model and the configs to record in run.json (ConfigError for a bad name).

    The two-tower records both configs; baselines have no settings, only the seed.
    """
    from engine.models.registry import get_model_class

    model_class = get_model_class(model_name)
    if model_name != "twotower":
        return model_class(), {"seed": seed}
    model_config = model_config or ModelConfig()
    train_config = train_config or TrainConfig(seed=seed)
    return (model_class(model_config, train_config),
            {"model_config": model_config.to_dict(), "train_config": train_config.to_dict()})


def _tuned(model: Any, data: Any, trials: int, callbacks: Sequence[Any]
           ) -> tuple[BaseModel, dict[str, Any]]:
    """The best two-tower of a `trials`-trial settings search, and its run.json configs."""
    from engine.training.tuning import tuned_selection

    def on_trial(done: int, total: int, record: dict[str, Any]) -> None:
        for callback in callbacks:
            if hasattr(callback, "on_trial"):
                callback.on_trial(done, total, record)

    selection = tuned_selection(data, model.model_config, model.train_config, trials,
                                twotower_only=True, callbacks=callbacks, on_trial=on_trial)
    return selection.model, {**selection.chosen.record(), "selection": selection.meta()}


def notify_stage(callbacks: Sequence[Any], stage: str) -> None:
    """Tell every callback that has `on_stage` which stage starts now."""
    for callback in callbacks:
        if hasattr(callback, "on_stage"):
            callback.on_stage(stage)


def train_and_save(data_path: str | Path, out: str | Path, *, model_name: str = "twotower",
                   model_config: ModelConfig | None = None,
                   train_config: TrainConfig | None = None,
                   encoder_config: EncoderConfig | None = None,
                   protocol: str = "leave-last-out", seed: int = 0, fmt: str = "auto",
                   k: int = 10, callbacks: Sequence[Any] = (),
                   progress: bool = False, tune: int = 0) -> SavedRun:
    """Fit `model_name` on the data folder, evaluate it on the test part, save the run at
    `out`.

    Item text is encoded only when `encoder_config` is given; `progress` shows the encoder's
    progress bar. `tune` > 0 searches the two-tower's settings with that many trials on the
    validation part (engine/training/tuning.py); a callback with
    `on_trial(done, total, record)` hears
    each trial. Raises DataError / ConfigError from loading, splitting or the configs.
    """
    from engine.data import load_dataset
    from engine.evaluation.protocol import evaluate_model, prepare_data
    from engine.runs.store import save_run

    model, configs = build_model(model_name, model_config, train_config, seed)
    notify_stage(callbacks, "Loading the data")
    dataset = load_dataset(data_path, fmt=fmt)
    text = None
    if encoder_config is not None:
        from engine.text.encoders import encode_items

        notify_stage(callbacks, f"Encoding {len(dataset.items):,} product texts")
        text = encode_items(dataset, encoder_config, progress=progress)
    _, data = prepare_data(dataset, protocol, seed=seed, text_embeddings=text)
    notify_stage(callbacks, f"Training {model.name}")
    started = time.perf_counter()
    if tune and model_name == "twotower":
        model, configs = _tuned(model, data, tune, callbacks)
    else:
        model.fit(data, callbacks=callbacks)
    fit_seconds = time.perf_counter() - started
    notify_stage(callbacks, "Evaluating")
    evaluation = evaluate_model(model, data, k=k, protocol=protocol, fit_seconds=fit_seconds)
    meta = {"dataset": dataset.name, "data_path": str(Path(data_path).resolve()),
            "split": protocol, "seed": seed, "fit_seconds": round(fit_seconds, 3),
            "encoder": encoder_config.to_dict() if encoder_config is not None else None,
            "data_config": dataset.config.to_dict(),
            "metrics": evaluation["metrics"], **configs}
    notify_stage(callbacks, "Saving the run")
    path = save_run(out, model=model, data=data, items=dataset.items, meta=meta,
                    epochs=list(getattr(model, "logs_", [])), evaluation=evaluation)
    return SavedRun(path, evaluation, meta)


@dataclass
class FitResult:
    """What `fit_and_evaluate` produced: the fitted model, its data and the evaluation."""

    model: BaseModel
    data: TrainData
    split: Split
    evaluation: dict[str, Any]
    fit_seconds: float


def fit_and_evaluate(dataset: Dataset, model_name: str, split: str = "leave-last-out", *,
                     seed: int = 0, k: int = 10, model: BaseModel | None = None,
                     text_embeddings: np.ndarray | None = None, callbacks: Sequence[Any] = (),
                     rerank: tuple[str, float] | None = None) -> FitResult:
    """Split, fit `model` (default: the registry's `model_name` with default settings), evaluate."""
    from engine.evaluation.protocol import evaluate_model, prepare_data
    from engine.models.registry import get_model_class

    model = model if model is not None else get_model_class(model_name)()
    split_frames, data = prepare_data(dataset, split, seed=seed, text_embeddings=text_embeddings)
    started = time.perf_counter()
    model.fit(data, callbacks=callbacks)
    fit_seconds = time.perf_counter() - started
    evaluation = evaluate_model(model, data, k=k, rerank=rerank, protocol=split,
                                fit_seconds=fit_seconds)
    return FitResult(model, data, split_frames, evaluation, fit_seconds)
