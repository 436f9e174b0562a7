"""Number boxes take any entry: one outside the setting's range is brought into it and the
page says, in one line, what was typed, what is used and why (a box with bounds refused it
with only a tooltip and kept the old value without a word)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_support import APP, TIMEOUT, use_tiny_home
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_tiny_home(monkeypatch)


def _page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    if page is not None:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def _warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


@pytest.mark.parametrize(("lang", "typed", "used", "said"), [
    ("en", 50, 30, "k: from 3 to 30, so 50 was lowered to 30."),
    ("en", 1, 3, "k: from 3 to 30, so 1 was raised to 3."),
    ("zh", 50, 30, "k：范围为 3 到 30，因此 50 已改为 30。")])
def test_the_explorer_s_k_takes_any_entry_and_says_what_it_used(
        lang: str, typed: int, used: int, said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dashboard.i18n.current", lambda: lang)  # AppTest formats the choices
    at = _page()
    box = at.number_input(key="w_k")
    assert box.max is None and box.value == 10
    box.set_value(typed).run()
    assert not at.exception, at.exception
    assert at.number_input(key="w_k").value == used and at.session_state["k"] == used
    assert said in _warnings(at), _warnings(at)
    at.run()  # said once, for the entry
    assert said not in _warnings(at)


def test_the_explorer_s_k_names_the_catalogue_when_it_is_the_bound() -> None:
    from dashboard.sample_box import k_range

    assert k_range(12).note(50) == "k: the catalogue has 12 items, so 50 was lowered to 12."
    assert k_range(1).note(5) == "k: the catalogue has 1 item, so 5 was lowered to 1."
    assert k_range(200).fit(50) == 30 and k_range(200).note(20) is None


def _start_training(monkeypatch: pytest.MonkeyPatch, **typed: float) -> tuple[AppTest, list]:
    """The Training page after Start with the boxes `typed` (widget key: value); the jobs it
    started (their specs: nothing is trained)."""
    from dashboard import jobs

    started: list = []
    monkeypatch.setattr(jobs, "start", lambda spec, lock: started.append(spec))
    at = _page("training")
    for key, value in typed.items():
        assert at.number_input(key=key).max is None
        at.number_input(key=key).set_value(value)
    next(b for b in at.button if b.label == "Train at the α above only").click().run()
    assert not at.exception, at.exception
    return at, started


@pytest.mark.parametrize(("key", "typed", "used", "said"), [
    ("train_epochs", 500, 200, "Epochs (at most; stops early): from 1 to 200, so 500 was "
                               "lowered to 200."),
    ("train_epochs", 0, 1, "Epochs (at most; stops early): from 1 to 200, so 0 was raised "
                           "to 1."),
    ("train_trials", 1000, 200, "from 1 to 200, so 1000 was lowered to 200."),
    ("train_epsilon", 0.05, 0.1, "Privacy budget ε: from 0.1 to 100, so 0.05 was raised to "
                                 "0.1.")])
def test_the_training_form_s_boxes_take_any_entry_and_say_what_they_used(
        monkeypatch: pytest.MonkeyPatch, key: str, typed: float, used: float,
        said: str) -> None:
    at, _ = _start_training(monkeypatch, **{key: typed})
    assert at.number_input(key=key).value == pytest.approx(used)
    assert at.session_state["_train_form_values"][key] == pytest.approx(used)
    assert any(said in w for w in _warnings(at)), _warnings(at)  # after the start's rerun
    at.run()
    assert not any(said in w for w in _warnings(at))  # said once


def test_a_training_started_with_too_many_epochs_runs_the_most(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _, started = _start_training(monkeypatch, train_epochs=500)
    assert [spec.train_config.epochs for spec in started] == [200]


@pytest.mark.parametrize(("typed", "used", "said"), [
    (80, 50, "k: from 1 to 50, so 80 was lowered to 50."),
    (0, 1, "k: from 1 to 50, so 0 was raised to 1.")])
def test_the_policies_k_takes_any_entry_and_says_what_it_used(typed: int, used: int,
                                                              said: str) -> None:
    at = _page("policies")
    box = at.number_input(key="policy_k")
    assert box.max is None and box.value == 10
    box.set_value(typed).run()
    assert not at.exception, at.exception
    assert at.number_input(key="policy_k").value == used
    assert said in _warnings(at), _warnings(at)


@pytest.mark.parametrize(("page", "key", "typed", "said"), [
    ("search", "search_k", 99, "k: from 3 to 30, so 99 was lowered to 30."),
    ("ledger", "ledger_new_days", 0, "New = first seen within this many days: from 1 to 3650, "
                                     "so 0 was raised to 1.")])
def test_the_other_boxes_say_what_they_used(page: str, key: str, typed: int,
                                            said: str) -> None:
    at = _page(page)
    if page == "ledger":  # the days box counts for the grouping by newness only
        at.selectbox(key="ledger_by").set_value("new").run()
    assert at.number_input(key=key).max is None
    at.number_input(key=key).set_value(typed).run()
    assert not at.exception, at.exception
    assert at.number_input(key=key).value in (1, 30)
    assert said in _warnings(at), _warnings(at)


@pytest.mark.parametrize(("key", "typed", "used", "said"), [
    ("pf_candidates", 9000, 5000, "from 1 to 5000, so 9000 was lowered to 5000."),
    ("pf_share", 1.5, 1.0, "from 0 to 1, so 1.5 was lowered to 1."),
    ("pf_pin_slot", 0, 1, "so 0 was raised to 1."),
    ("pf_cap", -2, 0, "At most this many items per value (0 = no cap): at least 0, so -2 was "
                      "raised to 0."),
    ("pf_price_min", -5.0, 0.0, "Lowest price (empty = no limit): at least 0, so -5 was raised "
                                "to 0.")])
def test_the_policy_form_s_boxes_say_what_they_used(key: str, typed: float, used: float,
                                                    said: str) -> None:
    at = _page("policies")
    assert at.number_input(key=key).max is None
    at.number_input(key=key).set_value(typed).run()
    assert not at.exception, at.exception
    assert at.number_input(key=key).value == pytest.approx(used)
    assert any(said in w for w in _warnings(at)), _warnings(at)
