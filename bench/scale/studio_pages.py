"""A studio page's first open on a run, as a merchandiser meets it: the Explorer opens, then the
page is picked in the navigation (Streamlit's AppTest runs the real app script).

Each page is measured in a fresh process (`python -m bench.scale.studio_pages --run R --page
P`, one JSON line on stdout) so no page profits from another's caches; the run is linked
into a private PRISM_HOME of that process. CPU seconds are the process's own (the script
runs in one of its threads), memory its peak resident set.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO, process_memory_gb

APP = REPO / "dashboard" / "app.py"
PAGES = ("catalogue", "ledger")
TIMEOUT = 1800  # seconds one AppTest run may take on a loaded 2-core machine


def _timed(run: Any) -> dict[str, Any]:
    started, ticks = time.perf_counter(), time.process_time()
    at = run()
    problems = [str(e.value) for e in [*at.exception, *at.error]]
    return {"wall_s": round(time.perf_counter() - started, 2),
            "cpu_s": round(time.process_time() - ticks, 2), "problems": problems, "at": at}


def open_page(run: Path, page: str) -> dict[str, Any]:
    """The Explorer's open, then `page`'s first open, in this process (PRISM_HOME set here)."""
    from streamlit.testing.v1 import AppTest

    home = Path(tempfile.mkdtemp(prefix="prism_pages_"))
    (home / "runs").mkdir()
    (home / "runs" / run.name).symlink_to(run.resolve(), target_is_directory=True)
    os.environ["PRISM_HOME"] = str(home)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    explorer = _timed(at.run)
    at.switch_page(f"app_pages/{page}.py")
    opened = _timed(at.run)
    typed = _find_box(at) if page == "catalogue" else []
    return {"page": page, "explorer_wall_s": explorer["wall_s"],
            "explorer_cpu_s": explorer["cpu_s"], "wall_s": opened["wall_s"],
            "cpu_s": opened["cpu_s"],
            "problems": explorer["problems"] + opened["problems"] + [
                p for row in typed for p in row.pop("problems")],
            "find_box": typed, "peak_rss_gb": process_memory_gb()["peak_rss_gb"]}


def _find_box(at: Any) -> list[dict[str, Any]]:
    """Queries typed into the Catalogue's find box one after another, each rerun timed: the
    first builds the catalogue's find index; an id's start is found by binary search, a word
    inside titles by a scan that stops at the first 50 matches."""
    first_id = str(at.dataframe[-1].value["item_id"].iloc[0])
    word = str(at.dataframe[-1].value["title"].iloc[0]).split()[-1].lower()
    rows = []
    for query in (first_id[:3], first_id[:4], word, first_id):
        box = at.text_input(key="catalogue_find_item").set_value(query)
        timed = _timed(box.run)
        rows.append({"query": query, "wall_s": timed["wall_s"], "cpu_s": timed["cpu_s"],
                     "found": len(timed["at"].dataframe[-1].value),
                     "problems": timed["problems"]})
    return rows


def measure_pages(run: Path, pages: tuple[str, ...] = PAGES) -> list[dict[str, Any]]:
    """Each page's first open, each in its own fresh process (niced like its parent)."""
    rows = []
    for page in pages:
        done = subprocess.run([sys.executable, "-m", "bench.scale.studio_pages", "--run",
                               str(run), "--page", page], cwd=REPO, capture_output=True,
                              text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="the run folder to open")
    parser.add_argument("--page", choices=PAGES, required=True, help="the page to open")
    args = parser.parse_args(argv)
    print(json.dumps(open_page(args.run, args.page)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
