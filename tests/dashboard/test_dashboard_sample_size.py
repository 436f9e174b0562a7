"""Sample-size controls never offer more shoppers than the run has, and the Explorer's weight
tile is wide enough for its label."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_support import APP, TIMEOUT, use_tiny_home
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_tiny_home(monkeypatch)


def _test_shoppers() -> int:
    from engine.runs.data import load_run_split
    from engine.runs.listing import list_runs

    (entry,) = list_runs()
    _, data = load_run_split(entry.meta, entry.path)
    return len(data.truth(data.test)[0])


@pytest.mark.parametrize(("page", "key"), [("tradeoff", "w_sample_size"),
                                           ("ledger", "ledger_sample")])
def test_the_sample_control_is_capped_at_the_shoppers_there_are(page: str, key: str) -> None:
    shoppers = _test_shoppers()
    assert shoppers < 100  # the tiny run: fewer than either page's usual sample
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    control = at.number_input(key=key)
    assert control.max == shoppers and control.value <= shoppers


def test_the_weight_tile_has_room_for_its_label() -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    (column,) = [c for c in at.columns
                 if any(m.label == "Relevance 1 − w" for m in c.metric)]
    assert column.weight >= 0.2  # of the page's width: ~200 px of a 1000 px page


def test_a_larger_sample_from_another_run_is_brought_down_to_this_run() -> None:
    shoppers = _test_shoppers()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/ledger.py").run()
    at.session_state["ledger_sample"] = 5000  # chosen on a run with many more shoppers
    at.run()
    assert not at.exception, at.exception
    assert at.number_input(key="ledger_sample").value == shoppers
