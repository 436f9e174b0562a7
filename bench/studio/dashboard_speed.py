"""Dashboard speed on a real run: slider moves on the Explorer, the Trade-off sweep.

Measured with Streamlit's AppTest (the server-side script run, no browser): each number is
the wall time of one `run()` after a widget change. Trains the run first when it is missing.

    .venv/bin/python -m bench.studio.dashboard_speed                       # Amazon-Scientific
    .venv/bin/python -m bench.studio.dashboard_speed --home /tmp/prism_bench --moves 30

Writes docs/benchmarks/dashboard.json and docs/benchmarks/dashboard.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from bench.common import (
    AMAZON,
    OUT_DIR,
    REPO,
    add_out,
    load_average,
    machine,
    machine_line,
    write_atomic,
    write_json,
)

APP = REPO / "dashboard" / "app.py"
TARGET_SLIDER_MS, TARGET_SWEEP_S = 150.0, 5.0


def ensure_run(home: Path, data: Path, name: str, epochs: int) -> Path:
    """The run folder `<home>/runs/<name>`, trained from `data` when absent."""
    from engine.training.pipeline import train
    from engine.training.presets import quick_run

    run = home / "runs" / name
    if not (run / "run.json").exists():
        print(f"training {name} from {data} (once)…", flush=True)
        train(quick_run(data_dir=data, out_dir=run, epochs=epochs, dim=64,
                          alpha=0.2))
    return run


def _timed(action) -> float:  # noqa: ANN001 - a zero-argument callable
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(1000 * s for s in seconds)
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 1),
            "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 1), "max_ms": round(ms[-1], 1)}


def bench_explorer(user: str, moves: int) -> dict:
    """Cold first render, then slider moves per method (warm caches)."""
    from streamlit.testing.v1 import AppTest

    from dashboard.view_state import ALPHA, METHOD, widget_key

    at = AppTest.from_file(str(APP), default_timeout=600)
    at.query_params["user"] = user
    first = _timed(at.run)
    assert not at.exception, [e.value for e in at.exception]
    results = {"first_render_s": round(first, 2), "methods": {}}
    for method in ("mmr", "dpp", "calibrated"):
        at.radio(key=widget_key(METHOD)).set_value(method).run()
        at.slider(key=widget_key(ALPHA)).set_value(0.0).run()  # warm-up for this method
        times = []
        for step in range(moves):
            value = round(0.05 * (1 + step % 19), 2)
            times.append(_timed(at.slider(key=widget_key(ALPHA)).set_value(value).run))
            assert not at.exception, [e.value for e in at.exception]
        results["methods"][method] = _summary(times)
    return results


def bench_tradeoff(user: str) -> dict:
    """First Trade-off render with empty data caches (500 shoppers), then a cached one."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=600)
    at.query_params["user"] = user
    at.run()  # loads the model and the split (shared with the Explorer)
    st.cache_data.clear()
    at.switch_page("app_pages/tradeoff.py")
    first = _timed(at.run)
    assert not at.exception, [e.value for e in at.exception]
    caption = next(c.value for c in at.caption if "shoppers ·" in c.value)
    sweep_seconds = float(caption.split("· ")[1].split(" s")[0])
    cached = _timed(at.run)
    return {"n_shoppers": 500, "sweep_first_s": sweep_seconds,
            "page_first_s": round(first, 2), "page_cached_s": round(cached, 3),
            "caption": caption}


def write_report(result: dict, out: Path = OUT_DIR) -> None:
    write_json(out / "dashboard.json", result)
    explorer, tradeoff = result["explorer"], result["tradeoff"]
    lines = [
        "# Dashboard speed",
        "",
        f"Run `{result['run']}` ({result['n_items']:,} items, {result['n_users']:,} shoppers), "
        f"{machine_line(result['machine'])}. Command: `{result['command']}`.",
        f"Load average before/after: {result['load_average_before']} / "
        f"{result['load_average_after']} (other jobs shared the cores).",
        "AppTest wall time of one script run after a widget change (server work, no browser).",
        "",
        "| Explorer slider move (k=10) | median | p90 | max | target |",
        "|---|---|---|---|---|",
    ]
    for method, row in explorer["methods"].items():
        lines.append(f"| {method} ({row['n']} moves) | {row['median_ms']} ms | {row['p90_ms']} ms "
                     f"| {row['max_ms']} ms | ≤ {TARGET_SLIDER_MS:.0f} ms |")
    lines += [
        "",
        f"Explorer first render (model + split loading): {explorer['first_render_s']} s.",
        "",
        "| Trade-off, 500 shoppers, 3 methods × 5 weights | seconds | target |",
        "|---|---|---|",
        f"| sweep, first time | {tradeoff['sweep_first_s']} | ≤ {TARGET_SWEEP_S:.0f} s |",
        f"| whole page, first time (sweep + exposure + charts) | {tradeoff['page_first_s']} | |",
        f"| whole page, cached | {tradeoff['page_cached_s']} | |",
        "",
    ]
    write_atomic(out / "dashboard.md", "\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--home", default=str(Path.home() / ".prism-bench"))
    parser.add_argument("--data", default=str(AMAZON))
    parser.add_argument("--name", default="amazon-scientific")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--moves", type=int, default=20)
    args = parser.parse_args(argv)
    home, data = Path(args.home), Path(args.data)
    if not data.is_dir():
        sys.exit(f"data folder {data} not found; pass --data")
    os.environ.update(PRISM_HOME=str(home), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    run = ensure_run(home, data, args.name, args.epochs)
    for other in (home / "runs").iterdir():  # the studio opens the newest run: keep only ours
        if other.is_dir() and other != run:
            sys.exit(f"{home / 'runs'} holds other runs ({other.name}); use a dedicated --home")
    from engine.serving.recommender import Recommender

    recommender = Recommender.load(run)
    user = recommender.user_ids[len(recommender.user_ids) // 2]
    result = {"run": args.name, "n_items": recommender.catalogue.n_items,
              "n_users": len(recommender.user_ids), "user": user,
              "machine": machine(),
              "command": "python -m bench.studio.dashboard_speed " + " ".join(
                  sys.argv[1:] if argv is None else argv),
              "load_average_before": load_average(),
              "explorer": bench_explorer(user, args.moves),
              "tradeoff": bench_tradeoff(user)}
    result["load_average_after"] = load_average()
    write_report(result, args.out)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
