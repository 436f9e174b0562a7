"""Always-valid intervals: they hold under peeking where a fixed-n interval does not, and they
find a real difference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.experiments.sequential import (
    mean_sequence,
    radius,
    ratio_difference_sequence,
    ratio_sequence,
)


def test_the_radius_shrinks_with_more_data_and_is_infinite_with_too_little() -> None:
    assert math.isinf(radius(1, 1.0))
    widths = [radius(t, 1.0) for t in (10, 100, 1000, 10_000)]
    assert all(a > b for a, b in zip(widths, widths[1:], strict=False))
    # wider than the fixed-n normal interval at the same n: the price of looking any time
    assert radius(1000, 1.0) > 1.96 / math.sqrt(1000)


def test_a_mean_sequence_holds_at_every_look_in_almost_every_run() -> None:
    rng = np.random.default_rng(0)
    missed = 0
    looks = np.linspace(50, 2000, 40).astype(int)
    for _ in range(200):
        values = rng.exponential(1.0, size=2000)  # mean 1, skewed
        missed += any(not (mean_sequence(values[:n]).low <= 1.0 <= mean_sequence(values[:n])
                           .high) for n in looks)
    assert missed / 200 <= 0.05


def _shoppers(rng: np.random.Generator, n: int, lift: float) -> tuple[np.ndarray, ...]:
    """Shoppers with their own click rates, 1-6 lists each, half in arm B (lifted)."""
    arm = rng.random(n) < 0.5
    lists = rng.integers(1, 7, size=n).astype(float)
    rate = rng.gamma(2.0, 0.25, size=n) * np.where(arm, 1.0 + lift, 1.0)
    return rng.poisson(rate * lists).astype(float), lists, arm


def test_an_a_a_split_rarely_declares_a_difference_even_with_daily_looks() -> None:
    rng = np.random.default_rng(1)
    declared = 0
    for _ in range(200):
        totals, lists, arm = _shoppers(rng, 1500, 0.0)
        declared += any(ratio_difference_sequence(totals[:n], lists[:n], arm[:n], ~arm[:n],
                                                  0.5, 0.5).excludes_zero()
                        for n in range(100, 1501, 100))
    assert declared / 200 <= 0.05


def test_a_real_lift_is_found_and_its_interval_holds_the_truth() -> None:
    rng = np.random.default_rng(2)
    totals, lists, arm = _shoppers(rng, 20_000, 0.2)
    found = ratio_difference_sequence(totals, lists, arm, ~arm, 0.5, 0.5)
    assert found.low > 0
    assert found.low <= 0.5 * 0.2 <= found.high  # true rates 0.6 vs 0.5 clicks per list
    per_arm = ratio_sequence(totals[~arm], lists[~arm])
    assert per_arm.low <= 0.5 <= per_arm.high
    assert per_arm.estimate == pytest.approx(0.5, abs=0.02)
