"""The Policies page's picker after a save, a publish and a roll back (AppTest): it stays on
the policy, shows its new version and live state, and tells the browser that new option text
— the browser sends back the text it holds, and an old text matches no option, which put the
picker on "(new policy)" and emptied the form, so Roll back rolled back nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from dashboard_support import APP, TIMEOUT, tiny_home_copy, use_home
from streamlit.testing.v1 import AppTest

from dashboard.i18n import translate


@pytest.fixture(params=["en", "zh"])
def page(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """`?policy=spring&lang=…` with spring saved twice and version 2 live."""
    from engine.policy.schema import parse_policy
    from engine.policy.store import PolicyStore

    use_home(monkeypatch, tiny_home_copy(Path(tempfile.mkdtemp(prefix="prism_pick_")) / "home"))
    monkeypatch.setattr("dashboard.i18n.current", lambda: request.param)  # AppTest formats
    store = PolicyStore()
    for base in (0, 1):
        store.save(parse_policy({"name": "spring", "stages": []}), base_version=base)
    store.publish("spring", 2)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(policy="spring", lang=request.param)
    at.switch_page("app_pages/policies.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _said(at: AppTest, key: str, **values: object) -> str:
    return translate(key, at.query_params["lang"], **values)


def _click(at: AppTest, key: str, done: str) -> None:
    at.button(key=key).click().run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert [s.value for s in at.success] == [done]


def _picker_shows(at: AppTest, latest: int, live: int) -> None:
    """The picker is on spring, shows `latest` and `live`, and the browser is given that text."""
    picker = at.selectbox(key="policy_pick")
    text = _said(at, "policies.option", name="spring", latest=latest, live=live)
    assert picker.value == "spring" and picker.options[picker.index] == text
    assert picker.proto.set_value and picker.proto.raw_value == text
    assert at.text_input(key="pf_name").value == "spring"


def test_save_publish_then_roll_back_stays_on_the_policy(page: AppTest) -> None:
    from engine.policy.store import PolicyStore

    at = page
    _click(at, "policy_save", _said(at, "policies.saved", name="spring", version=3))
    _picker_shows(at, latest=3, live=2)
    _click(at, "policy_publish", _said(at, "policies.live", name="spring", version=3))
    _picker_shows(at, latest=3, live=3)
    _click(at, "policy_rollback", _said(at, "policies.rolled_back", name="spring", version=2))
    _picker_shows(at, latest=3, live=2)
    assert PolicyStore().live_versions() == {"spring": 2}
