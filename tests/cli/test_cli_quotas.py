"""`--quotas` on `prism evaluate` and `prism sweep`: quota means quota, bad input exits 2."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from engine.cli.main import main
from engine.cli.quota_option import parse_quotas_option
from engine.core.errors import ConfigError
from engine.data import generate_shop, write_tables
from engine.evaluation.protocol import RerankSpec, quotas_met_share


@pytest.fixture(scope="module")
def shop_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """A tiny shop, an EASE run on it, and its categories from the most items down."""
    folder = tmp_path_factory.mktemp("quota-shop")
    items, events = generate_shop(n_items=400, n_users=120, seed=3)
    write_tables(items, events, folder / "data")
    run = folder / "run"
    assert main(["train", "--data", str(folder / "data"), "--out", str(run), "--model", "ease",
                 "--quiet"]) == 0
    names = json.loads((run / "categories.json").read_text())["names"]
    import pandas as pd

    labels = pd.read_parquet(run / "items.parquet")["div_category"]
    ranked = [name for name, _ in Counter(labels).most_common() if name in names]
    return folder / "data", run, ranked


def _one_error_line(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_quota_without_quotas_exits_2(shop_run, tmp_path: Path, capsys) -> None:
    data, run, _ = shop_run
    code = main(["evaluate", "--run", str(run), "--data", str(data), "--rerank", "quota",
                 "--weight", "0.5", "--json", str(tmp_path / "e.json")])
    assert code == 2
    assert "--rerank quota needs --quotas" in _one_error_line(capsys)
    assert not (tmp_path / "e.json").exists()


def test_evaluate_lists_meet_the_quotas(shop_run, tmp_path: Path) -> None:
    data, run, ranked = shop_run
    big, second, third = ranked[:3]
    out = tmp_path / "e.json"
    spec = f"{big}:0-2,{second}:2-4,{third}:1-"
    assert main(["evaluate", "--run", str(run), "--data", str(data), "--rerank", "quota",
                 "--weight", "0.3", "--quotas", spec, "--json", str(out)]) == 0
    result = json.loads(out.read_text())["rerank"]
    assert result["quotas"] == {big: [0, 2], second: [2, 4], third: [1, None]}
    assert result["quotas_met"] == 1.0
    plain = tmp_path / "plain.json"
    assert main(["evaluate", "--run", str(run), "--data", str(data), "--rerank", "mmr",
                 "--weight", "0.3", "--json", str(plain)]) == 0
    assert "quotas" not in json.loads(plain.read_text())["rerank"]


def test_quotas_from_a_json_file_constrain_dpp_too(shop_run, tmp_path: Path) -> None:
    data, run, ranked = shop_run
    path = tmp_path / "quotas.json"
    path.write_text(json.dumps({ranked[0]: [None, 1], ranked[1]: [3, None]}))
    out = tmp_path / "e.json"
    assert main(["evaluate", "--run", str(run), "--data", str(data), "--rerank", "dpp",
                 "--weight", "0.5", "--quotas", str(path), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["rerank"]["quotas_met"] == 1.0


@pytest.mark.parametrize(("value", "message"), [
    ("Nowhere:1-2", "unknown category ['Nowhere']"),
    ("{first}:3-1", "floor 3 is above cap 1"),
    ("{first}:x-2", "floor must be a whole number"),
    ("{first}=1-2", "expected CATEGORY:FLOOR-CAP"),
])
def test_bad_quotas_exit_2_with_one_line(shop_run, tmp_path: Path, capsys, value: str,
                                         message: str) -> None:
    data, run, ranked = shop_run
    code = main(["evaluate", "--run", str(run), "--data", str(data), "--rerank", "quota",
                 "--quotas", value.format(first=ranked[0]), "--json", str(tmp_path / "e.json")])
    assert code == 2 and message in _one_error_line(capsys)


def test_sweep_takes_quotas_and_refuses_quota_without(shop_run, tmp_path: Path, capsys) -> None:
    data, run, ranked = shop_run
    base = ["sweep", "--run", str(run), "--data", str(data), "--weights", "0.5",
            "--users", "20", "--json", str(tmp_path / "s.json")]
    assert main([*base, "--methods", "mmr,quota"]) == 2
    assert "--methods quota needs --quotas" in _one_error_line(capsys)
    assert main([*base, "--methods", "quota", "--quotas", f"{ranked[0]}:0-1,{ranked[1]}:1-"]) == 0
    written = json.loads((tmp_path / "s.json").read_text())
    assert written["quotas"] == {ranked[0]: [0, 1], ranked[1]: [1, None]}
    assert len(written["points"]) == 1


def test_parse_quotas_option_forms(tmp_path: Path) -> None:
    assert parse_quotas_option(None) is None
    assert parse_quotas_option("Tools > Saws:1-3, Beauty:-2,Home:4-") == {
        "Tools > Saws": (1, 3), "Beauty": (None, 2), "Home": (4, None)}
    with pytest.raises(ConfigError, match="--quotas is empty"):
        parse_quotas_option(" , ")
    bad = tmp_path / "q.json"
    bad.write_text('{"A": [1, "x"]}')
    with pytest.raises(ConfigError, match="cap must be a whole number >= 0 or null"):
        parse_quotas_option(str(bad))


def test_rerank_spec_refuses_quota_without_quotas() -> None:
    with pytest.raises(ConfigError, match="'quota' needs quotas"):
        RerankSpec("quota", 0.5)
    assert RerankSpec("quota", 0.5, quotas={0: (1, None)}).quotas == {0: (1, None)}


def test_quotas_met_share_counts_each_category_of_an_item() -> None:
    cats = np.array([[1, 0], [0, 1], [0.5, 0.5]])
    topk = np.array([[0, 1], [2, -1], [0, 0]])
    # user 0: one of each; user 1: item 2 counts for both; user 2: two of category 0
    assert quotas_met_share(topk, cats, {1: (1, None)}) == pytest.approx(2 / 3)
    assert quotas_met_share(topk, cats, {0: (None, 1)}) == pytest.approx(2 / 3)


def test_quotas_without_a_reranker_exit_2(shop_run, tmp_path: Path, capsys) -> None:
    data, run, ranked = shop_run
    assert main(["evaluate", "--run", str(run), "--data", str(data), "--quotas",
                 f"{ranked[0]}:1-", "--json", str(tmp_path / "e.json")]) == 2
    assert "--quotas applies to a re-ranked list" in _one_error_line(capsys)


def test_a_long_inline_value_is_read_as_quotas_not_as_a_file_name() -> None:
    text = ",".join(f"category number {i}:0-2" for i in range(40))  # over any file name limit
    assert len(text) > 255
    quotas = parse_quotas_option(text)
    assert len(quotas) == 40 and quotas["category number 39"] == (0, 2)
