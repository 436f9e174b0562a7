"""Median latency of `Recommender.recommend()` end to end for one user (target ≤ 20 ms).

Run from the repo root: `python -m bench.speed.serve_latency [--run RUN]`. Without --run it trains a
quick two-tower run on ../shared/data/amazon-scientific into PRISM_HOME/bench (once, reused).
Also times a what-if history, personalised search and hot items. Writes the `latency` section
of docs/benchmarks/serving.json and re-renders serving.md; the last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import AMAZON, SERVE_METHODS, add_out, ensure_run, machine, percentile
from bench.speed.serving_report import update_report
from engine.core.paths import prism_home
from engine.serving.recommender import Recommender

METHODS = SERVE_METHODS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--run", default=None, help="run folder (default: train a quick one)")
    parser.add_argument("--data", default=str(AMAZON), help="dataset for the quick run")
    parser.add_argument("--model", default="twotower", help="model of the quick run")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the quick two-tower")
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per row")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--weight", type=float, default=0.5)
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch intra-op threads (prism serve's default is 1)")
    parser.add_argument("--no-report", action="store_true", help="print only, write no docs")
    return parser.parse_args(argv)


def timed(call: Callable[[int], object], repeats: int, warmup: int = 5) -> dict[str, float]:
    """Median and p90 wall milliseconds of `call(i)` for i in 0..repeats-1."""
    for i in range(warmup):
        call(i)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - start) * 1e3)
    return {"median_ms": round(statistics.median(times), 3),
            "p90_ms": round(percentile(times, 90), 3)}


def measure(service: Recommender, users: list[str], args: argparse.Namespace) -> dict:
    """Per call kind, the median/p90 ms over `args.repeats` calls cycling through `users`."""
    k, weight, repeats = args.k, args.weight, args.repeats
    calls: dict[str, dict[str, float]] = {}
    for method in METHODS:
        calls[f"recommend {method}"] = timed(lambda i, m=method: service.recommend(
            user_id=users[i % len(users)], k=k, method=m, diversity_weight=weight), repeats)
    histories = [service.history(u)["item_id"].tolist()[-5:] for u in users]
    calls["recommend what-if history (mmr)"] = timed(lambda i: service.recommend(
        history=histories[i % len(histories)], k=k, method="mmr", diversity_weight=weight),
        repeats)
    titles = service.catalogue.items["title"].tolist()
    queries = [" ".join(str(titles[j * 37 % len(titles)]).split()[:3]) for j in range(50)]
    calls["search + user (mmr)"] = timed(lambda i: service.search(
        queries[i % len(queries)], user_id=users[i % len(users)], k=k, diversity_weight=weight),
        repeats)
    calls["hot items (mmr)"] = timed(lambda i: service.hot_items(k=k, diversity_weight=weight),
                                     repeats)
    return calls


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    run = ensure_run(args.run, Path(args.data), prism_home() / "bench" / f"amazon-{args.model}",
                     args.model, args.epochs)
    service = Recommender.load(run, torch_threads=args.torch_threads)
    users = service.user_ids[:: max(1, len(service.user_ids) // 50)][:50]
    calls = measure(service, users, args)
    worst = max(calls[f"recommend {m}"]["median_ms"] for m in METHODS)
    payload = {
        "command": "python -m bench.speed.serve_latency"
                   + (" --run RUN" if args.run else ""),
        "run_model": service.model.name, "dataset": str(service.run.meta.get("dataset", "?")),
        "n_items": service.catalogue.n_items, "n_users": len(service.user_ids), "k": args.k,
        "n_candidates": 200, "weight": args.weight, "repeats": args.repeats,
        "distinct_users": len(users), "torch_threads": args.torch_threads,
        "machine": machine(), "calls": calls,
        "worst_recommend_median_ms": worst,
    }
    for name, row in calls.items():
        print(f"{name:<34} median {row['median_ms']:7.2f} ms   p90 {row['p90_ms']:7.2f} ms")
    if not args.no_report:
        update_report("latency", payload, args.out)
    print(json.dumps({"recommend_median_ms": {m: calls[f"recommend {m}"]["median_ms"]
                                              for m in METHODS}}))


if __name__ == "__main__":
    main()
