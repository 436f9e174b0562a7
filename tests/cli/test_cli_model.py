"""`prism train` / `prism evaluate` end to end on a tiny synthetic shop, and bad input → exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from engine.cli.main import main
from engine.data import generate_shop, write_tables

METRIC_KEYS = {"ndcg@10", "recall@10", "precision@10", "hit@10", "mrr@10",
               "category_coverage@10", "category_entropy@10", "ild@10", "catalog_coverage@10",
               "gini@10", "novelty@10", "arp@10", "tail_share@10", "miscalibration@10"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shop")
    items, events = generate_shop(n_items=150, n_users=80, seed=3)
    write_tables(items, events, folder)
    return folder


def train(shop: Path, out: Path, *extra: str) -> int:
    return main(["train", "--data", str(shop), "--out", str(out), "--quiet", *extra])


@pytest.mark.parametrize("model", ["pop", "ease", "itemknn"])
def test_train_then_evaluate_writes_the_contract_json(shop: Path, tmp_path: Path,
                                                      model: str) -> None:
    run = tmp_path / "run"
    assert train(shop, run, "--model", model) == 0
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--run", str(run), "--data", str(shop), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["metrics"]) >= METRIC_KEYS
    assert result["model"] == model and result["split"] == "leave-last-out"
    assert result["n_users"] > 0 and set(result["seconds"]) == {"fit", "evaluate"}
    # evaluating the run's own split reproduces the numbers recorded at training time
    recorded = json.loads((run / "run.json").read_text())["metrics"]
    assert result["metrics"]["ndcg@10"] == pytest.approx(recorded["ndcg@10"])


def test_evaluate_calibrated_with_a_target_mix(shop: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    assert train(shop, run, "--model", "pop") == 0
    out = tmp_path / "eval.json"
    base = ["evaluate", "--run", str(run), "--data", str(shop), "--json", str(out),
            "--rerank", "calibrated", "--weight", "0.5"]
    assert main([*base, "--target-mix", "0.25"]) == 0
    assert json.loads(out.read_text())["rerank"]["target_mix"] == 0.25
    capsys.readouterr()
    for value, message in (("1.5", "--target-mix: must be in [0, 1]"),
                           ("lots", "--target-mix: must be a number, got 'lots'")):
        assert main([*base, "--target-mix", value]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0]


def test_evaluate_on_another_split_scores_from_histories(shop: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    assert train(shop, run, "--model", "ease") == 0
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--run", str(run), "--data", str(shop), "--split", "random",
                 "--k", "5", "--json", str(out)]) == 0
    assert "scoring random from histories" in capsys.readouterr().err
    assert "ndcg@5" in json.loads(out.read_text())["metrics"]


@pytest.mark.parametrize(("args", "message"), [
    (["--alpha", "-1"], "--alpha: must be in [0, 1], got -1"),
    (["--alpha", "2"], "--alpha: must be in [0, 1], got 2"),
    (["--alpha", "0.5:2"], "--alpha: the range's high end must be <= 1"),
    (["--beta", "lots"], "--beta: must be a number, got 'lots'"),
    (["--alpha", "0", "--beta", "0"], "cannot both be 0"),
    (["--model", "bpr"], "unknown model 'bpr'; choose one of auto, twotower, pop, itemknn, ease"),
    (["--model", "twotower", "--encoder", "/no/such/model"], "encoder path '/no/such/model'"),
    (["--split", "sideways"],
     "--split: invalid choice: 'sideways' (choose from 'leave-last-out', 'random')"),
    (["--epochs", "many"], "--epochs: must be an integer"),
])
def test_bad_training_input_is_one_line_and_exit_2(shop: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture,
                                                   args: list[str], message: str) -> None:
    assert train(shop, tmp_path / "run", "--model", "pop", *args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_broken_run_folders_exit_2(shop: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    assert train(shop, run, "--model", "pop") == 0
    args = ["evaluate", "--run", str(run), "--data", str(shop), "--json", str(tmp_path / "e")]
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "format_version": 0}))
    assert main(args) == 2
    assert "format version 0" in capsys.readouterr().err
    (run / "histories.parquet").unlink()
    assert main(args) == 2
    assert "missing histories.parquet" in capsys.readouterr().err


def test_dataset_without_held_out_users_exits_2(tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    items = pd.DataFrame({"item_id": ["a", "b", "c"], "title": ["A", "B", "C"]})
    events = pd.DataFrame({"user_id": ["u1", "u1", "u2", "u2"], "item_id": ["a", "b", "b", "c"],
                           "timestamp": [1, 2, 3, 4]})
    write_tables(items, events, tmp_path / "data")
    assert train(tmp_path / "data", tmp_path / "run", "--model", "pop") == 2
    assert "no user has held-out items" in capsys.readouterr().err


@pytest.mark.parametrize("setting, message", [
    ("nonsense=1", "expected KEY=VALUE with KEY one of"),
    ("dim", "expected KEY=VALUE"),
    ("dim=big", "dim: must be an integer, got 'big'"),
    ("temperature=0", "temperature"),
])
def test_bad_set_option_is_one_clear_line(tmp_path, capsys, setting: str, message: str) -> None:
    from engine.cli.main import main

    code = main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run"),
                 "--set", setting])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_set_and_random_split_preset_reach_the_configs() -> None:
    from engine.cli.main import build_parser
    from engine.cli.train_cmd import spec_from_options

    args = build_parser().parse_args([
        "train", "--data", "shop", "--out", "run", "--alpha", "0.2", "--beta", "1", "--seed",
        "3", "--device", "cpu", "--epochs", "2", "--model", "twotower", "--split", "random",
        "--set", "dim=16", "--set", "use_text=false", "--set", "lr=0.01"])
    _, configs = spec_from_options(args).build()
    assert configs["model_config"]["dim"] == 16 and configs["model_config"]["use_text"] is False
    assert configs["train_config"]["example_history"] == "user"  # random-split preset
    assert configs["model_config"]["dropout"] == 0.5
    assert configs["train_config"]["lr"] == 0.01  # --set wins over the preset
    assert configs["train_config"]["epochs"] == 2  # and so does --epochs
    assert configs["train_config"]["alpha"] == 0.2


def test_train_without_settings_chooses_on_the_validation_part(shop: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture
                                                               ) -> None:
    run = tmp_path / "run"
    assert train(shop, run, "--epochs", "2", "--device", "cpu") == 0
    meta = json.loads((run / "run.json").read_text())
    report = meta["selection"]["candidates"]
    assert {row["model"] for row in report} == {"itemknn", "ease", "twotower"}
    best = max(report, key=lambda row: row["valid_ndcg"])  # ties: the first (cheaper) one
    assert meta["selection"]["chosen"] == best["label"]
    assert json.loads((run / "model.json").read_text()).get("model", best["model"]) \
        == best["model"]
    assert f"chosen on validation: {best['label']}" in capsys.readouterr().out


def test_alpha_or_settings_make_auto_train_the_two_tower(shop: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert train(shop, run, "--epochs", "1", "--alpha", "0.5", "--device", "cpu") == 0
    meta = json.loads((run / "run.json").read_text())
    assert [row["model"] for row in meta["selection"]["candidates"]] == ["twotower"]
    assert meta["train_config"]["alpha"] == 0.5
