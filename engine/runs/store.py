"""Run folders: everything needed to serve or re-evaluate a fitted model, without the raw data.

Only safe formats: safetensors for arrays, JSON for meta, Parquet for tables (no pickle).
A run is written into `<out>.tmp-<random>` and swapped into place only once complete, so an
interrupted save (Ctrl-C, a crash, a kill) leaves the previous run loadable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors.numpy import load_file, save_file

from engine.core.columns import (
    DIV_CATEGORY,
    ITEM_ID,
    MULTI_CATEGORY_SEP,
    TIMESTAMP,
    USER_ID,
    WEIGHT,
)
from engine.core.errors import RunError
from engine.core.files import json_default, swap_folder, write_json_atomic, write_lines_atomic
from engine.models.base import ITEM_IDX, USER_IDX, BaseModel, TrainData

FORMAT_VERSION = 1
RUN_JSON, MODEL_TENSORS, MODEL_JSON = "run.json", "model.safetensors", "model.json"
ITEMS, CATEGORIES, HISTORIES = "items.parquet", "categories.json", "histories.parquet"
EPOCHS, EVALUATION = "metrics.jsonl", "eval.json"
REQUIRED_FILES = (RUN_JSON, MODEL_TENSORS, MODEL_JSON, ITEMS, CATEGORIES, HISTORIES)
MODEL_PREFIX = "model."  # model tensors live beside the run's own arrays in one file


@dataclass
class Run:
    """A loaded run folder."""

    path: Path
    meta: dict[str, Any]  # run.json
    model: BaseModel
    items: pd.DataFrame
    histories: pd.DataFrame  # user_id, item_id, timestamp, weight (training interactions)
    category_names: list[str]
    item_categories: np.ndarray  # (n_items, C)
    item_popularity: np.ndarray  # (n_items,)
    item_vectors: np.ndarray | None = None
    evaluation: dict[str, Any] | None = None
    epochs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def item_ids(self) -> list[str]:
        return self.items[ITEM_ID].astype(str).tolist()

    @property
    def user_ids(self) -> list[str]:
        """Training users in model index order (sorted ids, as TrainData builds them)."""
        return sorted(self.histories[USER_ID].astype(str).unique().tolist())


def div_category_labels(item_categories: np.ndarray, names: Sequence[str]) -> list[str]:
    """Per item, the diversity categories it belongs to, joined by ' | '."""
    labels = []
    for row in item_categories:
        labels.append(MULTI_CATEGORY_SEP.join(names[c] for c in np.flatnonzero(row > 0)))
    return labels


def history_table(data: TrainData) -> pd.DataFrame:
    """Training interactions with string ids, for serving without the raw data."""
    user_ids, item_ids = np.asarray(data.user_ids, dtype=object), np.asarray(data.item_ids,
                                                                               dtype=object)
    return pd.DataFrame({
        USER_ID: user_ids[data.train[USER_IDX].to_numpy()].astype(str),
        ITEM_ID: item_ids[data.train[ITEM_IDX].to_numpy()].astype(str),
        TIMESTAMP: data.train[TIMESTAMP].to_numpy(np.int64),
        WEIGHT: data.train[WEIGHT].to_numpy(np.float32),
    })


def _write_contents(folder: Path, model: BaseModel, data: TrainData, items: pd.DataFrame,
                    meta: dict[str, Any], epochs: Sequence[dict[str, Any]],
                    evaluation: dict[str, Any] | None) -> None:
    tensors, model_meta = model.get_state()
    arrays = {MODEL_PREFIX + name: np.ascontiguousarray(value) for name, value in tensors.items()}
    arrays["item_categories"] = np.ascontiguousarray(data.item_categories, dtype=np.float32)
    arrays["item_popularity"] = np.ascontiguousarray(data.item_popularity, dtype=np.float64)
    if data.text_embeddings is not None:  # serving reuses them for search and cold start
        arrays["text_embeddings"] = np.ascontiguousarray(data.text_embeddings, dtype=np.float32)
    vectors = model.item_vectors()
    if vectors is not None:
        arrays["item_vectors"] = np.ascontiguousarray(vectors, dtype=np.float32)
    save_file(arrays, str(folder / MODEL_TENSORS))
    write_json_atomic(folder / MODEL_JSON, model_meta)
    snapshot = items.reset_index(drop=True).copy()
    snapshot[DIV_CATEGORY] = div_category_labels(data.item_categories, data.category_names)
    snapshot.to_parquet(folder / ITEMS, index=False)
    write_json_atomic(folder / CATEGORIES, {"names": list(data.category_names)})
    history_table(data).to_parquet(folder / HISTORIES, index=False)
    write_lines_atomic(folder / EPOCHS,
                       (json.dumps(record, default=json_default) for record in epochs))
    if evaluation is not None:
        write_json_atomic(folder / EVALUATION, evaluation)
    write_json_atomic(folder / RUN_JSON, {"format_version": FORMAT_VERSION, "model": model.name,
                                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **meta})


def save_run(out: str | Path, *, model: BaseModel, data: TrainData, items: pd.DataFrame,
             meta: dict[str, Any] | None = None, epochs: Sequence[dict[str, Any]] = (),
             evaluation: dict[str, Any] | None = None) -> Path:
    """Write a complete run folder at `out`, replacing an older run only once the new one is whole.

    `meta` (configs, dataset name, split, seed, metrics summary...) goes into run.json.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return swap_folder(out, lambda staging: _write_contents(
        staging, model, data, items, meta or {}, epochs, evaluation))


def update_run_items(run_dir: str | Path, model: BaseModel, items: pd.DataFrame,
                     item_categories: np.ndarray, item_popularity: np.ndarray, *,
                     item_vectors: np.ndarray | None = None,
                     text_embeddings: np.ndarray | None = None) -> None:
    """Rewrite a run's model tensors and item table after items were added (cold start).

    The new folder is built from a copy of the old one and swapped into place, so a crash
    never leaves half an update.
    """
    tensors, model_meta = model.get_state()
    arrays = {MODEL_PREFIX + name: np.ascontiguousarray(v) for name, v in tensors.items()}
    arrays["item_categories"] = np.ascontiguousarray(item_categories, dtype=np.float32)
    arrays["item_popularity"] = np.ascontiguousarray(item_popularity, dtype=np.float64)
    if item_vectors is not None:
        arrays["item_vectors"] = np.ascontiguousarray(item_vectors, dtype=np.float32)
    if text_embeddings is not None:
        arrays["text_embeddings"] = np.ascontiguousarray(text_embeddings, dtype=np.float32)

    def fill(staging: Path) -> None:
        save_file(arrays, str(staging / MODEL_TENSORS))
        write_json_atomic(staging / MODEL_JSON, model_meta)
        items.to_parquet(staging / ITEMS, index=False)

    swap_folder(Path(run_dir), fill, copy_existing=True)


def write_evaluation(run_dir: str | Path, evaluation: dict[str, Any]) -> None:
    """Replace the run's eval.json atomically (the rest of the run is untouched)."""
    write_json_atomic(Path(run_dir) / EVALUATION, evaluation)


def _resolve(path: Path) -> Path:
    """The run folder to read: `path`, or the previous run an interrupted swap set aside."""
    if path.is_dir():
        return path
    retired = sorted(path.parent.glob(f"{path.name}.old-*")) if path.parent.is_dir() else []
    complete = [p for p in retired if all((p / name).exists() for name in REQUIRED_FILES)]
    if complete:
        return complete[-1]
    raise RunError(f"run folder {path} does not exist; train one with "
                   f"`prism train --data DIR --out {path}`.")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RunError(f"{path} cannot be read ({exc}); the run is corrupt, retrain it.") from exc


def _check_folder(path: Path) -> dict[str, Any]:
    missing = [name for name in REQUIRED_FILES if not (path / name).exists()]
    if missing:
        raise RunError(f"run folder {path} is missing {', '.join(missing)}; it is incomplete or "
                       "not a run folder. Retrain it with `prism train --data DIR --out RUN`.")
    meta = _read_json(path / RUN_JSON)
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if version != FORMAT_VERSION:
        raise RunError(f"run folder {path} has format version {version!r} but this Prism reads "
                       f"version {FORMAT_VERSION}; retrain it with this version of prism.")
    return meta


def load_run(path: str | Path) -> Run:
    """Load a run folder written by `save_run`; RunError says what is missing or incompatible."""
    from engine.models.registry import get_model_class

    folder = _resolve(Path(path))
    meta = _check_folder(folder)
    try:
        arrays = load_file(str(folder / MODEL_TENSORS))
        items = pd.read_parquet(folder / ITEMS)
        histories = pd.read_parquet(folder / HISTORIES)
    except Exception as exc:  # noqa: BLE001 - any reader failure means a corrupt run
        raise RunError(f"run folder {folder} has an unreadable file ({exc}); retrain it.") from exc
    tensors = {name[len(MODEL_PREFIX):]: value for name, value in arrays.items()
               if name.startswith(MODEL_PREFIX)}
    model = get_model_class(meta["model"]).from_state(tensors, _read_json(folder / MODEL_JSON))
    evaluation = _read_json(folder / EVALUATION) if (folder / EVALUATION).exists() else None
    epochs_path = folder / EPOCHS
    epochs = ([json.loads(line) for line in epochs_path.read_text().splitlines() if line.strip()]
              if epochs_path.exists() else [])
    return Run(path=folder, meta=meta, model=model, items=items, histories=histories,
               category_names=list(_read_json(folder / CATEGORIES)["names"]),
               item_categories=arrays["item_categories"],
               item_popularity=arrays["item_popularity"],
               item_vectors=arrays.get("item_vectors"), evaluation=evaluation, epochs=epochs)
