"""The Ledger says the group labels Prism makes ("promo", "regular", "new", "established",
"(none)") in Chinese, while the engine's labels — the ones targets and prices name — and data
labels (a brand that happens to be called "new") stay as they are."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from engine.core.messages import Message
from engine.exposure.groups import NO_VALUE, group_label
from tests.dashboard_support import APP, TIMEOUT, use_tiny_home


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_tiny_home(monkeypatch)


def _ledger(by: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setattr("dashboard.i18n.current", lambda: "zh")  # choices formatted as shown
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = "zh"
    at.switch_page("app_pages/ledger.py").run()
    at.selectbox(key="ledger_by").set_value(by).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _ledger_groups(by: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    at = _ledger(by, monkeypatch)
    table: pd.DataFrame = next(d.value for d in at.dataframe if "exposure_share" in d.value)
    return sorted(map(str, table["group"]))


@pytest.mark.parametrize(("by", "said"), [("promo", ["促销", "常规"]),
                                          ("new", ["新品", "老品"])])
def test_made_up_group_labels_read_in_chinese(by: str, said: list[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    shown = _ledger_groups(by, monkeypatch)
    assert shown and set(shown) <= set(said), shown


def test_only_labels_prism_makes_are_translated() -> None:
    assert group_label("promo", "promo").code == "group_promo"
    assert group_label("colour", NO_VALUE).code == "group_none"  # an item column's
    assert str(group_label("new", "established")) == "established"  # the engine's id
    for by, label in (("brand", "new"), ("brand", "promo"), ("price_band", "P1 < 5.00")):
        assert not isinstance(group_label(by, label), Message), (by, label)


@pytest.mark.parametrize(("by", "lang", "said"), [
    ("price_band", "en", "no price"), ("price_band", "zh", "无价格"),
    ("brand", "en", "no brand"), ("brand", "zh", "无品牌"),
    ("top_category", "en", "no category"), ("top_category", "zh", "无品类")])
def test_the_group_of_items_without_a_value_says_what_they_lack(
        by: str, lang: str, said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.i18n import say

    monkeypatch.setattr("dashboard.i18n.current", lambda: lang)
    assert say(group_label(by, NO_VALUE)) == said


def test_a_target_on_a_translated_group_fits_its_engine_label(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The editor offers "促销"; the fit targets the engine's "promo" and reports it as 促销."""
    at = _ledger("promo", monkeypatch)
    at.session_state["ledger_targets"] = {"edited_rows": {}, "deleted_rows": [],
                                          "added_rows": [{"group": "促销", "min %": 1.0}]}
    at = at.button(key="ledger_fit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    report = next(d.value for d in at.dataframe if "after" in d.value.columns)
    assert list(report["group"]) == ["促销"], report
    prices = at.session_state["ledger_prices"]
    assert "promo" in json.dumps(prices) and "促销" not in json.dumps(prices, ensure_ascii=False)
