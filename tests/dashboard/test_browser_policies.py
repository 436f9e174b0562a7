"""The Policies page in a real Chromium: typing a brand and pressing Enter picks that brand
alone — not "Select 4 matches" with every brand the letters also fit ("3M Littmann",
"3M Dual Lock", "3D CAM")."""

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
    studio,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LOOKALIKES = ["3M Littmann", "3M Littmann", "3M Dual Lock", "3D CAM", "3M"]


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    from engine.data import generate_shop, write_tables
    from engine.training.pipeline import train
    from engine.training.presets import quick_run

    require_chromium()
    folder = Path(tempfile.mkdtemp(prefix="prism_browser_policies_"))
    items, events = generate_shop(n_items=120, n_users=60, seed=3)
    items.loc[items.index[:len(LOOKALIKES)], "brand"] = LOOKALIKES
    write_tables(items, events, folder / "data" / "shop", fmt="csv")
    train(quick_run(data_dir=folder / "data" / "shop", out_dir=folder / "runs" / "shop",
                      epochs=1, dim=16, use_text=False))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def page(home: Path) -> Iterator[object]:
    with studio(home) as url, chromium() as browser:
        tab = open_page(browser, f"{url}/?run=shop")
        go_to(tab, "Policies")
        yield tab
        tab.context.close()


def _tags(box) -> list[str]:  # noqa: ANN001 - playwright Locator
    return [tag.inner_text().strip() for tag in box.locator("[data-tag]").all()]


def test_enter_after_typing_a_brand_picks_that_brand_alone(page) -> None:  # noqa: ANN001
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Boost brands").first
    finder = box.get_by_role("combobox")
    finder.click()
    finder.press_sequentially("3M")
    page.get_by_role("option", name="3M Dual Lock").wait_for(timeout=LONG)  # the list is open
    finder.press("Enter")
    box.locator("[data-tag]").first.wait_for(timeout=LONG)
    idle(page)
    assert _tags(box) == ["3M"], _tags(box)


def test_a_saved_policy_stays_in_the_form_across_a_language_switch(page) -> None:  # noqa: ANN001
    """Save a policy, switch to Chinese and back: the picker still names it and the form
    still holds it (the picker's option words change with the language)."""
    page.keyboard.press("Escape")  # a list left open hides the rest of the page from roles
    idle(page)
    enter_text(page, page.get_by_role("textbox", name="Policy name"), "stays-put")
    page.get_by_role("tab", name="Save & publish").click()
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_function("() => document.body.innerText.includes('Saved stays-put@1')",
                           timeout=LONG)
    idle(page)
    pick_option(page, "Language", "简体中文")
    page.get_by_role("textbox", name="策略名称").wait_for(timeout=LONG)
    pick_option(page, "语言", "English")
    name = page.get_by_role("textbox", name="Policy name")
    name.wait_for(timeout=LONG)
    idle(page)
    assert name.input_value() == "stays-put"
    assert page.get_by_role("combobox", name="Edit").first.input_value().startswith(
        "stays-put (v1")
