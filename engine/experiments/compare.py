"""Compare the arms of an experiment: per-arm means and differences with always-valid
intervals, and a verdict only when it is earned.

Every per-list measure is a rate over the arm's lists, with shoppers as the independent units
(engine.experiments.sequential); coverage
is a per-batch measure (the share of the catalogue shown by each run of BATCH consecutive
lists of an arm). A verdict is given on the experiment's declared metric only: when every
arm has at least MIN_PER_ARM lists and the always-valid interval of an arm's difference from
the control excludes zero (at level α split over the comparisons).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.experiments.assign import Experiment
from engine.experiments.sequential import (
    ALPHA,
    MIN_PER_ARM,
    mean_sequence,
    paired_difference_sequence,
    ratio_difference_sequence,
    ratio_sequence,
)
from engine.metrics.stats import Interval

BATCH = 50  # lists per coverage batch
BATCH_METRICS = ("coverage",)


@dataclass
class Verdict:
    """The verdict on the declared metric: 'winner', 'loser' or None per arm, and why."""

    decided: bool
    text: str
    arms: dict[str, str | None] = field(default_factory=dict)


def _rounded(interval: Interval) -> dict[str, float]:
    """JSON-ready: a bound that is still infinite (too few lists) becomes None."""
    return {key: round(float(value), 6) if np.isfinite(value) else None
            for key, value in interval.to_dict().items()}


@dataclass(frozen=True)
class Units:
    """The shoppers of an experiment: each one's arm and number of lists."""

    of_list: np.ndarray  # (n_lists,) shopper index of each list
    arm: np.ndarray  # (n_shoppers,) arm index
    lists: np.ndarray  # (n_shoppers,) lists served to them

    @classmethod
    def from_lists(cls, unit_of: np.ndarray, arm_of: np.ndarray) -> Units:
        unit_of = np.asarray(unit_of, dtype=np.int64)
        n = int(unit_of.max()) + 1 if unit_of.size else 0
        arm = np.full(n, -1, dtype=np.int64)
        arm[unit_of[::-1]] = np.asarray(arm_of)[::-1]  # the arm of each shopper's first list
        return cls(unit_of, arm, np.bincount(unit_of, minlength=n).astype(np.float64))

    def totals(self, series: np.ndarray) -> np.ndarray:
        return np.bincount(self.of_list, weights=np.asarray(series, dtype=np.float64),
                           minlength=self.arm.size)


def arm_summary(values: dict[str, np.ndarray], units: Units, arm: int,
                alpha: float = ALPHA) -> dict[str, Interval]:
    """Per-metric always-valid intervals for one arm's rate."""
    mine = units.arm == arm
    out = {}
    for metric, series in values.items():
        if metric in BATCH_METRICS:
            out[metric] = mean_sequence(np.asarray(series[arm], dtype=np.float64), alpha)
        else:
            out[metric] = ratio_sequence(units.totals(series)[mine], units.lists[mine], alpha)
    return out


def differences(values: dict[str, np.ndarray], units: Units, arm: int,
                shares: tuple[float, ...], alpha: float) -> dict[str, Interval]:
    """Always-valid intervals for arm − control (arm 0), per metric."""
    out = {}
    for metric, series in values.items():
        if metric in BATCH_METRICS:
            out[metric] = paired_difference_sequence(series[arm], series[0], alpha)
        else:
            out[metric] = ratio_difference_sequence(
                units.totals(series), units.lists, units.arm == arm, units.arm == 0,
                shares[arm], shares[0], alpha)
    return out


def verdict(experiment: Experiment, counts: list[int],
            diffs: dict[str, dict[str, Interval]]) -> Verdict:
    metric = experiment.metric.replace("_", " ")
    if len(experiment.arms) < 2:
        return Verdict(False, "one arm: nothing to compare")
    if min(counts) < MIN_PER_ARM:
        return Verdict(False, f"no verdict yet: every arm needs {MIN_PER_ARM} lists "
                              f"(fewest so far {min(counts)})")
    calls: dict[str, str | None] = {}
    for arm in experiment.arms[1:]:
        interval = diffs[arm.name].get(experiment.metric)
        if interval is None or not interval.excludes_zero():
            calls[arm.name] = None
        else:
            calls[arm.name] = "winner" if interval.low > 0 else "loser"
    decided = [f"{name} {'beats' if call == 'winner' else 'trails'} "
               f"{experiment.control.name}" for name, call in calls.items() if call]
    if not decided:
        return Verdict(False, f"no verdict yet: every difference in {metric} is still "
                              "within its interval of zero", calls)
    return Verdict(True, f"{'; '.join(decided)} on {metric}", calls)


def compare(experiment: Experiment, values: dict[str, np.ndarray], arm_of: np.ndarray,
            unit_of: np.ndarray, alpha: float = ALPHA
            ) -> tuple[list[dict[str, Any]], Verdict]:
    """Per-arm rows (lists, metric intervals, difference intervals) and the verdict.
    `values` maps a metric to its per-list series (arrival order) or, for BATCH_METRICS, to
    a list of per-arm batch series; `arm_of` / `unit_of` give each list's arm and shopper."""
    shares = tuple(arm.share for arm in experiment.arms)
    per_comparison = alpha / max(len(experiment.arms) - 1, 1)
    units = Units.from_lists(unit_of, arm_of)
    rows, diffs = [], {}
    counts = [int((arm_of == index).sum()) for index in range(len(experiment.arms))]
    for index, arm in enumerate(experiment.arms):
        summary = arm_summary(values, units, index, alpha)
        diff = {} if index == 0 else differences(values, units, index, shares,
                                                 per_comparison)
        diffs[arm.name] = diff
        rows.append({"arm": arm.name, "policy": arm.policy, "share": arm.share,
                     "lists": counts[index],
                     "metrics": {m: _rounded(i) for m, i in summary.items()},
                     "difference": {m: _rounded(i) for m, i in diff.items()}})
    return rows, verdict(experiment, counts, diffs)
