"""The Experiments page (AppTest): per-arm intervals and the verdict from stored lists and
events, and a publisher starting an experiment through the gate."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from dashboard_support import APP, TIMEOUT, tiny_home_copy, use_home
from streamlit.testing.v1 import AppTest


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_home(monkeypatch,
                    tiny_home_copy(Path(tempfile.mkdtemp(prefix="prism_experiments_")) / "home"))


def _logged_experiment(home: Path) -> None:
    """150 lists per arm; arm B's lists are clicked twice as often."""
    from engine.events.store import EventStore, ServedList
    from engine.experiments.assign import Arm, Experiment
    from engine.experiments.store import ExperimentStore
    from engine.serving.recommender import Recommender

    service = Recommender.load(home / "runs" / "tiny")
    items, users = service.catalogue.items["item_id"].astype(str).tolist(), service.user_ids
    events = EventStore()
    store = ExperimentStore(events)
    store.create(Experiment("spring", (Arm("A", "none", 0.5), Arm("B", "none", 0.5))), "me")
    rng = np.random.default_rng(0)
    for n in range(300):
        arm = "AB"[n % 2]
        user = users[(n // 2) % 40 * 2 + (n % 2)]
        shown = tuple(items[j] for j in rng.choice(len(items), 10, replace=False))
        events.log_list(ServedList(f"r{n}", user, None, "none", 0.0, None, shown))
        store.log_arm(f"r{n}", "spring", arm, None)
        for item in shown[:2 if arm == "B" else 1]:
            events.add_event(user, item, "click", 1.0, f"r{n}")


def _page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/experiments.py").run()
    assert not at.exception, at.exception
    return at


def test_the_page_shows_each_arm_with_intervals_and_the_verdict(home: Path) -> None:
    _logged_experiment(home)
    at = _page()
    table = at.dataframe[0].value
    assert table["Arm"].tolist() == ["A", "B"]
    assert table["Clicks per list"].str.startswith("1.0000 [").iloc[0]
    assert table["Clicks per list"].str.startswith("2.0000 [").iloc[1]
    assert [s.value for s in at.success] == ["Verdict on Clicks per list: B beats A."]
    assert [m.value for m in at.metric] == ["150", "150"]


def test_with_no_experiment_a_publisher_starts_one(home: Path) -> None:
    from engine.events.store import EventStore
    from engine.experiments.store import ExperimentStore

    at = _page()
    assert any("No experiment yet" in info.value for info in at.info)
    at.text_input(key="experiments_name").set_value("first")
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Experiment first is running."]
    assert not any("No experiment yet" in info.value for info in at.info)  # never both
    assert any("No lists served yet" in info.value for info in at.info)
    assert not at.get("plotly_chart")  # no empty axes before a list is served
    running = ExperimentStore(EventStore()).running()
    assert running.name == "first" and running.info["created_by"].endswith("(publisher, studio)")


def test_enter_in_the_name_box_does_not_start_an_experiment(home: Path) -> None:
    """Only the Start button starts one: Enter after typing a name leaves the arms, the verdict
    and the exploration still to set (the form does not submit on Enter)."""
    at = _page()
    forms = [node for node in _walk(at.main) if getattr(node, "type", None) == "form"]
    assert len(forms) == 1 and forms[0].proto.form.enter_to_submit is False


def _walk(node):  # noqa: ANN001, ANN202 - AppTest nodes
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def test_an_exploration_above_the_most_starts_at_the_most_and_says_so(home: Path) -> None:
    """The exploration box takes any entry; one above 20 starts the experiment at 20 and the
    page says so after the start, once."""
    from engine.events.store import EventStore
    from engine.experiments.store import ExperimentStore

    at = _page()
    assert at.number_input(key="experiments_temperature").max is None
    at.text_input(key="experiments_name").set_value("hot")
    at.number_input(key="experiments_temperature").set_value(50.0)
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Experiment hot is running."]
    said = "from 0 to 20, so 50 was lowered to 20."
    assert any(said in w.value for w in at.warning), [w.value for w in at.warning]
    assert ExperimentStore(EventStore()).running().exploration.temperature == 20.0
    at.run()
    assert not any(said in w.value for w in at.warning)
