"""The frontier page's conditioned family: its verdict follows the goal's two rules, and the
page rendered from the results carries both families' tables and commands."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def modules():
    from bench.quality import frontier, frontier_alpha

    return frontier, frontier_alpha


def _diff(at, estimate: float, low: float, high: float) -> dict:
    return {"at": at, "joint_minus_rerank": estimate, "low": low, "high": high,
            "win": low > 0, "loss": high < 0}


def _row(met_at_half: bool, frontier_loss: bool) -> dict:
    cell = {"conditioned_ndcg": 0.07, "fixed_ndcg": 0.071, "fixed_ndcg_low": 0.069,
            "ndcg_difference": [-0.001, -0.002, 0.0], "conditioned_entropy": 1.1,
            "fixed_entropy": 1.09, "goal_met": True}
    per_alpha = {"0": dict(cell), "0.5": {**cell, "goal_met": met_at_half}}
    gap = (-0.003, -0.004, -0.001) if frontier_loss else (0.001, -0.001, 0.002)
    return {"dataset": "shop", "split": "random", "n_users": 5, "seeds": [0, 1],
            "per_alpha": per_alpha,
            "frontier": {"targets": [1.2], "area_span": [1.0, 1.5],
                         "families": {"re-rank alone": [0.07, 0.068],
                                      "joint loss": [0.071, float("nan")]},
                         "difference": [_diff(1.2, *gap),
                                        _diff("area", float("nan"), float("nan"),
                                              float("nan"))]},
            "fit_seconds": {"α=0": [10.0, 12.0], "α=0:1": [13.0, 14.0]}, "fit_ratio": 1.23,
            "commands": {"α=0:1": "prism train --alpha 0:1 --set seed=S"}}


def test_verdict_needs_every_alpha_and_no_lower_frontier(modules) -> None:
    _, family = modules
    assert family.verdict(_row(True, False)).startswith("holds")
    missed = family.verdict(_row(False, False))
    assert missed.startswith("misses") and "α = 0.5" in missed and "entropy" not in missed
    behind = family.verdict(_row(True, True))
    assert behind.startswith("misses") and "entropy 1.200" in behind
    assert family.holds_goal({"datasets": [_row(True, False)]})
    assert not family.holds_goal({"datasets": [_row(True, False), _row(False, False)]})
    assert not family.holds_goal({"datasets": []})


def test_frontier_page_carries_the_conditioned_family(modules) -> None:
    frontier, family = modules
    results = {"machine": "test", "resamples": 10, "datasets": [_row(False, True)]}
    page = frontier.render({"machine": "test", "resamples": 10, "datasets": []},
                           family.family_lines(results))
    assert "## One model for every α: the conditioned family" in page
    assert "### shop (random, 5 test users, training seeds 0, 1)" in page
    assert "| 0.5 | 0.0700 | 0.0710 [0.0690] |" in page and "missed |" in page
    assert "`prism train --alpha 0:1 --set seed=S`" in page
    assert "**1.23×**" in page and "out of one family's reach" in page
    assert "python -m bench.quality.frontier --report-only" in page


def test_a_runs_points_are_measured_once_and_again_after_retraining(modules, tmp_path) -> None:
    import numpy as np

    _, family = modules
    calls = []

    def measure(model, data, users, truth) -> list[dict]:  # noqa: ANN001
        calls.append(model)
        return [{"method": "mmr", "weight": 0.3, "ndcg": np.array([0.5, 0.0]),
                 "entropy": np.array([1.0, 2.0])}]

    class Run:
        path, meta = tmp_path, {"created": "first"}

    users = np.array([3, 7])
    first = family.kept_points(Run, "rerank", measure, "model", None, users, [])
    again = family.kept_points(Run, "rerank", measure, "model", None, users, [])
    assert len(calls) == 1 and again[0]["method"] == "mmr" and again[0]["weight"] == 0.3
    np.testing.assert_allclose(again[0]["ndcg"], first[0]["ndcg"], atol=1e-12)
    family.kept_points(Run, "rerank", measure, "model", None, np.array([3]), [])  # other users
    Run.meta = {"created": "second"}  # trained again
    family.kept_points(Run, "rerank", measure, "model", None, users, [])
    assert len(calls) == 3


def test_the_page_names_the_seeds_a_partial_frontier_pools(modules) -> None:
    _, family = modules
    row = {**_row(True, False), "frontier_seeds": [0]}
    text = "\n".join(family.section(row))
    assert "training seed 0 only" in text and "training seeds 0, 1)" in text
    assert "only (" not in "\n".join(family.section(_row(True, False)))


def test_frontier_seeds_outside_the_training_seeds_are_refused(modules, capsys) -> None:
    _, family = modules
    with pytest.raises(SystemExit) as stop:
        family.main(["--datasets", "ml-100k", "--seeds", "0,1", "--frontier-seeds", "2",
                     "--data-root", "/nonexistent-data-root"])
    assert stop.value.code == 2 and "--frontier-seeds 2" in capsys.readouterr().err


def test_fit_time_compares_cpu_seconds_when_every_run_recorded_them(modules) -> None:
    _, family = modules
    wall = {"α=0": [10.0, 30.0], "α=0:1": [40.0, 40.0]}
    cpu = family.fit_time(wall, {"α=0": [8.0, 12.0], "α=0:1": [12.0, 13.0]})
    assert cpu["fit_clock"] == "cpu" and cpu["fit_ratio"] == pytest.approx(1.25, abs=1e-9)
    assert cpu["fit_seconds"] == wall  # the wall seconds stay recorded
    line = family.fit_line({**_row(True, False), **cpu})
    assert "CPU seconds" in line and "12.0 / 13.0 s" in line and "**1.25×**" in line
    older = family.fit_time(wall, {"α=0": [None, None], "α=0:1": [12.0, 13.0]})
    assert older["fit_clock"] == "wall" and older["fit_ratio"] == pytest.approx(2.0, abs=1e-9)
    assert "wall seconds" in family.fit_line({**_row(True, False), **older})
