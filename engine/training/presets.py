"""Training settings chosen for the user: the random split's two-tower preset and the studio's
quick runs (a small two-tower on a data folder, the synthetic starter shop, run names).

Both feed `engine.training.pipeline.train`, the one training entry point, so a run trained
from `prism train` or from the studio records the same run.json keys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core import paths
from engine.core.config import DEFAULT_ALPHA, EncoderConfig, ModelConfig, TrainConfig

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


@dataclass(frozen=True)
class TrainSpec:
    """A studio quick run: the data folder, the joint-loss weights and the model size."""

    data_dir: Path
    out_dir: Path
    alpha: float = DEFAULT_ALPHA  # the starter model and the Training page start here
    beta: float = 1.0
    alpha_max: float | None = None  # set: one model over alpha..alpha_max (TrainConfig)
    epochs: int = 4
    dim: int = 32
    seed: int = 0
    use_text: bool = True
    patience: int | None = None  # epochs without a better validation NDCG before stopping
    search_vectors: bool = True  # encode item text for search right after saving
    tune_trials: int = 0  # > 0: settings chosen by this many trials (engine/training/tuning.py)

    def train_config(self) -> TrainConfig:
        """Small-model settings: CPU, large batches, short histories, patience ≥ 2 epochs."""
        patience = self.patience if self.patience is not None else max(2, self.epochs)
        return TrainConfig(alpha=self.alpha, beta=self.beta, alpha_max=self.alpha_max,
                           epochs=self.epochs, seed=self.seed, device="cpu", batch_size=256,
                           patience=patience, history_len=20)

    def train_args(self) -> dict[str, Any]:
        """Keyword arguments of `engine.training.pipeline.train` for this run."""
        return {"data": self.data_dir, "out": self.out_dir, "model": "twotower",
                "model_config": ModelConfig(dim=self.dim, use_text=self.use_text),
                "train_config": self.train_config(),
                "encoder_config": EncoderConfig() if self.use_text else None,
                "protocol": STUDIO_PROTOCOL, "seed": self.seed, "tune": self.tune_trials,
                "search_vectors": self.search_vectors}


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
    """A readable, unique-per-second run folder name such as `twotower-0412-093107`."""
    return f"{prefix}-{time.strftime('%m%d-%H%M%S')}"
