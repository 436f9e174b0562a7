"""Run folders: everything needed to serve or re-evaluate a fitted model, without the raw data.

A run holds two models. The *evaluation* model (the folder's top level) was fitted on the
training part of the split only: every held-out comparison (metrics, sweeps, previews,
exposure checks, `prism evaluate`) reads it. The *serving* model (`serving/`) is the same
model refit on every event, with every event as each shopper's history: recommendations,
search and the API read it. A run trained without a refit (`--no-refit`) keeps only every
event's history in `serving/` and serves the evaluation model; a run written before refits
existed serves the evaluation model and its training histories.

Only safe formats: safetensors for arrays, JSON for meta, Parquet for tables (no pickle).
A run is written into `<out>.tmp-<random>` and swapped into place only once complete, so an
interrupted save (Ctrl-C, a crash, a kill) leaves the previous run loadable.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors import safe_open
from safetensors.numpy import save_file

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
from engine.core.messages import Message
from engine.models.base import ITEM_IDX, USER_IDX, BaseModel, TrainData
from engine.models.registry import get_model_class

FORMAT_VERSION = 1
RUN_JSON, MODEL_TENSORS, MODEL_JSON = "run.json", "model.safetensors", "model.json"
ITEMS, CATEGORIES, HISTORIES = "items.parquet", "categories.json", "histories.parquet"
EPOCHS, EVALUATION = "metrics.jsonl", "eval.json"
PURCHASES = "purchases.parquet"  # optional: every purchase event, for buy again
RETRIEVAL = "retrieval"  # optional sub-folder: the candidate index (engine/retrieval/runindex.py)
REQUIRED_FILES = (RUN_JSON, MODEL_TENSORS, MODEL_JSON, ITEMS, CATEGORIES, HISTORIES)
MODEL_PREFIX = "model."  # model tensors live beside the run's own arrays in one file
SERVING = "serving"  # sub-folder: the model refit on every event, every event as history
EVALUATION_MODEL, SERVING_MODEL = "evaluation", "serving"
MODEL_ROLES = (EVALUATION_MODEL, SERVING_MODEL)


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
    purchases: pd.DataFrame | None = None  # user_id, item_id, timestamp of every purchase
    role: str = EVALUATION_MODEL  # which model was asked for: evaluation | serving
    part: str = EVALUATION_MODEL  # whose files `model` came from (serving/ only after a refit)

    @property
    def item_ids(self) -> list[str]:
        return self.items[ITEM_ID].astype(str).tolist()

    @property
    def user_ids(self) -> list[str]:
        """Training users in model index order (sorted ids, as TrainData builds them)."""
        return sorted(self.histories[USER_ID].astype(str).unique().tolist())

    @property
    def events_through(self) -> int:
        """The last stored event id the run has learned from (0: none; refresh folds in those
        after it, and serving reads those after it as live history)."""
        return int(self.meta.get("events_through") or 0)


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


@dataclass
class ServingPart:
    """What serving reads besides the evaluation model: `data` indexes every event (each
    shopper's whole history); `model` is the model refit on them, None to serve the
    evaluation model (a run trained without a refit); `epochs` the refit's epoch logs."""

    data: TrainData
    model: BaseModel | None = None
    epochs: Sequence[dict[str, Any]] = ()


def _model_arrays(model: BaseModel, popularity: np.ndarray) -> dict[str, np.ndarray]:
    """One model's tensors, its item vectors and the item popularity it was fitted on."""
    tensors, _ = model.get_state()
    arrays = {MODEL_PREFIX + name: np.ascontiguousarray(value) for name, value in tensors.items()}
    arrays["item_popularity"] = np.ascontiguousarray(popularity, dtype=np.float64)
    vectors = model.item_vectors()
    if vectors is not None:
        arrays["item_vectors"] = np.ascontiguousarray(vectors, dtype=np.float32)
    return arrays


def _write_serving(folder: Path, serving: ServingPart) -> None:
    target = folder / SERVING
    target.mkdir()
    history_table(serving.data).to_parquet(target / HISTORIES, index=False)
    if serving.model is None:
        return
    save_file(_model_arrays(serving.model, serving.data.item_popularity),
              str(target / MODEL_TENSORS))
    write_json_atomic(target / MODEL_JSON, serving.model.get_state()[1])
    write_lines_atomic(target / EPOCHS, (json.dumps(record, default=json_default)
                                         for record in serving.epochs))


def _write_contents(folder: Path, model: BaseModel, data: TrainData, items: pd.DataFrame,
                    meta: dict[str, Any], epochs: Sequence[dict[str, Any]],
                    evaluation: dict[str, Any] | None, serving: ServingPart | None,
                    purchases: pd.DataFrame | None = None) -> None:
    arrays = _model_arrays(model, data.item_popularity)
    arrays["item_categories"] = np.ascontiguousarray(data.item_categories, dtype=np.float32)
    if data.text_embeddings is not None:  # serving reuses them for search and cold start
        arrays["text_embeddings"] = np.ascontiguousarray(data.text_embeddings, dtype=np.float32)
    save_file(arrays, str(folder / MODEL_TENSORS))
    write_json_atomic(folder / MODEL_JSON, model.get_state()[1])
    if serving is not None:
        _write_serving(folder, serving)
    snapshot = items.reset_index(drop=True).copy()
    snapshot[DIV_CATEGORY] = div_category_labels(data.item_categories, data.category_names)
    snapshot.to_parquet(folder / ITEMS, index=False)
    write_json_atomic(folder / CATEGORIES, {"names": list(data.category_names)})
    history_table(data).to_parquet(folder / HISTORIES, index=False)
    if purchases is not None and len(purchases):
        purchases.to_parquet(folder / PURCHASES, index=False)
    write_lines_atomic(folder / EPOCHS,
                       (json.dumps(record, default=json_default) for record in epochs))
    if evaluation is not None:
        write_json_atomic(folder / EVALUATION, evaluation)
    write_json_atomic(folder / RUN_JSON, {"format_version": FORMAT_VERSION, "model": model.name,
                                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **meta})


def save_run(out: str | Path, *, model: BaseModel, data: TrainData, items: pd.DataFrame,
             meta: dict[str, Any] | None = None, epochs: Sequence[dict[str, Any]] = (),
             evaluation: dict[str, Any] | None = None,
             serving: ServingPart | None = None,
             purchases: pd.DataFrame | None = None) -> Path:
    """Write a complete run folder at `out`, replacing an older run only once the new one is whole.

    `model` and `data` are the evaluation model and its split; `serving` what serving reads
    instead (every event, and the refit model). `meta` (configs, dataset name, split, seed,
    metrics summary...) goes into run.json. `purchases` (user_id, item_id, timestamp of every
    purchase event) lets serving bring due purchases back (docs/buy-again.md).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return swap_folder(out, lambda staging: _write_contents(
        staging, model, data, items, meta or {}, epochs, evaluation, serving, purchases))


def update_run_items(run_dir: str | Path, models: dict[str, BaseModel], items: pd.DataFrame,
                     item_categories: np.ndarray, popularity: dict[str, np.ndarray], *,
                     text_embeddings: np.ndarray | None = None) -> None:
    """Rewrite a run's model tensors and item table after items were added (cold start).

    `models` and `popularity` are keyed by part (`evaluation`, and `serving` when the run has
    a refit model): every model of the run must know the new items. The new folder is built
    from a copy of the old one and swapped into place, so a crash never leaves half an update.
    """
    def fill(staging: Path) -> None:
        for part, model in models.items():
            folder = staging / SERVING if part == SERVING_MODEL else staging
            arrays = _model_arrays(model, popularity[part])
            if part == EVALUATION_MODEL:
                arrays["item_categories"] = np.ascontiguousarray(item_categories,
                                                                 dtype=np.float32)
                if text_embeddings is not None:
                    arrays["text_embeddings"] = np.ascontiguousarray(text_embeddings,
                                                                     dtype=np.float32)
            save_file(arrays, str(folder / MODEL_TENSORS))
            write_json_atomic(folder / MODEL_JSON, model.get_state()[1])
        items.to_parquet(staging / ITEMS, index=False)

    swap_folder(Path(run_dir), fill, copy_existing=True)


def save_refreshed(run: Run, out: str | Path, *, model: BaseModel, data: TrainData,
                   meta: dict[str, Any], epochs: Sequence[dict[str, Any]] = (),
                   purchases: pd.DataFrame | None = None,
                   index: Callable[[Path], Any] | None = None) -> list[str]:
    """Write `run` again at `out` (its own folder: swapped in whole) with a new serving part,
    `model` over every interaction in `data`, and run.json `meta`; the evaluation model and
    its files are copied as they are. The old candidate index, built from the old item
    vectors, never comes along: `index(folder)` writes the rebuilt one into the new version
    (so a server that swaps the version in gets its index with it); without it the version
    has none, and the returned notes say so (`prism index build` rebuilds it)."""
    out, notes = Path(out), []

    def fill(staging: Path) -> None:
        if out.resolve() != run.path.resolve():
            shutil.copytree(run.path, staging, dirs_exist_ok=True)
        shutil.rmtree(staging / SERVING, ignore_errors=True)
        if (staging / RETRIEVAL).is_dir():
            shutil.rmtree(staging / RETRIEVAL)
            if index is None:
                notes.append(f"the candidate index was built from the old item vectors and is "
                             f"left out; rebuild it with `prism index build --run {out}`")
        if index is not None:
            index(staging)
        _write_serving(staging, ServingPart(data, model, epochs))
        if purchases is not None and len(purchases):
            purchases.to_parquet(staging / PURCHASES, index=False)
        write_json_atomic(staging / RUN_JSON, {**meta, "format_version": FORMAT_VERSION})

    swap_folder(out, fill, copy_existing=out.resolve() == run.path.resolve())
    return notes


def write_evaluation(run_dir: str | Path, evaluation: dict[str, Any]) -> None:
    """Replace the run's eval.json atomically (the rest of the run is untouched)."""
    write_json_atomic(Path(run_dir) / EVALUATION, evaluation)


def mark_stopped_early(run_dir: str | Path) -> None:
    """Record in run.json that the fit was stopped by hand, so it never becomes the default
    run (engine/runs/listing.py)."""
    path = Path(run_dir) / RUN_JSON
    meta = _read_json(path)
    meta["stopped_early"] = True
    write_json_atomic(path, meta)


def _resolve(path: Path) -> Path:
    """The run folder to read: `path`, or the previous run an interrupted swap set aside."""
    if path.is_dir():
        return path
    retired = sorted(path.parent.glob(f"{path.name}.old-*")) if path.parent.is_dir() else []
    complete = [p for p in retired if all((p / name).exists() for name in REQUIRED_FILES)]
    if complete:
        return complete[-1]
    raise RunError(Message("run_missing", path=str(path)))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RunError(Message("run_unreadable", path=str(path), error=str(exc))) from exc


def _check_folder(path: Path) -> dict[str, Any]:
    missing = [name for name in REQUIRED_FILES if not (path / name).exists()]
    if missing:
        raise RunError(Message("run_incomplete", path=str(path), missing=", ".join(missing)))
    meta = _read_json(path / RUN_JSON)
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if version != FORMAT_VERSION:
        raise RunError(Message("run_format", path=str(path), version=version,
                               reads=FORMAT_VERSION))
    return meta


# arrays a loaded run never reads back: the item vectors are the model's own (it rebuilds them
# from its weights), the text vectors are read by search (engine.text.search) when it needs them
UNREAD_ARRAYS = ("item_vectors", "text_embeddings")


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a model file that loading uses, one at a time (never the whole file
    in memory beside them)."""
    with safe_open(str(path), framework="numpy") as tensors:
        return {name: tensors.get_tensor(name) for name in tensors.keys()  # noqa: SIM118
                if name not in UNREAD_ARRAYS}


def _read_part(folder: Path, meta: dict[str, Any], tables: Sequence[str] = ()
               ) -> tuple[dict[str, np.ndarray], BaseModel, list[pd.DataFrame]]:
    """One part's arrays, its model and the Parquet `tables` asked for (RunError if corrupt).
    The model's tensors are handed over, not kept in the arrays returned."""
    try:
        arrays = _read_arrays(folder / MODEL_TENSORS)
        frames = [pd.read_parquet(folder / name) for name in tables]
    except Exception as exc:  # noqa: BLE001 - any reader failure means a corrupt run
        raise RunError(Message("run_bad_file", path=str(folder), error=str(exc))) from exc
    tensors = {name[len(MODEL_PREFIX):]: arrays.pop(name) for name in list(arrays)
               if name.startswith(MODEL_PREFIX)}
    model = get_model_class(meta["model"]).from_state(tensors, _read_json(folder / MODEL_JSON))
    return arrays, model, frames


def _read_epochs(path: Path) -> list[dict[str, Any]]:
    return ([json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            if path.exists() else [])


def has_serving_part(path: str | Path) -> bool:
    """True when serving reads other histories (and maybe another model) than evaluation."""
    return (Path(path) / SERVING / HISTORIES).exists()


def has_refit(path: str | Path) -> bool:
    """True when the run folder holds a serving model refit on every event."""
    return (Path(path) / SERVING / MODEL_TENSORS).exists()


def load_part_model(run: Run, part: str) -> tuple[BaseModel, np.ndarray]:
    """The model and item popularity of one part of a loaded run (cold start updates both)."""
    arrays, model, _ = _read_part(run.path / SERVING if part == SERVING_MODEL else run.path,
                                  run.meta)
    return model, arrays["item_popularity"]


def load_run(path: str | Path, model: str = EVALUATION_MODEL) -> Run:
    """Load a run folder written by `save_run`; RunError says what is missing or incompatible.

    `model="evaluation"` (the default, for every held-out comparison) gives the model fitted
    on the training part and the training histories; `model="serving"` the model refit on
    every event (when the run has one) and every event as history.
    """
    if model not in MODEL_ROLES:
        raise RunError(f"model must be one of {', '.join(MODEL_ROLES)}, got {model!r}")
    folder = _resolve(Path(path))
    meta = _check_folder(folder)
    arrays, fitted, (items, histories) = _read_part(folder, meta, (ITEMS, HISTORIES))
    evaluation = _read_json(folder / EVALUATION) if (folder / EVALUATION).exists() else None
    run = Run(path=folder, meta=meta, model=fitted, items=items, histories=histories,
              category_names=list(_read_json(folder / CATEGORIES)["names"]),
              item_categories=arrays["item_categories"],
              item_popularity=arrays["item_popularity"], item_vectors=fitted.item_vectors(),
              evaluation=evaluation, epochs=_read_epochs(folder / EPOCHS), role=model,
              purchases=_read_part_table(folder / PURCHASES) if (folder / PURCHASES).exists()
              else None)
    return _as_serving(run) if model == SERVING_MODEL else run


def _as_serving(run: Run) -> Run:
    """Swap in what serving reads: every event's histories, and the refit model if any."""
    serving = run.path / SERVING
    if (serving / HISTORIES).exists():
        run.histories = _read_part_table(serving / HISTORIES)
    if has_refit(run.path):
        arrays, run.model, _ = _read_part(serving, run.meta)
        run.item_popularity, run.item_vectors = arrays["item_popularity"], \
            run.model.item_vectors()
        run.epochs, run.part = _read_epochs(serving / EPOCHS), SERVING_MODEL
    return run


def _read_part_table(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure means a corrupt run
        raise RunError(Message("run_unreadable", path=str(path), error=str(exc))) from exc
