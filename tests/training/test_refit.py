"""After the evaluation, `prism train` refits the chosen model on every event for serving,
records both models in run.json, and every held-out number stays the first fit's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.cli.main import main
from engine.core.config import ModelConfig, TrainConfig
from engine.data import generate_shop, interactions, load_dataset, write_tables
from engine.runs.store import SERVING, load_run
from engine.serving.recommender import Recommender
from engine.training.pipeline import train
from engine.training.refit import chosen_epochs
from engine.training.spec import TrainSpec

ATOL = 1e-9


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shop")
    items, events = generate_shop(n_items=120, n_users=70, seed=5)
    write_tables(items, events, folder)
    return folder


@pytest.fixture(scope="module")
def twotower_runs(shop: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same small two-tower trained twice with one seed: with and without the refit."""
    root = tmp_path_factory.mktemp("runs")
    config = {"model_config": ModelConfig(dim=8, use_text=False),
              "train_config": TrainConfig(epochs=6, patience=2, device="cpu", batch_size=128)}
    refit = train(TrainSpec(shop, out=root / "refit", **config)).path
    plain = train(TrainSpec(shop, out=root / "plain", refit=False, **config)).path
    return refit, plain


def _evaluate(run: Path, shop: Path, out: Path) -> dict:
    assert main(["evaluate", "--run", str(run), "--data", str(shop), "--json", str(out)]) == 0
    return json.loads(out.read_text())["metrics"]


def test_held_out_metrics_are_unchanged_by_the_refit(twotower_runs: tuple[Path, Path],
                                                      shop: Path, tmp_path: Path) -> None:
    refit, plain = twotower_runs
    with_refit, without = (json.loads((run / "run.json").read_text())["metrics"]
                           for run in (refit, plain))
    assert with_refit.keys() == without.keys()
    for name in with_refit:
        assert with_refit[name] == pytest.approx(without[name], abs=ATOL), name
    evaluated_refit = _evaluate(refit, shop, tmp_path / "a.json")
    evaluated_plain = _evaluate(plain, shop, tmp_path / "b.json")
    for name, value in evaluated_refit.items():
        assert value == pytest.approx(evaluated_plain[name], abs=ATOL), name
        assert value == pytest.approx(with_refit[name], abs=ATOL), name  # the first fit's


def test_the_evaluation_model_never_saw_the_held_out_events(
        twotower_runs: tuple[Path, Path], shop: Path) -> None:
    refit, _ = twotower_runs
    dataset = load_dataset(shop)
    every = len(interactions(dataset.events))
    evaluation, serving = load_run(refit), load_run(refit, model="serving")
    assert len(evaluation.histories) < every == len(serving.histories)
    assert (evaluation.part, serving.part) == ("evaluation", "serving")
    assert not np.allclose(evaluation.model.item_vectors(), serving.model.item_vectors())


def test_run_json_records_both_models_and_the_chosen_epochs(
        twotower_runs: tuple[Path, Path]) -> None:
    refit, plain = twotower_runs
    meta = json.loads((refit / "run.json").read_text())
    evaluation, serving = meta["models"]["evaluation"], meta["models"]["serving"]
    assert evaluation["trained_on"].startswith("the training part")
    assert serving["refit"] is True and serving["trained_on"] == "every event"
    assert serving["interactions"] > evaluation["interactions"]
    for record in (meta, evaluation, serving):  # process CPU seconds beside the wall seconds
        assert record["fit_cpu_seconds"] > 0 and record["fit_seconds"] > 0
    assert meta["fit_cpu_seconds"] == evaluation["fit_cpu_seconds"]
    logs = [json.loads(line) for line in (refit / "metrics.jsonl").read_text().splitlines()]
    scores = [log["val_ndcg@10"] for log in logs]
    best = logs[int(np.argmax(scores))]["epoch"]
    assert evaluation["best_epoch"] == best == serving["epochs"]
    assert serving["train_config"]["epochs"] == best
    assert serving["model_config"] == evaluation["model_config"]
    refit_logs = (refit / SERVING / "metrics.jsonl").read_text().splitlines()
    assert len(refit_logs) == best  # no validation left: it trains exactly those epochs
    assert not (plain / SERVING / "model.safetensors").exists()
    assert json.loads((plain / "run.json").read_text())["models"]["serving"]["refit"] is False


def test_chosen_epochs_is_the_best_validation_epoch() -> None:
    class Fitted:
        trains_in_epochs = True
        logs_ = [{"epoch": 1, "val_ndcg@10": 0.1}, {"epoch": 2, "val_ndcg@10": 0.3},
                 {"epoch": 3, "val_ndcg@10": 0.2}, {"epoch": 4, "val_ndcg@10": 0.3}]

    assert chosen_epochs(Fitted()) == 2  # a tie is no gain: the first best epoch's weights
    Fitted.logs_ = [{"epoch": 1}, {"epoch": 2}]
    assert chosen_epochs(Fitted()) == 2  # without validation: every epoch ran counts
    Fitted.logs_ = []
    assert chosen_epochs(Fitted()) == 1  # stopped by hand before the first epoch ended
    Fitted.trains_in_epochs = False
    assert chosen_epochs(Fitted()) is None  # a model without epochs


@pytest.mark.parametrize("name", ["pop", "itemknn", "ease"])
def test_baselines_refit_with_their_settings(shop: Path, tmp_path: Path, name: str) -> None:
    result = train(TrainSpec(shop, out=tmp_path / name, model=name))
    serving = result.meta["models"]["serving"]
    assert serving["refit"] is True and serving["model"] == name
    assert "epochs" not in serving
    settings = {key: value for key, value in result.meta["models"]["evaluation"].items()
                if key not in ("trained_on", "history", "interactions", "fit_seconds",
                               "fit_cpu_seconds")}
    assert {key: serving[key] for key in settings} == settings
    served = Recommender.load(result.path)
    assert served.run.part == "serving" and served.model.name == name


def test_prism_train_no_refit_option(shop: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--data", str(shop), "--out", str(tmp_path / "a"), "--quiet",
                 "--model", "ease"]) == 0
    assert "serving: ease refit on every event" in capsys.readouterr().out
    assert main(["train", "--data", str(shop), "--out", str(tmp_path / "b"), "--quiet",
                 "--model", "ease", "--no-refit"]) == 0
    assert "--no-refit" in capsys.readouterr().out
    assert (tmp_path / "a" / SERVING / "model.safetensors").exists()
    assert not (tmp_path / "b" / SERVING / "model.safetensors").exists()
    assert (tmp_path / "b" / SERVING / "histories.parquet").exists()
