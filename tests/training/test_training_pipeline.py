"""`train`: the one training entry point; its run folder and run.json match `prism train`'s."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.core.config import ModelConfig, TrainConfig
from engine.core.errors import ConfigError, DataError
from engine.data import generate_shop, write_tables
from engine.models.callbacks import notify_progress
from engine.runs.store import load_run
from engine.training.pipeline import train
from engine.training.presets import quick_run
from engine.training.search import ModelSearch
from engine.training.spec import TrainSpec

STAGES = ["Loading the data", "Training ease", "Refitting ease on every event for serving",
          "Evaluating", "Saving the run"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shop")
    items, events = generate_shop(n_items=120, n_users=70, seed=5)
    write_tables(items, events, folder)
    return folder


class Stages:
    """Records the stage names it hears."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def on_stage(self, name: str) -> None:
        self.names.append(name)


def test_baseline_run_matches_prism_train(shop: Path, tmp_path: Path) -> None:
    stages = Stages()
    saved = train(TrainSpec(shop, out=tmp_path / "engine", model="ease", seed=2),
                  callbacks=[stages])
    assert main(["train", "--data", str(shop), "--out", str(tmp_path / "cli"), "--quiet",
                 "--model", "ease", "--seed", "2"]) == 0
    ours = json.loads((saved.path / "run.json").read_text())
    theirs = json.loads((tmp_path / "cli" / "run.json").read_text())
    assert set(ours) == set(theirs)
    for key in ("dataset", "data_path", "split", "seed", "encoder", "data_config", "metrics"):
        assert ours[key] == theirs[key], key
    assert ours["seed"] == 2 and ours["encoder"] is None
    assert saved.meta["metrics"] == saved.evaluation["metrics"] == ours["metrics"]
    assert stages.names == STAGES
    assert load_run(saved.path).model.name == "ease"


def test_twotower_records_both_configs(shop: Path, tmp_path: Path) -> None:
    train_config = TrainConfig(epochs=1, seed=1, device="cpu", batch_size=128)
    saved = train(TrainSpec(shop, out=tmp_path / "tt", train_config=train_config, seed=1,
                            model_config=ModelConfig(dim=8, use_text=False)))
    meta = json.loads((saved.path / "run.json").read_text())
    assert meta["model"] == "twotower"
    assert meta["model_config"]["dim"] == 8 and meta["train_config"]["epochs"] == 1
    assert (saved.path / "metrics.jsonl").read_text().count("\n") == 1


def test_bad_input_raises_prism_errors(shop: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown model 'svd'"):
        train(TrainSpec(shop, out=tmp_path / "x", model="svd"))
    with pytest.raises(DataError):
        train(TrainSpec(tmp_path / "missing", out=tmp_path / "x", model="pop"))
    assert not (tmp_path / "x").exists()


def test_studio_and_cli_runs_record_the_same_keys(shop: Path, tmp_path: Path) -> None:
    spec = quick_run(data_dir=shop, out_dir=tmp_path / "studio", epochs=1, dim=8,
                     use_text=False, search_vectors=False)
    studio = train(spec)
    assert main(["train", "--data", str(shop), "--out", str(tmp_path / "cli"), "--quiet",
                 "--model", "twotower", "--epochs", "1", "--device", "cpu",
                 "--set", "dim=8", "--set", "use_text=false"]) == 0
    ours = json.loads((studio.path / "run.json").read_text())
    theirs = json.loads((tmp_path / "cli" / "run.json").read_text())
    assert set(ours) == set(theirs)
    assert set(ours["train_config"]) == set(theirs["train_config"])
    assert ours["model_config"]["dim"] == theirs["model_config"]["dim"] == 8
    assert ours["train_config"]["batch_size"] == 256  # the studio's small-model settings


def test_without_out_nothing_is_saved_and_a_dataset_can_be_passed(shop: Path,
                                                                  tmp_path: Path) -> None:
    from engine.data import load_dataset

    dataset = load_dataset(shop)
    result = train(TrainSpec(dataset, model="pop", seed=0, k=5))
    assert result.path is None and result.is_main
    assert result.model.name == "pop" and "ndcg@5" in result.evaluation["metrics"]
    assert result.meta["data_path"] is None and result.meta["dataset"] == dataset.name
    assert result.data.n_items == len(dataset.items)
    assert list(tmp_path.iterdir()) == []


def test_auto_and_tune_build_a_model_search(shop: Path) -> None:
    search, configs = TrainSpec(shop, model="auto", seed=4).build()
    assert isinstance(search, ModelSearch) and not search.configured_only and search.tune == 0
    assert configs["train_config"]["seed"] == 4
    tuned, _ = TrainSpec(shop, model="twotower", tune=3, fixed=frozenset({"dim"})).build()
    assert isinstance(tuned, ModelSearch) and tuned.configured_only and tuned.tune == 3
    assert tuned.fixed == frozenset({"dim"})
    baseline, configs = TrainSpec(shop, model="itemknn", model_settings={"k": 5}).build()
    assert baseline.name == "itemknn" and configs == {"k": 5, "shrink": 0.0}
    with pytest.raises(ConfigError, match="unknown model 'svd'"):
        TrainSpec(shop, model="svd")
    with pytest.raises(ConfigError, match="none to search"):
        TrainSpec(shop, model="ease", tune=2)
    with pytest.raises(ConfigError, match="unknown setting"):
        TrainSpec(shop, model="ease", model_settings={"dim": 8}).build()


def test_auto_reports_each_candidate_and_records_the_selection(shop: Path,
                                                               tmp_path: Path) -> None:
    class Candidates:
        def __init__(self) -> None:
            self.labels: list[str] = []

        def on_candidate(self, label: str) -> None:
            self.labels.append(label)

    heard = Candidates()
    spec = TrainSpec(shop, out=tmp_path / "auto", model="auto",
                     model_config=ModelConfig(dim=8, use_text=False),
                     train_config=TrainConfig(epochs=1, device="cpu", batch_size=128))
    result = train(spec, callbacks=[heard])
    report = result.meta["selection"]["candidates"]
    assert heard.labels == [row["label"] for row in report]
    assert result.meta["selection"]["chosen"] == result.model.selection_.chosen.label


def test_counted_progress_falls_back_to_a_stage_with_the_count() -> None:
    class Counts:
        def __init__(self) -> None:
            self.seen: list[tuple[str, int, int]] = []

        def on_progress(self, stage: str, done: int, total: int) -> None:
            self.seen.append((stage, done, total))

    stages, counts = Stages(), Counts()
    notify_progress([stages, counts], "Encoding", 1200, 3000)
    assert stages.names == ["Encoding (1,200/3,000)"]
    assert counts.seen == [("Encoding", 1200, 3000)]
