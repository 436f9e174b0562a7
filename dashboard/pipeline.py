"""Train-and-save one run from a data folder, reporting through trainer callbacks (no `st.*`).

Used by the first-start bootstrap and by the Training page's background thread. The stages
are `engine.training.pipeline.train_and_save`'s, the same as `prism train`: load the data folder,
encode item text, split, fit, evaluate, save a run folder. The caller's callbacks receive
`on_stage(name)`, the trainer's `on_batch_end(step, total)` and `on_epoch_end(epoch, logs)`;
raising
`engine.models.trainer.StopTraining` from a callback stops early and keeps the best weights.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core import paths

SPLIT_PROTOCOL = "leave-last-out"
TINY_SHOP = {"n_items": 600, "n_users": 400}


@dataclass(frozen=True)
class TrainSpec:
    """What to train: the data folder, the joint-loss weights and the model size."""

    data_dir: Path
    out_dir: Path
    alpha: float = 0.2
    beta: float = 1.0
    epochs: int = 4
    dim: int = 32
    seed: int = 0
    use_text: bool = True
    patience: int | None = None  # epochs without a better validation NDCG before stopping
    search_vectors: bool = True  # encode item text for search right after saving
    tune_trials: int = 0  # > 0: settings chosen by this many trials (engine/training/tuning.py)


def twotower_available() -> bool:
    """True when the two-tower module is installed in this engine build."""
    return importlib.util.find_spec("engine.models.twotower") is not None


def _train_config(spec: TrainSpec) -> Any:
    """Small-model training settings for the dashboard's quick runs."""
    from engine.core.config import TrainConfig

    return TrainConfig(alpha=spec.alpha, beta=spec.beta, epochs=spec.epochs, seed=spec.seed,
                       device="cpu", batch_size=256,
                       patience=spec.patience if spec.patience is not None else max(2, spec.epochs),
                       history_len=20)


def train_run(spec: TrainSpec, callbacks: Sequence[Any] = ()) -> Path:
    """Load → encode → split → fit → evaluate → save; returns the run folder.

    A small two-tower model, or EASE when the two-tower module is absent.
    """
    from engine.core.config import EncoderConfig, ModelConfig
    from engine.text.search import ensure_search_vectors
    from engine.training.pipeline import notify_stage, train_and_save

    twotower = twotower_available()
    path = train_and_save(
        spec.data_dir, spec.out_dir, model_name="twotower" if twotower else "ease",
        model_config=ModelConfig(dim=spec.dim, use_text=spec.use_text),
        train_config=_train_config(spec),
        encoder_config=EncoderConfig() if spec.use_text and twotower else None,
        protocol=SPLIT_PROTOCOL, seed=spec.seed, k=10, callbacks=callbacks, progress=False,
        tune=spec.tune_trials if twotower else 0,
    ).path
    if spec.search_vectors:  # stage messages only: a stop request after the fit is moot
        notify_stage(callbacks, "Encoding item text for search")
        ensure_search_vectors(path, progress=lambda done, total: notify_stage(
            callbacks, f"Encoding item text for search ({done:,}/{total:,})"))
    return path


def ensure_synthetic_shop(n_items: int = TINY_SHOP["n_items"],
                          n_users: int = TINY_SHOP["n_users"], seed: int = 0) -> Path:
    """The synthetic shop folder under `<prism_home>/data/synthetic`, generated if absent."""
    from engine.data import generate_shop, write_tables

    folder = paths.data_dir() / "synthetic"
    if not (folder / "items.csv").exists() or not (folder / "events.csv").exists():
        items, events = generate_shop(n_items=n_items, n_users=n_users, seed=seed)
        write_tables(items, events, folder, fmt="csv")
    return folder


def new_run_name(prefix: str) -> str:
    """A readable, unique run folder name such as `synthetic-twotower-0412-0931`."""
    stamp = time.strftime("%m%d-%H%M%S")
    return f"{prefix}-{stamp}"
