"""The evaluation protocol: full ranking over the catalogue, seen items excluded, then metrics.

Every model goes through the same code: score all items for a batch of users, hide what the
user already interacted with (training items; for the test part also validation items, as
RecBole does), keep the top K (or the top N candidates for a re-ranker), compute metrics.
Batches are sized so the dense score block stays around `SCORE_BLOCK_BYTES`. The model does
the scoring and selection (`BaseModel.top_n_users`): by default a dense score block on the
host and `top_n`; the two-tower model selects per block on its own device instead.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from engine.core.checks import check_k, check_target_mix
from engine.core.columns import TIMESTAMP
from engine.core.errors import ConfigError, DataError
from engine.metrics import compute_metrics
from engine.metrics.diversity import category_prior
from engine.models.base import ITEM_IDX, USER_IDX, BaseModel, TrainData, seen_matrix
from engine.models.topn import batch_size_for
from engine.rerank.core import rank_pools, rerank_device
from engine.rerank.methods import METHODS
from engine.rerank.plan import Diversify, RankPlan, diversify_plan, plan_arrays
from engine.rerank.similarity import graded_item_vectors
from engine.rerank.targets import DEFAULT_TARGET_MIX, blend_target


def calibration_targets(data: TrainData, users: np.ndarray, target_mix: float) -> np.ndarray:
    """(B, C) calibration targets of `users`: their training category mix blended with g."""
    return blend_target(data.user_category_dist(users), category_prior(data.item_categories),
                        target_mix)


@dataclass(frozen=True)
class RerankSpec:
    """A re-ranking step applied to the top-N candidates during evaluation.

    `target_mix` (γ) only affects 'calibrated': its target is (1 − γ)·h_u + γ·g.
    `quotas` (category column -> (floor, cap)) constrain every method's lists; 'quota' needs
    them (without them it would be MMR under another name).
    """

    method: str
    weight: float
    n_candidates: int = 200
    target_mix: float = DEFAULT_TARGET_MIX
    quotas: dict[int, tuple[int | None, int | None]] | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"rerank method must be one of {', '.join(METHODS)}, "
                              f"got {self.method!r}")
        if not 0.0 <= self.weight <= 1.0:
            raise ConfigError(f"rerank weight must be in [0, 1], got {self.weight!r}")
        if self.n_candidates < 1:
            raise ConfigError(f"n_candidates must be >= 1, got {self.n_candidates!r}")
        check_target_mix(self.target_mix, "rerank target_mix")
        if self.method == "quota" and not self.quotas:
            raise ConfigError("rerank method 'quota' needs quotas: a floor and/or cap per "
                              "category, e.g. {category column: (1, 3)}")


def rerank_vectors(model: BaseModel, data: TrainData) -> np.ndarray:
    """The item vectors the re-rankers measure similarity with: the model's own, or, for a
    model without any (EASE, ItemKNN, Pop), graded vectors from category rows blended with
    training co-occurrence (`engine.rerank.similarity`), computed once per TrainData."""
    vectors = model.item_vectors()
    if vectors is not None:
        return vectors
    cached = getattr(data, "_graded_vectors", None)
    if cached is None:
        train = data.train
        interactions = sp.csr_matrix(
            (np.ones(len(train)), (train[USER_IDX].to_numpy(), train[ITEM_IDX].to_numpy())),
            shape=(data.n_users, data.n_items))
        cached = graded_item_vectors(data.item_categories, interactions)
        data._graded_vectors = cached  # type: ignore[attr-defined]
    return cached


def rerank_plan(spec: RerankSpec, model: BaseModel, data: TrainData) -> RankPlan:
    """The spec as the plan serving ranks a plain request with: one diversify step over the
    model's similarity vectors (`rerank_vectors`) and the quotas."""
    return diversify_plan(Diversify(spec.method, spec.weight, spec.target_mix),
                          spec.n_candidates,
                          plan_arrays(data.item_categories, rerank_vectors(model, data)),
                          category_names=list(data.category_names), quotas=spec.quotas)


def reranked_pools(plan: RankPlan, spec: RerankSpec, data: TrainData, users: np.ndarray,
                   candidates: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """(B, k) lists from each user's retrieved `candidates (B, N)` (-1 pads) and `values`,
    through the one pipeline (`engine.rerank.core.rank_pools`)."""
    targets = calibration_targets(data, users, spec.target_mix) \
        if spec.method == "calibrated" else None
    return rank_pools(plan, np.asarray(candidates, dtype=np.int64),
                      np.asarray(values, dtype=np.float64), k, targets, rerank_device("auto"))


def histories_before_test(data: TrainData) -> list[np.ndarray]:
    """Per user, what the shopper really had before the test item: training + validation
    items in time order (the history a sequential model reads for the test part)."""
    return data.histories(pd.concat([data.train, data.valid]).sort_values(
        [USER_IDX, TIMESTAMP], kind="stable"))


def held_out_scores(model: BaseModel, data: TrainData, users: np.ndarray,
                     histories: list[np.ndarray] | None = None) -> np.ndarray:
    """(len(users), n_items) what the harness scores for the test part: a sequential model
    reads each user's training + validation history (`histories`: `histories_before_test`,
    made here when not given), any other model its training interactions."""
    if not model.sequential:
        return np.asarray(model.score_users(users))
    histories = histories_before_test(data) if histories is None else histories
    return np.asarray(model.score_histories([histories[u] for u in users], user_idx=users))


def rank_users(model: BaseModel, data: TrainData, users: np.ndarray, *, k: int,
               split_part: str = "test", rerank: RerankSpec | None = None,
               use_histories: bool = False) -> np.ndarray:
    """(len(users), k) top-k item indices per user (-1 pads), optionally re-ranked."""
    seen = seen_matrix(data, split_part)
    histories = data.histories() if use_histories else None
    latest = split_part == "test" and model.sequential
    if latest:
        histories = histories_before_test(data)
    reranking = rerank is not None and rerank.method != "none"
    width = max(k, rerank.n_candidates) if reranking else k
    plan = rerank_plan(rerank, model, data) if reranking else None
    step = model.top_n_batch or batch_size_for(data.n_items)
    blocks = []
    for start in range(0, len(users), step):
        batch = users[start:start + step]
        if latest:
            candidates, scores = model.top_n_histories([histories[u] for u in batch], width,
                                                       seen[batch], user_idx=batch)
        elif histories is not None:
            candidates, scores = model.top_n_histories([histories[u] for u in batch], width,
                                                       seen[batch])
        else:
            candidates, scores = model.top_n_users(batch, width, seen[batch])
        if plan is not None:
            candidates = reranked_pools(plan, rerank, data, batch, candidates, scores, k)
        short = k - candidates.shape[1]  # catalogues smaller than k
        blocks.append(np.pad(candidates[:, :k], ((0, 0), (0, max(short, 0))),
                             constant_values=-1))
    return np.concatenate(blocks) if blocks else np.empty((0, k), dtype=np.int64)


def quotas_met_share(topk: np.ndarray, item_categories: np.ndarray,
                     quotas: dict[int, tuple[int | None, int | None]]) -> float:
    """Share of the lists whose per-category counts lie within every (floor, cap); an item
    counts towards each category it has mass in (as the quota re-ranker counts it)."""
    if len(topk) == 0:
        return 1.0
    member = (item_categories[np.maximum(topk, 0)] > 0) & (topk >= 0)[:, :, None]
    counts = member.sum(axis=1)  # (users, C)
    ok = np.ones(len(topk), dtype=bool)
    for column, (floor, cap) in quotas.items():
        ok &= counts[:, column] >= (floor or 0)
        if cap is not None:
            ok &= counts[:, column] <= cap
    return float(ok.mean())


def evaluate_model(model: BaseModel, data: TrainData, *, k: int = 10, split_part: str = "test",
                   rerank: tuple[str, float] | RerankSpec | None = None,
                   n_candidates: int = 200, users: Sequence[int] | None = None,
                   use_histories: bool = False, protocol: str = "",
                   fit_seconds: float = 0.0,
                   target_mix: float = DEFAULT_TARGET_MIX,
                   intervals: int = 0) -> dict[str, Any]:
    """Full-ranking evaluation of a fitted model; returns the evaluate JSON structure.

    `intervals` > 0: each per-shopper metric also gets `<metric> low`/`high`, its 95%
    bootstrap interval over the evaluated shoppers (`compute_metrics`).

    A `(method, weight)` tuple becomes a RerankSpec with `n_candidates` and `target_mix`; a
    RerankSpec is used as given (its own fields win).
    """
    check_k(k)
    if isinstance(rerank, tuple):
        rerank = RerankSpec(rerank[0], float(rerank[1]), n_candidates, target_mix)
    started = time.perf_counter()
    frame = data.test if split_part == "test" else data.valid
    eval_users, truth = data.truth(frame)
    if users is not None:
        wanted = np.isin(eval_users, np.asarray(users, dtype=np.int64))
        eval_users, truth = eval_users[wanted], [t for t, w in zip(truth, wanted, strict=True) if w]
    if len(eval_users) == 0:
        raise DataError(f"no user has held-out items in the {split_part} part, so nothing can be "
                        "evaluated; users need at least 3 interactions for leave-last-out "
                        "(or use --split random).")
    topk = rank_users(model, data, eval_users, k=k, split_part=split_part, rerank=rerank,
                      use_histories=use_histories)
    metrics = compute_metrics(
        topk, truth, k=k, item_categories=data.item_categories,
        item_popularity=data.item_popularity, item_vectors=model.item_vectors(),
        user_category_dist=data.user_category_dist(eval_users), intervals=intervals,
        category_names=data.category_names,
    )
    result: dict[str, Any] = {
        "metrics": {name: float(value) for name, value in metrics.items()},
        "n_users": int(len(eval_users)),
        "split": protocol or split_part,
        "model": model.name,
        "seconds": {"fit": round(float(fit_seconds), 3),
                    "evaluate": round(time.perf_counter() - started, 3)},
    }
    if rerank is not None:
        result["rerank"] = {"method": rerank.method, "weight": rerank.weight,
                            "n_candidates": rerank.n_candidates,
                            "target_mix": rerank.target_mix}
        if rerank.quotas:
            names = data.category_names
            result["rerank"]["quotas"] = {names[c]: list(b) for c, b in rerank.quotas.items()}
            result["rerank"]["quotas_met"] = quotas_met_share(topk, data.item_categories,
                                                              rerank.quotas)
    return result
