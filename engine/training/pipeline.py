"""The one training entry point: load, encode, split, fit, evaluate, and save a run folder.

`prism train` (also under `torchrun -m engine train`), the studio's Training page and starter
model, and the benchmarks all call `train`, so every run folder records the same run.json
keys whichever way it was trained. After the fit on the split, the chosen model is refit on
every event for serving (engine/training/refit.py; `refit=False` keeps only every event as
the shoppers' serving history); the evaluation uses the first fit only. What to train is one
`TrainSpec` (engine/training/spec.py), which builds the model through the registry.

Progress goes through trainer callbacks: besides `on_batch_end` / `on_epoch_end`, a callback
with `on_stage(name)` hears each stage, `on_candidate(label)` each model tried by a search,
`on_trial(done, total, record)` each settings-search trial and `on_progress(stage, done,
total)` counted work such as encoding search vectors.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import PrismError
from engine.core.messages import Message
from engine.data import Dataset, Split, load_dataset
from engine.evaluation.protocol import evaluate_model
from engine.models import distributed
from engine.models.base import BaseModel, TrainData
from engine.models.callbacks import notify_progress, notify_stage
from engine.models.repeat import purchase_events
from engine.runs.data import prepare_data
from engine.runs.store import ServingPart, save_run
from engine.text.encoders import encode_items
from engine.text.matching import ensure_title_vectors
from engine.text.search import ensure_search_vectors
from engine.training.refit import Refit, evaluation_record
from engine.training.refit import refit as refit_model
from engine.training.search import ModelSearch
from engine.training.spec import TrainSpec


@dataclass
class TrainResult:
    """What `train` produced. On a torchrun rank other than 0, only `data` and `dataset` are
    set: rank 0 evaluates and writes the run."""

    dataset: Dataset
    data: TrainData
    split: Split
    model: BaseModel | None = None
    evaluation: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    fit_seconds: float = 0.0
    # CPU seconds of the process over the same fit (every thread): comparable between fits on
    # a loaded machine, where wall seconds swing with other jobs
    fit_cpu_seconds: float = 0.0
    path: Path | None = None  # the run folder, when `out` was given
    notes: list[str] = field(default_factory=list)  # survivable problems worth telling
    serving: Refit | None = None  # every event, and the model refit on it for serving

    @property
    def is_main(self) -> bool:
        return self.model is not None


def train(spec: TrainSpec, callbacks: Sequence[Any] = ()) -> TrainResult:
    """Fit the model `spec` names on its data folder (or loaded Dataset), evaluate it on the
    test part, and save the run at `spec.out` when given.

    `spec.refit` (default on) then fits the chosen model again on every event for serving; the
    evaluation and every held-out comparison keep the first fit. Item text is encoded with
    `spec.encoder_config` unless `spec.text_embeddings` are given. Under torchrun every rank
    loads and fits; rank 0 alone evaluates and saves. Raises DataError / ConfigError from
    loading, splitting or the configs. `callbacks` hear the stages, epochs and trials.
    `spec.ann` builds the run's candidate index after saving (engine/retrieval/runindex.py);
    None: only for catalogues of at least AUTO_MIN_ITEMS items.
    """
    built, configs = spec.build()
    with distributed.process_group(built.device):
        main = distributed.is_main()
        result = _load_and_fit(spec, built, callbacks if main else (), main)
    if not main:
        return result
    selection = result.model.selection_
    if selection is not None:
        configs = {**selection.chosen.record(), "selection": selection.meta()}
    _evaluate(result, spec, configs, callbacks)
    if spec.out is not None:
        _save(result, spec.out, callbacks, spec.search_vectors)
        _index(result, callbacks, spec.ann)
    return result


def _index(result: TrainResult, callbacks: Sequence[Any], ann: bool | None) -> None:
    """Build the saved run's candidate index when asked, or by catalogue size."""
    from engine.retrieval.runindex import build_run_index, wants_index

    served = result.serving.model if result.serving and result.serving.model else result.model
    if ann is False or (ann is None and not wants_index(result.data.n_items, served)):
        return
    notify_stage(callbacks, Message("stage_index"))
    info = build_run_index(result.path)
    result.notes.append(f"candidate index {info.kind} over {info.n_items:,} items: "
                        f"recall@{info.tune_n} {info.recall:.3f} on {info.tune_queries} "
                        f"shoppers, built in {info.build_seconds:.1f}s")


def _load_and_fit(spec: TrainSpec, model: BaseModel | ModelSearch,
                  callbacks: Sequence[Any], main: bool) -> TrainResult:
    """Load, encode, split and fit; the fit seconds count every candidate of a search. Then
    every rank refits the chosen model on every event (`spec.refit`) for serving.

    Inside a torchrun job each machine's local rank 0 encodes first (filling the encoder's
    disk cache) while its other ranks wait, then read the cache.
    """
    data, text, progress = spec.data, spec.text_embeddings, spec.progress and main
    notify_stage(callbacks, Message("stage_loading"))
    dataset = data if isinstance(data, Dataset) else load_dataset(data, fmt=spec.fmt)
    if text is None and spec.encoder_config is not None:
        stage = Message("stage_encoding", n=len(dataset.items))
        notify_stage(callbacks, stage)
        counted = any(hasattr(callback, "on_progress") for callback in callbacks)
        text = distributed.local_main_first(lambda: encode_items(  # one bar: the caller's
            dataset, spec.encoder_config, progress=progress and not counted,
            on_progress=lambda done, total: notify_progress(callbacks, stage, done, total)))
    split, train_data = prepare_data(dataset, spec.protocol, seed=spec.seed,
                                     text_embeddings=text)
    notify_stage(callbacks, Message("stage_training", model=model.name))
    started, cpu = time.perf_counter(), time.process_time()
    if isinstance(model, ModelSearch):
        fitted = model.select(train_data, callbacks).model
    else:
        fitted = model.fit(train_data, callbacks=callbacks)
    result = TrainResult(dataset, train_data, split, fit_seconds=time.perf_counter() - started,
                         fit_cpu_seconds=time.process_time() - cpu)
    result.serving = refit_model(fitted, dataset, text, callbacks, enabled=spec.refit)
    if distributed.is_main():
        result.model = fitted
    return result


def _evaluate(result: TrainResult, spec: TrainSpec, configs: dict[str, Any],
              callbacks: Sequence[Any]) -> None:
    """Evaluate on the test part and fill the run.json meta (the same keys for every caller)."""
    notify_stage(callbacks, Message("stage_evaluating"))
    result.evaluation = evaluate_model(result.model, result.data, k=spec.k, rerank=spec.rerank,
                                       protocol=spec.protocol, fit_seconds=result.fit_seconds)
    from_folder = isinstance(spec.data, str | Path)  # a loaded Dataset has no folder to record
    encoder = spec.encoder_config
    result.meta = {"dataset": result.dataset.name,
                   "data_path": str(Path(spec.data).resolve()) if from_folder else None,
                   "split": spec.protocol, "seed": spec.seed,
                   "fit_seconds": round(result.fit_seconds, 3),
                   "fit_cpu_seconds": round(result.fit_cpu_seconds, 3),
                   "encoder": encoder.to_dict() if encoder is not None else None,
                   "data_config": result.dataset.config.to_dict(),
                   "metrics": result.evaluation["metrics"], **configs,
                   # DP-SGD's guarantee over shoppers (engine/models/private.py), or None
                   "privacy": getattr(result.model, "privacy_", None)}
    models = {"evaluation": evaluation_record(result.model, result.data, spec.protocol,
                                              result.fit_seconds, result.fit_cpu_seconds)}
    if result.serving is not None:
        models["serving"] = result.serving.record
    result.meta["models"] = models


def _save(result: TrainResult, out: str | Path, callbacks: Sequence[Any],
          search_vectors: bool) -> None:
    """Write the run folder; then, if asked, encode the catalogue once for search."""
    notify_stage(callbacks, Message("stage_saving"))
    result.path = save_run(out, model=result.model, data=result.data,
                           items=result.dataset.items, meta=result.meta,
                           epochs=list(result.model.logs_),
                           evaluation=result.evaluation, serving=_serving_part(result),
                           purchases=purchase_events(result.dataset.events))
    if not search_vectors:
        return
    stage = Message("stage_search_texts")
    notify_stage(callbacks, stage)
    try:
        ensure_search_vectors(result.path, progress=lambda done, total: notify_progress(
            callbacks, stage, done, total))
        titles = Message("stage_search_titles")
        notify_stage(callbacks, titles)
        ensure_title_vectors(result.path, progress=lambda done, total: notify_progress(
            callbacks, titles, done, total))
    except (PrismError, OSError) as exc:  # the run is saved; search encodes on first use
        result.notes.append(f"search vectors not precomputed ({exc}); the first search "
                            "encodes the catalogue")


def _serving_part(result: TrainResult) -> Any:
    """What the run serves from besides the evaluation model (engine.runs.store.ServingPart).

    Without a refit, the evaluation model serves and every event is only its shoppers'
    history, which needs the same shoppers in the same order as its training part (the
    built-in splits keep at least one event of every shopper in training).
    """
    serving = result.serving
    if serving is None:
        return None
    if serving.model is None and serving.data.user_ids != result.data.user_ids:
        result.notes.append("the shoppers of the training part differ from those of every "
                            "event, so this run serves from the training part only")
        return None
    return ServingPart(serving.data, serving.model,
                       list(serving.model.logs_) if serving.model else [])
