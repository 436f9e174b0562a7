"""The studio in a merchandiser's hands, in a real Chromium: each test follows one reported
defect's steps and checks the fixed behaviour (one server and one browser for the module).

The home holds two small runs: `shop` (two-tower with text, 150 items, shoppers C00..C89)
and `small` (a smaller shop, shoppers C00..C39), so run switches and links can be checked.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (
    IDLE_APP,
    LONG,
    RUNNING,
    body_text,
    chromium,
    enter_text,
    go_to,
    idle,
    open_expander,
    open_page,
    pick_option,
    require_chromium,
    selected,
    studio,
    wait_text,
)
from dashboard_support import prism_home

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LAST_SHOPPER = "C85"  # in `shop`, not in `small`


def _train(home: Path, name: str, n_items: int, n_users: int, seed: int,
           use_text: bool) -> None:
    from engine.data import generate_shop, write_tables
    from engine.training.pipeline import train
    from engine.training.presets import quick_run

    folder = home / "data" / name
    items, events = generate_shop(n_items=n_items, n_users=n_users, seed=seed)
    write_tables(items, events, folder, fmt="csv")
    train(quick_run(data_dir=folder, out_dir=home / "runs" / name, epochs=1, dim=16,
                      use_text=use_text))


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    require_chromium()
    folder = Path(tempfile.mkdtemp(prefix="prism_browser_"))
    with prism_home(folder):
        _train(folder, "small", 100, 40, seed=2, use_text=False)
        _train(folder, "shop", 150, 90, seed=1, use_text=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def base(home: Path) -> Iterator[str]:
    with studio(home) as url:
        yield url


@pytest.fixture(scope="module")
def browser(base: str) -> Iterator[object]:
    with chromium() as instance:
        yield instance


def _active_run(page) -> str:  # noqa: ANN001 - playwright Page
    return selected(page, "Active run")


# ---- 3, 4: links carry the run; switching runs picks a valid shopper; default run ----------
def test_link_opens_its_run_and_a_run_switch_picks_a_valid_shopper(base: str,
                                                                   browser) -> None:  # noqa: ANN001
    page = open_page(browser, f"{base}/?run=shop&user={LAST_SHOPPER}&alpha=0.3&method=dpp")
    assert "shop" in _active_run(page) and "small" not in _active_run(page)
    wait_text(page, "DPP · w = 0.30")
    assert "not in this run" not in body_text(page)
    page.wait_for_function("() => location.search.includes('run=shop')")
    pick_option(page, "Active run", "small")
    wait_text(page, f"Shopper '{LAST_SHOPPER}' is not in run 'small'")
    text = body_text(page)
    assert "showing trending items" not in text  # a real shopper of the new run, not trending
    page.wait_for_function("() => location.search.includes('run=small')")
    page.context.close()


def test_default_run_is_the_last_one_chosen_not_the_newest(base: str, home: Path,
                                                           browser) -> None:  # noqa: ANN001
    page = open_page(browser, base + "/")
    # `small` is the older run, so choosing it is a real choice whatever ran before: `shop`
    # may already be the default (the newest), and choosing the default saves nothing
    pick_option(page, "Active run", "small")
    # the choice is saved by the selectbox callback at the start of the rerun, which also
    # writes the link: closing the tab before that rerun ran would drop the choice
    page.wait_for_function("() => location.search.includes('run=small')")
    page.context.close()
    assert (home / "studio.json").exists()
    stopped = home / "runs" / "stopped-newest"  # newer, stopped early
    shutil.copytree(home / "runs" / "small", stopped)
    meta = json.loads((stopped / "run.json").read_text())
    (stopped / "run.json").write_text(json.dumps({**meta, "stopped_early": True}))
    try:
        page = open_page(browser, base + "/")
        assert "small" in _active_run(page)  # the remembered choice, not the newest file
        page.context.close()
        (home / "studio.json").unlink()
        page = open_page(browser, base + "/")
        assert "stopped-newest" not in _active_run(page)  # stopped early: never the default
        page.context.close()
    finally:
        shutil.rmtree(stopped, ignore_errors=True)


# ---- 5, 6: first search answers from saved vectors; nonsense says "no good match" --------
def test_first_search_is_warm_and_nonsense_finds_no_good_match(base: str, home: Path,
                                                               browser) -> None:  # noqa: ANN001
    # a run without text input (like EASE) saves its search vectors at training time
    assert (home / "runs" / "small" / "search_vectors.npy").exists()
    page = open_page(browser, f"{base}/?run=small")
    go_to(page, "Search")
    enter_text(page, page.get_by_label("Query"), "zzqxj")
    wait_text(page, "No good match for")  # the engine's notice, as the studio words it
    wait_text(page, "Closest items (no good match)")  # the lists arrive after the warning
    assert "Encoding" not in body_text(page)  # the vectors were ready: no encoding step
    page.context.close()


# ---- 6: what-if Enter adds one item, and the page says the session is edited --------------
_FINDER = ("[...document.querySelectorAll('[data-testid=\"stSelectbox\"]')]"
           ".find(e => e.innerText.includes('Add to the session'))?.querySelector('input')")
# "added": the page says the session is edited. "lost": the app is idle, the finder's list is
# closed and it holds no picked title, so the Enter never picked anything (a rerun already on
# its way when the keys were typed redrew the finder under them); after a real pick the finder
# shows the title until the rerun that adds it, and that rerun draws "edited session" first.
_OUTCOME = f"""() => {{
  if (document.body.innerText.includes('edited session')) return 'added';
  const input = {_FINDER};
  const idle = !!document.querySelector('{IDLE_APP}') && !document.querySelector('{RUNNING}');
  const lost = idle && !!input && input.getAttribute('aria-expanded') !== 'true'
    && ['', 'a'].includes(input.value);
  return lost ? 'lost' : false; }}"""


def _press_enter_on_first_match(page) -> None:  # noqa: ANN001 - playwright Page
    idle(page)  # a rerun still drawing the page would reset the text typed into the finder
    finder = page.get_by_role("combobox", name="Add to the session")
    finder.click()
    finder.press_sequentially("a")  # keystrokes, as a shopper types; matches many titles
    # ArrowDown opens the list if typing did not (a busy browser can drop the input's own
    # open) and points at the first match; Enter then picks the option pointed at
    finder.press("ArrowDown")
    page.wait_for_function(f"() => {{ const e = {_FINDER}; return !!e && "
                           "e.getAttribute('aria-expanded') === 'true' && "
                           "!!e.getAttribute('aria-activedescendant'); }", timeout=LONG)
    finder.press("Enter")


def test_whatif_enter_adds_one_item_and_says_the_session_is_edited(base: str,
                                                                   browser) -> None:  # noqa: ANN001
    page = open_page(browser, f"{base}/?run=shop&user=C01")
    open_expander(page, "What-if session", "without retraining")  # drawn once opened
    outcomes = []
    for _ in range(3):  # again only when the Enter demonstrably picked nothing
        _press_enter_on_first_match(page)
        outcomes.append(page.wait_for_function(_OUTCOME, timeout=LONG).json_value())
        if outcomes[-1] == "added":
            break
    assert outcomes[-1] == "added", (outcomes, body_text(page)[:2000])
    added = page.locator('[data-testid="stMultiSelect"]').filter(
        has_text="Added to the session")
    tags = added.locator(".react-aria-ComboBox [data-tag]")
    tags.first.wait_for(timeout=60_000)  # visible: the What-if panel stays open
    idle(page)
    assert tags.count() == 1  # the highlighted item, not every match
    page.context.close()


# ---- 8: the numbers are explained in words with a worked example --------------------------
def test_metrics_panel_explains_each_number_with_an_example(base: str,
                                                            browser) -> None:  # noqa: ANN001
    page = open_page(browser, f"{base}/?run=shop&user=C01&method=quota")
    wait_text(page, "Quotas runs MMR with a cap of")  # Quotas without targets says so
    open_expander(page, "What do these numbers mean?", "Example:")
    for name in ("Category entropy", "Category coverage", "Precision@k", "NDCG@k"):
        wait_text(page, name)  # the panel's rows arrive one by one
    idle(page)
    assert "-0.000" not in body_text(page)
    page.context.close()


# ---- 1: category targets keep every edit; full-width editor; CSV import/export -------------
def _grid_cell(page, row: int, column: int):  # noqa: ANN001, ANN202 - playwright objects
    """The editor's accessible copy of one cell (the grid draws on a canvas; this table inside
    it follows every redraw): column 1 is Category, then Floor, Cap, Share."""
    return page.locator(f'[role="dialog"] [data-testid="glide-cell-{column}-{row}"]').first


def _wait_cell(page, row: int, column: int, text: str) -> None:  # noqa: ANN001
    """Wait until the grid itself shows `text` in the cell (not only the caption below it)."""
    page.wait_for_function(
        "([sel, want]) => { const c = document.querySelector(sel);"
        " return !!c && c.textContent.trim() === want; }",
        arg=[f'[role="dialog"] [data-testid="glide-cell-{column}-{row}"]', text], timeout=LONG)


def _wait_overlay(page, value: str) -> None:  # noqa: ANN001 - playwright Page
    """Wait until the grid's cell editor is open, focused and holds the typed text."""
    page.wait_for_function(
        "want => { const e = document.activeElement;"
        " return !!e && ['INPUT', 'TEXTAREA'].includes(e.tagName) && e.value === want; }",
        arg=value, timeout=LONG)


CLICK_TRIES, SELECT_WAIT = 5, 15_000  # ms per try: generous for a loaded machine


def _select_cell(page, row: int, column: int) -> None:  # noqa: ANN001 - playwright Page
    """Click a data-editor cell (columns have fixed pixel widths) until the grid reports it
    selected: a click that lands while the grid redraws is simply repeated."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from dashboard.sidebar import CATEGORY_WIDTH, NUMBER_WIDTH

    canvas = page.locator('[role="dialog"] [data-testid="data-grid-canvas"]').first
    marker = 32  # the row-selection column
    x = marker + CATEGORY_WIDTH + NUMBER_WIDTH * (column - 2) + NUMBER_WIDTH / 2
    selector = f'[role="dialog"] [data-testid="glide-cell-{column}-{row}"]'
    for _ in range(CLICK_TRIES):
        idle(page)
        box = canvas.bounding_box()
        page.mouse.click(box["x"] + x, box["y"] + 35 + 35 * row + 17)
        try:
            page.wait_for_function(
                "sel => document.querySelector(sel)?.getAttribute('aria-selected') === 'true'",
                arg=selector, timeout=SELECT_WAIT)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"the editor never selected cell ({row}, {column})")


def test_targets_editor_keeps_every_edit_and_round_trips_csv(base: str, home: Path,
                                                             browser) -> None:  # noqa: ANN001
    from engine.serving.recommender import Recommender

    category = Recommender.load(home / "runs" / "shop").category_names[0]
    source = home / "targets-in.csv"
    source.write_text(f"segment,category,floor,cap,share\nEveryone,{category},,,0.2\n")
    page = open_page(browser, f"{base}/?run=shop&user=C01")
    page.get_by_role("button", name="Edit targets").click()
    dialog = page.locator('[role="dialog"]')
    dialog.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(source))
    idle(page)
    dialog.get_by_role("button", name="Import", exact=True).click()
    wait_text(page, "Imported 1 category target for everyone")
    wait_text(page, f"In use for Everyone: {category}: share 0.20")
    _wait_cell(page, 0, 1, category)  # the grid itself shows the imported row
    _wait_cell(page, 0, 4, "0.2")
    for column, name, value in ((2, "floor", "3"), (3, "cap", "4")):  # the second must stick
        _select_cell(page, 0, column)
        page.keyboard.type(value)
        _wait_overlay(page, value)  # Enter before the cell's editor opens would be lost
        page.keyboard.press("Enter")
        _wait_cell(page, 0, column, value)
        wait_text(page, f"{name} {value}")  # the editor's summary line shows the edit
    wait_text(page, f"{category}: floor 3 · cap 4 · share 0.20")
    idle(page)  # the export button below the caption is redrawn by the same run
    with page.expect_download() as download:
        dialog.get_by_role("button", name="Export targets (CSV)").click()
    exported = Path(download.value.path()).read_text()
    assert f"Everyone,{category},3,4,0.2" in exported, exported
    dialog.get_by_role("button", name="Apply and close").click()
    wait_text(page, "1 category target for everyone")
    page.context.close()


# ---- 2: a cold-start upload leaves every page working; scenario saves keep typed text ------
def test_cold_start_upload_then_tradeoff_and_scenarios_still_work(base: str, home: Path,
                                                                  browser) -> None:  # noqa: ANN001
    from engine.serving.recommender import Recommender

    service = Recommender.load(home / "runs" / "shop")
    before, names = service.catalogue.n_items, service.category_names
    upload = home / "new-items.csv"
    upload.write_text("item_id,title,category\n"
                      f"NEW1,Walnut desk lamp,{names[0]}\n"
                      f"NEW2,Oak side table,{names[1]}\n"
                      "NEW3,Moon rock,Space > Rocks\n")
    page = open_page(browser, f"{base}/?run=shop&user=C01")
    go_to(page, "Catalogue")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
    wait_text(page, "1 of 3 rows have a category this run does not have")  # before Add
    page.get_by_role("button", name="Add 2 items to run shop").click()
    wait_text(page, "Added 2 items to run shop")
    wait_text(page, f"{before + 2:,}")  # the item count follows at once
    go_to(page, "Trade-off")
    wait_text(page, "cached per run")
    assert "is not the run's" not in body_text(page)
    go_to(page, "Scenarios")
    page.get_by_role("textbox", name="Name").fill("Spring mix")
    page.get_by_role("textbox", name="Note").fill("first try")
    page.get_by_role("button", name="Save scenario").click()
    wait_text(page, "Saved scenario “Spring mix”")
    page.get_by_role("textbox", name="Name").fill("spring mix")
    page.get_by_role("textbox", name="Note").fill("kept note")
    page.get_by_role("button", name="Save scenario").click()
    wait_text(page, "exists already")  # duplicate names refused, typed text kept
    assert page.get_by_role("textbox", name="Note").input_value() == "kept note"
    page.context.close()


# ---- 6: the Training form keeps its values during a job; a rewritten name is announced -----
def test_training_form_survives_a_page_switch_during_a_job(base: str,
                                                          browser) -> None:  # noqa: ANN001
    page = open_page(browser, f"{base}/?run=small")
    go_to(page, "Training")
    page.get_by_role("textbox", name="Run name").fill("my run!")
    epochs = page.locator('input[aria-label="Epochs (at most; stops early)"]')
    epochs.fill("2")
    page.get_by_role("button", name="Train at the α above only").click()
    wait_text(page, "is saved as 'my-run-'")
    go_to(page, "Explorer")
    go_to(page, "Training")
    assert page.locator('input[aria-label="Epochs (at most; stops early)"]').input_value() == "2"
    wait_text(page, "Training finished")
    page.context.close()
