"""Quality without settings: fit a few candidate models, keep the best on the validation part.

`prism train` with no model and no settings (`--model auto`) fits a small fixed set of
candidates on the training part: EASE at a few regularisation strengths, item-kNN, and the
two-tower model with the settings for the split. Each is scored by NDCG@K on the validation
part (the two-tower also early-stops on it); the test part is never looked at. The winner is
the run's model, and every candidate's validation score goes into run.json.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.core.config import ModelConfig, TrainConfig
from engine.models.base import BaseModel, TrainData

EASE_STRENGTHS = (100.0, 250.0, 500.0, 1000.0)
MAX_EASE_ITEMS = 20_000  # EASE inverts an (n_items, n_items) Gram matrix: skip it above this
VALIDATION_USERS = 5_000  # users scored per candidate on the validation part (a fixed sample)


@dataclass(frozen=True)
class Candidate:
    """One model to try: a registry name and its settings (as `prism train` records them)."""

    label: str
    model_name: str
    settings: dict[str, Any] = field(default_factory=dict)
    model_config: ModelConfig | None = None
    train_config: TrainConfig | None = None

    def build(self) -> BaseModel:
        """The unfitted model."""
        from engine.models.registry import get_model_class

        model_class = get_model_class(self.model_name)
        if self.model_name == "twotower":
            return model_class(self.model_config, self.train_config)
        return model_class(**self.settings)

    def record(self) -> dict[str, Any]:
        """The candidate's settings in run.json form."""
        if self.model_name == "twotower":
            return {"model_config": self.model_config.to_dict(),
                    "train_config": self.train_config.to_dict()}
        return dict(self.settings)


def default_candidates(n_items: int, twotower: tuple[ModelConfig, TrainConfig] | None
                       ) -> list[Candidate]:
    """The fixed candidate set, cheapest first; `twotower` is the split's two-tower settings."""
    found: list[Candidate] = [Candidate("itemknn", "itemknn")]
    if n_items <= MAX_EASE_ITEMS:
        found += [Candidate(f"ease λ={strength:g}", "ease", {"reg_weight": strength})
                  for strength in EASE_STRENGTHS]
    if twotower is not None:
        found.append(Candidate("twotower", "twotower", model_config=twotower[0],
                               train_config=twotower[1]))
    return found


def validation_users(data: TrainData, limit: int = VALIDATION_USERS, seed: int = 0) -> Any:
    """A fixed, seeded sample of validation users (all of them when there are few)."""
    import numpy as np

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
    from engine.evaluation.protocol import evaluate_model

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
    model.fit(data, callbacks=callbacks if candidate.model_name == "twotower" else ())
    return model, time.perf_counter() - started
