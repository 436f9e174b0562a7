"""Preview a policy: replay a run's held-out test shoppers under policy A and policy B.

Every test shopper is scored once (batched, as the evaluation harness does) and both policies
are applied to the same scores in blocks, so the preview costs one scoring pass plus two
batched policy passes. `engine.policy.impact` then compares the two sets of lists with paired
bootstrap intervals. B defaults to no policy (the model's own top-k, already-bought items
excluded).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from engine.core.checks import check_k
from engine.evaluation.protocol import (
    calibration_targets,
    held_out_scores,
    histories_before_test,
)
from engine.exposure.context import ExposureContext
from engine.models.base import seen_matrix
from engine.policy.compile import CompiledPolicy, compile_policy
from engine.policy.impact import impact_report
from engine.policy.schema import Policy
from engine.rerank.pipeline import ShopperBatch, apply_policy
from engine.serving.catalogue import catalogue_from_run

BLOCK_USERS = 512
NO_POLICY = Policy(name="none", description="the model's own top-k")

Progress = Callable[[int, int], None]


@dataclass
class PreviewInputs:
    """What a preview replays: the run's catalogue, test shoppers, their truth and scores."""

    run: Any
    catalogue: Any
    data: Any  # TrainData
    users: np.ndarray  # (n,) model user indices
    truth: list[np.ndarray]
    seen: sp.csr_matrix  # (n, n_items) training (+ validation) items
    top_category: np.ndarray  # (n,)
    seconds_loading: float = 0.0
    _histories: list[np.ndarray] | None = field(default=None, repr=False)

    def scores(self, rows: slice) -> np.ndarray:
        """(B, n_items) model scores of a block of test shoppers, as the harness scores them."""
        if self.run.model.sequential and self._histories is None:
            self._histories = histories_before_test(self.data)
        return held_out_scores(self.run.model, self.data, self.users[rows], self._histories)


def load_inputs(run_dir: str | Path, data_path: str | Path | None = None,
                n_users: int | None = None, seed: int = 0) -> PreviewInputs:
    """Load the run and re-split its dataset (from run.json's data_path unless given)."""
    started = time.perf_counter()
    context = ExposureContext.load(run_dir, data_path)
    rows = context.sample(n_users, seed)  # shoppers with held-out items, as a sweep draws them
    run, data, users = context.run, context.data, context.users[rows]
    mass = data.user_category_dist(users)
    top = np.where(mass.sum(axis=1) > 0, mass.argmax(axis=1), -1)
    return PreviewInputs(run=run, catalogue=catalogue_from_run(run), data=data, users=users,
                         truth=[context.truth[r] for r in rows],
                         seen=seen_matrix(data, "test")[users], top_category=top,
                         seconds_loading=time.perf_counter() - started)


@dataclass
class Replay:
    """One policy's lists over the test shoppers."""

    policy: CompiledPolicy
    items: np.ndarray  # (n, k)
    pinned: np.ndarray  # (n, k) bool
    notices: Counter  # message -> shoppers


def _targets(inputs: PreviewInputs, policy: CompiledPolicy, rows: slice) -> np.ndarray | None:
    stage = policy.diversify
    if stage is None or stage.method != "calibrated":
        return None
    return calibration_targets(inputs.data, inputs.users[rows], stage.target_mix)


def replay(inputs: PreviewInputs, policies: list[CompiledPolicy], k: int,
           on_progress: Progress | None = None) -> list[Replay]:
    """Lists of every policy for every test shopper, one scoring pass in blocks."""
    n = len(inputs.users)
    out = [Replay(policy, np.full((n, k), -1, dtype=np.int64), np.zeros((n, k), dtype=bool),
                  Counter()) for policy in policies]
    for start in range(0, n, BLOCK_USERS):
        rows = slice(start, min(start + BLOCK_USERS, n))
        scores = inputs.scores(rows)
        for replayed in out:
            batch = ShopperBatch(scores=scores, seen=inputs.seen[rows],
                                 top_category=inputs.top_category[rows],
                                 targets=_targets(inputs, replayed.policy, rows))
            lists = apply_policy(replayed.policy, batch, k)
            replayed.items[rows], replayed.pinned[rows] = lists.items, lists.pinned
            for counter in lists.notices:
                replayed.notices.update(counter)
        if on_progress is not None:
            on_progress(rows.stop, n)
    return out


def preview(inputs: PreviewInputs, policy_a: Policy, policy_b: Policy | None = None, *,
            k: int = 10, on_progress: Progress | None = None,
            n_resamples: int | None = None) -> dict[str, Any]:
    """The impact report of A against B (None = no policy) on `inputs`' shoppers."""
    check_k(k)
    started = time.perf_counter()
    compiled = [compile_policy(p, inputs.catalogue) for p in (policy_a, policy_b or NO_POLICY)]
    lists_a, lists_b = replay(inputs, compiled, k, on_progress)
    seconds_replay = time.perf_counter() - started
    report = impact_report(inputs, lists_a, lists_b, k, n_resamples=n_resamples)
    report["seconds"] = {"loading": round(inputs.seconds_loading, 3),
                         "replay": round(seconds_replay, 3),
                         "total": round(time.perf_counter() - started, 3)}
    return report
