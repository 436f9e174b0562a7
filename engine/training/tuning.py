"""A trial-budget search over the two-tower's settings, scored on the validation part only.

`prism train --tune N` (and the studio's "Choose settings automatically") runs an Optuna study
of N trials: a seeded TPE sampler proposes the settings that move the two-tower's quality
(learning rate, width, dropout, temperature, history length, batch size, and whether to read
item text), each trial fits through `engine.training.selection.select_model` (the same path `--model
auto` uses), reports its validation NDCG@K after every epoch to a median pruner, and is scored
by validation NDCG@K. The first trial is the split's own default settings, so the search
never ends below them on validation. The best trial's fitted model is kept (no refit: the
trainer is seeded, a refit would give the same weights), then competes with the other
candidate families like any `auto` candidate. The test part is never read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.core.config import ModelConfig, TrainConfig
from engine.core.errors import ConfigError
from engine.models.base import BaseModel, TrainData
from engine.training.selection import (
    Candidate,
    Selection,
    configured,
    default_candidates,
    every_alpha,
    select_model,
)

MAX_TRIALS = 1_000
TUNED_LABEL = "twotower (tuned)"
# Settings searched, and in which config each lives; choices keep dim divisible by n_heads.
MODEL_KEYS = ("dim", "dropout", "temperature", "use_text")
TRAIN_KEYS = ("lr", "batch_size", "history_len")
CHOICES: dict[str, tuple[Any, ...]] = {"dim": (32, 64, 128), "batch_size": (64, 128, 256, 512),
                                       "history_len": (20, 50, 100, 200),
                                       "use_text": (True, False)}
RANGES: dict[str, tuple[float, float, bool]] = {  # low, high, log scale
    "lr": (3e-4, 1e-2, True), "dropout": (0.0, 0.6, False), "temperature": (0.03, 0.2, True)}

TrialHook = Callable[[int, int, dict[str, Any]], None]  # (trials done, total, trial record)


def check_trials(value: Any, option: str = "--tune") -> int:
    """The trial budget as an int in [1, MAX_TRIALS], or ConfigError naming the option."""
    try:
        trials = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{option} must be a whole number of trials, got {value!r}; "
                          f"e.g. {option} 20") from None
    if not 1 <= trials <= MAX_TRIALS:
        raise ConfigError(f"{option} must be between 1 and {MAX_TRIALS:,} trials, got {trials}")
    return trials


@dataclass
class TuneResult:
    """The best trial's settings and fitted model, and the whole study in run.json form."""

    candidate: Candidate
    model: BaseModel
    fit_seconds: float
    study: dict[str, Any] = field(default_factory=dict)


class PruneOnValidation:
    """Trainer callback: report each epoch's validation score; stop when the pruner says so."""

    def __init__(self, trial: Any, metric: str):
        self.trial, self.metric, self.pruned, self.epochs = trial, metric, False, 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        from engine.models.trainer import StopTraining

        self.epochs = epoch
        if self.metric not in logs:
            return
        self.trial.report(float(logs[self.metric]), epoch)
        if self.trial.should_prune():
            self.pruned = True
            raise StopTraining(f"pruned at epoch {epoch}")


def searched_keys(data: TrainData, fixed: Collection[str] = ()) -> list[str]:
    """The settings this study searches: all but `fixed` ones (and use_text without text)."""
    keys = [*TRAIN_KEYS, *MODEL_KEYS]
    if data.text_embeddings is None:
        keys.remove("use_text")
    return [key for key in keys if key not in fixed]


def suggest(trial: Any, keys: Sequence[str]) -> dict[str, Any]:
    """One trial's settings for `keys`, drawn by the study's sampler."""
    params: dict[str, Any] = {}
    for key in keys:
        if key in CHOICES:
            params[key] = trial.suggest_categorical(key, list(CHOICES[key]))
        else:
            low, high, log = RANGES[key]
            params[key] = trial.suggest_float(key, low, high, log=log)
    return params


def defaults_in_space(model_config: ModelConfig, train_config: TrainConfig,
                      keys: Sequence[str]) -> dict[str, Any]:
    """The base settings restricted to what the space can express (the first trial)."""
    values = {**model_config.to_dict(), **train_config.to_dict()}
    start: dict[str, Any] = {}
    for key in keys:
        value = values[key]
        inside = value in CHOICES[key] if key in CHOICES \
            else RANGES[key][0] <= value <= RANGES[key][1]
        if inside:
            start[key] = value
    return start


def candidate_for(params: dict[str, Any], model_config: ModelConfig,
                  train_config: TrainConfig) -> Candidate:
    """The two-tower candidate with `params` applied over the base settings."""
    return Candidate(TUNED_LABEL, configured(
        model_config.replace(**{k: v for k, v in params.items() if k in MODEL_KEYS}),
        train_config.replace(**{k: v for k, v in params.items() if k in TRAIN_KEYS})))


def tune_twotower(data: TrainData, model_config: ModelConfig, train_config: TrainConfig,
                  n_trials: int, *, fixed: Collection[str] = (), k: int = 10,
                  callbacks: Sequence[Any] = (), on_trial: TrialHook | None = None
                  ) -> TuneResult:
    """Run the study; return the best trial (by validation NDCG@k) and every trial's record.

    Deterministic for a given `train_config.seed`: the sampler and every fit are seeded.
    `fixed` names settings the user set by hand, left out of the search.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    keys = searched_keys(data, fixed)
    # No pruning before 2 × patience epochs: large batches or low rates start slower and
    # would all be cut at epoch 3 (measured on ML-100K) though they may end higher.
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=train_config.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2,
                                           n_warmup_steps=2 * train_config.patience))
    study.enqueue_trial(defaults_in_space(model_config, train_config, keys))
    best: dict[str, Any] = {}
    records: list[dict[str, Any]] = []
    started = time.perf_counter()

    def objective(trial: Any) -> float:
        candidate = candidate_for(suggest(trial, keys), model_config, train_config)
        pruner = PruneOnValidation(trial, f"val_ndcg@{train_config.eval_k}")
        selection = select_model(data, [candidate], k=k, callbacks=[pruner, *callbacks])
        score = selection.report[0]["valid_ndcg"]
        records.append({"number": trial.number, "params": dict(trial.params),
                        "state": "PRUNED" if pruner.pruned else "COMPLETE",
                        "value": None if pruner.pruned else score, "epochs": pruner.epochs,
                        "fit_seconds": selection.report[0]["fit_seconds"]})
        if on_trial is not None:
            on_trial(len(records), n_trials, records[-1])
        if pruner.pruned:
            raise optuna.TrialPruned()
        if not best or score > best["value"]:  # ties keep the earlier trial
            best.update(value=score, number=trial.number, model=selection.model,
                        candidate=candidate, params=dict(trial.params))
        return score

    study.optimize(objective, n_trials=n_trials, gc_after_trial=True)
    return TuneResult(best["candidate"], best["model"], time.perf_counter() - started, {
        "trials": n_trials, "sampler": "TPE", "pruner": "median", "seed": train_config.seed,
        "metric": f"valid ndcg@{k}", "searched": keys, "best_trial": best["number"],
        "best_value": best["value"], "best_params": best["params"], "trial_log": records})


def tuned_selection(data: TrainData, model_config: ModelConfig, train_config: TrainConfig,
                    n_trials: int, *, configured_only: bool = False, fixed: Collection[str] = (),
                    k: int = 10, callbacks: Sequence[Any] = (),
                    on_trial: TrialHook | None = None,
                    notify: Callable[[str], None] | None = None) -> Selection:
    """Tune the two-tower, then let it compete with the other `auto` candidates on validation
    (among them, the tuned settings trained over the default range of alpha).

    The returned selection carries the study as `selection.tuning`.
    """
    result = tune_twotower(data, model_config, train_config, n_trials, fixed=fixed, k=k,
                           callbacks=callbacks, on_trial=on_trial)
    others = [] if configured_only else default_candidates(data.n_items, None)
    tuned = result.candidate.spec.config  # the tuned settings, over the default alpha range
    every = None if configured_only else every_alpha(tuned["model_config"],
                                                     tuned["train_config"])
    selection = select_model(data, [*others, result.candidate, *([every] if every else [])],
                             k=k, notify=notify,
                             prefit={TUNED_LABEL: (result.model, result.fit_seconds)})
    selection.tuning = result.study
    return selection
