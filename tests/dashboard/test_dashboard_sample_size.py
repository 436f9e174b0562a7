"""Sample-size controls never use more shoppers than the run has (and say when they lower a
size typed), and the Explorer's weight tile is wide enough for its label."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_support import APP, TIMEOUT, held_out_shoppers, use_tiny_home
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_tiny_home(monkeypatch)


@pytest.mark.parametrize(("page", "key"), [("tradeoff", "w_sample_size"),
                                           ("ledger", "ledger_sample")])
def test_a_sample_above_the_shoppers_there_are_is_lowered_and_said(page: str, key: str) -> None:
    """The sample box takes any size from 1 up; one above the run's held-out shoppers is
    lowered to all of them and the page says so (a box capped at the shoppers refused it
    with only a tooltip and kept the old sample)."""
    shoppers = held_out_shoppers()
    assert shoppers < 100  # the tiny run: fewer than either page's usual sample
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    control = at.number_input(key=key)
    assert control.max is None and control.value <= shoppers
    assert "lowered" not in " ".join(w.value for w in at.warning)
    control.set_value(500).run()
    assert not at.exception, at.exception
    assert at.number_input(key=key).value == shoppers
    said = f"The run has {shoppers} held-out shoppers: 500 was lowered to {shoppers}"
    assert any(said in w.value for w in at.warning), [w.value for w in at.warning]
    if page == "tradeoff":
        assert at.session_state["sample_size"] == shoppers
    at.run()  # said once, for the entry
    assert not any(said in w.value for w in at.warning)


def test_the_weight_tile_has_room_for_its_label() -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    (column,) = [c for c in at.columns
                 if any(m.label == "Relevance 1 − w" for m in c.metric)]
    assert column.weight >= 0.2  # of the page's width: ~200 px of a 1000 px page


def test_a_larger_sample_from_another_run_is_brought_down_to_this_run() -> None:
    shoppers = held_out_shoppers()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/ledger.py").run()
    at.session_state["ledger_sample"] = 5000  # chosen on a run with many more shoppers
    at.run()
    assert not at.exception, at.exception
    assert at.number_input(key="ledger_sample").value == shoppers


def _fit_page() -> None:
    import streamlit as st

    from dashboard import view_state

    view_state.fit_to_run(int(st.query_params["n_items"]),
                          int(st.query_params["shoppers"]) or None)


@pytest.mark.parametrize(("n_items", "shoppers", "k", "sample"),
                         [(3, 386, 3, 386), (3000, 386, 10, 386), (3, 0, 3, 500)])
def test_k_and_the_sample_fit_the_run(n_items: int, shoppers: int, k: int,
                                      sample: int) -> None:
    """k (default 10) at most the catalogue, the sample (default 500) at most the held-out
    shoppers; a run whose data is gone (0 here: None) keeps the sample."""
    at = AppTest.from_function(_fit_page)
    at.query_params["n_items"], at.query_params["shoppers"] = str(n_items), str(shoppers)
    at.run()
    assert not at.exception, at.exception
    assert (at.session_state["k"], at.session_state["sample_size"]) == (k, sample)


@pytest.mark.parametrize("page", ["scenarios", "explorer"])
def test_every_page_and_the_link_say_the_run_s_shoppers(page: str) -> None:
    shoppers = held_out_shoppers()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["sample_size"] = "500"
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    assert at.session_state["sample_size"] == shoppers
    assert at.query_params["sample_size"] in (str(shoppers), [str(shoppers)])
    if page == "scenarios":
        assert any(f"sample {shoppers} shoppers" in m.value for m in at.markdown)


@pytest.mark.parametrize(("page", "key", "least"), [("tradeoff", "w_sample_size", 50),
                                                    ("ledger", "ledger_sample", 100)])
def test_a_sample_below_the_minimum_is_raised_and_said(page: str, key: str, least: int) -> None:
    """The sample box takes any whole number; a size below the sample's minimum (the page's,
    at most the run's shoppers), 0 or less included, is raised to it and the page says so."""
    low = min(least, held_out_shoppers())
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert at.number_input(key=key).min is None
    for asked in (5, 0):
        at.number_input(key=key).set_value(asked).run()
        assert not at.exception, at.exception
        assert at.number_input(key=key).value == low
        assert any(f"at least {low} shoppers: {asked} was raised to {low}" in w.value
                   for w in at.warning), [w.value for w in at.warning]


@pytest.mark.parametrize(("lang", "asked", "said"), [
    ("en", 5, "The sample needs at least 50 shoppers: 5 was raised to 50."),
    ("en", 500, "The run has 386 held-out shoppers: 500 was lowered to 386, the whole set."),
    ("zh", 500, "本运行只有 386 位留出测试顾客：500 已改为 386，即全部顾客。"),
    ("en", 9000, "The sample holds at most 5000 shoppers: 9000 was lowered to 5000."),
    ("en", 386, None)])
def test_the_sample_range_says_what_it_changed(monkeypatch: pytest.MonkeyPatch, lang: str,
                                               asked: int, said: str | None) -> None:
    from dashboard import i18n
    from dashboard.sample_box import SampleRange

    monkeypatch.setattr(i18n, "current", lambda: lang)
    shoppers = 9000 if asked == 9000 else 386
    sample = SampleRange.of(shoppers, 50, 5000)
    assert sample.fit(asked) == min(max(asked, 50), min(shoppers, 5000))
    assert sample.note(asked) == said
