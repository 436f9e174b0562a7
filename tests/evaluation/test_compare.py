"""Two runs compared on the same test shoppers, with paired intervals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.core.errors import ConfigError
from engine.evaluation.compare import compare_runs

pytest_plugins = ["serving_runs"]


@pytest.fixture(scope="module")
def runs(tiny_shop, tmp_path_factory):  # noqa: ANN001, ANN201
    """EASE and item-kNN trained from the same data folder, split and seed."""
    from engine.runs.store import load_run
    from engine.training.pipeline import train
    from engine.training.spec import TrainSpec

    root = tmp_path_factory.mktemp("compare")
    for name in ("ease", "itemknn"):
        train(TrainSpec(tiny_shop.data_dir, out=root / name, model=name, seed=0))
    return load_run(root / "ease"), load_run(root / "itemknn")


def test_each_side_equals_that_runs_own_test_evaluation(runs) -> None:  # noqa: ANN001
    ease, knn = runs
    rows = {row["metric"]: row for row in compare_runs(ease, knn, n_resamples=300)}
    for metric in ("ndcg@10", "precision@10", "category_entropy@10"):
        row = rows[metric]
        assert row["a"] == pytest.approx(ease.evaluation["metrics"][metric], abs=1e-9)
        assert row["b"] == pytest.approx(knn.evaluation["metrics"][metric], abs=1e-9)
        assert row["diff"] == pytest.approx(row["a"] - row["b"], abs=1e-12)
        assert row["ci_low"] <= row["diff"] + 1e-12 and row["diff"] - 1e-12 <= row["ci_high"]
        assert row["excludes_zero"] == (row["ci_low"] > 0 or row["ci_high"] < 0)
    assert {row["n_shoppers"] for row in rows.values()} == {ease.evaluation["n_users"]}


def test_a_run_against_itself_is_no_difference(runs) -> None:  # noqa: ANN001
    ease, _ = runs
    for row in compare_runs(ease, ease, n_resamples=200):
        assert row["diff"] == 0.0 and row["ci_low"] == 0.0 and row["ci_high"] == 0.0
        assert not row["excludes_zero"]


def test_runs_on_other_shoppers_are_refused(runs, tmp_path: Path) -> None:  # noqa: ANN001
    from engine.runs.store import load_run

    ease, _ = runs
    other = tmp_path / "other"
    shutil.copytree(ease.path, other)
    meta = json.loads((other / "run.json").read_text())
    meta["seed"] = int(meta.get("seed", 0)) + 1
    (other / "run.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError, match="differ in their split seed"):
        compare_runs(ease, load_run(other))


def test_an_imported_copy_of_the_data_compares_with_the_original(runs, tiny_shop,  # noqa: ANN001
                                                                  tmp_path: Path) -> None:
    """The studio's import rewrites a data folder elsewhere (cleaned, as Parquet): a run
    trained on that copy is compared with a run on the original, shopper by shopper."""
    from engine.data.importing import import_source
    from engine.data.sources import read_source
    from engine.runs.store import load_run
    from engine.training.pipeline import train
    from engine.training.spec import TrainSpec

    ease, _ = runs
    _, copy = import_source(read_source([tiny_shop.data_dir]), "copy", home=tmp_path)
    assert copy != tiny_shop.data_dir
    train(TrainSpec(copy, out=tmp_path / "ease-copy", model="ease", seed=0))
    rows = compare_runs(ease, load_run(tmp_path / "ease-copy"), n_resamples=100)
    assert {row["n_shoppers"] for row in rows} == {ease.evaluation["n_users"]}
    for row in rows:  # the same model on the same data: no difference at all
        assert row["diff"] == pytest.approx(0.0, abs=1e-9)


def test_other_events_in_a_folder_are_refused(runs, tiny_shop, tmp_path: Path) -> None:  # noqa: ANN001
    import pandas as pd

    from engine.runs.store import load_run
    from engine.training.pipeline import train
    from engine.training.spec import TrainSpec

    ease, _ = runs
    copy = tmp_path / "fewer"
    shutil.copytree(tiny_shop.data_dir, copy)
    events = next(path for path in copy.iterdir() if path.name.startswith("events"))
    frame = pd.read_csv(events) if events.suffix == ".csv" else pd.read_parquet(events)
    trimmed = frame.iloc[: len(frame) - 40]
    if events.suffix == ".csv":
        trimmed.to_csv(events, index=False)
    else:
        trimmed.to_parquet(events, index=False)
    train(TrainSpec(copy, out=tmp_path / "ease-fewer", model="ease", seed=0))
    with pytest.raises(ConfigError, match="their data differ"):
        compare_runs(ease, load_run(tmp_path / "ease-fewer"))
