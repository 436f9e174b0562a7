"""The settings search (`prism train --tune N`): seeded, scored on validation only, recorded."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.core.config import ModelConfig, TrainConfig
from engine.core.errors import ConfigError
from engine.data import generate_shop, load_dataset, write_tables
from engine.runs.data import prepare_data
from engine.training.tuning import TUNED_LABEL, check_trials, tune_twotower, tuned_selection

BASE_MODEL = ModelConfig(dim=16, use_text=False)
BASE_TRAIN = TrainConfig(epochs=3, patience=3, device="cpu", seed=5, batch_size=128,
                         history_len=20)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shop")
    items, events = generate_shop(n_items=120, n_users=70, seed=4)
    write_tables(items, events, folder)
    return folder


@pytest.fixture(scope="module")
def data(shop: Path):
    return prepare_data(load_dataset(shop), "leave-last-out", seed=0)[1]


def study(data, trials: int = 3):
    return tune_twotower(data, BASE_MODEL, BASE_TRAIN, trials)


def outcomes(log: list[dict]) -> list[tuple]:
    """What a trial chose and scored (its seconds vary with the machine)."""
    return [(r["params"], r["state"], r["value"], r["epochs"]) for r in log]


@pytest.fixture(scope="module")
def first(data):
    return study(data)


def test_study_is_seeded_and_its_best_trial_is_the_result(data, first) -> None:
    log = first.study["trial_log"]
    assert outcomes(log) == outcomes(study(data).study["trial_log"])
    assert len(log) == 3 and {r["state"] for r in log} <= {"COMPLETE", "PRUNED"}
    # the first trial is the base settings, as far as the space can express them
    assert log[0]["params"]["batch_size"] == 128 and log[0]["params"]["history_len"] == 20
    assert "use_text" not in log[0]["params"]  # no item text: nothing to switch
    done = [r for r in log if r["state"] == "COMPLETE"]
    best = max(done, key=lambda r: r["value"])
    assert first.study["best_params"] == best["params"]
    assert first.study["best_value"] == pytest.approx(best["value"], abs=1e-9)
    record = first.candidate.record()
    picked = {**record["model_config"], **record["train_config"]}
    assert {key: picked[key] for key in best["params"]} == best["params"]
    assert picked["epochs"] == 3 and picked["seed"] == 5  # unsearched settings stay the base


def test_selection_never_reads_the_test_part(data, first,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.training.selection

    parts: list[str] = []
    real = engine.training.selection.evaluate_model

    def spy(model, scored, **options):
        parts.append(options.get("split_part", "test"))
        return real(model, scored, **options)

    monkeypatch.setattr(engine.training.selection, "evaluate_model", spy)
    blind = dataclasses.replace(data, test=data.test.iloc[:0])  # scoring it would raise
    selection = tuned_selection(blind, BASE_MODEL, BASE_TRAIN, 2)
    assert parts and set(parts) == {"valid"}
    # blind to the test part, the study runs exactly as with it (a seeded TPE draws the same
    # first trials whatever the budget)
    assert outcomes(selection.tuning["trial_log"]) == outcomes(first.study["trial_log"][:2])
    labels = [row["label"] for row in selection.report]
    assert TUNED_LABEL in labels and "itemknn" in labels  # the tuned model competed
    assert labels[-1] == "twotower α 0–1"  # and its settings over the default α range
    every = selection.report[-1]["train_config"]
    assert (every["alpha"], every["alpha_max"]) == (0.0, 1.0)


def test_hand_set_settings_are_not_searched(data) -> None:
    result = tune_twotower(data, BASE_MODEL, BASE_TRAIN, 1, fixed={"lr", "dim"})
    assert {"lr", "dim"}.isdisjoint(result.study["searched"])
    assert result.candidate.record()["train_config"]["lr"] == BASE_TRAIN.lr


@pytest.mark.parametrize("value", ["0", "-3", "many", "2.5", "1001"])
def test_a_bad_trial_budget_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="--tune"):
        check_trials(value)


@pytest.mark.parametrize("extra, message", [
    (["--tune", "0"], "--tune: must be between 1 and"),
    (["--tune", "soon"], "--tune: must be a whole number of trials"),
    (["--tune", "2", "--model", "ease"], "--model ease has none to search"),
])
def test_cli_refuses_a_bad_tune_in_one_line(shop: Path, tmp_path: Path, extra: list[str],
                                            message: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--data", str(shop), "--out", str(tmp_path / "r"), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_cli_tune_records_the_study_in_run_json(shop: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["train", "--data", str(shop), "--out", str(run), "--quiet", "--model",
                 "twotower", "--tune", "2", "--epochs", "2", "--device", "cpu",
                 "--set", "use_text=false"]) == 0
    meta = json.loads((run / "run.json").read_text())
    tuning = meta["selection"]["tuning"]
    assert tuning["trials"] == 2 and len(tuning["trial_log"]) == 2
    assert "use_text" not in tuning["searched"]  # set by hand
    assert meta["selection"]["chosen"] == TUNED_LABEL
    for key, value in tuning["best_params"].items():
        recorded = meta["model_config"].get(key, meta["train_config"].get(key))
        assert recorded == pytest.approx(value)


def test_pruner_hears_each_epoch_and_stops_a_weak_trial() -> None:
    from engine.models.trainer import StopTraining
    from engine.training.tuning import PruneOnValidation

    class Trial:  # the two calls the callback makes on an Optuna trial
        def __init__(self) -> None:
            self.reports: list[tuple[float, int]] = []

        def report(self, value: float, step: int) -> None:
            self.reports.append((value, step))

        def should_prune(self) -> bool:
            return len(self.reports) >= 2

    trial = Trial()
    callback = PruneOnValidation(trial, "val_ndcg@10")
    callback.on_epoch_end(1, {"val_ndcg@10": 0.1, "L_r": 3.0})
    assert not callback.pruned
    with pytest.raises(StopTraining):
        callback.on_epoch_end(2, {"val_ndcg@10": 0.2})
    assert callback.pruned and callback.epochs == 2
    assert trial.reports == [(0.1, 1), (0.2, 2)]
