"""Train-and-save one run from a data folder, reporting through trainer callbacks (no `st.*`).

Used by the first-start bootstrap and by the Training page's background thread. The stages
are those of `prism train`: load the data folder, encode item text, split, fit, evaluate,
save a run folder. The caller's callbacks receive `on_stage(name)`, the trainer's
`on_batch_end(step, total)` and `on_epoch_end(epoch, logs)`; raising
`engine.train.StopTraining` from a callback stops early and keeps the best weights.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import paths

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


def twotower_available() -> bool:
    """True when the two-tower module is installed in this engine build."""
    return importlib.util.find_spec("engine.twotower") is not None


def _notify_stage(callbacks: Sequence[Any], stage: str) -> None:
    for callback in callbacks:
        if hasattr(callback, "on_stage"):
            callback.on_stage(stage)


def _build_model(spec: TrainSpec) -> Any:
    """A small two-tower model (or EASE when the two-tower module is absent)."""
    if not twotower_available():
        from engine.baselines import EASE

        return EASE()
    from engine.config import ModelConfig, TrainConfig
    from engine.twotower import TwoTowerModel

    model_config = ModelConfig(dim=spec.dim, use_text=spec.use_text)
    train_config = TrainConfig(alpha=spec.alpha, beta=spec.beta, epochs=spec.epochs,
                               seed=spec.seed, device="cpu", patience=max(2, spec.epochs),
                               batch_size=256, history_len=20)
    return TwoTowerModel(model_config, train_config)


def _configs(model: Any) -> dict[str, Any]:
    """The model's configs for run.json (two-tower only; baselines have no settings here)."""
    if not hasattr(model, "train_config"):
        return {"seed": 0}
    return {"model_config": model.model_config.to_dict(),
            "train_config": model.train_config.to_dict()}


def train_run(spec: TrainSpec, callbacks: Sequence[Any] = ()) -> Path:
    """Load → encode → split → fit → evaluate → save; returns the run folder."""
    from engine.config import EncoderConfig
    from engine.data import load_dataset
    from engine.evaluate import evaluate_model, prepare_data
    from engine.runs import save_run

    _notify_stage(callbacks, "Loading the data")
    dataset = load_dataset(spec.data_dir)
    model = _build_model(spec)
    encoder_config = EncoderConfig()
    text = None
    if spec.use_text and model.name == "twotower":
        from engine.encoders import encode_items

        _notify_stage(callbacks, f"Encoding {len(dataset.items):,} product texts")
        text = encode_items(dataset, encoder_config, progress=False)
    split, data = prepare_data(dataset, SPLIT_PROTOCOL, seed=spec.seed, text_embeddings=text)
    _notify_stage(callbacks, f"Training {model.name}")
    started = time.perf_counter()
    model.fit(data, callbacks=callbacks)
    fit_seconds = time.perf_counter() - started
    _notify_stage(callbacks, "Evaluating")
    evaluation = evaluate_model(model, data, k=10, protocol=SPLIT_PROTOCOL,
                                fit_seconds=fit_seconds)
    meta = {  # the same keys `prism train` records, so either kind of run reads alike
        "dataset": dataset.name,
        "data_path": str(Path(spec.data_dir).resolve()),
        "split": SPLIT_PROTOCOL,
        "seed": spec.seed,
        "fit_seconds": round(fit_seconds, 3),
        "encoder": encoder_config.to_dict() if text is not None else None,
        "data_config": dataset.config.to_dict(),
        "metrics": evaluation["metrics"],
        **_configs(model),
    }
    _notify_stage(callbacks, "Saving the run")
    return save_run(spec.out_dir, model=model, data=data, items=dataset.items, meta=meta,
                    epochs=list(getattr(model, "logs_", [])), evaluation=evaluation)


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
