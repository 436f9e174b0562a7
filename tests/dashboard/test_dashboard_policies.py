"""The Policies page (AppTest): compose with forms, before/after with attribution, preview
with intervals, save with a stale-version guard, publish; the Explorer's policy selector."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dashboard_support import APP, RUN_NAME, TIMEOUT, tiny_home_copy, use_tiny_home
from streamlit.testing.v1 import AppTest


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    use_tiny_home(monkeypatch)
    monkeypatch.setenv("PRISM_HOME", str(_private_home(monkeypatch)))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/policies.py").run()
    assert not at.exception, at.exception
    return at


def _table_with(at: AppTest, column: str):  # noqa: ANN202 - a DataFrame
    """The first table on the page that has `column` (st.dataframe keys are not exposed)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _private_home(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN202
    """A copy of the tiny home with its own (empty) policy store."""
    import tempfile

    return tiny_home_copy(Path(tempfile.mkdtemp(prefix="prism_policies_")) / "home")


def test_compose_preview_save_publish(page: AppTest) -> None:
    at = page
    at.text_input(key="pf_name").set_value("spring").run()
    at.number_input(key="pf_cap").set_value(1).run()
    at.radio(key="pf_method").set_value("mmr").run()
    item = at.selectbox(key="pf_pin_item").options[3]
    at.selectbox(key="pf_pin_item").set_value(item).run()
    at.number_input(key="pf_pin_slot").set_value(2).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    after = _table_with(at, "attribution")
    assert "pinned at 2" in after["attribution"].iloc[1]
    assert after["category"].notna().all()
    at.button(key="policy_preview_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    impact = _table_with(at, "excludes 0")
    assert {"metric", "policy", "against", "difference", "95% low", "95% high",
            "excludes 0"} <= set(impact.columns)
    assert (impact["95% low"] <= impact["95% high"]).all()
    at.button(key="policy_save").click().run()
    assert any("Saved spring@1" in s.value for s in at.success)
    at.button(key="policy_publish").click().run()
    assert any("spring@1 is live" in s.value for s in at.success)
    # one entry in the log, all shown: no "the newest 50 entries" pointing to the CLI
    assert not any("prism policy log" in c.value for c in at.caption)


def test_a_policy_without_a_name_is_not_saved(page: AppTest) -> None:
    from engine.policy.store import PolicyStore

    at = page
    at.number_input(key="pf_cap").set_value(2).run()
    at.button(key="policy_save").click().run()
    assert any("Give the policy a name" in e.value for e in at.error)
    assert not at.success and PolicyStore().names() == []


def test_a_stale_save_is_refused(page: AppTest) -> None:
    from engine.policy.schema import parse_policy
    from engine.policy.store import PolicyStore

    at = page
    at.text_input(key="pf_name").set_value("shared").run()
    at.number_input(key="pf_cap").set_value(2).run()
    at.button(key="policy_save").click().run()
    PolicyStore().save(parse_policy({"name": "shared", "stages": []}), base_version=1)
    at.number_input(key="pf_cap").set_value(3).run()
    at.button(key="policy_save").click().run()
    assert any("moved on" in e.value for e in at.error)


def test_bad_input_is_an_error_not_a_traceback(page: AppTest) -> None:
    at = page
    at.text_input(key="pf_name").set_value("bad name!").run()
    assert not at.exception
    assert any("name" in e.value for e in at.error)


def test_explorer_policy_selector_shows_attribution(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.policy.schema import parse_policy
    from engine.policy.store import PolicyStore
    from engine.serving.recommender import Recommender

    use_tiny_home(monkeypatch)
    monkeypatch.setenv("PRISM_HOME", str(_private_home(monkeypatch)))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    store = PolicyStore()
    recommender = Recommender.load(Path(os.environ["PRISM_HOME"]) / "runs" / RUN_NAME)
    pinned = str(recommender.catalogue.columns.ids[0])
    store.save(parse_policy({"name": "pinone", "stages": [
        {"kind": "pin", "item_id": pinned, "slot": 1}]}))
    at.run()
    at.selectbox(key="w_policy").set_value("pinone").run()
    assert not at.exception, at.exception
    table = _table_with(at, "attribution")
    assert table["item_id"].iloc[0] == pinned or "filters win" in " ".join(
        i.value for i in at.info)


def test_one_shopper_is_the_shopper_of_the_view(monkeypatch: pytest.MonkeyPatch) -> None:
    use_tiny_home(monkeypatch)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    options = at.selectbox(key="w_user").options
    third = options[min(2, len(options) - 1)]
    assert third != options[0]
    linked = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    linked.query_params["user"] = third  # a link from the Explorer (as ?user=…)
    linked.run()
    linked.switch_page("app_pages/policies.py").run()
    assert not linked.exception, linked.exception
    assert linked.selectbox(key="w_user").value == third
    other = linked.selectbox(key="w_user").options[-1]
    linked.selectbox(key="w_user").set_value(other).run()
    linked.switch_page("app_pages/explorer.py").run()
    assert linked.session_state["user"] == other  # and back: one shopper everywhere


def test_an_emptied_price_field_means_no_limit(page: AppTest) -> None:
    at = page
    low = at.number_input(key="pf_price_min")
    assert not low.proto.HasField("default")  # the browser empties it, never puts 0 back
    low.set_value(100.0).run()
    assert at.session_state["pf_price_min"] == pytest.approx(100.0, abs=1e-9)
    at.number_input(key="pf_price_min").set_value(None).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["pf_price_min"] is None
    assert not at.number_input(key="pf_price_max").proto.HasField("default")


def _keys(node) -> set:  # noqa: ANN001 - an AppTest tree node
    """The keys of every widget under `node`."""
    below = set().union(*(_keys(c) for c in getattr(node, "children", {}).values()))
    return below | ({node.key} if getattr(node, "key", None) else set())


def _errors_beside(node, key: str) -> list[str] | None:  # noqa: ANN001
    """The errors of the innermost box that holds the widget `key` and an error."""
    for child in getattr(node, "children", {}).values():
        found = _errors_beside(child, key)
        if found:
            return found
    children = list(getattr(node, "children", {}).values())
    errors = [c.value for c in children if getattr(c, "type", "") == "error"]
    return errors if errors and key in _keys(node) and "pf_boost" not in _keys(node) else None


@pytest.fixture(params=["en", "zh"])
def lang(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The studio's language, set before the page opens (AppTest formats the choices)."""
    monkeypatch.setattr("dashboard.i18n.current", lambda: request.param)
    return request.param


def test_a_price_conflict_is_said_beside_the_prices(lang: str, page: AppTest) -> None:
    from dashboard.i18n import translate

    at = page
    at.number_input(key="pf_price_min").set_value(100.0).run()
    at.number_input(key="pf_price_max").set_value(10.0).run()
    assert not at.exception, at.exception
    beside = _errors_beside(at.main, "pf_price_min") or []  # in the filter box, not below
    said = translate("policies.price_conflict", lang, low="100", high="10")
    assert said in [e.value for e in at.error], [e.value for e in at.error]
    assert said in beside, beside
    assert not any("stages" in e.value or "阶段" in e.value for e in at.error)
    assert len(at.error) == 1, [e.value for e in at.error]  # said once, by the fields
    assert len(at.tabs) == 3  # the previews stay, on the last valid policy
    assert any(translate("policies.last_valid", lang) in i.value for i in at.info)
    assert _table_with(at, "attribution") is not None


def test_the_audit_log_reads_in_the_studios_language(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.policy_view import log_frame

    monkeypatch.setattr("dashboard.i18n.current", lambda: "zh")
    rows = [{"at": 0.0, "policy": "spring", "version": 2, "action": action, "actor": "ana",
             "role": role, "source": source}
            for action, role, source in (("publish", "publisher", "studio"),
                                         ("targets refused", "viewer", "api"),
                                         ("rollback", "", ""))]
    frame = log_frame(rows)
    assert frame["操作"].tolist() == ["发布", "曝光目标（被拒绝）", "回滚"]
    assert frame["角色"].tolist() == ["发布者", "查看者", ""]
    assert frame["来源"].tolist() == ["工作台", "API", ""]


def test_the_audit_log_in_english_shows_the_stored_words(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.policy_view import log_frame

    monkeypatch.setattr("dashboard.i18n.current", lambda: "en")
    words = [("publish refused", "viewer", "api"), ("rollback", "publisher", "cli"),
             ("targets", "publisher", "studio"), ("experiment stop", "publisher", "studio")]
    frame = log_frame([{"at": 0.0, "policy": "p", "version": 1, "action": action,
                        "actor": "a", "role": role, "source": source}
                       for action, role, source in words])
    assert list(zip(frame["action"], frame["role"], frame["from"], strict=True)) == words


def test_moves_count_from_the_model_alone_table(page: AppTest) -> None:
    """An item's first "moved from n" is its rank in the model-alone table beside it (a
    boost reorders the list before the cap moves items back up)."""
    import re

    at = page
    brands = at.multiselect(key="pf_boost_brands").options
    at.multiselect(key="pf_boost_brands").set_value(brands[-3:]).run()
    at.number_input(key="pf_boost").set_value(1.0).run()
    at.number_input(key="pf_cap").set_value(1).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    before = next(d.value for d in at.dataframe if "attribution" not in d.value.columns)
    after = _table_with(at, "attribution")
    model_rank = dict(zip(before["title"], before["rank"], strict=True))
    starts = [(title, int(found[1])) for title, notes in zip(after["title"], after["attribution"],
                                                              strict=True)
              if (found := re.search(r"moved from (\d+)", notes)) and title in model_rank]
    assert starts, after["attribution"].tolist()
    assert all(model_rank[title] == start for title, start in starts), (starts, model_rank)
