"""The impact report's exposure rows: a share's interval stays a share's; a difference that
rounds to zero is printed +0.0000, never -0.0000."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cli.policy_cmds import print_report
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


def test_the_printed_report_never_shows_a_negative_zero(
        capsys: pytest.CaptureFixture[str]) -> None:
    row = {"metric": "category_entropy@10", "a": -0.0, "b": 1e-9, "diff": -1e-9,
           "ci_low": -4e-5, "ci_high": 0.0, "excludes_zero": False}
    print_report({"policy": "wide", "against": "plain", "n_users": 3, "k": 10,
                  "interval": "paired bootstrap", "metrics": [row],
                  "exposure": {"brand": [], "category": []}, "rules": [],
                  "lists_changed": {"n": 0, "share": 0.0},
                  "mean_rank_displacement": {"a": 0.0}, "seconds": {"replay": 0.1}})
    line = next(text for text in capsys.readouterr().out.splitlines()
                if text.startswith("category_entropy@10"))
    assert line.split()[1:] == ["0.0000", "0.0000", "+0.0000", "[+0.0000,", "+0.0000]"]
