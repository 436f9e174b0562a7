"""Scenario store (SQLite) and the Scenarios page: save, reload, compare, corrupted files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from dashboard_support import APP, TIMEOUT, held_out_shoppers, tiny_home
from streamlit.testing.v1 import AppTest

from engine.policy.scenarios import Scenario, ScenarioStore, ScenarioStoreError, scenarios_frame
from engine.policy.store import SCHEMA_VERSION, PolicyStore


def _scenario(name: str = "spring", alpha: float = 0.6) -> Scenario:
    return Scenario(name=name, run="tiny", note="more variety",
                    settings={"user": "u1", "method": "mmr", "alpha": alpha, "k": 10,
                              "targets": {"Home > Lamps": {"floor": 1, "cap": 3, "share": None}}},
                    metrics={"sample ndcg@10": 0.12})


# ---- the store ------------------------------------------------------------------------------
def test_save_get_round_trip_and_schema_version(tmp_path: Path) -> None:
    store = ScenarioStore(tmp_path / "scenarios.sqlite")
    scenario_id = store.save(_scenario())
    loaded = store.get(scenario_id)
    assert (loaded.name, loaded.settings["alpha"], loaded.metrics) == (
        "spring", 0.6, {"sample ndcg@10": 0.12})
    assert loaded.settings["targets"]["Home > Lamps"] == {"floor": 1, "cap": 3, "share": None}
    with sqlite3.connect(tmp_path / "scenarios.sqlite") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_saved_scenario_is_a_policy_in_the_engine_store(tmp_path: Path) -> None:
    path = tmp_path / "scenarios.sqlite"
    scenario_id = ScenarioStore(path).save(_scenario(alpha=0.4))
    policy = PolicyStore(path).get(f"scenario-{scenario_id}")
    assert policy.version == 1
    assert [(s.kind, s.method, s.weight) for s in policy.stages] == [("diversify", "mmr", 0.4)]
    assert PolicyStore(path).names() == []  # linked to the scenario: the studio's, not listed


def test_list_is_newest_first_and_an_unknown_id_is_named(tmp_path: Path) -> None:
    store = ScenarioStore(tmp_path / "s.sqlite")
    first, second = store.save(_scenario("a")), store.save(_scenario("b"))
    assert [s.id for s in store.list()] == [second, first]
    with pytest.raises(ScenarioStoreError, match=f"#{second + 1} does not exist"):
        store.get(second + 1)


def test_empty_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioStoreError, match="needs a name"):
        ScenarioStore(tmp_path / "s.sqlite").save(_scenario(name="  "))


def test_corrupted_file_says_what_to_do_and_reset_recovers(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    store = ScenarioStore(path)
    with pytest.raises(ScenarioStoreError, match="unreadable.*Move or delete the file"):
        store.list()
    aside = store.reset()
    assert aside is not None and aside.exists() and not path.exists()
    assert store.list() == []


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ScenarioStoreError, match="newer than this Prism understands"):
        ScenarioStore(path).list()


def test_frame_flattens_settings_and_metrics() -> None:
    scenario = _scenario()
    scenario.id, scenario.created = 3, 0.0
    frame = scenarios_frame([scenario])
    assert frame.loc[0, "alpha"] == 0.6 and frame.loc[0, "sample ndcg@10"] == 0.12
    assert frame.loc[0, "targets"].startswith("{")


# ---- the page -------------------------------------------------------------------------------
@pytest.fixture
def shared_run_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The tiny run's home, with the scenarios file removed before and after each test."""
    home = tiny_home()
    monkeypatch.setenv("PRISM_HOME", str(home))
    for leftover in home.glob("scenarios.sqlite*"):
        leftover.unlink()
    yield home
    for leftover in home.glob("scenarios.sqlite*"):
        leftover.unlink()


def _scenarios_page(**params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("app_pages/scenarios.py")
    return at.run()


@pytest.mark.slow
def test_page_saves_and_reloads_a_scenario(shared_run_home: Path) -> None:
    at = _scenarios_page(alpha="0.7", method="dpp", k="8")
    at.text_input(key="scenario_name").set_value("wide mix")
    at.text_area(key="scenario_note").set_value("for the spring campaign")
    at.button(key="FormSubmitter:scenario_form-Save scenario").click().run()
    assert not at.exception and not at.error
    saved = ScenarioStore(shared_run_home / "scenarios.sqlite").list()
    assert [(s.name, s.settings["alpha"], s.settings["method"], s.settings["k"])
            for s in saved] == [("wide mix", 0.7, "dpp", 8)]
    assert "sample ndcg@8" in saved[0].metrics
    # change the settings, then reload the scenario: the widgets' values come back
    at.session_state["alpha"], at.session_state["method"] = 0.1, "mmr"
    at.button(key="scenario_reload").click().run()
    assert not at.exception
    assert (at.session_state["alpha"], at.session_state["method"], at.session_state["k"]) == (
        0.7, "dpp", 8)
    assert any("Loaded" in s.value for s in at.success)


@pytest.mark.slow
def test_corrupted_database_shows_error_and_page_keeps_working(shared_run_home: Path) -> None:
    (shared_run_home / "scenarios.sqlite").write_bytes(b"garbage" * 500)
    at = _scenarios_page()
    assert not at.exception
    assert any("unreadable" in e.value and "Move or delete" in e.value for e in at.error)
    assert at.button(key="scenario_reset")  # the way out is offered
    assert at.text_input(key="scenario_name")  # the rest of the page still works
    at.button(key="scenario_reset").click().run()
    said = [s.value for s in at.success if "kept aside as" in s.value]
    assert not at.exception and said and "scenarios.sqlite.broken-" in said[0]
    assert str(shared_run_home) not in said[0]  # a file name, never a server path


@pytest.mark.slow
def test_two_scenarios_are_tested_on_the_same_shoppers(shared_run_home: Path) -> None:
    store = ScenarioStore(shared_run_home / "scenarios.sqlite")
    ids = [store.save(Scenario(name=name, run="tiny", settings={
        "method": method, "alpha": alpha, "k": 10}, metrics={"sample ndcg@10": 0.1}))
        for name, method, alpha in (("plain", "mmr", 0.0), ("wide", "dpp", 0.9))]
    at = _scenarios_page()
    at.multiselect(key="scenario_compare").set_value(ids).run()
    assert any("paired 95% interval" in c.value for c in at.caption)
    at.button(key="scenario_paired_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "excludes 0" in d.value.columns)
    ndcg = table[table["metric"].astype(str).str.startswith("NDCG")].iloc[0]
    assert ndcg["95% low"] <= ndcg["difference"] + 1e-9 <= ndcg["95% high"] + 2e-9
    assert any("on the same" in m.value for m in at.markdown)


def test_quota_scenario_without_targets_ranks_with_the_default_caps() -> None:
    from engine.policy.store import scenario_policy
    from engine.rerank.quotas import default_cap

    settings = {"method": "quota", "alpha": 0.5, "k": 10, "targets": {}}
    body = scenario_policy(4, "capped", settings, ["Lamps", "Desks"])
    assert body["stages"] == [{"kind": "diversify", "method": "quota", "weight": 0.5,
                               "quotas": {"Lamps": [None, default_cap(10)],
                                          "Desks": [None, default_cap(10)]}}]


@pytest.mark.slow
def test_quota_scenario_is_replayed_with_its_caps_and_unmeasured_is_not_zero(
        shared_run_home: Path) -> None:
    """Quotas with no targets re-ranks in the paired test as on the Explorer (lists change);
    metrics a scenario did not measure read "not measured" and get no bar."""
    store = ScenarioStore(shared_run_home / "scenarios.sqlite")
    ids = [store.save(Scenario(name=name, run="tiny", settings={
        "method": method, "alpha": alpha, "k": 10}, metrics=metrics))
        for name, method, alpha, metrics in (
            ("plain", "mmr", 0.0, {"sample ndcg@10": 0.1, "shopper precision@10": 0.1}),
            ("capped", "quota", 0.0, {"shopper precision@10": 0.2}))]
    at = _scenarios_page()
    at.multiselect(key="scenario_compare").set_value(ids).run()
    table = next(d.value for d in at.dataframe if "Sample · NDCG@10" in d.value.index)
    assert table.loc["Sample · NDCG@10", "capped"] == "not measured"
    assert table.loc["Shopper · Precision@10", "capped"] == "0.2000"
    assert any("not drawn: Sample · NDCG@10" in c.value for c in at.caption)
    chart = at.get("plotly_chart")[0].proto.spec
    assert "NDCG" not in chart and "Precision@10" in chart
    at.button(key="scenario_paired_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.exception]
    report = next(iter(at.session_state["_scenario_paired"].values()))
    assert report["lists_changed"]["n"] > 0  # capped lists differ from relevance-only ones


@pytest.mark.slow
def test_compare_speaks_of_the_scenarios_by_name_in_the_order_picked(
        shared_run_home: Path) -> None:
    store = ScenarioStore(shared_run_home / "scenarios.sqlite")
    ids = [store.save(Scenario(name=name, run="tiny", settings={
        "method": method, "alpha": alpha, "k": 10, "targets": {}},
        metrics={"shopper category_entropy@10": alpha}))
        for name, method, alpha in (("mmr high", "mmr", 0.8), ("dpp low", "dpp", 0.3))]
    at = _scenarios_page()
    saved = next(d.value for d in at.dataframe if "method" in d.value.columns)
    assert set(saved["method"]) == {"MMR", "DPP"} and "{}" not in saved.astype(str).values
    at.multiselect(key="scenario_compare").set_value(ids).run()  # mmr high first
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [trace["name"] for trace in chart["data"]] == ["mmr high", "dpp low"]  # legend
    titles = [note["text"] for note in chart["layout"]["annotations"]]
    assert "Shopper<br>Category entropy@10" in titles  # on two lines, never cut
    at.button(key="scenario_paired_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.exception]
    assert any("**mmr high** against **dpp low**" in m.value for m in at.markdown)
    table = next(d.value for d in at.dataframe if "excludes 0" in d.value.columns)
    assert list(table.columns[1:3]) == ["mmr high", "dpp low"]


def test_the_impact_table_never_shows_a_negative_zero() -> None:
    from dashboard.policy_view import impact_frame

    row = {"metric": "category_entropy@10", "a": -0.0, "b": 1e-9, "diff": -1e-9,
           "ci_low": -4e-5, "ci_high": 0.0, "excludes_zero": False}
    table = impact_frame({"metrics": [row], "rules": [], "mean_rank_displacement": {
        "metric": "mean rank displacement", "a": 0.0, "b": 0.0, "diff": -0.0, "ci_low": -0.0,
        "ci_high": 0.0, "excludes_zero": False}}, ("wide", "plain"))
    numbers = table.select_dtypes("number").to_numpy()
    assert (numbers == 0).all() and not np.signbit(numbers).any()  # +0.0 only: reads 0.0000


@pytest.mark.slow
def test_a_zero_in_the_comparison_reads_zero_not_minus_zero(shared_run_home: Path) -> None:
    store = ScenarioStore(shared_run_home / "scenarios.sqlite")
    ids = [store.save(Scenario(name=name, run="tiny", settings={
        "method": "mmr", "alpha": 0.5, "k": 10},
        metrics={"shopper category_entropy@10": entropy}))  # one category: −Σ p log p = −0
        for name, entropy in (("one lamp", -0.0), ("two lamps", -1e-12))]
    at = _scenarios_page()
    at.multiselect(key="scenario_compare").set_value(ids).run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "one lamp" in d.value.columns)
    assert table.loc["Shopper · Category entropy@10"].tolist() == ["0.0000", "0.0000"]


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "said"), [
    ("en", "saved with a sample of 500 shoppers; run tiny has {n} held-out shoppers, so all "
           "{n} are used"),
    ("zh", "保存时样本为 500 位顾客；运行 tiny 只有 {n} 位留出测试顾客，因此使用全部 {n} 位")])
def test_a_reloaded_sample_the_run_cannot_hold_is_said_not_changed_silently(
        shared_run_home: Path, lang: str, said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dashboard.i18n.current", lambda: lang)  # AppTest formats the choices
    shoppers = held_out_shoppers()
    assert shoppers < 500  # the tiny run: fewer than the saved sample
    ScenarioStore(shared_run_home / "scenarios.sqlite").save(Scenario(
        name="big sample", run="tiny", settings={"method": "mmr", "alpha": 0.5, "k": 10,
                                                 "sample_size": 500}))
    at = _scenarios_page(lang=lang)
    at.button(key="scenario_reload").click().run()
    assert not at.exception and not at.error
    assert (at.session_state["sample_size"], at.session_state["k"]) == (shoppers, 10)
    notes = [i.value for i in at.info if "500" in i.value]
    assert len(notes) == 1 and said.format(n=shoppers) in notes[0], notes  # k fits: no note
    at.run()
    assert not [i.value for i in at.info if "500" in i.value]  # said once, after the reload


def test_a_run_keeps_k_and_the_sample_it_can_hold_and_lowers_the_rest() -> None:
    from dashboard.view_state import fitted

    assert fitted(10, 500, n_items=8, shoppers=386) == (8, 386)
    assert fitted(10, 300, n_items=200, shoppers=386) == (10, 300)
    assert fitted(10, 500, n_items=200, shoppers=None) == (10, 500)  # data gone: kept
    assert fitted(40, 300, n_items=200, shoppers=386) == (30, 300)  # the Explorer's most
    assert fitted(1, 300, n_items=200, shoppers=386) == (3, 300)  # and its least


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "row", "note"), [
    ("en", "Sample · NDCG@k", "part of any difference comes from the list length alone"),
    ("zh", "样本 · NDCG@k", "任何差异都有一部分仅来自列表长度")])
def test_scenarios_saved_at_different_k_compare_each_at_its_own_k(
        shared_run_home: Path, lang: str, row: str, note: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Lists of 8 and of 10: each column holds its scenario's metrics at its own k (named in
    the heading), said once; never "not measured" on every row."""
    monkeypatch.setattr("dashboard.i18n.current", lambda: lang)  # AppTest formats the choices
    store = ScenarioStore(shared_run_home / "scenarios.sqlite")
    ids = [store.save(Scenario(name=name, run="tiny", settings={
        "method": "mmr", "alpha": 0.5, "k": k},
        metrics={f"sample ndcg@{k}": ndcg, f"shopper category_entropy@{k}": 0.5}))
        for name, k, ndcg in (("short", 8, 0.25), ("long", 10, 0.125))]
    at = _scenarios_page(lang=lang)
    at.multiselect(key="scenario_compare").set_value(ids).run()
    assert not at.exception and not at.error
    table = next(d.value for d in at.dataframe if any("short" in c for c in d.value.columns))
    headings = ["short (k = 8)", "long (k = 10)"] if lang == "en" else [
        "short（k = 8）", "long（k = 10）"]
    assert list(table.columns) == headings and len(table) == 2
    assert table.loc[row].tolist() == ["0.2500", "0.1250"]
    assert not (table == ("not measured" if lang == "en" else "未测量")).any().any()
    assert not any("not drawn" in c.value or "不绘制" in c.value for c in at.caption)
    assert len([i for i in at.info if "k = 10" in i.value and note in i.value]) == 1
    replayed = "one list length, k = 8" if lang == "en" else "同一列表长度 k = 8"
    assert any(replayed in i.value and "k = 10" in i.value for i in at.info)  # paired test
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert list(dict.fromkeys(trace["name"] for trace in chart["data"])) == headings
    assert len(chart["data"]) == 4  # both metrics drawn for both scenarios
    assert sum("NDCG@k" in note["text"] for note in chart["layout"]["annotations"]) == 1


@pytest.mark.slow
def test_a_reloaded_k_longer_than_the_explorer_s_lists_is_said(shared_run_home: Path) -> None:
    """Saved on a larger shop (or by hand): the tiny run's 150 items hold k = 200, but the
    Explorer's lists hold at most 30, so the reload lowers it there and says so; the Explorer
    then shows k = 30 (its box and the link agree with what is used)."""
    ScenarioStore(shared_run_home / "scenarios.sqlite").save(Scenario(
        name="long lists", run="tiny", settings={"method": "mmr", "alpha": 0.5, "k": 200}))
    at = _scenarios_page()
    at.button(key="scenario_reload").click().run()
    assert not at.exception and not at.error
    assert at.session_state["k"] == 30
    assert [i.value for i in at.info if "k = 200" in i.value] == [
        "“long lists” was saved with k = 200; the Explorer's lists hold 3 to 30 items, so "
        "k = 30 is used."]
    at.switch_page("app_pages/explorer.py").run()
    assert not at.exception, at.exception
    assert at.number_input(key="w_k").value == 30 and at.session_state["k"] == 30
