"""One model for every α in a real Chromium: dragging the model's α slider redraws the list,
and the chosen α stays in the view (and the link) across a page switch.

Screenshot `screenshot-explorer-alpha.png` (both controls) goes to the test's temporary folder,
or to the folder PRISM_SCREENSHOTS names (`PRISM_SCREENSHOTS=assets` refreshes the README's).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import (
    LONG,
    chromium,
    go_to,
    idle,
    open_page,
    require_chromium,
    screenshot_path,
    studio,
)
from dashboard_support import alpha_moved_user, conditioned_home

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _drawn_at(page, alpha: str) -> None:  # noqa: ANN001 - playwright Page
    """Wait until the diversified list is the one served at model α `alpha` ("1.00")."""
    page.wait_for_function(
        "want => (document.querySelector('#diversified-list .prism-sub')?.innerText || '')"
        ".includes('α = ' + want)", arg=alpha, timeout=LONG)


def test_dragging_the_model_alpha_redraws_the_list_and_the_view_keeps_it(
        tmp_path: Path) -> None:
    require_chromium()
    home = conditioned_home()
    user = alpha_moved_user(home)
    with studio(home) as base, chromium() as browser:
        page = open_page(browser, f"{base}/?user={user}&diversity_weight=0&model_alpha=0")
        _drawn_at(page, "0.00")
        before = page.locator("#diversified-list").inner_text()
        slider = page.get_by_role("slider").first  # the model's α comes first
        box = slider.bounding_box()
        track = page.locator('[data-testid="stSlider"]').first.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()  # drag the handle to the far right end of its track
        page.mouse.move(track["x"] + track["width"] + 50, box["y"] + box["height"] / 2,
                        steps=8)
        page.mouse.up()
        _drawn_at(page, "1.00")
        idle(page)
        assert page.locator("#diversified-list").inner_text() != before
        page.wait_for_function("() => location.search.includes('model_alpha=1.0')",
                               timeout=LONG)
        page.screenshot(path=str(screenshot_path("screenshot-explorer-alpha.png", tmp_path)))
        go_to(page, "Catalogue")
        assert "model_alpha=1.0" in page.url
        go_to(page, "Explorer")
        _drawn_at(page, "1.00")
        assert "1.00" in page.locator('[data-testid="stSlider"]').first.inner_text()
        assert "model_alpha=1.0" in page.url
