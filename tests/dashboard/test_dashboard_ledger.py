"""The Ledger page in AppTest: the ledger renders, targets fit prices, bad targets say why."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard_support import APP, TIMEOUT, use_tiny_home


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Overrides the per-test empty home: these tests share one tiny trained run."""
    return use_tiny_home(monkeypatch)


def _ledger() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/ledger.py")
    return at.run()


def test_ledger_page_shows_shares_and_concentration() -> None:
    at = _ledger()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Ledger"
    labels = [m.label for m in at.metric]
    top = next(m for m in at.metric if m.label.startswith("Top "))
    groups = int(next(m for m in at.metric if m.label == "Groups").value)
    # the top tenth is named in groups, so a 100% held by a few groups reads as what it is
    assert "Gini over groups" in labels and top.label == f"Top {-(-groups // 10)} of {groups} " \
        "groups hold"
    at.selectbox(key="ledger_by").set_value("top_category").run()
    assert not at.exception and not at.error


def _with_targets(at: AppTest, rows: pd.DataFrame) -> AppTest:
    """Seed the targets editor's value the way an edit would arrive, then press Fit."""
    at.session_state["ledger_targets"] = {"edited_rows": {}, "deleted_rows": [],
                                          "added_rows": rows.to_dict(orient="records")}
    return at.button(key="ledger_fit").click().run()


# a row added with one bound must fit the editor's columns as they are, not widen them
KEEPS_DTYPES = pytest.mark.filterwarnings("error:Setting an item of incompatible dtype")


@KEEPS_DTYPES
def test_fit_prices_shows_before_and_after() -> None:
    at = _ledger()
    table = at.dataframe[0].value  # the ledger table
    top = str(table.iloc[0]["group"])
    ceiling = 100 * float(table.iloc[0]["exposure_share"]) / 2
    at = _with_targets(at, pd.DataFrame([{"group": top, "max %": ceiling}]))
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    report = next(d.value for d in at.dataframe if "price" in d.value.columns)
    row = report[report["group"] == top].iloc[0]
    assert row["price"] < 0 and row["after"] < row["before"]
    # naming the policy to carry them reruns the page: the fit stays on screen
    at = at.text_input(key="ledger_live_policy").set_value("fair-brands").run()
    assert any("price" in d.value.columns for d in at.dataframe)
    assert at.get("download_button") and at.get("plotly_chart")
    at = at.selectbox(key="ledger_by").set_value("top_category").run()  # other groups
    assert not any("price" in d.value.columns for d in at.dataframe)  # fit again for them


@KEEPS_DTYPES
def test_infeasible_targets_show_one_error() -> None:
    at = _ledger()
    at = _with_targets(at, pd.DataFrame([{"group": "*", "min %": 60.0}]))
    assert not at.exception
    assert len(at.error) == 1 and "floors add up to" in at.error[0].value


@KEEPS_DTYPES
def test_targets_in_a_link_fill_the_editor_and_fit() -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["targets"] = json.dumps([["*", None, 10.0]])  # a cap only: floor <NA>
    at.run()
    at.switch_page("app_pages/ledger.py")
    at = at.run()
    top = at.dataframe[0].value.iloc[0]  # the ledger's most exposed group, above the cap
    assert float(top["exposure_share"]) > 0.10
    editor = next(d.value for d in at.dataframe if "max %" in d.value.columns)
    assert editor["group"].tolist() == ["*"] and pd.isna(editor["min %"].iloc[0])
    assert abs(float(editor["max %"].iloc[0]) - 10.0) < 1e-9
    at = at.button(key="ledger_fit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    refused = [w.value for w in at.warning if "Missed there" not in w.value]
    assert not refused, refused  # the link was read, not refused
    report = next(d.value for d in at.dataframe if "price" in d.value.columns)
    assert (abs(report["max"] - 0.10) < 1e-9).all()  # the cap reached every group
    row = report[report["group"] == str(top["group"])].iloc[0]
    assert row["price"] < 0 and row["after"] < row["before"]


@KEEPS_DTYPES
def test_fit_names_every_target_missed_on_the_check_half() -> None:
    """A floor for every group: the message counts the targets met on the check half and
    names each group whose share there stays below its floor (the table's own numbers)."""
    at = _ledger()
    at = _with_targets(at, pd.DataFrame([{"group": "*", "min %": 2.0}]))
    assert not at.exception and not at.error, [e.value for e in at.error]
    report = next(d.value for d in at.dataframe if "price" in d.value.columns)
    below = report[report["after"] < report["min"] - 1e-12]
    if below.empty:
        met = "the 1 target is met" if len(report) == 1 else f"all {len(report)} targets are met"
        assert any(met in s.value for s in at.success)
        return
    message = next(w.value for w in at.warning if "Missed there" in w.value)
    are = "target is" if len(report) == 1 else "targets are"
    assert f"{len(report) - len(below)} of {len(report)} {are} met" in message
    for group in below["group"]:
        assert f"- {group}: " in message


@pytest.fixture(params=["en", "zh"])
def lang(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The studio's language, set before the page opens."""
    monkeypatch.setattr("dashboard.i18n.current", lambda: request.param)
    return request.param


@KEEPS_DTYPES
@pytest.mark.parametrize(("row", "key", "values"), [
    ({"group": "*"}, "ledger.row_no_bound", {"group": "*"}),
    ({"group": "*", "min %": 60.0, "max %": 10.0}, "ledger.row_floor_above",
     {"group": "*", "floor": "60", "cap": "10"})])
def test_a_target_row_is_refused_in_the_tables_words(lang: str, row: dict, key: str,
                                                     values: dict) -> None:
    """A row with no bound or a floor above its cap: one message in the table's own words
    (floor %, cap %), no field path or JSON name; empty cells are blank, never "None"."""
    from dashboard.i18n import translate

    at = _with_targets(_ledger(), pd.DataFrame([row]))
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [translate(key, lang, **values)]
    said = at.error[0].value
    for word in ("column.min %", "column.max %"):
        assert translate(word, lang) in said, said
    assert not any(raw in said for raw in ("targets", "(min", "max)", "min or max", "0:", "."
                                            "0"))
    editor = next(d for d in at.dataframe if "max %" in d.value.columns)
    assert editor.proto.placeholder == "" and editor.proto.HasField("placeholder")


@KEEPS_DTYPES
def test_the_fit_table_leaves_an_unset_bound_blank() -> None:
    at = _with_targets(_ledger(), pd.DataFrame([{"group": "*", "max %": 10.0}]))
    assert not at.exception and not at.error, [e.value for e in at.error]
    report = next(d for d in at.dataframe if "price" in d.value.columns)
    assert report.proto.HasField("placeholder") and report.proto.placeholder == ""


@KEEPS_DTYPES
def test_the_ledger_and_fit_tables_have_headers_in_words(lang: str) -> None:
    """Headers say what a column is in the studio's language: the grouping's name over the
    groups, floor, cap, the shares before and after, the exposure price (never `min`, `price`)."""
    from dashboard.i18n import translate

    at = _with_targets(_ledger(), pd.DataFrame([{"group": "*", "max %": 10.0}]))
    assert not at.exception and not at.error, [e.value for e in at.error]
    ledger = json.loads(at.dataframe[0].proto.columns)
    assert ledger["group"]["label"] == translate("ledger.by.brand", lang)
    report = next(d for d in at.dataframe if "price" in d.value.columns)
    labels = {name: setting["label"] for name, setting in json.loads(report.proto.columns).items()
              if "label" in setting}
    assert labels == {"group": translate("ledger.by.brand", lang),
                      **{c: translate(f"ledger.fit_{c}", lang)
                         for c in ("min", "max", "before", "after", "price")}}
    assert set(labels.values()).isdisjoint(report.value.columns)
