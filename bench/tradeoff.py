"""Accuracy–diversity trade-off on the shared real data: every re-ranker over its weight range.

    python bench/tradeoff.py                                  # both datasets, twotower + ease
    python bench/tradeoff.py --datasets ml-100k --models ease
    python bench/tradeoff.py --run-amazon RUN_DIR --users 2000  # reuse a trained run

ML-100K: random 8:1:1 split, Amazon-Scientific: leave-last-out, both with seed 2020. Each run
is trained through `prism train` (default ModelConfig/TrainConfig; `--epochs` caps the
two-tower) or loaded, then `engine.sweep.sweep` evaluates methods × weights on the test users.
Results merge into docs/benchmarks/tradeoff.json (re-run (dataset, model) pairs replace their
old rows) and docs/benchmarks/tradeoff.md is rebuilt from it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DATASETS = {"ml-100k": "random", "amazon-scientific": "leave-last-out"}
RUN_FLAGS = {"ml-100k": "run_ml100k", "amazon-scientific": "run_amazon"}
MODELS = ("twotower", "ease")
METHODS = ("mmr", "dpp", "calibrated")  # quota needs per-category floors/caps: see NOTES
WEIGHTS = "0,0.1,...,1"
SEED = 2020
K = 10
SHOWN = ("ndcg", "precision", "category_entropy", "category_coverage", "ild", "catalog_coverage")
OUT_DIR = REPO / "docs" / "benchmarks"


def train_command(folder: Path, protocol: str, model: str, out: Path,
                  epochs: int | None) -> list[str]:
    """`prism train` arguments for one run (the exact command recorded in the Markdown)."""
    argv = ["train", "--data", str(folder), "--out", str(out), "--model", model,
            "--split", protocol, "--seed", str(SEED), "--quiet"]
    if epochs is not None and model == "twotower":
        argv += ["--epochs", str(epochs)]
    return argv


def obtain_run(folder: Path, protocol: str, model: str, args: argparse.Namespace) -> Any:
    """Load the run given on the command line, else train one with the `prism train` code."""
    from engine.cli import main as prism
    from engine.runs import load_run

    given = getattr(args, RUN_FLAGS[folder.name]) if model == "twotower" else None
    if given:
        return load_run(given), None
    out = Path(args.runs_dir) / f"{folder.name}-{model}"
    argv = train_command(folder, protocol, model, out, args.epochs)
    print("prism " + " ".join(argv), flush=True)
    if prism(argv) != 0:
        raise SystemExit(f"training {model} on {folder.name} failed (see the message above)")
    return load_run(out), argv


def run_facts(run: Any) -> dict[str, Any]:
    """What the Markdown says about a run: epochs trained, fit time, configs."""
    meta = run.meta
    epochs = None
    log = run.path / "metrics.jsonl"
    if log.exists():
        epochs = sum(1 for line in log.read_text().splitlines() if line.strip())
    return {"path": str(run.path), "seed": meta.get("seed"), "split": meta.get("split"),
            "fit_seconds": meta.get("fit_seconds"), "epochs_trained": epochs,
            "train_config": meta.get("train_config"), "model_config": meta.get("model_config")}


def sweep_one(dataset: Any, name: str, model: str, args: argparse.Namespace) -> dict[str, Any]:
    """Train/load one run, sweep it, and return the row stored in tradeoff.json."""
    from engine.cli.serve_cmds import parse_weights
    from engine.sweep import best_at_equal_entropy, equal_entropy_summary, sweep

    protocol = DATASETS[name]
    run, argv = obtain_run(Path(args.data_root) / name, protocol, model, args)
    if run.meta.get("split") != protocol or int(run.meta.get("seed", -1)) != SEED:
        print(f"note: run {run.path} used split {run.meta.get('split')} seed "
              f"{run.meta.get('seed')}; this benchmark's protocol is {protocol} seed {SEED}",
              file=sys.stderr)
    methods = args.methods.split(",")
    started = time.perf_counter()
    frame = sweep(run, dataset, methods, parse_weights(args.weights), k=K, n_users=args.users,
                  seed=SEED, target_mix=args.target_mix,
                  on_point=lambda m, w: print(f"  {name} {model} {m} w={w:g}", flush=True))
    seconds = time.perf_counter() - started
    grid = best_at_equal_entropy(frame)
    reference = []
    if "calibrated" in methods and args.reference_mix is not None:
        reference = sweep(run, dataset, ["calibrated"], parse_weights(args.weights), k=K,
                          n_users=args.users, seed=SEED,
                          target_mix=args.reference_mix).to_dict(orient="records")
    return {"dataset": name, "split": protocol, "model": model, "seed": SEED,
            "n_users": int(frame["n_users"].iloc[0]), "target_mix": args.target_mix,
            "run": run_facts(run), "train_command": argv, "sweep_seconds": round(seconds, 1),
            "sweep_command": sweep_command(run.path, name, args),
            "points": frame.to_dict(orient="records"),
            "equal_entropy": equal_entropy_summary(grid),
            "equal_entropy_grid": grid.to_dict(orient="records"),
            "reference_mix": args.reference_mix if reference else None,
            "reference_points": reference}


def sweep_command(run_path: Path, name: str, args: argparse.Namespace) -> str:
    users = f" --users {args.users}" if args.users else ""
    return (f"prism sweep --run {run_path} --data ../shared/data/{name} --methods "
            f"{args.methods} --weights {args.weights} --k {K} --seed {SEED} --target-mix "
            f"{args.target_mix:g}{users} --json sweep-{name}.json")


def monotone_report(points: list[dict[str, Any]], tolerance: float = 1e-9,
                    ) -> dict[str, dict[str, Any]]:
    """Per method: does category entropy@K rise with the weight, and where it falls if not."""
    column = f"category_entropy@{K}"
    report: dict[str, dict[str, Any]] = {}
    for method in dict.fromkeys(p["method"] for p in points):
        curve = sorted((p["weight"], p[column]) for p in points if p["method"] == method)
        drops = [{"from": w0, "to": w1, "change": round(e1 - e0, 4)}
                 for (w0, e0), (w1, e1) in zip(curve, curve[1:], strict=False)
                 if e1 < e0 - tolerance]
        report[method] = {"monotone": not drops, "drops": drops,
                          "first": round(curve[0][1], 4), "last": round(curve[-1][1], 4),
                          "peak": round(max(e for _, e in curve), 4),
                          "peak_weight": max(curve, key=lambda c: c[1])[0]}
    return report


def merge(path: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Old results with re-run (dataset, model) pairs replaced; written atomically."""
    old = json.loads(path.read_text()) if path.exists() else {"rows": []}
    fresh = {(r["dataset"], r["model"]) for r in rows}
    kept = [r for r in old["rows"] if (r["dataset"], r["model"]) not in fresh]
    for row in rows:
        row["monotone"] = monotone_report(row["points"])
        if row["reference_points"]:
            row["reference_monotone"] = monotone_report(row["reference_points"])
    merged = {"machine": f"{platform.machine()} {os.cpu_count()} CPUs, {platform.system()}",
              "k": K, "rows": kept + rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(json.dumps(merged, indent=2, default=float) + "\n")
    os.replace(staging, path)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--run-ml100k", default=None, help="two-tower run to load for ML-100K")
    parser.add_argument("--run-amazon", default=None, help="two-tower run to load for Amazon")
    parser.add_argument("--users", type=int, default=None, help="random test users (all)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="cap two-tower epochs (default: TrainConfig's)")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--weights", default=WEIGHTS)
    parser.add_argument("--target-mix", type=float, default=0.5,
                        help="calibrated target (1 − γ)·history + γ·catalogue")
    parser.add_argument("--reference-mix", type=float, default=0.0,
                        help="also sweep calibrated at this γ for comparison (-1: skip)")
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--runs-dir", default=str(Path(os.environ.get(
        "PRISM_HOME", Path.home() / ".prism")) / "bench" / "tradeoff"))
    parser.add_argument("--out", default=str(OUT_DIR))
    args = parser.parse_args(argv)
    if args.reference_mix is not None and args.reference_mix < 0:
        args.reference_mix = None
    return run_benchmark(args)


def run_benchmark(args: argparse.Namespace) -> int:
    from bench.tradeoff_report import render
    from engine.data import load_dataset

    rows = []
    for name in args.datasets.split(","):
        if name not in DATASETS:
            raise SystemExit(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
        folder = Path(args.data_root) / name
        if not folder.is_dir():
            print(f"skipping {name}: {folder} not found", file=sys.stderr)
            continue
        dataset = load_dataset(folder)
        for model in args.models.split(","):
            rows.append(sweep_one(dataset, name, model, args))
    out = Path(args.out)
    results = merge(out / "tradeoff.json", rows)
    (out / "tradeoff.md").write_text(render(results))
    print(f"wrote {out / 'tradeoff.json'} and {out / 'tradeoff.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
