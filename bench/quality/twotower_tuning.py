"""One two-tower fit on a shared data set, evaluated two ways; prints a RESULT line.

Usage: python -m bench.quality.twotower_tuning DATASET PROTOCOL [key=value ...]
where keys are ModelConfig or TrainConfig fields, e.g.
    nice python -m bench.quality.twotower_tuning amazon-scientific leave-last-out epochs=15
    nice python -m bench.quality.twotower_tuning ml-100k random example_history=rest lr=0.003

Besides the harness's numbers (score_users: training histories only), it reports `tv_*`:
the test part scored from training + validation history, as RecBole does for SASRec.
Results are recorded by hand in docs/benchmarks.md ("Two-tower model: what was measured"),
not asserted anywhere.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time

import numpy as np

from bench.common import SHARED_DATA
from engine.core.config import ModelConfig, TrainConfig
from engine.evaluation.protocol import evaluate_model
from engine.metrics import hit_at_k, ndcg_at_k
from engine.models.base import seen_matrix
from engine.models.topn import top_n
from engine.models.twotower import TwoTowerModel
from engine.runs.data import prepare_data

SHARED = SHARED_DATA
CHOICES = {"kl", "entropy", "coverage", "cosine", "constant", "past", "rest", "user", "catalog",
           "uniform", "cpu", "cuda", "auto"}


def parse_settings(args: list[str]) -> tuple[ModelConfig, TrainConfig]:
    model_keys = {f.name for f in dataclasses.fields(ModelConfig)}
    model, train = {}, {"device": "cpu"}
    for arg in args:
        key, raw = arg.split("=", 1)
        value = raw if raw in CHOICES else json.loads(raw)
        (model if key in model_keys else train)[key] = value
    return ModelConfig(**model), TrainConfig(**train)


def train_valid_scores(model: TwoTowerModel, data, k: int = 10) -> dict[str, float]:
    """Test metrics when each user's history is training + validation items."""
    users, truth = data.truth(data.test)
    train, valid = data.histories(), data.histories(data.valid)
    histories = [np.concatenate([train[u], valid[u]]) for u in users]
    scores = model.score_histories(histories, user_idx=users)
    top = top_n(scores, seen_matrix(data, "test")[users], k)
    return {f"tv_ndcg@{k}": float(ndcg_at_k(top, truth, k).mean()),
            f"tv_hit@{k}": float(hit_at_k(top, truth, k).mean())}


def main(argv: list[str]) -> None:
    from engine.data import load_dataset
    from engine.text.encoders import TextEncoder

    name, protocol = argv[0], argv[1]
    model_config, train_config = parse_settings(argv[2:])
    dataset = load_dataset(SHARED / name)
    text = TextEncoder().encode(dataset.item_text()) if model_config.use_text else None
    _, data = prepare_data(dataset, protocol, seed=2020, text_embeddings=text)
    model = TwoTowerModel(model_config, train_config)
    started = time.perf_counter()
    model.fit(data)
    fit_seconds = time.perf_counter() - started
    metrics = evaluate_model(model, data, k=10, fit_seconds=fit_seconds)["metrics"]
    if protocol == "leave-last-out":
        metrics.update(train_valid_scores(model, data))
    shown = {key: round(value, 4) for key, value in metrics.items()}
    print("RESULT", name, protocol, " ".join(argv[2:]), shown,
          f"fit_s={fit_seconds:.1f} epochs={len(model.logs_)}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
