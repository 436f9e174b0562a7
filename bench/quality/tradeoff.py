"""Accuracy–diversity trade-off on the shared real data: every re-ranker over its weight range.

    python -m bench.quality.tradeoff                                # both datasets, twotower + ease
    python -m bench.quality.tradeoff --datasets ml-100k --models ease
    python -m bench.quality.tradeoff --run-amazon RUN_DIR --users 2000  # reuse a trained run

ML-100K: random 8:1:1 split, Amazon-Scientific: leave-last-out, both with seed 2020. Each run
is trained through `prism train` (default ModelConfig/TrainConfig plus the data set's
settings in bench/common.py; `--epochs` caps the two-tower) or loaded, then
`engine.evaluation.sweep.sweep` evaluates methods × weights on the test users.
Results merge into docs/benchmarks/tradeoff.json (re-run (dataset, model) pairs replace their
old rows) and docs/benchmarks/tradeoff.md is rebuilt from it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    DATASET_SETTINGS,
    DATASETS,
    RESAMPLES,
    SHARED_DATA,
    SWEEP,
    add_out,
    machine,
    machine_line,
    read_json,
    write_atomic,
    write_json,
)

RUN_FLAGS = {"ml-100k": "run_ml100k", "amazon-scientific": "run_amazon"}
MODELS = ("twotower", "ease")
METHODS = SWEEP  # quota needs per-category floors/caps: see NOTES
WEIGHTS = "0,0.1,...,1"
SEED = 2020
K = 10
SHOWN = ("ndcg", "precision", "category_entropy", "category_coverage", "ild", "catalog_coverage")


def train_command(folder: Path | str, protocol: str, model: str, out: Path | str,
                  epochs: int | None) -> list[str]:
    """`prism train` arguments for one run."""
    argv = ["train", "--data", str(folder), "--out", str(out), "--model", model,
            "--split", protocol, "--seed", str(SEED), "--quiet"]
    if epochs is not None and model == "twotower":
        argv += ["--epochs", str(epochs)]
    if model == "twotower":
        for pair in DATASET_SETTINGS.get(Path(folder).name, []):
            argv += ["--set", pair]
    return argv


def relative_train_command(train_config: dict[str, Any] | None, name: str, model: str) -> str:
    """The `prism train` line that reproduces a run, from the repo root (what the docs show)."""
    from engine.core.config import TrainConfig

    cap = (train_config or {}).get("epochs") if model == "twotower" else None
    cap = None if cap == TrainConfig().epochs else cap  # the default needs no flag
    argv = train_command(f"../shared/data/{name}", DATASETS[name], model,
                         f"runs/{name}-{model}", cap)
    return "prism " + " ".join(argv)


def obtain_run(folder: Path, protocol: str, model: str, args: argparse.Namespace) -> Any:
    """Load the run given on the command line, else train one as `prism train` would."""
    from engine.runs.store import load_run
    from engine.training.options import train_spec
    from engine.training.pipeline import train

    given = getattr(args, RUN_FLAGS[folder.name]) if model == "twotower" else None
    if given:
        return load_run(given), None
    out = Path(args.runs_dir) / f"{folder.name}-{model}"
    argv = train_command(folder, protocol, model, out, args.epochs)
    print("prism " + " ".join(argv), flush=True)
    settings = DATASET_SETTINGS.get(folder.name, []) if model == "twotower" else []
    train(train_spec(folder, out=out, model=model, protocol=protocol, seed=SEED,
                     epochs=args.epochs if model == "twotower" else None, settings=settings))
    return load_run(out), argv


def run_facts(run: Any) -> dict[str, Any]:
    """What the Markdown says about a run: epochs trained, fit time, configs."""
    meta = run.meta
    epochs = None
    log = run.path / "metrics.jsonl"
    if log.exists():
        epochs = sum(1 for line in log.read_text().splitlines() if line.strip())
    return {"path": shown_path(str(run.path)), "seed": meta.get("seed"), "split": meta.get("split"),
            "fit_seconds": meta.get("fit_seconds"), "epochs_trained": epochs,
            "train_config": meta.get("train_config"), "model_config": meta.get("model_config")}


def sweep_one(dataset: Any, name: str, model: str, args: argparse.Namespace) -> dict[str, Any]:
    """Train/load one run, sweep it, and return the row stored in tradeoff.json."""
    from engine.evaluation.sweep import parse_weights, sweep

    protocol = DATASETS[name]
    run, argv = obtain_run(Path(args.data_root) / name, protocol, model, args)
    if run.meta.get("split") != protocol or int(run.meta.get("seed", -1)) != SEED:
        print(f"note: run {run.path} used split {run.meta.get('split')} seed "
              f"{run.meta.get('seed')}; this benchmark's protocol is {protocol} seed {SEED}",
              file=sys.stderr)
    methods = args.methods.split(",")
    started = time.perf_counter()
    frame = sweep(run, dataset, methods, parse_weights(args.weights), k=K, n_users=args.users,
                  seed=SEED, target_mix=args.target_mix, intervals=RESAMPLES,
                  on_point=lambda m, w: print(f"  {name} {model} {m} w={w:g}", flush=True))
    seconds = time.perf_counter() - started
    reference = []
    if "calibrated" in methods and args.reference_mix is not None:
        reference = sweep(run, dataset, ["calibrated"], parse_weights(args.weights), k=K,
                          n_users=args.users, seed=SEED,
                          target_mix=args.reference_mix).to_dict(orient="records")
    return {"dataset": name, "split": protocol, "model": model, "seed": SEED,
            "n_users": int(frame["n_users"].iloc[0]), "target_mix": args.target_mix,
            "run": run_facts(run), "trained_here": argv is not None,
            "train_command": relative_train_command(run.meta.get("train_config"), name, model),
            "sweep_command": sweep_command(name, model, args),
            "bench_command": args.invocation, "sweep_seconds": round(seconds, 1),
            "points": frame.to_dict(orient="records"),
            "reference_mix": args.reference_mix if reference else None,
            "reference_points": reference}


def sweep_command(name: str, model: str, args: argparse.Namespace) -> str:
    """The `prism sweep` line giving the same table (the CLI runs the same `sweep`)."""
    users = f" --users {args.users}" if args.users else ""
    return (f"prism sweep --run runs/{name}-{model} --data ../shared/data/{name} --methods "
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


def summarise(row: dict[str, Any]) -> None:
    """(Re)compute a row's verdicts from its points (monotonicity, equal-entropy grid) and
    its reproducing command, so `--render-only` follows the current code."""
    import pandas as pd

    from engine.evaluation.sweep import best_at_equal_entropy, equal_entropy_summary

    row["train_command"] = relative_train_command(row["run"].get("train_config"),
                                                  row["dataset"], row["model"])
    grid = best_at_equal_entropy(pd.DataFrame(row["points"]))
    row["equal_entropy"] = equal_entropy_summary(grid)
    row["equal_entropy_grid"] = grid.to_dict(orient="records")
    row["monotone"] = monotone_report(row["points"])
    if row["reference_points"]:
        row["reference_monotone"] = monotone_report(row["reference_points"])


def shown_path(text: str) -> str:
    """An absolute run folder as the relative `runs/<name>` the reports use: reports name
    commands and relative paths, never the folders of the machine a benchmark ran on."""
    return f"runs/{Path(text).name}" if os.path.isabs(text) else text


def merge(path: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Old results with re-run (dataset, model) pairs replaced; written atomically."""
    old = read_json(path) or {"rows": []}
    fresh = {(r["dataset"], r["model"]) for r in rows}
    kept = [r for r in old["rows"] if (r["dataset"], r["model"]) not in fresh]
    for row in kept + rows:
        summarise(row)
        row["run"]["path"] = shown_path(row["run"]["path"])
        row["bench_command"] = " ".join(map(shown_path, row["bench_command"].split(" ")))
    merged = {"machine": machine(), "k": K, "rows": kept + rows}
    write_json(path, merged)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
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
    parser.add_argument("--data-root", default=str(SHARED_DATA))
    parser.add_argument("--runs-dir", default=str(Path(os.environ.get(
        "PRISM_HOME", Path.home() / ".prism")) / "bench" / "tradeoff"))
    parser.add_argument("--render-only", action="store_true",
                        help="recompute the verdicts and the Markdown from tradeoff.json")
    args = parser.parse_args(argv)
    args.invocation = " ".join(["python -m bench.quality.tradeoff",
                                *map(shown_path, sys.argv[1:] if argv is None else argv)])
    if args.reference_mix is not None and args.reference_mix < 0:
        args.reference_mix = None
    return run_benchmark(args)


def run_benchmark(args: argparse.Namespace) -> int:
    from engine.data import load_dataset

    rows: list[dict[str, Any]] = []
    for name in [] if args.render_only else args.datasets.split(","):
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
    write_atomic(out / "tradeoff.md", render(results))
    print(f"wrote {out / 'tradeoff.json'} and {out / 'tradeoff.md'}")
    return 0


def _cell(value: float) -> str:
    return f"{value:.4f}" if abs(value) < 1 else f"{value:.3f}"


def _bracket(point: dict[str, Any], column: str) -> str:
    """ " [low, high]": the 95% interval over shoppers of NDCG and entropy, when measured."""
    low, high = point.get(f"{column} low"), point.get(f"{column} high")
    if column not in (f"ndcg@{K}", f"category_entropy@{K}") or low is None or high is None:
        return ""
    return f" [{_cell(low)}, {_cell(high)}]"


def _points_table(points: list[dict[str, Any]]) -> list[str]:
    columns = [f"{name}@{K}" for name in SHOWN]
    lines = ["| method | weight | " + " | ".join(columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for point in points:
        lines.append(f"| {point['method']} | {point['weight']:g} | "
                     + " | ".join(_cell(point[c]) + _bracket(point, c) for c in columns) + " |")
    return lines


def _monotone_lines(report: dict[str, dict[str, Any]], label: str = "") -> list[str]:
    lines = []
    for method, facts in report.items():
        head = f"- {method}{label}: "
        if facts["monotone"]:
            lines.append(head + f"entropy rises monotonically, {facts['first']} → {facts['last']}.")
            continue
        drops = ", ".join(f"w {d['from']:g}→{d['to']:g} {d['change']:+.4f}" for d in facts["drops"])
        lines.append(head + f"**entropy does not rise monotonically**: {facts['first']} at w=0, "
                     f"peak {facts['peak']} at w={facts['peak_weight']:g}, {facts['last']} at "
                     f"w=1 (falls at {drops}).")
    return lines


def _equal_entropy_lines(row: dict[str, Any]) -> list[str]:
    summary = row["equal_entropy"]
    if not summary["winner"]:
        return ["The methods' entropy ranges do not overlap: no equal-entropy comparison.", ""]
    low, high = summary["entropy_range"]
    means = ", ".join(f"{m} {v:.4f}" for m, v in summary["mean_ndcg"].items())
    wins = ", ".join(f"{m} {n}" for m, n in summary["wins"].items())
    ties = summary.get("ties", 0)
    tied = f"; {ties} tied (where the methods still give the same lists)" if ties else ""
    grid = row["equal_entropy_grid"]
    methods = list(summary["mean_ndcg"])
    lines = [f"**Best NDCG@{K} at equal entropy: {summary['winner']}** — wins {wins} of the "
             f"{len(grid)} grid points over entropy {low:.3f}–{high:.3f}, the range every "
             f"method reaches{tied}; mean NDCG@{K} over the grid: {means}.", "",
             "| entropy | " + " | ".join(methods) + " | best |",
             "|---|" + "---|" * (len(methods) + 1)]
    for point in grid[::4] + ([grid[-1]] if (len(grid) - 1) % 4 else []):
        lines.append(f"| {point['entropy']:.3f} | "
                     + " | ".join(f"{point[m]:.4f}" for m in methods) + f" | {point['best']} |")
    return lines + [""]


def _section(row: dict[str, Any]) -> list[str]:
    run = row["run"]
    epochs = run["epochs_trained"]
    cap = (run.get("train_config") or {}).get("epochs")
    trained = (f"{epochs} epoch(s) trained (cap {cap}), " if epochs and row["model"] == "twotower"
               else "")
    lines = [f"### {row['model']}", "",
             f"{row['n_users']} test users, {trained}fit {run['fit_seconds'] or 0:.0f} s, "
             f"sweep {row['sweep_seconds']:.0f} s; calibrated target mix γ = "
             f"{row['target_mix']:g}.", "", *_points_table(row["points"]), "",
             "Does category entropy@10 rise with the weight?", "",
             *_monotone_lines(row["monotone"])]
    if row.get("reference_points"):
        lines += _monotone_lines(row["reference_monotone"],
                                 f" with γ = {row['reference_mix']:g} (target = own history)")
    lines += ["", *_equal_entropy_lines(row),
              f"Produced by `{row['bench_command']}`"
              + ("" if row["trained_here"] else f" from the run at `{run['path']}`")
              + "; the same run and table from the CLI:", "",
              f"    {row['train_command']}", f"    {row['sweep_command']}", ""]
    return lines


def render(results: dict[str, Any]) -> str:
    """Markdown: a summary, then per dataset and model the sweep table and its verdicts."""
    rows = sorted(results["rows"], key=lambda r: (list(DATASETS).index(r["dataset"]),
                                                  MODELS.index(r["model"])))
    lines = ["# Accuracy–diversity trade-off: re-rankers × diversity weight", "",
             f"Machine: {machine_line(results['machine'])}"
             f". Full ranking, seen items excluded, top-{K}, "
             f"seed {SEED}; every re-ranker reorders the top-200 candidates. Regenerate with "
             "`python -m bench.quality.tradeoff` (`--datasets`, `--models`, `--run-ml100k`, "
             "`--run-amazon`, `--users`, `--epochs` run parts). In the per-weight tables, "
             f"brackets after NDCG@{K} and category entropy@{K} are 95% bootstrap intervals over "
             f"the test shoppers ({RESAMPLES} resamples); two points whose intervals overlap may "
             "still differ, which a paired comparison (bench/quality/frontier.py) decides.", "",
             "| dataset | model | entropy rises with the weight | best NDCG@10 at equal entropy "
             "| calibrated, γ = 0 (own history) |", "|---|---|---|---|---|"]
    for row in rows:
        flat = [m for m, f in row["monotone"].items() if not f["monotone"]]
        verdict = "every method" if not flat else "**not for " + ", ".join(flat) + "**"
        reference = (row.get("reference_monotone") or {}).get("calibrated")
        old_way = "" if reference is None else "rises" if reference["monotone"] else (
            f"falls: peak {reference['peak']} at w={reference['peak_weight']:g}, "
            f"{reference['last']} at w=1")
        lines.append(f"| {row['dataset']} ({row['split']}) | {row['model']} | {verdict} | "
                     f"{row['equal_entropy']['winner'] or 'no overlap'} | {old_way} |")
    lines.append("")
    for dataset in DATASETS:
        chosen = [r for r in rows if r["dataset"] == dataset]
        if chosen:
            lines += [f"## {dataset} ({chosen[0]['split']})", ""]
            for row in chosen:
                lines += _section(row)
    return "\n".join(lines + NOTES)


NOTES = [
    "## Notes", "",
    f"- Columns: ndcg/precision@{K} (binary gains), category entropy@{K} in nats, category "
    f"coverage@{K} = distinct categories per list, ild@{K} = share of list pairs in different "
    f"categories, catalog coverage@{K} = distinct recommended items / catalogue size.",
    "- The calibrated re-ranker aims each list at (1 − γ)·h_u + γ·g: the shopper's training "
    "category mix h_u blended with the catalogue's g (the mean item category row), the target "
    "DESIGN.md sets for the joint loss. With γ = 0 (the shopper's own mix, Steck's original) "
    "a short, concentrated history pulls the list back toward few categories as the weight "
    "grows; the reference line per model shows that curve.",
    "- The two-tower runs use the default ModelConfig/TrainConfig of engine/core/config.py at the "
    "time of the run (early stopping on validation NDCG@10; the epochs trained are listed per "
    "section); those defaults are still being tuned, so its rows move when they change. "
    "Rerun with `--models twotower` after a change.",
    "- quota is not swept: it needs per-category floors and caps (`prism sweep --methods quota "
    "--quotas 'CATEGORY:1-3,...'`), which are a merchandiser's choice, not the benchmark's.",
    "- EASE has no item vectors, so MMR and DPP measure graded similarity: the cosine of "
    "category rows blended half and half with training co-occurrence (truncated SVD of the "
    "item-shopper matrix, `engine.rerank.similarity`); category rows alone made every DPP "
    "weight from 0.1 on give the same one-per-category lists. The two-tower uses the cosine "
    "of its item vectors.",
    "- Equal-entropy comparison: each method's NDCG-vs-entropy curve is interpolated on a "
    "common grid over the entropy range all methods reach "
     "(`engine.evaluation.sweep.best_at_equal_entropy`).",
    "",
]


if __name__ == "__main__":
    raise SystemExit(main())
