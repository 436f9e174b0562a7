"""Training settings chosen for the user: the random split's two-tower preset and the studio's
quick runs (a small two-tower on a data folder, the synthetic starter shop, run names).

Both are `TrainSpec`s (engine/training/spec.py) for `engine.training.pipeline.train`, the one
training entry point, so a run trained from `prism train` or from the studio records the same
run.json keys.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from engine.core import paths
from engine.core.config import (
    DEFAULT_ALPHA,
    DEFAULT_ALPHA_RANGE,
    EncoderConfig,
    ModelConfig,
    TrainConfig,
)
from engine.data import generate_shop, write_tables
from engine.data.faq import FAQ_FILE
from engine.data.synthetic_faq import write_synthetic_faq
from engine.models.registry import CONFIGURED_MODEL
from engine.training.spec import TrainSpec

# On a random split the "next" item is not later in time: the two-tower learns from one
# multi-target example per shopper (all of their items, half of the input hidden by dropout),
# small batches, many short epochs (measured in docs/benchmarks.md, "Two-tower model: what
# was measured").
RANDOM_SPLIT_PRESET = {"example_history": "user", "history_len": 200, "lr": 0.003,
                       "batch_size": 64, "patience": 10}
RANDOM_SPLIT_MODEL_PRESET = {"dropout": 0.5}
RANDOM_SPLIT_EPOCHS = 200  # early stopping ends it; an explicit epoch count overrides

STUDIO_PROTOCOL = "leave-last-out"
TINY_SHOP = {"n_items": 600, "n_users": 400}


def split_presets(protocol: str, epochs_given: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(ModelConfig, TrainConfig) changes the split calls for, to apply under the user's own.

    `epochs_given`: the user chose the epoch count, so the preset's long schedule is not used.
    """
    if protocol != "random":
        return {}, {}
    train_changes: dict[str, Any] = dict(RANDOM_SPLIT_PRESET)
    if not epochs_given:
        train_changes["epochs"] = RANDOM_SPLIT_EPOCHS
    return dict(RANDOM_SPLIT_MODEL_PRESET), train_changes


def quick_run(data_dir: Path, out_dir: Path, *, alpha: float = DEFAULT_ALPHA, beta: float = 1.0,
              alpha_max: float | None = None, epochs: int = 4, dim: int = 32, seed: int = 0,
              use_text: bool = True, patience: int | None = None, search_vectors: bool = True,
              tune_trials: int = 0, dp_epsilon: float | None = None) -> TrainSpec:
    """A studio quick run: a small two-tower on a data folder with the joint-loss weights
    (`alpha_max` set: one model over alpha..alpha_max), on the CPU with large batches, short
    histories and a patience of at least 2 epochs; `tune_trials` > 0 chooses the settings by
    that many trials (engine/training/tuning.py); `dp_epsilon` set: DP-SGD over shoppers at
    that epsilon, without ID embeddings and without a refit (docs/privacy.md)."""
    patience = patience if patience is not None else max(2, epochs)
    private: dict[str, Any] = {}
    if dp_epsilon is not None:
        from engine.models.private import private_settings

        private = private_settings(dp_epsilon)
    train_config = TrainConfig(alpha=alpha, beta=beta, alpha_max=alpha_max, epochs=epochs,
                               seed=seed, device="cpu", batch_size=256, patience=patience,
                               history_len=20, **private)
    return TrainSpec(data=data_dir, out=out_dir, model=CONFIGURED_MODEL,
                     model_config=ModelConfig(dim=dim, use_text=use_text,
                                              use_id=dp_epsilon is None),
                     train_config=train_config,
                     encoder_config=EncoderConfig() if use_text else None,
                     protocol=STUDIO_PROTOCOL, seed=seed, tune=tune_trials,
                     search_vectors=search_vectors,
                     refit=dp_epsilon is None)  # a refit would spend the budget again


def starter_spec(out_dir: Path, epochs: int,
                 alpha_range: tuple[float, float] | None = DEFAULT_ALPHA_RANGE,
                 **settings: Any) -> TrainSpec:
    """The studio's starter model on the synthetic shop: a quick run over the default range of
    alpha (`alpha_range` None: one model at DEFAULT_ALPHA, as the starter was before), with the
    quick-run `settings` (dim, use_text, patience...) the studio chooses."""
    low, high = (DEFAULT_ALPHA, None) if alpha_range is None else alpha_range
    return quick_run(data_dir=paths.data_dir() / "synthetic", out_dir=out_dir, alpha=low,
                     alpha_max=high, epochs=epochs, **settings)


def ensure_synthetic_shop(n_items: int = TINY_SHOP["n_items"],
                          n_users: int = TINY_SHOP["n_users"], seed: int = 0) -> Path:
    """The synthetic shop folder under `<prism_home>/data/synthetic` with its FAQ, generated
    if absent (a shop from before the FAQ gets one from its own tables)."""
    folder = paths.data_dir() / "synthetic"
    tables = folder / "items.csv", folder / "events.csv"
    if not all(path.exists() for path in tables):
        items, events = generate_shop(n_items=n_items, n_users=n_users, seed=seed)
        write_tables(items, events, folder, fmt="csv")
        write_synthetic_faq(folder, items, events)
    elif not (folder / FAQ_FILE).exists():
        write_synthetic_faq(folder, *(pd.read_csv(path, dtype=str) for path in tables))
    return folder


def new_run_name(prefix: str) -> str:
    """A readable, unique-per-second run folder name such as `twotower-0412-093107`."""
    return f"{prefix}-{time.strftime('%m%d-%H%M%S')}"
