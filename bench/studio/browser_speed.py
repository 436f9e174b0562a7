"""Studio speed as a merchandiser feels it, in a real Chromium (Playwright + Debian Chromium).

For each run folder given, starts `streamlit run dashboard/app.py` on a private PRISM_HOME
holding only that run and measures, in the page's own clock (performance.now):
- slider: arrow key pressed on the Explorer's main slider (one step; Streamlit's slider sends
  the new value on the key press) → the diversified list shows the new value. On a run
  trained over a range of α the main slider is the model's own α (each step scores the
  shopper again at that α); the re-rank weight, its second control, is timed too. On other
  runs the main slider is the re-rank weight;
- page switch (warm): click in the sidebar → the target page's content is drawn;
- first search: Enter in the query box → the result lists are drawn (first query of the
  session on a freshly started server).
The floor: the same slider step on a bare Streamlit app (bench/studio/bare_slider_app.py: one
slider, one 10-row table), timed before the first run and after the last in the same invocation;
every slider median is reported as a ratio to it, since absolute times on a shared machine
swing several-fold.

    .venv/bin/python -m bench.studio.browser_speed --run /path/to/run [--run ...] [--drags 15]
    .venv/bin/python -m bench.studio.browser_speed --run ../million-runs/shop --skip-search \
        --report browser_1m      # the 1 M-item run kept by bench.scale.ann_serving --keep

Also the opening of the Catalogue, Ledger and Explorer pages (first and warm), whose work must
not grow with the catalogue. Writes docs/benchmarks/browser.json and .md (or `--report`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import (
    OUT_DIR,
    REPO,
    add_out,
    load_average,
    machine,
    machine_line,
    read_json,
    write_atomic,
    write_json,
)

TARGETS = {"slider_median_ms": 200, "slider_floor_ratio": 1.3, "page_switch_ms": 1000,
           "first_search_ms": 2000}
BARE_APP = "bench/studio/bare_slider_app.py"
QUERY = "digital caliper"
LIST_SUB = "#diversified-list .prism-sub"  # the Explorer's list heading: "mmr · w = … · α = …"
BARE_TABLE = "#bare-table"  # the bare app's table: a "v = …" column

ARM = """([where, want]) => {
  if (window.__observer) window.__observer.disconnect();  // one step's watcher at a time
  window.__t0 = null; window.__t1 = null;
  window.addEventListener('keydown', () => { window.__t0 = performance.now(); },
                          {capture: true, once: true});
  const check = () => {
    const shown = document.querySelector(where);
    if (window.__t0 !== null && window.__t1 === null && shown &&
        shown.innerText.includes(want)) {
      window.__t1 = performance.now();
    }
  };
  window.__observer = new MutationObserver(check);
  window.__observer.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def _summary(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    p90 = statistics.quantiles(ms, n=10, method="inclusive")[-1] if len(ms) > 1 else ms[0]
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 1),
            "p90_ms": round(p90, 1), "max_ms": round(ms[-1], 1), "min_ms": round(ms[0], 1)}


def measure_slider(page, moves: int, index: int = 0, where: str = LIST_SUB,  # noqa: ANN001
                   says: str = "w = ") -> list[float]:
    """Move slider `index` one step with the arrow keys, `moves` times; each time the
    milliseconds from the key press (which sends the value) until the element `where` shows
    `says` + the new value."""
    from tests.browser_support import idle

    times = []
    slider = page.get_by_role("slider").nth(index)
    for step in range(moves):
        idle(page)
        current = float(slider.evaluate("e => e.value ?? e.getAttribute('aria-valuenow')"))
        key = "ArrowRight" if (step // 5) % 2 == 0 and current < 0.95 else "ArrowLeft"
        target = round(current + (0.05 if key == "ArrowRight" else -0.05), 2)
        page.evaluate(ARM, [where, f"{says}{target:.2f}"])
        slider.focus()
        page.keyboard.down(key)
        page.keyboard.up(key)
        page.wait_for_function("() => window.__t1 !== null", timeout=60_000)
        times.append(page.evaluate("() => window.__t1 - window.__t0"))
    return times


def measure_floor(moves: int, browser) -> list[float]:  # noqa: ANN001 - playwright Browser
    """Slider step → table redrawn on the bare app, on a fresh server, in a fresh context of
    the same Chromium as the run's own pages."""
    from tests.browser_support import VIEWPORT, idle, studio

    home = Path(tempfile.mkdtemp(prefix="prism_browser_floor_"))
    try:
        with studio(home, app=BARE_APP) as base:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()  # no title to wait for
            page.goto(base)
            page.wait_for_selector(BARE_TABLE, timeout=600_000)
            idle(page)
            steps = measure_slider(page, moves, where=BARE_TABLE, says="v = ")
            context.close()
            return steps
    finally:
        shutil.rmtree(home, ignore_errors=True)


DRAWN = {"Explorer": "() => !!document.querySelector('#diversified-list')",
         "Trade-off": "() => document.body.innerText.includes('cached per run') && "
                      "!!document.querySelector('.js-plotly-plot')"}


def measure_switches(page, rounds: int) -> dict[str, float]:  # noqa: ANN001 - playwright Page
    """Explorer ⇄ Trade-off, after one visit of each (warm caches); click → content drawn."""
    from tests.browser_support import go_to

    go_to(page, "Trade-off")
    page.wait_for_function(DRAWN["Trade-off"], timeout=600_000)
    go_to(page, "Explorer")
    times = []
    for _ in range(rounds):
        for title in ("Trade-off", "Explorer"):
            page.evaluate("() => { window.__s0 = performance.now(); }")
            page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
            page.wait_for_function(
                f"() => [...document.querySelectorAll('h1')].some(h => h.innerText.includes("
                f"'{title}')) && ({DRAWN[title]})()", timeout=120_000)
            times.append(page.evaluate("() => performance.now() - window.__s0"))
    return _summary(times)


PAGES = ("Catalogue", "Ledger", "Explorer")  # the pages whose work could grow with the catalogue


EVERY_CHART_DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')].every(
  c => c._fullLayout && c.querySelector('.main-svg'))"""  # a page without charts: at once


def open_page_ms(page, title: str) -> float:  # noqa: ANN001 - playwright Page
    """Sidebar click → the page's title, its script run finished and every chart (if any)
    drawn."""
    from tests.browser_support import LONG, idle

    page.evaluate("() => { window.__p0 = performance.now(); }")
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
    page.wait_for_selector(f'h1:has-text("{title}")', timeout=LONG * 4)
    idle(page)
    page.wait_for_function(EVERY_CHART_DRAWN, timeout=LONG)
    return round(page.evaluate("() => performance.now() - window.__p0"), 1)


def measure_pages(page, rounds: int) -> dict[str, dict]:  # noqa: ANN001 - playwright Page
    """Per page: the first open of the session (its per-run caches filled on the way) and
    `rounds` later opens (warm), each from another page."""
    first = {title: open_page_ms(page, title) for title in PAGES}
    warm: dict[str, list[float]] = {title: [] for title in PAGES}
    for _ in range(rounds):
        for title in PAGES:
            warm[title].append(open_page_ms(page, title))
    return {title: {"first_ms": first[title], "warm": _summary(warm[title])}
            for title in PAGES}


def measure_first_search(page, query: str) -> float:  # noqa: ANN001 - playwright Page
    """Enter in the query box → the result lists drawn, in ms (an error drawn instead, or no
    answer at all, fails with what the page shows)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from tests.browser_support import LONG, enter_text, go_to, stuck

    go_to(page, "Search")
    page.evaluate("() => { window.__q0 = performance.now(); }")
    enter_text(page, page.get_by_label("Query"), query)
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_selector("#search-relevance, [data-testid='stException']",
                               timeout=LONG * 2)
    if not page.locator("#search-relevance").count():
        raise stuck(page, "the first search's result lists")
    return round(page.evaluate("() => performance.now() - window.__q0"), 1)


def describe_run(folder: Path) -> tuple[dict, str]:
    """The report's row head for a run and a shopper in the middle of its list."""
    import gc

    from engine.serving.recommender import Recommender

    recommender = Recommender.load(folder)
    user = recommender.user_ids[len(recommender.user_ids) // 2]
    span = getattr(recommender.model, "alpha_range", None)
    row = {"run": folder.name, "model": recommender.run.meta.get("model"),
           "n_items": recommender.catalogue.n_items, "n_users": len(recommender.user_ids),
           "alpha_range": None if span is None else [float(v) for v in span],
           "slider_kind": "re-rank weight" if span is None else "model α"}
    del recommender  # a large run's model must not stay in this process beside the studio's
    gc.collect()
    return row, user


def open_explorer(browser, url: str) -> tuple:  # noqa: ANN001 - playwright Browser
    """A fresh session at the Explorer; (page, seconds until its lists are drawn)."""
    from tests.browser_support import open_page

    started = time.perf_counter()
    page = open_page(browser, url)
    page.wait_for_selector("#diversified-list", timeout=1_800_000)
    return page, round(time.perf_counter() - started, 1)


def slider_rounds(page, drags: int, rounds: int, says: str) -> dict:  # noqa: ANN001 - a Page
    """The main slider in `rounds` rounds of `drags` steps, each between two floor measurements
    (F S F S … F, half the drags each), so every round has its own ratio to a floor taken just
    around it: the spread of those ratios shows how far one run's ratio can be trusted."""
    half, browser = max(1, drags // 2), page.context.browser
    floors, steps, ratios = [measure_floor(half, browser)], [], []
    for _ in range(rounds):
        steps.append(measure_slider(page, drags, says=says))
        floors.append(measure_floor(half, browser))
        around = _summary(floors[-2] + floors[-1])
        ratios.append(_ratio(_summary(steps[-1])["median_ms"], around))
    every_floor = [ms for part in floors for ms in part]
    return {"slider": _summary([ms for part in steps for ms in part]),
            "floor": _summary(every_floor), "floor_steps_ms": every_floor,
            "slider_round_ratios": ratios}


def bench_run(run: Path, drags: int, rounds: int, query: str | None) -> dict:
    from tests.browser_support import chromium, studio

    home = Path(tempfile.mkdtemp(prefix="prism_browser_bench_"))
    shutil.copytree(run, home / "runs" / run.name)
    row, user = describe_run(home / "runs" / run.name)
    url = f"{base_query(run.name, user)}" + ("" if row["alpha_range"] is None
                                              else "&model_alpha=0.5")
    try:
        with studio(home) as base, chromium() as browser:
            page, row["first_open_s"] = open_explorer(browser, base + url)
            if query is not None:
                row["first_search_ms"] = measure_first_search(page, query)
            page.close()
            page, row["second_open_s"] = open_explorer(browser, base + url)
            row.update(slider_rounds(page, drags, rounds, "w = " if row["alpha_range"] is None
                                     else "α = "))
            if row["alpha_range"] is not None:  # the re-rank weight: the second control
                row["rerank_slider"] = _summary(measure_slider(page, drags, index=1))
            row["page_switch"] = measure_switches(page, rounds)
            row["pages"] = measure_pages(page, rounds)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return row


def base_query(run: str, user: str) -> str:
    return f"/?run={run}&user={user}&diversity_weight=0.5"


def _ratio(ms: float, floor: dict) -> float:
    return round(ms / max(floor["median_ms"], 1e-9), 2)


def write_report(result: dict, out: Path = OUT_DIR, name: str = "browser") -> None:
    write_json(out / f"{name}.json", result)
    floor = result["floor"]  # every run's floor steps together
    lines = ["# Studio speed in Chromium", "",
             f"{machine_line(result['machine'])}; command: `{result['command']}`.",
             f"Load average before/after: {result['load_average_before']} / "
             f"{result['load_average_after']} (the cores were shared with other work).",
             "Times in the page's clock: slider = arrow key pressed (one step; the slider "
             "sends its value on the press) → the "
             "diversified list shows the new value (on a run trained over a range of α the "
             "main slider is the model's own α, each step one user-tower pass; elsewhere the "
             "re-rank weight); page switch = sidebar click → the page's content drawn (warm); "
             "first search = Enter → results drawn. Floor: the same step on a bare Streamlit "
             f"app (`{BARE_APP}`: one slider, one 10-row HTML table drawn with "
             "`st.markdown` as the Explorer draws its lists), on a fresh server before and "
             "after each round of the main slider's steps (floor, round, floor, round, …, "
             "floor), so each ratio compares times taken under the same load; × floor = "
             "slider median / that run's floor median over all its rounds; per round = each "
             "round's median / the floor taken just around it, whose spread says how far one "
             f"ratio can be trusted. All floor steps together: median {floor['median_ms']} "
             f"ms over {floor['n']} steps. A run under runs/frontier/ is one that "
             "`python -m bench.quality.frontier` trains (docs/benchmarks/frontier.md lists its "
             "command).", "",
             "| run | items | main slider | median | p90 | max | floor median | × floor | "
             "× floor per round | re-rank weight median (× floor) | page switch median / max "
             "| first search |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in result["runs"]:
        slider, switch, floor = row["slider"], row["page_switch"], row["floor"]
        second = row.get("rerank_slider")
        rerank = "—" if second is None else \
            f"{second['median_ms']} ms ({_ratio(second['median_ms'], floor)}×)"
        lines.append(f"| {row['run']} ({row['model']}) | {row['n_items']:,} | "
                     f"{row['slider_kind']} | {slider['median_ms']} ms | "
                     f"{slider.get('p90_ms', '—')} ms | {slider['max_ms']} ms"
                     f" | {floor['median_ms']} ms | {_ratio(slider['median_ms'], floor)}× | "
                     + " / ".join(f"{r}×" for r in row.get("slider_round_ratios", []))
                     + f" | {rerank} | "
                     f"{switch['median_ms']} / {switch['max_ms']} ms | "
                     + (f"{row['first_search_ms']} ms |" if "first_search_ms" in row
                        else "not measured (--skip-search) |"))
    lines += ["", f"Targets: slider median ≤ {TARGETS['slider_median_ms']} ms on a quiet machine "
              f"and ≤ {TARGETS['slider_floor_ratio']}× the floor measured in the same run, "
              f"warm page switch ≤ {TARGETS['page_switch_ms']} ms, first search ≤ "
              f"{TARGETS['first_search_ms']} ms.", "", *page_lines(result["runs"])]
    write_atomic(out / f"{name}.md", "\n".join(lines))


def page_lines(rows: list[dict]) -> list[str]:
    """Page opens per run (sidebar click → title, script run over, charts drawn)."""
    rows = [row for row in rows if "pages" in row]
    if not rows:
        return []
    lines = ["Opening pages (sidebar click → the page's script run finished and every chart "
             "drawn; first = first open of the session, which fills the page's per-run "
             "caches; warm = later opens). Explorer from a new browser session: first = "
             "the server's first (loads the run), second = a second session.", "",
             "| run | Explorer new session first / second | "
             + " | ".join(f"{title} first | {title} warm median / p90" for title in PAGES)
             + " |", "|---|---|" + "---|---|" * len(PAGES)]
    for row in rows:
        cells = [f"{row['pages'][title]['first_ms']} ms | "
                 f"{row['pages'][title]['warm']['median_ms']} / "
                 f"{row['pages'][title]['warm']['p90_ms']} ms" for title in PAGES]
        lines.append(f"| {row['run']} | {row['first_open_s']} s / {row['second_open_s']} s | "
                     + " | ".join(cells) + " |")
    return [*lines, ""]


def _shown(run: Path) -> str:
    """A run folder as the report names it: as given when relative, relative to the
    repository when inside it, else under runs/."""
    if not run.is_absolute():
        return str(run)
    try:
        return str(run.resolve().relative_to(REPO))
    except ValueError:
        return f"runs/{run.name}"


def main(argv: list[str] | None = None) -> None:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--run", action="append", default=[], help="a run folder")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite browser.md from browser.json; measure nothing")
    parser.add_argument("--drags", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--query", default=QUERY, help="the first search's words")
    parser.add_argument("--skip-search", action="store_true",
                        help="no first search (a large catalogue's text is not encoded yet)")
    parser.add_argument("--report", default="browser",
                        help="report name: OUT/REPORT.json and .md")
    args = parser.parse_args(argv)
    if args.report_only:
        write_report(read_json(args.out / f"{args.report}.json"), args.out, args.report)
        return
    if not args.run:
        parser.error("give at least one --run folder (or --report-only)")
    os.environ.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    result = {"machine": machine(),
              "command": "python -m bench.studio.browser_speed " + " ".join(
                  f"--run {_shown(Path(r))}" for r in args.run)
              + f" --drags {args.drags} --rounds {args.rounds}"
              + ("" if args.query == QUERY else f" --query '{args.query}'")
              + (" --skip-search" if args.skip_search else "")
              + ("" if args.report == "browser" else f" --report {args.report}"),
              "load_average_before": load_average(), "runs": []}
    floors: list[float] = []
    for run in args.run:  # each run's floor: taken around each round of its slider steps
        row = bench_run(Path(run), args.drags, args.rounds,
                        None if args.skip_search else args.query)
        floors += row.pop("floor_steps_ms")
        print(json.dumps(row), flush=True)
        result["runs"].append(row)
    result["floor"] = _summary(floors)
    result["load_average_after"] = load_average()
    write_report(result, args.out, args.report)
    print((args.out / f"{args.report}.md").read_text())


if __name__ == "__main__":
    main()
