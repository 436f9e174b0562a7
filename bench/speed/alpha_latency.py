"""How fast a new alpha is served: one user-tower pass at that alpha, scoring, top-k.

    python -m bench.speed.alpha_latency --run runs/frontier/amazon-scientific-α0-1-seed0
    python -m bench.speed.alpha_latency --run RUN --repeats 300

For a loss-conditioned run (prism train --alpha 0:1) it times, for shoppers drawn from the
run, a fresh alpha per call: (a) the model alone — `model.at_alpha(a).top_n_users([u], 10)`,
the user-tower pass at that alpha, the scores over the whole catalogue and the top 10; (b) the
whole `Recommender.recommend(u, alpha=a)` (re-ranking, explanations, the response table).
Reports the median and p90 in milliseconds on this machine (one torch thread, as a server
uses) and writes docs/benchmarks/alpha_latency.json and .md. The goal for (a) is <= 5 ms at
the Amazon-Scientific size on a CPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import add_out, machine, machine_line, write_results
from bench.speed.serve_latency import timed


def measure(run_dir: Path, repeats: int) -> dict[str, Any]:
    import torch

    from engine.serving.recommender import Recommender

    torch.set_num_threads(1)
    service = Recommender.load(run_dir, torch_threads=1)
    model = service.model
    if model.alpha_range is None:
        raise SystemExit(f"{run_dir} is not a loss-conditioned run (train with --alpha 0:1)")
    low, high = model.alpha_range
    rng = np.random.default_rng(0)
    users = rng.integers(0, len(service.user_ids), size=repeats + 5)
    alphas = rng.uniform(low, high, size=repeats + 5)
    ids = service.user_ids

    def model_only(i: int) -> None:
        model.at_alpha(float(alphas[i])).top_n_users(np.array([users[i]]), 10)

    def whole(i: int) -> None:
        service.recommend(ids[int(users[i])], k=10, method="mmr", diversity_weight=0.0,
                          alpha=float(alphas[i]))

    return {"run": run_dir.name, "dataset": str(service.run.meta.get("dataset", "")),
            "alpha_range": list(model.alpha_range), "n_items": int(service.catalogue.n_items),
            "n_users": len(ids), "dim": int(model.model_config.dim),
            "model_only": timed(model_only, repeats), "recommend": timed(whole, repeats),
            "repeats": repeats}


def render(results: dict[str, Any]) -> str:
    lines = ["# Serving a new alpha: latency", "",
             f"Machine: {machine_line(results['machine'])}"
             f" (shared; one torch thread). Each call draws a "
             "shopper and a new α in the trained range. **Model alone**: the user-tower pass at "
             "that α, scores over the catalogue and the top 10 (goal ≤ 5 ms at the "
             "Amazon-Scientific size). **recommend()**: the whole in-process call (re-ranking, "
             "explanations, response table).", "",
             "Regenerate: `python -m bench.speed.alpha_latency --run RUN` for a run trained with "
             "`prism train --alpha 0:1`.", "", *([results["note"], ""] if results.get("note")
                                                else []),
             "| run (data set, α range) | items | shoppers | d | model alone median / p90 ms | "
             "recommend() median / p90 ms | calls |", "|---|---|---|---|---|---|---|"]
    for row in results["runs"]:
        span = "–".join(f"{a:g}" for a in row["alpha_range"])
        lines.append(f"| {row['run']} ({row['dataset']}, {span}) | {row['n_items']:,} | "
                     f"{row['n_users']:,} | {row['dim']} "
                     f"| {row['model_only']['median_ms']:.2f} / {row['model_only']['p90_ms']:.2f}"
                     f" | {row['recommend']['median_ms']:.2f} / {row['recommend']['p90_ms']:.2f}"
                     f" | {row['repeats']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--run", action="append", required=True,
                        help="a loss-conditioned run folder (repeatable)")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--note", default="", help="how the runs were made, for the report")
    args = parser.parse_args(argv)
    results = {"machine": machine(), "note": args.note,
               "runs": [measure(Path(run), args.repeats) for run in args.run]}
    write_results(args.out, "alpha_latency", results, render)
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
