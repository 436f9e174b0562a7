"""Does training-time diversity beat re-ranking? NDCG@10 against category entropy@10.

    python bench/frontier.py                                   # both data sets
    python bench/frontier.py --datasets ml-100k --resamples 500

For each data set it trains two-tower models that differ only in the diversity term (alpha = 0
and a few alpha > 0 variants, including the list-level top-region term), evaluates each on
the test users plainly and with every re-ranker over its weights, and compares two families
of operating points: (a) re-ranking alone (the alpha = 0 model with each re-ranker), (b) the
joint loss (every alpha > 0 model, alone or re-ranked). Per family the upper frontier of
(entropy, NDCG) points gives NDCG at equal entropy (interpolated) and its mean over a common
entropy range (area / width); a paired bootstrap over shoppers gives 95% intervals of the
family differences. Writes docs/benchmarks/frontier.json and .md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import DATASET_SETTINGS, machine, write_results  # noqa: E402

DATASETS = {"ml-100k": "random", "amazon-scientific": "leave-last-out"}
SEED = 2020
K = 10
METHODS = ("mmr", "dpp", "calibrated")
WEIGHTS = (0.1, 0.2, 0.3, 0.5, 0.7)
# Per data set: shorter Amazon fits (cosine schedule) so every variant trains the same way.
RECIPES = {"amazon-scientific": ["lr=0.003", "lr_schedule=cosine", "epochs=10", "patience=10"]}
VARIANTS = {  # label -> alpha and --set pairs of the diversity term
    "α=0": ("0", []),
    "α=0.3": ("0.3", []),
    "α=1": ("1", []),
    "α=1 top-50": ("1", ["diversity_top=50"]),
}
# Fits cost minutes each on the shared 2-core machine: the list-level term and the KL at α=0.3.
DATASET_VARIANTS = {"amazon-scientific": ("α=0", "α=1 top-50", "α=0.3"),
                    "ml-100k": ("α=0", "α=1 top-50", "α=0.3", "α=1")}
ENTROPY_GAINS = (1.1, 1.2, 1.3)  # equal-entropy targets: these multiples of the alpha=0 entropy
OUT_DIR = REPO / "docs" / "benchmarks"


def train_argv(name: str, out: Path, alpha: str, extra: list[str]) -> list[str]:
    """The `prism train` arguments of one variant."""
    settings = DATASET_SETTINGS.get(name, []) + RECIPES.get(name, []) + extra
    argv = ["train", "--data", f"../shared/data/{name}", "--out", str(out), "--model",
            "twotower", "--split", DATASETS[name], "--seed", str(SEED), "--alpha", alpha,
            "--quiet"]
    return argv + [item for pair in settings for item in ("--set", pair)]


def obtain(name: str, label: str, runs_dir: Path) -> tuple[Any, str]:
    """Train (or reuse, when its run.json exists) one variant; the run and its command."""
    from engine.cli.main import main as prism
    from engine.runs.store import load_run

    alpha, extra = VARIANTS[label]
    out = runs_dir / f"{name}-{label.replace('=', '').replace(' ', '-')}"
    argv = train_argv(name, out, alpha, extra)
    command = "prism " + " ".join(argv).replace(str(out), "runs/" + out.name)
    if not (out / "run.json").exists():
        print(command, flush=True)
        if prism(argv) != 0:
            raise SystemExit(f"training {label} on {name} failed")
    return load_run(out), command


def operating_points(run: Any, data: Any, users: np.ndarray, truth: list) -> list[dict]:
    """Per-shopper NDCG@K and entropy@K of the plain list and of each re-ranker x weight."""
    from engine.evaluation.protocol import RerankSpec, rank_users
    from engine.metrics import category_entropy_at_k, ndcg_at_k

    points = []
    for method, weight in [("none", 0.0)] + [(m, w) for m in METHODS for w in WEIGHTS]:
        spec = None if method == "none" else RerankSpec(method, weight)
        top = rank_users(run.model, data, users, k=K, rerank=spec)
        points.append({"method": method, "weight": weight,
                       "ndcg": ndcg_at_k(top, truth, K),
                       "entropy": category_entropy_at_k(top, data.item_categories, K)})
    return points


def family_stats(means: np.ndarray, families: dict[str, np.ndarray], targets: np.ndarray,
                 span: tuple[float, float]) -> np.ndarray:
    """Per resample row of point means (r, 2P): [NDCG at each target, area] per family."""
    from engine.metrics.stats import frontier_area, frontier_at

    n_points = means.shape[1] // 2
    ndcg, entropy = means[:, :n_points], means[:, n_points:]
    out = []
    for row in range(len(means)):
        values = []
        for members in families.values():
            e, q = entropy[row, members], ndcg[row, members]
            values += list(frontier_at(e, q, targets)) + [frontier_area(e, q, *span)]
        out.append(values)
    return np.array(out)


def compare(points: list[dict], labels: list[str], resamples: int) -> dict[str, Any]:
    """Frontiers of the two families, equal-entropy NDCG and areas with paired intervals."""
    from engine.metrics.stats import bootstrap_means

    matrix = np.vstack([p["ndcg"] for p in points] + [p["entropy"] for p in points])
    owner = np.array(labels)
    families = {"re-rank alone": np.flatnonzero(owner == "α=0"),
                "joint loss": np.flatnonzero(owner != "α=0")}
    means = matrix.mean(axis=1)
    n_points = len(points)
    base = means[n_points + int(families["re-rank alone"][0])]  # alpha=0 plain entropy
    targets = np.array([base * gain for gain in ENTROPY_GAINS] + [1.33] * int(base < 1.33 < 1.6))
    reach = min(means[n_points + members].max() for members in families.values())
    span = (float(base), float(reach))
    point = family_stats(means[None, :], families, targets, span)[0]
    draws = family_stats(bootstrap_means(matrix, resamples, seed=0), families, targets, span)
    width = len(targets) + 1
    result = {"targets": [round(float(t), 4) for t in targets],
              "area_span": [round(v, 4) for v in span], "families": {}, "difference": []}
    for index, family in enumerate(families):
        block = slice(index * width, (index + 1) * width)
        result["families"][family] = [round(float(v), 5) for v in point[block]]
    diffs = point[width:] - point[:width]
    resampled = draws[:, width:] - draws[:, :width]
    for column, target in enumerate(list(targets) + ["area"]):
        low, high = np.nanpercentile(resampled[:, column], [2.5, 97.5])
        result["difference"].append({
            "at": target if target == "area" else round(float(target), 4),
            "joint_minus_rerank": round(float(diffs[column]), 5),
            "low": round(float(low), 5), "high": round(float(high), 5),
            "win": bool(low > 0), "loss": bool(high < 0)})
    return result


def run_dataset(name: str, args: argparse.Namespace) -> dict[str, Any]:
    from engine.data import load_dataset
    from engine.evaluation.protocol import prepare_data

    dataset = load_dataset(REPO.parent / "shared" / "data" / name)
    _, data = prepare_data(dataset, DATASETS[name], seed=SEED)
    users, truth = data.truth(data.test)
    if args.users and args.users < len(users):
        pick = np.sort(np.random.default_rng(0).choice(len(users), args.users, replace=False))
        users, truth = users[pick], [truth[i] for i in pick]
    all_points, labels, models = [], [], []
    for label in DATASET_VARIANTS.get(name, tuple(VARIANTS)):
        run, command = obtain(name, label, Path(args.runs_dir))
        started = time.perf_counter()
        points = operating_points(run, data, users, truth)
        print(f"{name} {label}: {len(points)} points in {time.perf_counter() - started:.0f}s",
              flush=True)
        all_points += points
        labels += [label] * len(points)
        logs = list(getattr(run.model, "logs_", []))
        models.append({"label": label, "command": command,
                       "fit_seconds": run.meta.get("fit_seconds"), "epochs": len(logs),
                       "epoch_seconds": round(float(np.median([r["seconds"] for r in logs])), 2)
                       if logs else None})
    rows = [{"model": lab, "method": p["method"], "weight": p["weight"],
             "ndcg": round(float(p["ndcg"].mean()), 5),
             "entropy": round(float(p["entropy"].mean()), 4)}
            for lab, p in zip(labels, all_points, strict=True)]
    return {"dataset": name, "split": DATASETS[name], "n_users": int(len(users)),
            "models": models, "points": rows,
            "comparison": compare(all_points, labels, args.resamples)}


def _verdict(comparison: dict[str, Any]) -> str:
    wins = [d for d in comparison["difference"] if d["win"]]
    losses = [d for d in comparison["difference"] if d["loss"]]
    if wins and not losses:
        return "the joint loss wins (every significant difference favours it)"
    if losses and not wins:
        return "re-ranking alone wins: no joint-loss variant beats it at equal entropy"
    if not wins and not losses:
        return "no significant difference: the joint loss does not beat re-ranking alone"
    return "mixed: each side wins somewhere (see the rows)"


def render(results: dict[str, Any]) -> str:
    lines = ["# Training-time diversity against re-ranking: the NDCG@10 / entropy@10 frontier",
             "", f"Machine: {results['machine']} (shared with other jobs; fit seconds are "
             "rough). Split seed 2020, test users, full ranking, top-10. Families: **re-rank "
             "alone** = the α=0 model with MMR, DPP, calibrated at weights "
             f"{', '.join(map(str, WEIGHTS))}; **joint loss** = every α>0 model, alone or "
             "with the same re-rankers. Frontier = the upper envelope of (entropy, NDCG) "
             "points, linearly interpolated. Intervals: paired bootstrap over shoppers, "
             f"{results['resamples']} resamples, 95%; a win only when the interval excludes 0.",
             "", "Regenerate: `python bench/frontier.py`.", ""]
    for row in results["datasets"]:
        comp = row["comparison"]
        lines += [f"## {row['dataset']} ({row['split']}, {row['n_users']} test users)", "",
                  "| at entropy | re-rank alone NDCG@10 | joint loss NDCG@10 | joint − re-rank "
                  "[95% CI] | verdict |", "|---|---|---|---|---|"]
        rerank, joint = comp["families"]["re-rank alone"], comp["families"]["joint loss"]
        for index, diff in enumerate(comp["difference"]):
            at = (f"area / width over {comp['area_span'][0]:.3f}–{comp['area_span'][1]:.3f}"
                  if diff["at"] == "area" else f"{diff['at']:.3f}")
            call = "joint wins" if diff["win"] else "re-rank wins" if diff["loss"] else "tie"
            lines.append(f"| {at} | {_num(rerank[index])} | {_num(joint[index])} | "
                         f"{diff['joint_minus_rerank']:+.4f} [{diff['low']:+.4f}, "
                         f"{diff['high']:+.4f}] | {call} |")
        lines += ["", f"Verdict: {_verdict(comp)}.", "", "Models (same recipe, only the "
                  "diversity term differs):", "",
                  "| model | fit s | epochs | s / epoch | command |", "|---|---|---|---|---|"]
        lines += [f"| {m['label']} | {m['fit_seconds']} | {m['epochs']} | {m['epoch_seconds']} "
                  f"| `{m['command']}` |" for m in row["models"]]
        lines += ["", "| model | re-ranker | weight | NDCG@10 | entropy@10 |",
                  "|---|---|---|---|---|"]
        lines += [f"| {p['model']} | {p['method']} | {p['weight']} | {p['ndcg']:.4f} | "
                  f"{p['entropy']:.3f} |" for p in row["points"]]
        lines.append("")
    return "\n".join(lines)


def _num(value: float) -> str:
    return "—" if value != value else f"{value:.4f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--runs-dir", default=str(REPO / "runs" / "frontier"))
    parser.add_argument("--users", type=int, default=0, help="test users (0: all)")
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args(argv)
    results = {"machine": machine(),
               "resamples": args.resamples, "datasets": []}
    previous = OUT_DIR / "frontier.json"
    if previous.exists():  # data sets not re-run keep their rows
        results["datasets"] = json.loads(previous.read_text()).get("datasets", [])
    for name in args.datasets.split(","):
        row = run_dataset(name, args)
        results["datasets"] = [r for r in results["datasets"] if r["dataset"] != name] + [row]
        results["datasets"].sort(key=lambda r: list(DATASETS).index(r["dataset"]))
        write_results(OUT_DIR, "frontier", results, render)  # partial results survive
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
