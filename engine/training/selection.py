"""Quality without settings: fit a few candidate models, keep the best on the validation part.

`prism train` with no model and no settings (`--model auto`) fits a small fixed set of
candidates on the training part: EASE at a few regularisation strengths, item-kNN, the
two-tower model with the settings for the split, and the same two-tower trained over Prism's
default range of alpha (engine.core.config.DEFAULT_ALPHA_RANGE; scored at its low end). Each
is scored by NDCG@K on the validation part (the two-tower also early-stops on it); the test
part is never looked at. The winner is the run's model, and every candidate's validation
score goes into run.json.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.core.config import DEFAULT_ALPHA_RANGE, ModelConfig, TrainConfig
from engine.evaluation.protocol import evaluate_model
from engine.models.base import BaseModel, TrainData
from engine.models.registry import CONFIGURED_MODEL, ModelSpec, build

EASE_STRENGTHS = (100.0, 250.0, 500.0, 1000.0)
MAX_EASE_ITEMS = 20_000  # EASE inverts an (n_items, n_items) Gram matrix: skip it above this
VALIDATION_USERS = 5_000  # users scored per candidate on the validation part (a fixed sample)


def configured(model_config: ModelConfig, train_config: TrainConfig) -> ModelSpec:
    """The model the training configs build (the registry's CONFIGURED_MODEL)."""
    return ModelSpec(CONFIGURED_MODEL, {"model_config": model_config,
                                        "train_config": train_config})


@dataclass(frozen=True)
class Candidate:
    """One model to try: a label and the registry spec it is built from."""

    label: str
    spec: ModelSpec

    @property
    def model_name(self) -> str:
        return self.spec.name

    def build(self) -> BaseModel:
        """The unfitted model (the registry's one `build`)."""
        return build(self.spec)

    def record(self) -> dict[str, Any]:
        """The candidate's settings in run.json form."""
        return self.build().config()


def default_candidates(n_items: int, twotower: tuple[ModelConfig, TrainConfig] | None
                       ) -> list[Candidate]:
    """The fixed candidate set, cheapest first; `twotower` is the split's configured-model
    settings (None: leave it out)."""
    found: list[Candidate] = [Candidate("itemknn", ModelSpec("itemknn"))]
    if n_items <= MAX_EASE_ITEMS:
        found += [Candidate(f"ease λ={strength:g}", ModelSpec("ease", {"reg_weight": strength}))
                  for strength in EASE_STRENGTHS]
    if twotower is not None:
        found.append(Candidate(CONFIGURED_MODEL, configured(*twotower)))
        found += [every] if (every := every_alpha(*twotower)) is not None else []
    return found


def every_alpha(model_config: ModelConfig, train_config: TrainConfig) -> Candidate | None:
    """The two-tower with these settings trained over the default range of alpha (after the
    one-alpha model: a tie keeps that one), or None where the settings already fix a range or
    learn no relevance (beta = 0)."""
    if train_config.alpha_max is not None or train_config.beta <= 0:
        return None
    low, high = DEFAULT_ALPHA_RANGE
    spec = configured(model_config, train_config.replace(alpha=low, alpha_max=high))
    return Candidate(f"{CONFIGURED_MODEL} α {low:g}–{high:g}", spec)


def validation_users(data: TrainData, limit: int = VALIDATION_USERS, seed: int = 0) -> Any:
    """A fixed, seeded sample of validation users (all of them when there are few)."""
    users, _ = data.truth(data.valid)
    if len(users) <= limit:
        return users
    return np.sort(np.random.default_rng(seed).choice(users, limit, replace=False))


@dataclass
class Selection:
    """The chosen fitted model and what every candidate scored on the validation part."""

    model: BaseModel
    chosen: Candidate
    report: list[dict[str, Any]]
    fit_seconds: float
    tuning: dict[str, Any] | None = None  # the settings search's study (engine/training/tuning.py)

    def meta(self) -> dict[str, Any]:
        meta = {"chosen": self.chosen.label, "metric": "valid ndcg@10",
                "candidates": self.report}
        return meta if self.tuning is None else {**meta, "tuning": self.tuning}


def select_model(data: TrainData, candidates: Sequence[Candidate], *, k: int = 10,
                 callbacks: Sequence[Any] = (),
                 notify: Callable[[str], None] | None = None,
                 prefit: dict[str, tuple[BaseModel, float]] | None = None) -> Selection:
    """Fit each candidate on the training part; keep the best validation NDCG@k.

    Ties keep the earlier (cheaper) candidate. `notify` hears each candidate's label.
    `prefit` maps a label to an already fitted model and its fit seconds (a tuned two-tower):
    it is scored like the others, not fitted again.
    """
    users = validation_users(data)
    best: tuple[float, BaseModel, Candidate] | None = None
    report, started = [], time.perf_counter()
    for candidate in candidates:
        if notify is not None:
            notify(candidate.label)
        if prefit and candidate.label in prefit:
            model, fit_seconds = prefit[candidate.label]
        else:
            model, fit_seconds = _fit(candidate, data, callbacks)
        score = evaluate_model(model, data, k=k, split_part="valid",
                               users=users)["metrics"][f"ndcg@{k}"]
        report.append({"label": candidate.label, "model": candidate.model_name,
                       "valid_ndcg": round(float(score), 5),
                       "fit_seconds": round(fit_seconds, 2), **candidate.record()})
        if best is None or score > best[0]:
            best = (score, model, candidate)
    return Selection(best[1], best[2], report, time.perf_counter() - started)


def _fit(candidate: Candidate, data: TrainData, callbacks: Sequence[Any]
         ) -> tuple[BaseModel, float]:
    """The candidate fitted on the training part, and the seconds it took."""
    model = candidate.build()
    started = time.perf_counter()
    model.fit(data, callbacks=callbacks if model.trains_in_epochs else ())
    return model, time.perf_counter() - started
