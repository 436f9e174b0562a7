"""Every control a merchandiser sets survives every page and comes back, in a real Chromium.

Each control (run, segment, shopper, method, policy, sample size, then the diversity weight
α and k inside the Explorer's live fragment, language last) is set by hand; then every page
is visited: each page's link must hold the whole view, and back on the Explorer and the
Trade-off page every widget shows what was set. Waits follow the app's own run state.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (
    LONG,
    chromium,
    enter_text,
    go_to,
    idle,
    open_page,
    pick_option,
    require_chromium,
    selected,
    studio,
    wait_text,
)
from dashboard_support import RUN_NAME, prism_home, tiny_home_copy

from dashboard.i18n import translate

pytestmark = [pytest.mark.slow, pytest.mark.browser]

OTHER_RUN = "tiny-copy"  # not the default run, so choosing it is a real choice
POLICY = "pin-first"
PAGES = ("tradeoff", "ledger", "training", "catalogue", "search", "scenarios", "import",
         "policies", "explorer")


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """A copy of the tiny home with a second run and one stored policy."""

    require_chromium()
    folder = tiny_home_copy(Path(tempfile.mkdtemp(prefix="prism_view_")) / "home")
    shutil.copytree(folder / "runs" / RUN_NAME, folder / "runs" / OTHER_RUN)
    with prism_home(folder):
        from engine.policy.schema import parse_policy
        from engine.policy.store import PolicyStore
        from engine.serving.recommender import Recommender

        first = str(Recommender.load(folder / "runs" / OTHER_RUN).catalogue.columns.ids[0])
        PolicyStore().save(parse_policy({"name": POLICY, "stages": [
            {"kind": "pin", "item_id": first, "slot": 1}]}))
    (folder / "studio.json").unlink(missing_ok=True)
    yield folder
    shutil.rmtree(folder.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(home: Path) -> Iterator[tuple[str, object]]:
    with studio(home) as base, chromium() as instance:
        yield base, instance


def _en(key: str) -> str:
    return translate(key, "en")


def _pick_second(page, label: str) -> str:  # noqa: ANN001 - playwright Page
    """Choose the second option of the selectbox labelled `label`; returns what it shows."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.get_by_role("button", name="Open").click()
    page.get_by_role("option").nth(1).click()
    idle(page)
    return selected(page, label)


def _wait_url(page, params: dict[str, str]) -> None:  # noqa: ANN001 - playwright Page
    """Wait until the page's link holds every parameter of the view and the run is over."""
    page.wait_for_function(
        """wanted => { const q = new URLSearchParams(location.search);
                       return Object.entries(wanted).every(([k, v]) => q.get(k) === v); }""",
        arg=params, timeout=LONG)
    idle(page)


def _set_alpha(page) -> str:  # noqa: ANN001 - playwright Page
    """Move the α slider right with the keyboard until the server drew a new value."""
    slider = page.get_by_role("slider").first
    for _ in range(3):
        idle(page)
        slider.focus()
        for _ in range(5):
            slider.press("ArrowRight")
        shown = slider.input_value()
        if shown and float(shown) > 0.5:
            value = str(round(float(shown), 4))
            try:
                _wait_url(page, {"diversity_weight": value})
                return value
            except Exception:  # noqa: BLE001 - a press swallowed by a rerun: press again
                continue
    raise AssertionError("moving the slider never reached the server")


def _set_controls(page) -> dict[str, str]:  # noqa: ANN001 - playwright Page
    """Set every control by hand; returns the link the view must keep."""
    pick_option(page, _en("sidebar.active_run"), OTHER_RUN)
    _wait_url(page, {"run": OTHER_RUN})
    segment = _pick_second(page, _en("explorer.segment"))
    _wait_url(page, {"segment": segment})
    user = _pick_second(page, _en("explorer.shopper"))
    _wait_url(page, {"user": user})
    page.get_by_role("radio", name="DPP").check(force=True)
    _wait_url(page, {"method": "dpp"})
    pick_option(page, _en("policy_view.policy"), POLICY)
    _wait_url(page, {"policy": POLICY, "user": user, "segment": segment})
    go_to(page, _en("nav.tradeoff"))
    sample = page.locator(f'input[aria-label="{_en("tradeoff.sample")}"]')
    enter_text(page, sample, "60")  # the tiny run has 83 test shoppers: 60 is kept as typed
    _wait_url(page, {"sample_size": "60"})
    go_to(page, _en("nav.explorer"))
    alpha = _set_alpha(page)
    k_input = page.locator('input[aria-label="k"]')
    enter_text(page, k_input, "7")
    _wait_url(page, {"k": "7"})
    return {"run": OTHER_RUN, "segment": segment, "user": user, "method": "dpp",
            "policy": POLICY, "sample_size": "60", "diversity_weight": alpha, "k": "7"}


def _check_explorer(page, view: dict[str, str]) -> None:  # noqa: ANN001 - playwright Page
    assert OTHER_RUN in selected(page, _en("sidebar.active_run"))
    assert selected(page, _en("explorer.segment")) == view["segment"]
    assert selected(page, _en("explorer.shopper")) == view["user"]
    assert page.get_by_role("radio", name="DPP").is_checked()
    assert selected(page, _en("policy_view.policy")) == POLICY
    slider = page.get_by_role("slider").first
    assert float(slider.input_value()) == pytest.approx(
        float(view["diversity_weight"]), abs=1e-9)
    assert page.locator('input[aria-label="k"]').input_value() == "7"
    heading = page.locator("#diversified-list").inner_text()
    assert "DPP" in heading and f"{float(view['diversity_weight']):.2f}" in heading


def test_every_control_survives_every_page(browser) -> None:  # noqa: ANN001
    base, instance = browser
    page = open_page(instance, base + "/")
    view = _set_controls(page)
    for name in PAGES:  # straight after the fragment's k change: the defect's steps
        go_to(page, _en(f"nav.{name}"))
        _wait_url(page, view)
    _check_explorer(page, view)
    go_to(page, _en("nav.tradeoff"))
    assert page.locator(f'input[aria-label="{_en("tradeoff.sample")}"]').input_value() == "60"
    wait_text(page, translate("tradeoff.ringed", "en", method="DPP",
                              alpha=float(view["diversity_weight"])))
    page.context.close()


def test_language_and_view_survive_every_page(browser) -> None:  # noqa: ANN001
    base, instance = browser
    page = open_page(instance, f"{base}/?run={OTHER_RUN}&method=calibrated&k=5")
    pick_option(page, _en("sidebar.language"), "简体中文")
    view = {"lang": "zh", "run": OTHER_RUN, "method": "calibrated", "k": "5"}
    _wait_url(page, view)
    for name in PAGES:
        go_to(page, translate(f"nav.{name}", "zh"))
        _wait_url(page, view)
    assert selected(page, translate("sidebar.language", "zh")) == "简体中文"
    assert page.locator('input[aria-label="k"]').input_value() == "5"
    page.context.close()
