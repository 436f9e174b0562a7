"""The Training page in a real Chromium: one job at a time with a fresh name each time, and two
runs on the same data compared whatever folder each read it from.

The home holds the tiny run (trained on `data/synthetic`) and a run trained on a copy of
those data imported as the Import page imports (cleaned, rewritten as Parquet elsewhere).
Waits follow the app's own run state and the page's elements, never a fixed time.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (
    LONG,
    body_text,
    chromium,
    go_to,
    idle,
    open_page,
    require_chromium,
    studio,
    wait_text,
)
from dashboard_support import RUN_NAME, prism_home, tiny_home_copy

pytestmark = [pytest.mark.slow, pytest.mark.browser]

COPY_RUN = "on-imported-copy"
# the one primary submit, "Train one model for every α" (a button with help also has a hidden
# copy Streamlit draws off screen: the visible one is meant)
START = '[data-testid="stBaseButton-primaryFormSubmit"]:visible'
NAME = 'input[aria-label="Run name"]'
EPOCHS = 'input[aria-label="Epochs (at most; stops early)"]'


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    import json

    require_chromium()
    folder = tiny_home_copy(Path(tempfile.mkdtemp(prefix="prism_training_")) / "home")
    with prism_home(folder):
        from engine.data.importing import import_source
        from engine.data.sources import read_source
        from engine.training.pipeline import train
        from engine.training.presets import quick_run

        meta = json.loads((folder / "runs" / RUN_NAME / "run.json").read_text())
        _, copy = import_source(read_source([meta["data_path"]]), "imported-copy")
        train(quick_run(data_dir=copy, out_dir=folder / "runs" / COPY_RUN, epochs=1, dim=16,
                          use_text=False))
    yield folder
    shutil.rmtree(folder.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def chrome() -> Iterator[object]:
    require_chromium()
    with chromium() as instance:
        yield instance


@pytest.fixture(scope="module")
def browser(home: Path, chrome) -> Iterator[tuple[str, object]]:  # noqa: ANN001
    with studio(home) as base:
        yield base, chrome


def _wait_start(page, enabled: bool) -> None:  # noqa: ANN001 - playwright Page
    state = "enabled" if enabled else "disabled"
    page.wait_for_function(
        "want => { const b = [...document.querySelectorAll('" + START.removesuffix(":visible")
        + "')].find(e => e.offsetParent !== null);"
        " return b && (want === 'enabled') === !b.disabled; }", arg=state, timeout=LONG)


def test_start_is_disabled_during_a_job_and_the_next_name_is_fresh(browser) -> None:  # noqa: ANN001
    base, instance = browser
    page = open_page(instance, base + "/")
    go_to(page, "Training")
    first = page.locator(NAME).input_value()
    page.locator(EPOCHS).fill("1")
    page.locator(START).click()
    _wait_start(page, enabled=False)  # no second click can land while the job runs
    page.wait_for_function(  # the field proposes a fresh name: a new field, the old one gone
        "([sel, old]) => { const e = document.querySelectorAll(sel);"
        " return e.length === 1 && !!e[0].value && e[0].value !== old; }",
        arg=[NAME, first], timeout=LONG)
    idle(page)
    proposed = page.locator(NAME).input_value()
    assert proposed and proposed != first
    wait_text(page, f"Training finished: run {first}")
    _wait_start(page, enabled=True)
    idle(page)
    assert page.locator(NAME).input_value() == proposed
    page.locator(EPOCHS).fill("1")
    page.locator(START).click()  # the proposed name is free: this job starts too
    _wait_start(page, enabled=False)
    assert "exists already" not in body_text(page)
    wait_text(page, f"Training finished: run {proposed}")
    page.context.close()


PLOT = """() => { const p = [...document.querySelectorAll('.js-plotly-plot')]
    .find(e => (e.layout?.annotations || []).some(a => String(a.text).includes('@10')));
  if (!p) return null;
  const names = [...new Set(p.data.map(d => d.name))];
  const titles = [...p.layout.annotations].sort((a, b) => b.y - a.y || a.x - b.x)
    .map(a => a.text);
  return {names, titles, legendY: p.layout.legend.y}; }"""


def test_runs_on_an_imported_copy_and_the_original_compare(browser) -> None:  # noqa: ANN001
    base, instance = browser
    page = open_page(instance, base + "/")
    go_to(page, "Training")
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Compare").first
    for name in (COPY_RUN, RUN_NAME):
        picker.locator("input").click()
        page.get_by_role("option", name=name, exact=True).click()
        idle(page)
    wait_text(page, "ranked again for the same")
    text = body_text(page)
    assert "cannot compare" not in text and "differ in their data folder" not in text
    chart = page.wait_for_function(PLOT, timeout=LONG).json_value()
    assert chart["names"] == [COPY_RUN, RUN_NAME]  # A then B, as the table's columns
    assert "Hit rate@10" in chart["titles"]  # the paired table's metric, under its name
    assert not any("recall" in title.lower() for title in chart["titles"])
    assert chart["legendY"] < 0  # under the panels: no title hidden
    page.context.close()


OPEN_COUNTED = """() => { const box = document.querySelector('[data-testid="stExpander"] details');
  const text = box ? box.innerText : '';
  return !!box && box.open && /encoding/i.test(text) && /\\d[\\d,]* \\/ \\d[\\d,]*/.test(text); }"""
OPEN_TRAINING = """() => { const box = document.querySelector('[data-testid="stExpander"] details');
  return !!box && box.open && /training/i.test(box.querySelector('summary')?.innerText || ''); }"""


def test_first_start_box_stays_open_and_counts_the_texts_it_encodes(chrome,  # noqa: ANN001
                                                                    tmp_path: Path) -> None:
    home = tmp_path / "empty-home"
    home.mkdir()
    with studio(home, {"PRISM_STARTER_EPOCHS": "1"}) as base:
        page = chrome.new_page()
        page.set_default_timeout(LONG)
        page.goto(base + "/")
        page.wait_for_function(OPEN_COUNTED, timeout=LONG)  # a count, in a box still open
        page.wait_for_function(OPEN_TRAINING, timeout=LONG)  # open through the next stage
        page.wait_for_selector('h1:has-text("Explorer")', timeout=LONG)
        page.close()
