"""The studio in a real Chromium: open a shared link, move the slider, see the list change.

Starts `streamlit run dashboard/app.py` on a free loopback port as a direct child process and
drives the Debian Chromium through Playwright. Screenshots go to the test's temporary folder,
or to the folder `PRISM_SCREENSHOTS` names (`PRISM_SCREENSHOTS=assets` refreshes the README's).
`PRISM_BROWSER_HOME` may point at a prepared home (e.g. the synthetic starter run) to take
screenshots of a richer run; by default the tests' tiny run is used.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_support import (
    LONG,
    RUNNING,
    VIEWPORT,
    charts_drawn,
    chromium,
    require_chromium,
    screenshot_path,
    studio,
)
from dashboard_support import concentrated_user, tiny_home

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """Base URL of a studio serving a prepared home; stopped by its own pid afterwards."""
    require_chromium()
    home = Path(os.environ.get("PRISM_BROWSER_HOME") or tiny_home())
    with studio(home) as base:
        yield base, home


def _list_text(page) -> str:  # noqa: ANN001 - playwright Page
    return page.locator("#diversified-list").inner_text(timeout=LONG)


SETTLED = """() => {
    const slider = document.querySelector('[data-testid="stSlider"] input[type="range"]');
    const value = Number(slider?.value);
    const heading = document.querySelector('#diversified-list')?.innerText || '';
    return value > 0.6 && heading.includes('w = ' + value.toFixed(2)) ? value : false;
}"""


def _slide_right(page, presses: int = 8) -> float:  # noqa: ANN001 - playwright Page
    """Focus the α slider, press ArrowRight, return the α the server drew (retries a press
    that a rerun in progress swallowed)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    slider = page.get_by_role("slider").first
    for _ in range(3):
        page.wait_for_selector(RUNNING, state="detached", timeout=LONG)  # app is idle
        slider.focus()
        for _ in range(presses):
            slider.press("ArrowRight")
        try:
            return float(page.wait_for_function(SETTLED, timeout=60_000).json_value())
        except PlaywrightTimeout:
            continue
    raise AssertionError("moving the slider never reached the server")


def test_slider_changes_the_list_in_a_real_browser(server: tuple[str, Path],
                                                    tmp_path: Path) -> None:
    base, home = server
    user = concentrated_user(home) if (home / "runs" / "tiny").exists() else ""
    query = f"?user={user}&alpha=0.6" if user else "?alpha=0.6"
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(base + "/" + query)
        page.wait_for_selector('[data-testid="stSlider"]', timeout=LONG)
        before = _list_text(page)
        assert "0.60" in page.locator('[data-testid="stSlider"]').inner_text()
        alpha = _slide_right(page)
        page.wait_for_function(f"() => location.search.includes('diversity_weight={alpha}')",
                               timeout=60_000)
        assert _list_text(page) != before
        charts_drawn(page)
        page.screenshot(path=str(screenshot_path("screenshot-explorer.png", tmp_path)))
        page.goto(base + "/tradeoff")
        page.wait_for_selector(".js-plotly-plot", timeout=240_000)
        page.wait_for_function(  # the sweep finished: its caption is drawn
            "() => document.body.innerText.includes('cached per run')", timeout=240_000)
        charts_drawn(page)
        page.screenshot(path=str(screenshot_path("screenshot-tradeoff.png", tmp_path)))
