"""`train_and_save`: the run folder and run.json match what `prism train` writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.core.config import ModelConfig, TrainConfig
from engine.core.errors import ConfigError, DataError
from engine.data import generate_shop, write_tables
from engine.runs.store import load_run
from engine.training.pipeline import train_and_save

STAGES = ["Loading the data", "Training ease", "Evaluating", "Saving the run"]


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
    saved = train_and_save(shop, tmp_path / "engine", model_name="ease", seed=2,
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
    saved = train_and_save(shop, tmp_path / "tt", model_config=ModelConfig(dim=8, use_text=False),
                           train_config=train_config, seed=1)
    meta = json.loads((saved.path / "run.json").read_text())
    assert meta["model"] == "twotower"
    assert meta["model_config"]["dim"] == 8 and meta["train_config"]["epochs"] == 1
    assert (saved.path / "metrics.jsonl").read_text().count("\n") == 1


def test_bad_input_raises_prism_errors(shop: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown model 'svd'"):
        train_and_save(shop, tmp_path / "x", model_name="svd")
    with pytest.raises(DataError):
        train_and_save(tmp_path / "missing", tmp_path / "x", model_name="pop")
    assert not (tmp_path / "x").exists()
