"""`prism exposure` and `GET /exposure` end to end on a tiny synthetic shop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.data import generate_shop, write_tables


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("exposure-shop")
    items, events = generate_shop(n_items=150, n_users=120, seed=5)
    write_tables(items, events, folder / "shop")
    out = folder / "run"
    assert main(["train", "--data", str(folder / "shop"), "--out", str(out), "--model", "pop",
                 "--quiet"]) == 0
    return out


def test_ledger_json_by_brand_and_price_band(run: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    for by in ("brand", "price_band", "top_category"):
        out = tmp_path / f"{by}.json"
        assert main(["exposure", "--run", str(run), "--by", by, "--json", str(out)]) == 0
        ledger = json.loads(out.read_text())
        assert ledger["by"] == by and ledger["n_shoppers"] > 0
        assert sum(g["exposure_share"] for g in ledger["groups"]) == pytest.approx(1.0)
    assert "exposure   slots  catalogue  purchases" in capsys.readouterr().out


def test_fit_prices_then_serve_them_from_the_file(run: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    assert main(["exposure", "--run", str(run), "--by", "brand", "--json", str(first)]) == 0
    top = json.loads(first.read_text())["groups"][0]
    targets = tmp_path / "targets.json"
    ceiling = top["exposure_share"] / 2
    targets.write_text(json.dumps({"by": "brand", "targets": [
        {"group": top["group"], "max": ceiling}]}))
    prices, after = tmp_path / "prices.json", tmp_path / "after.json"
    assert main(["exposure", "--run", str(run), "--targets", str(targets), "--fit", "--prices",
                 str(prices), "--json", str(after), "--quiet"]) == 0
    book = json.loads(prices.read_text())
    assert book["prices"][top["group"]] < 0 and book["group"]["by"] == "brand"
    report = json.loads(after.read_text())["targets"]
    assert report[0]["share"] < top["exposure_share"]
    again = tmp_path / "again.json"
    assert main(["exposure", "--run", str(run), "--prices", str(prices), "--by", "brand",
                 "--json", str(again)]) == 0
    shares = {g["group"]: g["exposure_share"] for g in json.loads(again.read_text())["groups"]}
    assert shares[top["group"]] == pytest.approx(report[0]["share"], abs=1e-12)


@pytest.mark.parametrize("content, message", [
    ('{"by": "brand", "targets": [{"group": "*", "min": 0.6}]}', "floors add up to"),
    ("{not json", "not valid JSON"),
    ('{"by": "brand", "targets": []}', "targets: List should have at least 1 item"),
])
def test_bad_targets_exit_2_with_one_line(run: Path, tmp_path: Path, content: str,
                                          message: str, capsys: pytest.CaptureFixture) -> None:
    targets = tmp_path / "targets.json"
    targets.write_text(content)
    assert main(["exposure", "--run", str(run), "--targets", str(targets)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_get_exposure_on_the_api(run: Path) -> None:
    from fastapi.testclient import TestClient

    from engine.api.app import create_app

    client = TestClient(create_app(run))
    answer = client.get("/exposure", params={"by": "promo", "n_users": 50})
    assert answer.status_code == 200
    body = answer.json()
    assert body["n_shoppers"] == 50
    assert {g["group"] for g in body["groups"]} <= {"promo", "regular"}
    assert sum(g["slot_share"] for g in body["groups"]) == pytest.approx(1.0)
    bad = client.get("/exposure", params={"by": "colour"})
    assert bad.status_code == 400 and "cannot group by 'colour'" in bad.json()["detail"]


def test_priced_stage_adds_the_fitted_prices_to_a_request(run: Path, tmp_path: Path) -> None:
    import numpy as np

    from engine.exposure.groups import GroupSpec, grouping_for_run
    from engine.exposure.stage import PricedStage
    from engine.runs.store import load_run

    loaded = load_run(run)
    grouping = grouping_for_run(loaded, GroupSpec(by="brand"))
    label = grouping.labels[0]
    book = {"group": {"by": "brand"}, "prices": {label: -0.25}, "targets": {
        "by": "brand", "targets": [{"group": label, "max": 0.1}]}}
    stage = PricedStage.from_json(book, loaded)
    candidates = np.arange(5)
    scores = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    member = grouping.membership[:5, 0].toarray().ravel()
    expected = (scores - 1.0) / 4.0 - 0.25 * member
    np.testing.assert_allclose(stage(candidates, scores), expected, atol=1e-12)


def test_ledger_under_a_policy_with_an_exposure_stage(run: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    assert main(["exposure", "--run", str(run), "--by", "brand", "--json", str(first)]) == 0
    top = json.loads(first.read_text())["groups"][0]
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps({"by": "brand", "targets": [
        {"group": top["group"], "max": top["exposure_share"] / 2}]}))
    prices = tmp_path / "prices.json"
    assert main(["exposure", "--run", str(run), "--targets", str(targets), "--fit", "--prices",
                 str(prices), "--quiet"]) == 0
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"name": "fair-brands", "stages": [
        {"kind": "exposure_targets", "prices": json.loads(prices.read_text())}]}))
    out = tmp_path / "policy-ledger.json"
    assert main(["exposure", "--run", str(run), "--policy", str(policy), "--by", "brand",
                 "--json", str(out)]) == 0
    ledger = json.loads(out.read_text())
    assert ledger["policy"] == "fair-brands"
    shares = {g["group"]: g["exposure_share"] for g in ledger["groups"]}
    assert shares[top["group"]] < top["exposure_share"]
    assert sum(shares.values()) == pytest.approx(1.0)
    assert main(["exposure", "--run", str(run), "--policy", str(policy), "--prices",
                 str(prices)]) == 2


def test_prices_are_judged_on_shoppers_they_were_not_fitted_on(
        run: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """One protocol for the CLI and the studio's Ledger page: fit on every other shopper of
    the sample, report the targets before and after on the rest."""
    import numpy as np

    from engine.exposure.context import ExposureContext
    from engine.exposure.groups import GroupSpec
    from engine.exposure.prices import target_report
    from engine.exposure.targets import parse_targets

    ctx = ExposureContext.load(str(run))
    ledger = ctx.ledger(GroupSpec(by="brand"), k=10)
    top = ledger.table.iloc[0]
    targets = parse_targets({"by": "brand", "targets": [
        {"group": str(top["group"]), "max": float(top["exposure_share"]) / 2}]})
    rows = ctx.sample(60, seed=0)
    checked = ctx.fit_and_check(targets, rows, k=10)
    assert sorted([*checked.fit_rows, *checked.check_rows]) == sorted(rows)
    assert not set(checked.fit_rows) & set(checked.check_rows)
    grouping = ctx.grouping(targets.group_spec())
    again = target_report(ctx.lists(checked.check_rows, k=10, prices=checked.fit.prices),
                          grouping, targets, 10)
    assert [r["share"] for r in again] == pytest.approx(
        [r["share"] for r in checked.after], abs=1e-12)
    assert checked.after[0]["share"] < checked.before[0]["share"]
    assert np.isfinite(checked.fit.violation)
    (tmp_path / "t.json").write_text(json.dumps({"by": "brand", "targets": [
        {"group": str(top["group"]), "max": float(top["exposure_share"]) / 2}]}))
    assert main(["exposure", "--run", str(run), "--targets", str(tmp_path / "t.json"),
                 "--fit", "--prices", str(tmp_path / "p.json"), "--fit-users", "60",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "on 30 shoppers" in out and "on the 30 other shoppers:" in out
    assert "  before: " in out and "  after: " in out
