"""The impact report's exposure rows: a share's interval stays a share's."""

from __future__ import annotations

import numpy as np

from engine.metrics import stats
from engine.policy.impact import exposure_table


def test_a_share_of_zero_has_an_interval_of_zero_while_the_difference_goes_negative():
    # items 0, 1 are group "x", items 2, 3 group "y"; policy A never shows "y", B often does
    codes, names = np.array([0, 0, 1, 1]), ["x", "y"]
    lists_a = np.array([[0, 1], [1, 0], [0, 1], [1, 0], [0, 1], [1, 0]])
    lists_b = np.array([[2, 0], [0, 3], [2, 3], [0, 1], [3, 1], [1, 0]])
    weights = stats.resample_counts(len(lists_a), 400)
    rows = {row["group"]: row for row in exposure_table("brand", lists_a, lists_b, codes,
                                                        names, weights)}
    y = rows["y"]
    assert y["a"] == 0.0 and y["b"] > 0
    assert y["ci_low"] < 0  # the difference A − B may be negative ...
    assert y["a_low"] == 0.0 and y["a_high"] == 0.0  # ... A's share of 0 may not
    x = rows["x"]
    assert x["a"] == 1.0 and x["a_low"] == 1.0 and x["a_high"] == 1.0


def test_share_intervals_lie_in_zero_one_and_hold_the_share():
    rng = np.random.default_rng(3)
    codes, names = rng.integers(0, 4, 20), ["g0", "g1", "g2", "g3"]
    lists_a, lists_b = rng.integers(-1, 20, (50, 5)), rng.integers(-1, 20, (50, 5))
    weights = stats.resample_counts(len(lists_a), 500)
    for row in exposure_table("category", lists_a, lists_b, codes, names, weights):
        assert 0.0 <= row["a_low"] <= row["a_high"] <= 1.0
        assert row["a_low"] - 1e-9 <= row["a"] <= row["a_high"] + 1e-9
