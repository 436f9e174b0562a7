"""The Policies form keeps every stage it is given, and Publish publishes the version on screen.

Each example policy, loaded into the form and saved unchanged, is stored exactly as it was
(every stage, field, label, segment and the stage order); Publish names the version it
publishes and refuses a form that was never saved, holds unsaved edits, or is stale."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_support import APP, TIMEOUT
from streamlit.testing.v1 import AppTest
from test_dashboard_policies import _private_home

from dashboard.policy_view import policy_body
from engine.policy.schema import parse_policy
from engine.policy.store import PolicyStore

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "policies").glob("*.json"))


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Path:
    from dashboard_support import use_tiny_home

    use_tiny_home(monkeypatch)
    folder = _private_home(monkeypatch)
    monkeypatch.setenv("PRISM_HOME", str(folder))
    return folder


def _open(name: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/policies.py").run()
    pick = at.selectbox(key="policy_pick")
    label = next(option for option in pick.options if option.startswith(f"{name} ("))
    pick.set_value(label).run()
    assert not at.exception, at.exception
    return at


def test_there_are_examples_to_check() -> None:
    assert {path.stem for path in EXAMPLES} >= {"every-stage", "amazon-spring",
                                                 "calm-diversity"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_saved_unchanged_through_the_form_is_stored_exactly(home: Path,
                                                                       path: Path) -> None:
    store = PolicyStore()
    original = store.save(parse_policy(path.read_text(encoding="utf-8"), str(path)))
    at = _open(original.name)
    at.button(key="policy_save").click().run()
    assert not at.error, [e.value for e in at.error]
    saved = store.get(original.name)
    assert saved.version == original.version + 1
    assert policy_body(saved) == policy_body(original)


def test_publish_names_the_version_on_screen_and_refuses_a_stale_one(home: Path) -> None:
    store = PolicyStore()
    first = store.save(parse_policy({"name": "shown", "stages": [
        {"kind": "cap", "column": "brand", "max_items": 2}]}))
    at = _open("shown")
    assert at.button(key="policy_publish").label == "Publish version 1"
    store.save(parse_policy({"name": "shown", "stages": [
        {"kind": "cap", "column": "brand", "max_items": 3}]}), base_version=first.version)
    at.button(key="policy_publish").click().run()
    assert any("version 2 was saved since" in e.value for e in at.error), \
        [e.value for e in at.error]
    assert store.live_versions().get("shown") is None


def test_publish_refuses_unsaved_edits_then_publishes_the_saved_version(home: Path) -> None:
    store = PolicyStore()
    store.save(parse_policy({"name": "edited", "stages": [
        {"kind": "cap", "column": "brand", "max_items": 2}]}))
    at = _open("edited")
    at.number_input(key="pf_cap").set_value(3).run()
    at.button(key="policy_publish").click().run()
    assert any("not in edited@1" in e.value for e in at.error), [e.value for e in at.error]
    at.button(key="policy_save").click().run()
    assert at.button(key="policy_publish").label == "Publish version 2"
    at.button(key="policy_publish").click().run()
    assert any("edited@2 is live" in s.value for s in at.success)
    assert store.live_versions() == {"edited": 2}


def test_publish_before_save_says_to_save_in_the_studio(home: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/policies.py").run()
    at.text_input(key="pf_name").set_value("fresh").run()
    at.button(key="policy_publish").click().run()
    errors = " ".join(e.value for e in at.error)
    assert "Save as a new version" in errors and "prism policy" not in errors


def test_methods_are_shown_by_name(home: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/policies.py").run()
    shown = at.radio(key="pf_method").options
    assert shown == ["No re-ranking", "MMR", "DPP", "Calibrated"]


def test_a_cap_is_offered_per_groupings_in_words_not_per_texts_or_prices(home: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/policies.py").run()
    shown = at.selectbox(key="pf_cap_column").options
    assert shown[:3] == ["Brand", "Category", "Price band"]
    assert not {"description", "price", "title", "item_id", "div_category"} & set(shown)


@pytest.mark.parametrize(("column", "said"), [("brand", "每个品牌最多 2 个"),
                                              ("price_band", "每个价格带最多 2 个")])
def test_a_cap_label_names_its_grouping_in_chinese(column: str, said: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.i18n import say
    from engine.policy.compile import stage_label
    from engine.policy.schema import CapStage

    monkeypatch.setattr("dashboard.i18n.current", lambda: "zh")
    assert say(stage_label(CapStage(kind="cap", column=column, max_items=2))) == said


def test_attribution_sits_beside_the_title(home: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/policies.py").run()
    at.number_input(key="pf_cap").set_value(1).run()
    after = next(d.value for d in at.dataframe if "attribution" in d.value.columns)
    assert list(after.columns[:3]) == ["rank", "title", "attribution"]


def test_scope_candidates_availability_and_repeated_stages_round_trip(home: Path) -> None:
    store = PolicyStore()
    original = store.save(parse_policy({"name": "everything", "include_unavailable": True,
                                          "scope": {"dataset": "shop"}, "n_candidates": 300,
                                          "description": "all of it", "stages": [
        {"kind": "diversify", "method": "calibrated", "weight": 0.4, "target_mix": 0.3,
         "alpha": 0.0},  # inside the starter run's trained range
        {"kind": "floor", "min_relevance": 0.25},
        {"kind": "boost", "match": {"brands": ["b1"], "promo": True}, "strength": 0.3},
        {"kind": "cap", "column": "category", "max_items": 4},
        {"kind": "cap", "column": "brand", "max_items": 2, "label": "second cap"},
        {"kind": "filter", "keep": {"promo": True}}]}))
    at = _open("everything")
    at.button(key="policy_save").click().run()
    assert not at.error, [e.value for e in at.error]
    assert policy_body(store.get("everything")) == policy_body(original)
