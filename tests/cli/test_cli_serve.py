"""`prism recommend | search | hot | sweep | items add | serve`: output, and one line + exit 2."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from engine.cli.main import main
from engine.cli.serve_cmds import parse_weights
from engine.core.errors import ConfigError

pytest_plugins = ["serving_runs"]


def _one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str) -> None:
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    # engine errors read "prism: error: ..."; argparse's own "prism <command>: error: ..."
    assert len(lines) == 1 and re.match(r"prism( [a-z-]+)*: error: ", lines[0])
    assert fragment in lines[0]


def test_recommend_prints_a_table(tiny_shop, capsys) -> None:  # noqa: ANN001
    from engine.runs.store import load_run

    user = load_run(tiny_shop.ease_run).user_ids[0]
    assert main(["recommend", "--run", str(tiny_shop.ease_run), "--user", user, "--k", "4",
                 "--method", "dpp", "--diversity-weight", "0.5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["rank", "item_id", "title", "category"]
    assert [line.split()[0] for line in out[1:5]] == ["1", "2", "3", "4"]
    assert out[5].startswith("   1. ")


def test_recommend_json_and_fallback_notice(tiny_shop, capsys) -> None:  # noqa: ANN001
    assert main(["recommend", "--run", str(tiny_shop.ease_run), "--user", "ghost", "--k", "3",
                 "--json"]) == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == 3
    assert "prism: note: unknown shopper 'ghost'" in captured.err


def test_search_and_hot(tiny_shop, capsys, encoder_cache) -> None:  # noqa: ANN001
    assert main(["search", "--run", str(tiny_shop.ease_run), "--query", "cycling gloves",
                 "--k", "3", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert main(["hot", "--run", str(tiny_shop.ease_run), "--k", "2", "--weight", "0.5",
                 "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


@pytest.mark.parametrize("extra, fragment", [
    (["--k", "0"], "k: Input should be greater than or equal to 1"),
    (["--k", "900"], "k must be between 1 and the catalogue size"),
    (["--k", "ten"], "argument --k: must be an integer, got 'ten'"),
    (["--weight", "2"], "argument --weight: must be in [0, 1], got 2"),
    (["--diversity-weight", "lots"], "argument --diversity-weight: must be a number, got 'lots'"),
    (["--weight", "lots"], "argument --weight: must be a number, got 'lots'"),
    (["--method", "magic"], "method: Input should be 'none', 'mmr', 'dpp', 'calibrated' or"),
    (["--history", "P000,nope"], "unknown item id: 'nope'"),
    (["--history", ","], "expected comma-separated ids"),
    (["--categories", "Nowhere"], "unknown category ['Nowhere']"),
    (["--target-mix", "2"], "--target-mix must be in [0, 1]"),
    (["--target-mix", "some"], "--target-mix must be a number, got 'some'"),
])
def test_recommend_bad_input(tiny_shop, capsys, extra: list[str], fragment: str) -> None:  # noqa: ANN001
    _one_error_line(capsys, ["recommend", "--run", str(tiny_shop.ease_run), "--user", "C00",
                             *extra], fragment)


def test_missing_run_and_empty_query(tiny_shop, capsys, tmp_path) -> None:  # noqa: ANN001
    _one_error_line(capsys, ["recommend", "--run", str(tmp_path / "none"), "--user", "C00"],
                    "does not exist")
    _one_error_line(capsys, ["search", "--run", str(tiny_shop.ease_run), "--query", " "],
                    "query is empty")


def test_sweep_writes_json(tiny_shop, capsys, tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "sweep" / "points.json"
    assert main(["sweep", "--run", str(tiny_shop.ease_run), "--data", str(tiny_shop.data_dir),
                 "--methods", "mmr,dpp", "--weights", "0,0.5,...,1", "--json", str(out),
                 "--users", "30"]) == 0
    body = json.loads(out.read_text())
    assert [(p["method"], p["weight"]) for p in body["points"]] == [
        ("mmr", 0.0), ("mmr", 0.5), ("mmr", 1.0), ("dpp", 0.0), ("dpp", 0.5), ("dpp", 1.0)]
    assert body["n_users"] == 30 and "equal_entropy" in body
    printed = capsys.readouterr().out
    assert "ndcg@10" in printed
    for point in body["points"]:  # 95% intervals over shoppers, by default
        assert point["ndcg@10 low"] <= point["ndcg@10"] + 1e-12 <= point["ndcg@10 high"] + 2e-12
    first = body["points"][0]
    assert f"{first['ndcg@10']:.4f} [{first['ndcg@10 low']:.4f}, " in printed
    assert main(["sweep", "--run", str(tiny_shop.ease_run), "--data", str(tiny_shop.data_dir),
                 "--methods", "mmr", "--weights", "0", "--json", str(out), "--users", "30",
                 "--intervals", "0"]) == 0
    assert "ndcg@10 low" not in json.loads(out.read_text())["points"][0]
    assert [p.name for p in out.parent.iterdir()] == ["points.json"]  # no staging file left


def test_sweep_records_the_target_mix(tiny_shop, tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "points.json"
    assert main(["sweep", "--run", str(tiny_shop.ease_run), "--data", str(tiny_shop.data_dir),
                 "--methods", "calibrated", "--weights", "0,1", "--json", str(out),
                 "--users", "20", "--target-mix", "1"]) == 0
    assert json.loads(out.read_text())["target_mix"] == 1.0


def test_recommend_target_mix_reaches_the_service(tiny_shop, capsys) -> None:  # noqa: ANN001
    from engine.serving.recommender import Recommender

    service = Recommender.load(tiny_shop.ease_run)
    user = service.user_ids[0]
    expected = service.recommend(user_id=user, k=5, method="calibrated", diversity_weight=1.0,
                                 target_mix=1.0).table["item_id"].tolist()
    assert main(["recommend", "--run", str(tiny_shop.ease_run), "--user", user, "--k", "5",
                 "--method", "calibrated", "--weight", "1", "--target-mix", "1",
                 "--json"]) == 0
    assert [row["item_id"] for row in json.loads(capsys.readouterr().out)] == expected


@pytest.mark.parametrize("extra, fragment", [
    (["--methods", "mmr,best"], "rerank method must be one of"),
    (["--diversity-weights", "0,...,1"], "--diversity-weights '0,...,1': give numbers like"),
    (["--weights", "0,...,1"], "--diversity-weights '0,...,1': give numbers like"),
    (["--weights", "0,1.5"], "rerank weight must be in [0, 1]"),
    (["--users", "many"], "argument --users: must be an integer"),
    (["--target-mix", "-0.5"], "--target-mix must be in [0, 1]"),
    (["--target-mix", "nan"], "--target-mix must be a finite number"),
])
def test_sweep_bad_input(tiny_shop, capsys, tmp_path, extra: list[str], fragment: str) -> None:  # noqa: ANN001
    _one_error_line(capsys, ["sweep", "--run", str(tiny_shop.ease_run), "--data",
                             str(tiny_shop.data_dir), "--json", str(tmp_path / "x.json"),
                             *extra], fragment)


def test_parse_weights() -> None:
    assert parse_weights("0,0.1,...,1") == [round(i / 10, 10) for i in range(11)]
    assert parse_weights("0, 0.5,1") == [0.0, 0.5, 1.0]
    with pytest.raises(ConfigError, match="with a < b"):
        parse_weights("0.5,0.2,...,1")


def test_items_add(tiny_shop, capsys, tmp_path, private_twotower_run) -> None:  # noqa: ANN001
    run = private_twotower_run
    category = pd.read_parquet(run / "items.parquet")["category"].iloc[0]
    table = tmp_path / "new.csv"
    table.write_text(f"item_id,title,category\nN1,Solar Lantern,{category}\n")
    assert main(["items", "add", str(table), "--run", str(run)]) == 0
    assert "added 1 item to" in capsys.readouterr().out
    _one_error_line(capsys, ["items", "add", str(table), "--run", str(run)],
                    "already in the catalogue")
    _one_error_line(capsys, ["items", "add", str(tmp_path / "missing.csv"), "--run", str(run)],
                    "no such file")
    _one_error_line(capsys, ["items", "add", str(table), "--run", str(tiny_shop.ease_run)],
                    "cannot score items it never saw")


def test_serve_rejects_a_bad_port(tiny_shop, capsys) -> None:  # noqa: ANN001
    _one_error_line(capsys, ["serve", "--run", str(tiny_shop.ease_run), "--port", "70000"],
                    "--port must be in 1..65535")


def test_help_lists_the_serving_commands(capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("recommend", "search", "hot", "sweep", "items", "serve"):
        assert command in out

