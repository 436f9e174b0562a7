"""Sign-in and roles in the studio (AppTest): without sign-in the studio is this computer's
only and its user a publisher; with sign-in a viewer sees no save or publish button, an
editor saves but does not publish, a publisher publishes, and the log names them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from dashboard_support import APP, TIMEOUT, tiny_home_copy, use_home
from streamlit.testing.v1 import AppTest

AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "prism", "client_secret": "prism-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
ROLES = """[users]
"vera@shop.test" = "viewer"
"ed@shop.test" = "editor"
"pia@shop.test" = "publisher"
"""


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the tiny home with its own empty policy store and a roles file."""
    target = use_home(monkeypatch,
                      tiny_home_copy(Path(tempfile.mkdtemp(prefix="prism_access_")) / "home"))
    (target / "roles.toml").write_text(ROLES)
    monkeypatch.delenv("PRISM_ROLES", raising=False)
    return target


def policies_page(email: str | None) -> AppTest:
    """The Policies page as `email` signed in (None: no sign-in configured)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if email is not None:
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": email, "sub": email}
    at.run()
    at.switch_page("app_pages/policies.py").run()
    assert not at.exception, at.exception
    at.text_input(key="pf_name").set_value("spring").run()
    at.number_input(key="pf_cap").set_value(2).run()
    return at


def buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.button}


def test_without_sign_in_the_local_user_publishes_and_is_told_so(home: Path) -> None:
    at = policies_page(None)
    assert any("Local studio: no sign-in is configured" in c.value for c in at.sidebar.caption)
    at.button(key="policy_save").click().run()
    at.button(key="policy_publish").click().run()
    assert any("spring@1 is live" in s.value for s in at.success)
    from engine.access import Gate

    entry = Gate().log()[0]
    assert (entry["action"], entry["version"], entry["role"], entry["source"]) == (
        "publish", 1, "publisher", "studio")
    assert entry["actor"].endswith("(this computer)")


def test_a_signed_in_viewer_gets_no_write_button(home: Path) -> None:
    at = policies_page("vera@shop.test")
    assert {"policy_save", "policy_publish", "policy_rollback"}.isdisjoint(buttons(at))
    assert any("vera@shop.test" in c.value and "viewer" in c.value for c in at.sidebar.caption)
    assert any("not save or publish" in i.value for i in at.info)


def test_an_editor_saves_but_does_not_publish(home: Path) -> None:
    at = policies_page("ed@shop.test")
    assert "policy_save" in buttons(at) and "policy_publish" not in buttons(at)
    at.button(key="policy_save").click().run()
    assert any("Saved spring@1" in s.value for s in at.success)
    from engine.policy.store import PolicyStore

    assert PolicyStore().live_versions() == {}


def test_a_publisher_publishes_and_the_log_on_the_page_names_them(home: Path) -> None:
    at = policies_page("pia@shop.test")
    at.button(key="policy_save").click().run()
    at.button(key="policy_publish").click().run()
    assert any("spring@1 is live" in s.value for s in at.success)
    log = at.table[0].value
    assert log[["policy", "version", "action", "who", "role", "from"]].values.tolist() == [
        ["spring", 1, "publish", "pia@shop.test", "publisher", "studio"]]


def test_someone_without_a_role_sees_nothing(home: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "stranger@else.test"}
    at.run()
    assert any("no role is given to you" in e.value for e in at.error)
    assert not at.dataframe and not at.get("plotly_chart")


def test_signed_out_visitors_only_see_the_sign_in_button(home: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False}
    at.run()
    assert buttons(at) == {"access_sign_in"} and not at.dataframe


def test_without_sign_in_the_studio_refuses_to_serve_other_interfaces(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit import config

    monkeypatch.setitem(os.environ, "PRISM_HOME", str(home))
    previous = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.run()
    finally:
        config.set_option("server.address", previous)
    assert any("listening on 0.0.0.0 with no sign-in" in e.value for e in at.error)
    assert not at.dataframe


def fitted_ledger(email: str | None) -> AppTest:
    """The Ledger page with prices fitted for a ceiling on the most exposed brand."""
    import pandas as pd

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if email is not None:
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": email, "sub": email}
    at.run()
    at.switch_page("app_pages/ledger.py").run()
    table = at.dataframe[0].value
    ceiling = 100 * float(table.iloc[0]["exposure_share"]) / 2
    rows = pd.DataFrame([{"group": str(table.iloc[0]["group"]), "max %": ceiling}])
    at.session_state["ledger_targets"] = {"edited_rows": {}, "deleted_rows": [],
                                          "added_rows": rows.to_dict(orient="records")}
    at.button(key="ledger_fit").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def test_a_publisher_puts_exposure_targets_live_and_it_is_logged(home: Path) -> None:
    at = fitted_ledger("pia@shop.test")
    at.text_input(key="ledger_live_policy").set_value("fair-brands").run()
    at.button(key="ledger_go_live").click().run()
    assert any("Exposure targets are live: fair-brands@1" in s.value for s in at.success)
    from engine.access import Gate

    gate = Gate()
    assert gate.store.live_versions() == {"fair-brands": 1}
    assert [s.kind for s in gate.store.get("fair-brands", 1).stages] == ["exposure_targets"]
    assert [(e["action"], e["actor"], e["source"]) for e in gate.log()] == [
        ("targets", "pia@shop.test", "studio")]


def test_an_editor_fits_prices_but_cannot_put_them_live(home: Path) -> None:
    at = fitted_ledger("ed@shop.test")
    assert "ledger_go_live" not in buttons(at)
    assert any("needs the publisher role" in c.value for c in at.caption)
