"""Sweeps over re-rankers × weights, and the equal-entropy comparison on hand-made curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.core.errors import ConfigError, RunError
from engine.evaluation.sweep import (
    ScoreReplay,
    best_at_equal_entropy,
    equal_entropy_summary,
    sweep,
    sweep_points,
)

pytest_plugins = ["serving_runs"]


@pytest.fixture(scope="module")
def run_and_data(tiny_shop):  # noqa: ANN001, ANN201
    from engine.data import load_dataset
    from engine.runs.store import load_run

    return load_run(tiny_shop.ease_run), load_dataset(tiny_shop.data_dir)


def test_sweep_rows_and_columns(run_and_data) -> None:  # noqa: ANN001
    run, dataset = run_and_data
    frame = sweep(run, dataset, ["mmr", "calibrated", "none"], [0.0, 0.5, 1.0])
    assert frame[["method", "weight"]].values.tolist() == [
        ["mmr", 0.0], ["mmr", 0.5], ["mmr", 1.0], ["calibrated", 0.0], ["calibrated", 0.5],
        ["calibrated", 1.0], ["none", 0.0]]
    for column in ("ndcg@10", "precision@10", "recall@10", "category_entropy@10",
                   "category_coverage@10", "ild@10", "catalog_coverage@10"):
        assert frame[column].notna().all()
    at_zero = frame[frame["weight"] == 0.0]
    assert at_zero["ndcg@10"].nunique() == 1  # weight 0 is the plain relevance order
    assert at_zero["category_entropy@10"].nunique() == 1


def test_sweep_intervals_bracket_every_point(run_and_data) -> None:  # noqa: ANN001
    run, dataset = run_and_data
    plain = sweep(run, dataset, ["mmr"], [0.0, 0.5])
    framed = sweep(run, dataset, ["mmr"], [0.0, 0.5], intervals=200)
    pd.testing.assert_frame_equal(framed[plain.columns.drop("seconds")],
                                  plain[plain.columns.drop("seconds")], atol=1e-12)
    for metric in ("ndcg@10", "category_entropy@10", "precision@10"):
        assert (framed[f"{metric} low"] <= framed[metric] + 1e-12).all()
        assert (framed[f"{metric} high"] >= framed[metric] - 1e-12).all()
    assert (framed["ndcg@10 high"] > framed["ndcg@10 low"]).all()  # shoppers differ
    assert "catalog_coverage@10 low" not in framed


def test_mmr_entropy_rises_with_the_weight(run_and_data) -> None:  # noqa: ANN001
    run, dataset = run_and_data
    frame = sweep(run, dataset, ["mmr"], [0.0, 0.5, 1.0], n_users=40, seed=3)
    entropy = frame["category_entropy@10"].to_numpy()
    assert entropy[-1] > entropy[0]
    assert (frame["n_users"] == 40).all()


def test_score_replay_matches_the_model(run_and_data) -> None:  # noqa: ANN001
    run, dataset = run_and_data
    from engine.evaluation.sweep import train_data_for

    data = train_data_for(run, dataset)
    users = np.array([0, 5, 9])
    replay = ScoreReplay(run.model, users, data)
    np.testing.assert_array_equal(replay.score_users(np.array([9, 0])),
                                  run.model.score_users(np.array([9, 0])))
    with pytest.raises(RunError, match="only the sampled test users"):
        replay.score_users(np.array([3]))


def test_sweep_of_a_sequential_model_matches_its_evaluation(tiny_shop) -> None:  # noqa: ANN001
    """The replay scores the test part from training + validation history, as evaluate does."""
    from engine.data import load_dataset
    from engine.evaluation.protocol import evaluate_model
    from engine.evaluation.sweep import train_data_for
    from engine.runs.store import load_run

    run = load_run(tiny_shop.twotower_run)
    assert run.model.sequential
    data = train_data_for(run, load_dataset(tiny_shop.data_dir))
    frame = sweep(run, data, ["none"], [0.0])
    expected = evaluate_model(run.model, data)["metrics"]
    for column in ("ndcg@10", "recall@10", "category_entropy@10"):
        assert frame[column].iloc[0] == pytest.approx(expected[column], abs=1e-9), column


def test_bad_sweeps_are_rejected(run_and_data) -> None:  # noqa: ANN001
    run, dataset = run_and_data
    with pytest.raises(ConfigError, match="rerank method must be one of"):
        sweep_points(["mmr", "greedy"], [0.5])
    with pytest.raises(ConfigError, match=r"rerank weight must be in \[0, 1\]"):
        sweep_points(["mmr"], [1.5])
    with pytest.raises(ConfigError, match="at least one method and one weight"):
        sweep_points([], [0.5])
    smaller = dataset.items.iloc[:-1]
    from engine.data import Dataset

    other = Dataset(name="other", items=smaller.reset_index(drop=True),
                    events=dataset.events[dataset.events["item_id"].isin(smaller["item_id"])])
    with pytest.raises(RunError, match="is not the run's"):
        sweep(run, other, ["mmr"], [0.5])


def _curves() -> pd.DataFrame:
    """A: ndcg 0.5 → 0.3 over entropy 1 → 2; B: 0.4 → 0.35 over entropy 1 → 3 (crossing 5/3)."""
    return pd.DataFrame({
        "method": ["A", "A", "B", "B", "none"],
        "weight": [0.0, 1.0, 0.0, 1.0, 0.0],
        "ndcg@10": [0.5, 0.3, 0.4, 0.3, 0.45],
        "category_entropy@10": [1.0, 2.0, 1.0, 3.0, 1.0],
    })


def test_best_at_equal_entropy_interpolates_on_the_overlap() -> None:
    grid = best_at_equal_entropy(_curves(), n_grid=5)
    np.testing.assert_allclose(grid["entropy"], [1.0, 1.25, 1.5, 1.75, 2.0], atol=1e-12)
    np.testing.assert_allclose(grid["A"], [0.5, 0.45, 0.4, 0.35, 0.3], atol=1e-12)
    np.testing.assert_allclose(grid["B"], [0.4, 0.3875, 0.375, 0.3625, 0.35], atol=1e-12)
    assert grid["best"].tolist() == ["A", "A", "A", "B", "B"]
    assert "none" not in grid.columns
    summary = equal_entropy_summary(grid)
    assert summary["winner"] == "A" and summary["wins"] == {"A": 3, "B": 2}
    assert summary["entropy_range"] == [1.0, 2.0]


def test_a_shared_best_is_a_tie_not_a_win() -> None:
    # both curves start at the same point (weight 0 gives the same list for every method)
    frame = pd.DataFrame({"method": ["A", "A", "B", "B"], "weight": [0, 1, 0, 1],
                          "ndcg@10": [0.5, 0.3, 0.5, 0.4],
                          "category_entropy@10": [1.0, 2.0, 1.0, 2.0]})
    grid = best_at_equal_entropy(frame, n_grid=3)
    assert grid["best"].tolist() == ["tie", "B", "B"]
    summary = equal_entropy_summary(grid)
    assert summary["winner"] == "B" and summary["wins"] == {"A": 0, "B": 2}
    assert summary["ties"] == 1


def test_curves_without_overlap_give_no_winner() -> None:
    frame = pd.DataFrame({"method": ["A", "A", "B", "B"], "weight": [0, 1, 0, 1],
                          "ndcg@10": [0.5, 0.4, 0.3, 0.2],
                          "category_entropy@10": [1.0, 1.5, 2.0, 2.5]})
    grid = best_at_equal_entropy(frame)
    assert grid.empty
    assert equal_entropy_summary(grid)["winner"] is None


def test_target_mix_changes_only_the_calibrated_rows(run_and_data) -> None:  # noqa: ANN001
    run, dataset = run_and_data
    own = sweep(run, dataset, ["mmr", "calibrated"], [0.0, 1.0], n_users=40, seed=3,
                target_mix=0.0)
    broad = sweep(run, dataset, ["mmr", "calibrated"], [0.0, 1.0], n_users=40, seed=3,
                  target_mix=1.0)
    metrics = ["ndcg@10", "category_entropy@10"]
    mmr = own["method"] == "mmr"
    pd.testing.assert_frame_equal(own.loc[mmr, metrics], broad.loc[mmr, metrics])
    at_zero = own["weight"] == 0.0  # weight 0 is the relevance order whatever the target
    pd.testing.assert_frame_equal(own.loc[at_zero, metrics], broad.loc[at_zero, metrics])
    # aiming at the catalogue's mix instead of each shopper's own spreads the lists wider
    last = (own["method"] == "calibrated") & (own["weight"] == 1.0)
    assert broad.loc[last, "category_entropy@10"].item() > \
        own.loc[last, "category_entropy@10"].item()


def test_sweep_rejects_a_bad_target_mix(run_and_data) -> None:  # noqa: ANN001
    run, dataset = run_and_data
    with pytest.raises(ConfigError, match=r"target_mix must be in \[0, 1\]"):
        sweep(run, dataset, ["calibrated"], [0.5], target_mix=-0.1)
