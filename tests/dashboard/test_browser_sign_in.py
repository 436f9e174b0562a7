"""Sign-in through a real OpenID Connect provider, in a real Chromium: a viewer sees no
Publish button and the engine refuses the viewer's publish; a publisher publishes; the
Policies page's audit log names both.

The provider is `oidc-provider-mock` (PyPI), started by the test on 127.0.0.1 as a child
process and stopped by its pid; the studio reads its `[auth]` section from a secrets file in
the test's temporary folder and its roles from the home's roles.toml.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from browser_support import (
    LONG,
    chromium,
    free_port,
    go_to,
    idle,
    pick_option,
    require_chromium,
    studio,
    wait_text,
)
from dashboard_support import tiny_home_copy

pytestmark = [pytest.mark.slow, pytest.mark.browser]
VIEWER, PUBLISHER = "vera@shop.test", "pia@shop.test"


@contextmanager
def oidc_provider() -> Iterator[str]:
    """Issuer URL of a local OpenID provider (any client id and secret are accepted)."""
    if importlib.util.find_spec("oidc_provider_mock") is None:
        pytest.skip("oidc-provider-mock (a dev dependency) is not installed")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--host",
                                "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # poll its discovery document (an upper bound, not a speed check)
            try:
                with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration",
                                            timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the OpenID provider did not start") from None
                time.sleep(0.2)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


def prepared_home(scratch: Path) -> Path:
    """The tiny home with an empty policy store, a draft policy and the roles file."""
    home = tiny_home_copy(scratch / "home")
    (home / "roles.toml").write_text(f'[users]\n"{VIEWER}" = "viewer"\n'
                                     f'"{PUBLISHER}" = "publisher"\n')
    from engine.access import Actor, Gate
    from engine.policy.schema import parse_policy

    Gate(home / "scenarios.sqlite").save_draft(
        Actor("ed@shop.test", "editor", "cli"),
        parse_policy({"name": "spring", "stages": [{"kind": "cap", "column": "brand",
                                                   "max_items": 2}]}))
    return home


def secrets_file(scratch: Path, issuer: str, port: int) -> Path:
    path = scratch / "secrets.toml"
    path.write_text(f'[auth]\nredirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
                    f'cookie_secret = "{"c" * 32}"\nclient_id = "prism-studio"\n'
                    f'client_secret = "prism-test-secret"\n'
                    f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n')
    return path


def sign_in(browser, base: str, email: str):  # noqa: ANN001, ANN201 - playwright objects
    """A fresh browser session signed in as `email` through the provider's form."""
    page = browser.new_context(viewport={"width": 1280, "height": 1300}).new_page()
    page.set_default_timeout(LONG)
    page.goto(base)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_placeholder("sub").fill(email)  # the provider's own authorization form
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{base}/**", timeout=LONG)
    wait_text(page, f"Signed in as {email}")
    idle(page)
    return page


def open_publish_tab(page, policy: str) -> None:  # noqa: ANN001 - playwright Page
    go_to(page, "Policies")
    pick_option(page, "Edit", policy)
    page.get_by_role("tab", name="Save & publish").click()
    idle(page)


def test_a_viewer_cannot_publish_a_publisher_can_and_the_log_names_both() -> None:
    require_chromium()
    from engine.access import AccessDenied, Actor, Gate

    scratch = Path(tempfile.mkdtemp(prefix="prism_sign_in_"))
    home = prepared_home(scratch)
    port = free_port()
    with oidc_provider() as issuer, studio(home, port=port, extra_args=(
            "--secrets.files", str(secrets_file(scratch, issuer, port)))) as base, \
            chromium() as browser:
        viewer = sign_in(browser, base, VIEWER)
        open_publish_tab(viewer, "spring")
        wait_text(viewer, "not save or publish")
        for key in ("policy_save", "policy_publish", "policy_rollback"):
            assert viewer.locator(f".st-key-{key} button").count() == 0, key
        gate = Gate(home / "scenarios.sqlite")  # what the page would call, had it a button
        with pytest.raises(AccessDenied, match="needs the publisher role"):
            gate.publish(Actor(VIEWER, "viewer", "studio"), "spring")

        publisher = sign_in(browser, base, PUBLISHER)
        open_publish_tab(publisher, "spring")
        publisher.locator(".st-key-policy_publish button").click()
        wait_text(publisher, "spring@1 is live.")
        idle(publisher)
        log = publisher.locator('[data-testid="stTable"]').last.inner_text()
        assert log.index(PUBLISHER) < log.index(VIEWER), log  # newest first
        assert "publish refused" in log and "viewer" in log and "publisher" in log
    assert gate.store.live_versions() == {"spring": 1}
    assert [(e["action"], e["actor"], e["role"], e["source"]) for e in gate.log()] == [
        ("publish", PUBLISHER, "publisher", "studio"),
        ("publish refused", VIEWER, "viewer", "studio")]
    shutil.rmtree(scratch, ignore_errors=True)
