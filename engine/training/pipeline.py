"""The one training entry point: load, encode, split, fit, evaluate, and save a run folder.

`prism train` (also under `torchrun -m engine train`), the studio's Training page and starter
model, and the benchmarks all call `train`, so every run folder records the same run.json
keys whichever way it was trained. After the fit on the split, the chosen model is refit on
every event for serving (engine/training/refit.py; `refit=False` keeps only every event as
the shoppers' serving history); the evaluation uses the first fit only. `build_model` is the
one model builder: a registry name and its configs → the unfitted model, or a `ModelSearch`
(`auto`, or a settings search).

Progress goes through trainer callbacks: besides `on_batch_end` / `on_epoch_end`, a callback
with `on_stage(name)` hears each stage, `on_candidate(label)` each model tried by a search,
`on_trial(done, total, record)` each settings-search trial and `on_progress(stage, done,
total)` counted work such as encoding search vectors.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.core.config import EncoderConfig, ModelConfig, TrainConfig
from engine.core.errors import PrismError
from engine.models.base import BaseModel
from engine.models.callbacks import notify_progress, notify_stage, tell

if TYPE_CHECKING:
    from engine.data import Dataset, Split
    from engine.models.base import TrainData
    from engine.training.refit import Refit
    from engine.training.selection import Selection


@dataclass(frozen=True)
class ModelSearch:
    """A model chosen on the validation part: `auto` (the candidates of
    engine/training/selection.py) and/or a `tune`-trial search of the two-tower's settings."""

    model_config: ModelConfig
    train_config: TrainConfig
    twotower_only: bool = False  # only the two-tower competes (e.g. a diversity loss asked for)
    tune: int = 0  # settings-search trials (0: no search)
    fixed: frozenset[str] = frozenset()  # settings the user chose: never searched

    name = "auto"

    def select(self, data: TrainData, callbacks: Sequence[Any] = ()) -> Selection:
        """Fit the candidates, keep the best on validation (its `selection_` is set)."""
        from engine.training.selection import Candidate, default_candidates, select_model
        from engine.training.tuning import tuned_selection

        def notify(label: str) -> None:
            tell(callbacks, "on_candidate", label)

        if self.tune:
            selection = tuned_selection(
                data, self.model_config, self.train_config, self.tune,
                twotower_only=self.twotower_only, fixed=self.fixed, callbacks=callbacks,
                on_trial=lambda *trial: tell(callbacks, "on_trial", *trial), notify=notify)
        else:
            pair = (self.model_config, self.train_config)
            candidates = [Candidate("twotower", "twotower", model_config=pair[0],
                                    train_config=pair[1])] if self.twotower_only \
                else default_candidates(data.n_items, pair)
            selection = select_model(data, candidates, callbacks=callbacks, notify=notify)
        selection.model.selection_ = selection
        return selection


def build_model(model_name: str = "twotower", model_config: ModelConfig | None = None,
                train_config: TrainConfig | None = None, seed: int = 0, *, tune: int = 0,
                twotower_only: bool = False, fixed: Collection[str] = ()
                ) -> tuple[BaseModel | ModelSearch, dict[str, Any]]:
    """The unfitted model (or model search) and the configs to record in run.json.

    `model_name` is a registry name or `auto`; ConfigError for an unknown one. The two-tower
    records both configs; baselines have no settings, only the seed. `tune` > 0 searches the
    two-tower's settings (only `auto` and `twotower` have settings to search).
    """
    from engine.models.registry import get_model_class

    model_class = get_model_class(model_name) if model_name != "auto" else None
    if model_name not in ("twotower", "auto"):
        return model_class(), {"seed": seed}
    model_config = model_config or ModelConfig()
    train_config = train_config or TrainConfig(seed=seed)
    configs = {"model_config": model_config.to_dict(), "train_config": train_config.to_dict()}
    if model_name == "auto" or tune:
        return ModelSearch(model_config, train_config, twotower_only or model_name == "twotower",
                           tune, frozenset(fixed)), configs
    return model_class(model_config, train_config), configs


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
    path: Path | None = None  # the run folder, when `out` was given
    notes: list[str] = field(default_factory=list)  # survivable problems worth telling
    serving: Refit | None = None  # every event, and the model refit on it for serving

    @property
    def is_main(self) -> bool:
        return self.model is not None


def train(data: str | Path | Dataset, *, out: str | Path | None = None,
          model: str | BaseModel | ModelSearch = "twotower",
          model_config: ModelConfig | None = None, train_config: TrainConfig | None = None,
          encoder_config: EncoderConfig | None = None, text_embeddings: np.ndarray | None = None,
          protocol: str = "leave-last-out", seed: int = 0, fmt: str = "auto", k: int = 10,
          rerank: Any = None, tune: int = 0, callbacks: Sequence[Any] = (),
          progress: bool = False, search_vectors: bool = False,
          refit: bool = True, ann: bool | None = None) -> TrainResult:
    """Fit a model on a data folder (or loaded Dataset), evaluate it on the test part, and save
    the run at `out` when given.

    `refit` (default on) then fits the chosen model again on every event for serving; the
    evaluation and every held-out comparison keep the first fit. `ann` builds the run's
    candidate index after saving (engine/retrieval/runindex.py); None: only for catalogues of
    at least AUTO_MIN_ITEMS items.

    `model` is a registry name or `auto` (built by `build_model` with the configs and `tune`),
    or an already built model or `ModelSearch`. Item text is encoded with `encoder_config`
    (`progress`: the encoder's bar) unless `text_embeddings` are given. `search_vectors`
    encodes the catalogue for search right after saving. Under torchrun every rank loads and
    fits; rank 0 alone evaluates and saves. Raises DataError / ConfigError from loading,
    splitting or the configs.
    """
    from engine.models import distributed

    built, configs = _built(model, model_config, train_config, seed, tune)
    device = built.train_config.device if hasattr(built, "train_config") else "auto"
    with distributed.process_group(device):
        main = distributed.is_main()
        result = _load_and_fit(data, built, fmt, encoder_config, text_embeddings, protocol,
                               seed, callbacks if main else (), progress and main, refit)
    if not main:
        return result
    if hasattr(result.model, "selection_"):
        selection = result.model.selection_
        configs = {**selection.chosen.record(), "selection": selection.meta()}
    _evaluate(result, data, encoder_config, protocol, seed, k, rerank, configs, callbacks)
    if out is not None:
        _save(result, out, callbacks, search_vectors)
        _index(result, callbacks, ann)
    return result


def _index(result: TrainResult, callbacks: Sequence[Any], ann: bool | None) -> None:
    """Build the saved run's candidate index when asked, or by catalogue size."""
    from engine.retrieval.runindex import build_run_index, wants_index

    served = result.serving.model if result.serving and result.serving.model else result.model
    if ann is False or (ann is None and not wants_index(result.data.n_items, served)):
        return
    notify_stage(callbacks, "Building the candidate index")
    info = build_run_index(result.path)
    result.notes.append(f"candidate index {info.kind} over {info.n_items:,} items: "
                        f"recall@{info.tune_n} {info.recall:.3f} on {info.tune_queries} "
                        f"shoppers, built in {info.build_seconds:.1f}s")


def _built(model: str | BaseModel | ModelSearch, model_config: ModelConfig | None,
           train_config: TrainConfig | None, seed: int, tune: int
           ) -> tuple[BaseModel | ModelSearch, dict[str, Any]]:
    """`build_model` for a name; an already built model with the configs it records."""
    if isinstance(model, str):
        return build_model(model, model_config, train_config, seed, tune=tune)
    if hasattr(model, "model_config") and hasattr(model, "train_config"):
        return model, {"model_config": model.model_config.to_dict(),
                       "train_config": model.train_config.to_dict()}
    return model, {"seed": seed}


def _load_and_fit(data: str | Path | Dataset, model: BaseModel | ModelSearch, fmt: str,
                  encoder_config: EncoderConfig | None, text: np.ndarray | None,
                  protocol: str, seed: int, callbacks: Sequence[Any],
                  progress: bool, refit: bool = True) -> TrainResult:
    """Load, encode, split and fit; the fit seconds count every candidate of a search. Then
    every rank refits the chosen model on every event (`refit`) for serving.

    Inside a torchrun job each machine's local rank 0 encodes first (filling the encoder's
    disk cache) while its other ranks wait, then read the cache.
    """
    from engine.data import Dataset, load_dataset
    from engine.evaluation.protocol import prepare_data
    from engine.models import distributed
    from engine.training.refit import refit as refit_model

    notify_stage(callbacks, "Loading the data")
    dataset = data if isinstance(data, Dataset) else load_dataset(data, fmt=fmt)
    if text is None and encoder_config is not None:
        from engine.text.encoders import encode_items

        stage = f"Encoding {len(dataset.items):,} product texts"
        notify_stage(callbacks, stage)
        counted = any(hasattr(callback, "on_progress") for callback in callbacks)
        text = distributed.local_main_first(lambda: encode_items(  # one bar: the caller's
            dataset, encoder_config, progress=progress and not counted,
            on_progress=lambda done, total: notify_progress(callbacks, stage, done, total)))
    split, train_data = prepare_data(dataset, protocol, seed=seed, text_embeddings=text)
    notify_stage(callbacks, f"Training {model.name}")
    started = time.perf_counter()
    if isinstance(model, ModelSearch):
        fitted = model.select(train_data, callbacks).model
    else:
        fitted = model.fit(train_data, callbacks=callbacks)
    result = TrainResult(dataset, train_data, split, fit_seconds=time.perf_counter() - started)
    result.serving = refit_model(fitted, dataset, text, callbacks, enabled=refit)
    if distributed.is_main():
        result.model = fitted
    return result


def _evaluate(result: TrainResult, data: str | Path | Dataset,
              encoder_config: EncoderConfig | None, protocol: str, seed: int, k: int,
              rerank: Any, configs: dict[str, Any], callbacks: Sequence[Any]) -> None:
    """Evaluate on the test part and fill the run.json meta (the same keys for every caller)."""
    from engine.evaluation.protocol import evaluate_model
    from engine.training.refit import evaluation_record

    notify_stage(callbacks, "Evaluating")
    result.evaluation = evaluate_model(result.model, result.data, k=k, rerank=rerank,
                                       protocol=protocol, fit_seconds=result.fit_seconds)
    from_folder = isinstance(data, str | Path)  # a loaded Dataset has no folder to record
    result.meta = {"dataset": result.dataset.name,
                   "data_path": str(Path(data).resolve()) if from_folder else None,
                   "split": protocol, "seed": seed, "fit_seconds": round(result.fit_seconds, 3),
                   "encoder": encoder_config.to_dict() if encoder_config is not None else None,
                   "data_config": result.dataset.config.to_dict(),
                   "metrics": result.evaluation["metrics"], **configs}
    models = {"evaluation": evaluation_record(result.model, result.data, protocol,
                                              result.fit_seconds)}
    if result.serving is not None:
        models["serving"] = result.serving.record
    result.meta["models"] = models


def _save(result: TrainResult, out: str | Path, callbacks: Sequence[Any],
          search_vectors: bool) -> None:
    """Write the run folder; then, if asked, encode the catalogue once for search."""
    from engine.models.repeat import purchase_events
    from engine.runs.store import save_run
    from engine.text.matching import ensure_title_vectors
    from engine.text.search import ensure_search_vectors

    notify_stage(callbacks, "Saving the run")
    result.path = save_run(out, model=result.model, data=result.data,
                           items=result.dataset.items, meta=result.meta,
                           epochs=list(getattr(result.model, "logs_", [])),
                           evaluation=result.evaluation, serving=_serving_part(result),
                           purchases=purchase_events(result.dataset.events))
    if not search_vectors:
        return
    stage = "Encoding item text for search"
    notify_stage(callbacks, stage)
    try:
        ensure_search_vectors(result.path, progress=lambda done, total: notify_progress(
            callbacks, stage, done, total))
        notify_stage(callbacks, "Encoding item titles for search")
        ensure_title_vectors(result.path, progress=lambda done, total: notify_progress(
            callbacks, "Encoding item titles for search", done, total))
    except (PrismError, OSError) as exc:  # the run is saved; search encodes on first use
        result.notes.append(f"search vectors not precomputed ({exc}); the first search "
                            "encodes the catalogue")


def _serving_part(result: TrainResult) -> Any:
    """What the run serves from besides the evaluation model (engine.runs.store.ServingPart).

    Without a refit, the evaluation model serves and every event is only its shoppers'
    history, which needs the same shoppers in the same order as its training part (the
    built-in splits keep at least one event of every shopper in training).
    """
    from engine.runs.store import ServingPart

    serving = result.serving
    if serving is None:
        return None
    if serving.model is None and serving.data.user_ids != result.data.user_ids:
        result.notes.append("the shoppers of the training part differ from those of every "
                            "event, so this run serves from the training part only")
        return None
    return ServingPart(serving.data, serving.model,
                       list(getattr(serving.model, "logs_", None) or []))
