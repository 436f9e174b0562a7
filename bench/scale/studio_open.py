"""What the studio loads when a run is first opened, step by step: wall and CPU seconds, memory.

    nice python -m bench.scale.studio_open --run ../million-runs/shop

The Explorer's first open of a run loads its serving Recommender (run folder, catalogue,
candidate index), re-reads the run's data and splits it as the run did (held-out items per
shopper; the Trade-off, Ledger and Policies pages read the same split) and groups shoppers by
their main category (the split takes the run's item × category table rather than building it
again from the category paths). Each step runs once here, in a fresh process, in that order; CPU
seconds are this process's (the machine's other work barely moves them), memory is this
process's resident set after the step and its peak (/proc/self/status).

Then the Catalogue and Ledger pages' first open, each in a fresh process after the Explorer's
(bench.scale.studio_pages: the real app in Streamlit's AppTest), CPU and wall seconds.
Results → docs/benchmarks/studio_open.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import (
    add_out,
    load_average,
    machine,
    machine_line,
    process_memory_gb,
    write_results,
)
from bench.scale.studio_pages import PAGES, measure_pages

STEPS = 5  # the steps below


def steps(run: Path) -> list[tuple[str, Callable[[dict], Any]]]:
    """(name, step) in the order the studio's first open runs them; each reads earlier results
    from the dict it is given."""
    from engine.runs.data import load_run_dataset, split_like_run
    from engine.serving.listmetrics import top_categories
    from engine.serving.recommender import Recommender

    meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
    return [
        ("load the serving Recommender", lambda done: Recommender.load(run)),
        ("re-read the run's data", lambda done: load_run_dataset(meta, run)),
        ("split it as the run did (held-out part)",
         lambda done: split_like_run(done["re-read the run's data"], meta,
                                     known_categories=_categories(done))),
        ("held-out items per shopper", lambda done: done[
            "split it as the run did (held-out part)"][0].heldout_by_user()),
        ("shoppers' main categories (segments)", lambda done: top_categories(
            done["load the serving Recommender"].catalogue)),
    ]


def _categories(done: dict) -> tuple:
    """The run's item × category table as the studio hands it to the split (not rebuilt)."""
    catalogue = done["load the serving Recommender"].catalogue
    return catalogue.item_index, catalogue.item_categories, catalogue.category_names


def measure(run: Path) -> dict:
    done, rows = {}, []
    for name, step in steps(run):
        started, ticks = time.perf_counter(), time.process_time()
        done[name] = step(done)
        rows.append({"step": name, "wall_s": round(time.perf_counter() - started, 2),
                     "cpu_s": round(time.process_time() - ticks, 2), **process_memory_gb()})
        if done[name] is None:  # the run's data folder is gone: the studio shows no split
            break
    recommender = done["load the serving Recommender"]
    return {"items": recommender.catalogue.n_items, "shoppers": len(recommender.user_ids),
            "steps": rows, "total_wall_s": round(sum(r["wall_s"] for r in rows), 1),
            "total_cpu_s": round(sum(r["cpu_s"] for r in rows), 1)}


def render(results: dict) -> str:
    lines = ["# Opening a run in the studio: what loads", "",
             f"{machine_line(results['machine'])}. Command: `{results['command']}` (load "
             f"average at the end {results['load_average']}). Written by "
             "`bench/scale/studio_open.py`.", "",
             f"{results['items']:,} items, {results['shoppers']:,} shoppers. Wall seconds "
             "follow the machine's load; CPU seconds are this process's own.", "",
             "| step | wall s | CPU s | memory GB after | peak GB |", "|---|---|---|---|---|"]
    for row in results["steps"]:
        lines.append(f"| {row['step']} | {row['wall_s']} | {row['cpu_s']} | {row['rss_gb']} | "
                     f"{row['peak_rss_gb']} |")
    lines += ["", f"Total: {results['total_wall_s']} s wall, {results['total_cpu_s']} s CPU."]
    if results.get("pages"):
        lines += ["", "## A page's first open (after the Explorer's, in a fresh process)", "",
                  "| page | Explorer wall s | Explorer CPU s | page wall s | page CPU s | "
                  "peak GB | problems |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {row['page']} | {row['explorer_wall_s']} | {row['explorer_cpu_s']} | "
                  f"{row['wall_s']} | {row['cpu_s']} | {row['peak_rss_gb']} | "
                  f"{len(row['problems']) or 'none'} |" for row in results["pages"]]
        typed = [(row["page"], query) for row in results["pages"]
                 for query in row.get("find_box", [])]
        if typed:
            lines += ["", "Then queries typed one after another into the Catalogue's item find "
                      "box (the first builds the catalogue's find index once):", "",
                      "| query | wall s | CPU s | items listed |", "|---|---|---|---|"]
            lines += [f"| `{q['query']}` | {q['wall_s']} | {q['cpu_s']} | {q['found']} |"
                      for _, q in typed]
    if len(results["steps"]) < STEPS:
        lines += ["", "The run's data folder was not found, so the split steps were not run."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--run", type=Path, required=True, help="the run folder to open")
    parser.add_argument("--pages", nargs="*", choices=PAGES, default=list(PAGES),
                        help="pages whose first open is measured (none: only the steps)")
    args = parser.parse_args(argv)
    shown = args.run if not args.run.is_absolute() else Path("RUN")  # never this machine's
    results = {"command": f"nice python -m bench.scale.studio_open --run {shown}",
               "machine": machine(), **measure(args.run),
               "pages": measure_pages(args.run, tuple(args.pages)),
               "load_average": load_average()}
    write_results(args.out, "studio_open", results, render)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
