"""A merchandiser's whole walk through the studio in a real Chromium, in English and in Chinese:
import the shared Amazon-Scientific exports through the Import page, train on them, explore a
shopper and move the slider, save two scenarios and test their difference, create a policy and
preview it, fit exposure targets on the Ledger. Every step checks what the page drew.

Each language walks on its own home (a copy of the tests' tiny home, so no starter run is
trained) and its own server. Training is the fastest the Training page offers: a two-tower of
one epoch, 16 dimensions, without reading product texts. Waits are on the app's run state and
on the elements each step draws, never on time.
"""

from __future__ import annotations

import csv
import json
import re
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser_support import (
    LONG,
    REPO,
    chromium,
    enter_text,
    go_to,
    idle,
    open_page,
    pick_option,
    require_chromium,
    selected,
    studio,
    upload,
    wait_text,
)
from dashboard_support import tiny_home_copy
from real_data import shared_dataset

pytestmark = [pytest.mark.slow, pytest.mark.browser]

DATASET, RUN = "amazon-walk", "walk"
TRAINED = LONG * 10  # ms: a hang guard for the fit itself, on a busy 2-core machine
LIST = "#diversified-list"
Words = Callable[..., str]


def words(lang: str) -> Words:
    """The studio's words in `lang` (English where the catalogue has none), as the browser
    shows them: markdown's ** and ` markers gone."""
    folder = REPO / "dashboard" / "locales"
    catalogue = {**json.loads((folder / "en.json").read_text(encoding="utf-8")),
                 **json.loads((folder / f"{lang}.json").read_text(encoding="utf-8"))}

    def say(key: str, **values: object) -> str:
        text = catalogue[key].format(**values) if values else catalogue[key]
        return text.replace("**", "").replace("`", "")

    return say


@pytest.fixture(scope="module")
def chrome() -> Iterator[object]:
    require_chromium()
    with chromium() as instance:
        yield instance


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tiny_home_copy(tmp_path / "home")


def _in(key: str) -> str:
    """The element container of the widget or chart with `key`."""
    return f".st-key-{key}"


OUTCOME = """text => document.body.innerText.includes(text) ? 'drawn'
  : document.querySelector('[data-testid="stAlertContentError"]') ? 'error' : null"""


def press_for(page, key: str, drawn: str) -> None:  # noqa: ANN001 - playwright Page
    """Press the button with `key` on an idle page and wait until the page says `drawn`; an
    error the page shows instead fails the test with its words."""
    idle(page)
    page.locator(f"{_in(key)} button").click()
    outcome = page.wait_for_function(OUTCOME, arg=drawn, timeout=LONG).json_value()
    errors = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    assert outcome == "drawn", errors


def import_exports(page, say: Words, folder: Path) -> None:  # noqa: ANN001 - playwright Page
    upload(page, [folder / "items.csv", folder / "events.csv"], read=say("import.read"))
    write = page.get_by_role("button", name=say("import.import"), exact=True)
    write.wait_for(timeout=LONG)  # recognised, mapped and cleaned: the preview is drawn
    idle(page)
    page.get_by_role("textbox", name=say("import.name")).fill(DATASET)
    write.click()
    handed = page.get_by_role("button", name=say("import.train"), exact=True)
    handed.wait_for(timeout=LONG)
    done = page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text=DATASET)
    with open(folder / "items.csv", encoding="utf-8", newline="") as exported:
        items = sum(1 for _ in csv.DictReader(exported))  # texts may hold line breaks
    assert f"{items:,}" in done.first.inner_text()  # every product of the export
    idle(page)
    handed.click()


def train_without_texts(page, say: Words) -> None:  # noqa: ANN001 - playwright Page
    page.wait_for_selector(f'h1:has-text("{say("nav.training")}")', timeout=LONG)
    idle(page)
    assert selected(page, say("training.data")) == DATASET  # handed over by the Import page
    page.locator(f'input[aria-label="{say("training.run_name")}"]').fill(RUN)
    page.locator(f'input[aria-label="{say("training.epochs")}"]').fill("1")
    pick_option(page, say("training.dim"), "16")
    switch = page.locator('[data-testid="stCheckbox"]').filter(has_text=say("training.text"))
    switch.locator("label").first.click()
    assert not switch.locator("input").is_checked()
    # training at one α, as the rest of the walk expects (the primary trains over every α)
    page.get_by_role("button", name=say("training.start")).click()
    page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text=RUN).first.wait_for(
        timeout=TRAINED)
    idle(page)
    pick_option(page, say("sidebar.active_run"), RUN)
    assert RUN in selected(page, say("sidebar.active_run"))


def _other_option(page, label: str) -> str:  # noqa: ANN001 - playwright Page
    """Choose the first option of selectbox `label` that is not its current value."""
    current = selected(page, label)
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    idle(page)
    box.get_by_role("button", name="Open").click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=LONG)
    choice = next(text for text in options.all_inner_texts() if text.strip() != current)
    page.get_by_role("option", name=choice, exact=True).first.click()
    idle(page)
    return choice.strip()


def _list_says(page, text: str) -> None:  # noqa: ANN001 - playwright Page
    page.wait_for_function(f"t => document.querySelector('{LIST}')?.innerText.includes(t)",
                           arg=text, timeout=LONG)


def explore(page, say: Words) -> None:  # noqa: ANN001 - playwright Page
    go_to(page, say("nav.explorer"))
    page.wait_for_selector(LIST, timeout=LONG)
    shopper = _other_option(page, say("explorer.shopper"))
    page.wait_for_function("u => new URLSearchParams(location.search).get('user') === u",
                           arg=shopper, timeout=LONG)
    idle(page)
    _list_says(page, "w = 0.50")
    before = page.locator(LIST).inner_text()
    slider = page.get_by_role("slider").first
    slider.focus()
    slider.press("End")  # the diversity weight to 1
    _list_says(page, "w = 1.00")
    idle(page)
    assert page.locator(LIST).inner_text() != before  # the list answered the slider


def save_scenario(page, say: Words, name: str) -> None:  # noqa: ANN001 - playwright Page
    go_to(page, say("nav.scenarios"))
    page.get_by_role("textbox", name=say("scenarios.name")).fill(name)
    page.get_by_role("button", name=say("scenarios.save")).click()
    wait_text(page, say("scenarios.saved", saved=name))
    idle(page)


def _pick_many(page, label: str, names: list[str]) -> None:  # noqa: ANN001 - playwright Page
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text=label).first
    for name in names:
        box.locator("input").click()
        page.get_by_role("option").filter(has_text=name).first.click()
        idle(page)


# each bar series' values by its name (a scenario, or shares without and with prices)
BARS = """key => { const plot = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  if (!plot || !plot._fullData) return null;
  const series = {};
  for (const trace of (plot._fullData || []).filter(d => d.type === 'bar'))
    (series[trace.name] = series[trace.name] || []).push(...Array.from(trace.y || []));
  const names = Object.keys(series);
  return names.length >= 2 ? names.map(name => series[name]) : null; }"""


def compare_scenarios(page, say: Words) -> None:  # noqa: ANN001 - playwright Page
    _pick_many(page, say("scenarios.compare"), ["walk-A", "walk-B"])
    bars = page.wait_for_function(BARS, arg="scenario_compare_chart", timeout=LONG).json_value()
    assert bars[0] != bars[1]  # the two scenarios measure differently
    head = say("scenarios.paired_report", a="walk-A", b="walk-B", n=0).split("0")[0]
    press_for(page, "scenario_paired_run", head)
    report = page.get_by_text(head).first.inner_text()
    assert int(re.search(r"(\d[\d,]*)", report[len(head):]).group(1).replace(",", "")) > 0


def preview_policy(page, say: Words) -> None:  # noqa: ANN001 - playwright Page
    go_to(page, say("nav.policies"))
    enter_text(page, page.get_by_role("textbox", name=say("policies.name")), "walk-policy")
    page.locator('[data-testid="stRadio"] label').filter(
        has_text=re.compile(f"^{re.escape(say('method.mmr'))}$")).first.click()
    idle(page)
    page.get_by_role("tab", name=say("policies.tab_preview")).click()
    worded = say("policies.report", policy="\0p", against="\0a", n=0, share=0, seconds=0)
    head = "walk-policy" + worded.split("\0p")[1].split("\0a")[0].rstrip()
    press_for(page, "policy_preview_run", head)
    report = page.get_by_text(head).first.inner_text()
    numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", report)]
    assert numbers and max(numbers) > 0, report  # shoppers replayed, lists changed


def fit_targets(page, base: str, say: Words, lang: str) -> None:  # noqa: ANN001
    """Open the Ledger from a link that carries a 3% floor for every group, group by top
    category and fit prices: the shares before and after on the check half are drawn."""
    floor = urllib.parse.quote(json.dumps([["*", 3, None]]))
    page.goto(f"{base}/ledger?lang={lang}&targets={floor}")
    page.wait_for_selector(f'h1:has-text("{say("nav.ledger")}")', timeout=LONG)
    idle(page)
    assert RUN in selected(page, say("sidebar.active_run"))  # the run chosen before, kept
    pick_option(page, say("ledger.group_by"), say("ledger.by.top_category"))
    page.wait_for_selector(f'{_in("ledger_chart")} .js-plotly-plot', timeout=LONG)
    press_for(page, "ledger_fit", say("ledger.fitted", n=0, fit=0, seconds=0,
                                      check=0).split("0")[0])
    bars = page.wait_for_function(BARS, arg="ledger_fit_chart", timeout=LONG).json_value()
    assert bars[0] != bars[1]  # the prices moved the shares


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_merchandisers_walk(lang: str, home: Path, chrome) -> None:  # noqa: ANN001
    folder = shared_dataset("amazon-scientific")
    say = words(lang)
    with studio(home) as base:
        page = open_page(chrome, f"{base}/importer?lang={lang}")
        import_exports(page, say, folder)
        train_without_texts(page, say)
        explore(page, say)
        save_scenario(page, say, "walk-A")
        go_to(page, say("nav.explorer"))
        page.locator('[data-testid="stRadio"] label').filter(has_text=say("method.dpp")).first \
            .click()
        _list_says(page, f"{say('method.dpp')} · w = 1.00")
        save_scenario(page, say, "walk-B")
        compare_scenarios(page, say)
        preview_policy(page, say)
        fit_targets(page, base, say, lang)
        page.context.close()
