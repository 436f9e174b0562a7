"""Does training-time diversity beat re-ranking? NDCG@10 against category entropy@10.

    python -m bench.quality.frontier                                   # both data sets, 3 seeds
    python -m bench.quality.frontier --datasets ml-100k --seeds 0 --resamples 500

For each data set it trains two-tower models that differ only in the diversity term (alpha = 0
and a few alpha > 0 variants, including the list-level top-region term), evaluates each on
the test users plainly and with every re-ranker over its weights, and compares two families
of operating points: (a) re-ranking alone (the alpha = 0 model with each re-ranker), (b) the
joint loss (every alpha > 0 model, alone or re-ranked). Per family the upper frontier of
(entropy, NDCG) points gives NDCG at equal entropy (interpolated) and its mean over a common
entropy range (area / width); a paired bootstrap over shoppers gives 95% intervals of the
family differences. The conditioned family (one model trained over alpha in [0, 1], scored
at each alpha, against separately trained fixed-alpha models and against re-ranking alone) is
measured by bench/quality/frontier_alpha.py's functions in the same run and written to
docs/benchmarks/frontier_alpha.json; frontier.md carries both (`--families` picks, and
`--report-only` rewrites the pages from the JSON files without measuring). Every model is
trained once per training seed on the same split (a run folder under runs/frontier with its
run.json is reused, not trained again): the pooled comparison averages each shopper's NDCG and
entropy over the seeds (the expected result of one training run), and the same comparison per
seed gives the spread over seeds. Writes docs/benchmarks/frontier.json and .md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    DATASET_SETTINGS,
    DATASETS,
    OUT_DIR,
    REPO,
    SHARED_DATA,
    SWEEP,
    add_out,
    machine,
    read_json,
    write_results,
)
from bench.quality.frontier_report import WEIGHTS, render

SEED = 2020  # the split; the training seeds are --seeds
K = 10
METHODS = SWEEP
# Every variant trains with the product's defaults (the split's preset included); only the
# diversity term differs.
RECIPES: dict[str, list[str]] = {}
VARIANTS = {  # label -> alpha and --set pairs of the diversity term
    "α=0": ("0", []),
    # KL(t_u || q_u): labels without "top" read the whole catalogue's mass
    "α=0.3": ("0.3", ["diversity_loss=kl", "diversity_top=0"]),
    "α=1": ("1", ["diversity_loss=kl", "diversity_top=0"]),
    "α=1 top-50": ("1", ["diversity_loss=kl", "diversity_top=50"]),
    "α=0.3 top-50": ("0.3", ["diversity_loss=kl", "diversity_top=50"]),
    "α=0.2 top-50": ("0.2", ["diversity_loss=kl", "diversity_top=50"]),
    "α=0.3 top-100": ("0.3", ["diversity_loss=kl", "diversity_top=100"]),
    # the expected number of categories in a 10-item list drawn from the top-50 region
    "coverage α=0.3 top-50": ("0.3", ["diversity_loss=coverage", "diversity_top=50"]),
    "coverage α=0.5 top-50": ("0.5", ["diversity_loss=coverage", "diversity_top=50"]),
    "coverage α=1 top-50": ("1", ["diversity_loss=coverage", "diversity_top=50"]),
}
# Fits cost minutes each on the shared 2-core machine: the list-level term and the KL at α=0.3.
_JOINT = ("α=1 top-50", "α=0.3", "α=0.3 top-50", "α=0.2 top-50", "α=0.3 top-100",
          "coverage α=0.3 top-50", "coverage α=0.5 top-50", "coverage α=1 top-50")
DATASET_VARIANTS = {"amazon-scientific": ("α=0",) + _JOINT, "ml-100k": ("α=0",) + _JOINT}
SMOKE_SETTINGS = ["epochs=1", "use_text=false"]  # --smoke: one short epoch, no text
ENTROPY_GAINS = (1.1, 1.2, 1.3)  # equal-entropy targets: these multiples of the alpha=0 entropy


def train_settings(name: str, extra: list[str], seed: int) -> list[str]:
    """The KEY=VALUE settings of one variant and training seed (the split stays SEED)."""
    return DATASET_SETTINGS.get(name, []) + RECIPES.get(name, []) + extra + [f"seed={seed}"]


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """Where the data sets are read, and --smoke: a run that checks the script, not a result."""
    parser.add_argument("--data-root", type=Path, default=SHARED_DATA,
                        help="folder holding the data sets by name (default ../shared/data)")
    parser.add_argument("--smoke", action="store_true",
                        help="one epoch without text and the first two variants: checks that "
                             "the benchmark runs; its numbers mean nothing")


def smoke_settings(args: argparse.Namespace) -> list[str]:
    return SMOKE_SETTINGS if getattr(args, "smoke", False) else []


def train_argv(name: str, out: Path, alpha: str, extra: list[str], seed: int,
               data: str = "") -> list[str]:
    """The `prism train` arguments of one variant and training seed."""
    settings = train_settings(name, extra, seed)
    argv = ["train", "--data", data or f"../shared/data/{name}", "--out", str(out), "--model",
            "twotower", "--split", DATASETS[name], "--seed", str(SEED), "--alpha", alpha,
            "--quiet", "--no-refit"]  # the benchmark reads the evaluation fit only
    return argv + [item for pair in settings for item in ("--set", pair)]


def obtain(name: str, label: str, seed: int, runs_dir: Path,
           variants: dict[str, tuple[str, list[str]]] | None = None,
           args: argparse.Namespace | None = None) -> tuple[Any, str]:
    """Train (or reuse, when its run.json exists) one variant; the run and the `prism train`
    command that trains it the same way (`args`: --data-root and --smoke)."""
    from engine.runs.store import load_run
    from engine.training.options import train_spec
    from engine.training.pipeline import train

    alpha, extra = (variants or VARIANTS)[label]
    extra = extra + smoke_settings(args)
    root = Path(getattr(args, "data_root", SHARED_DATA))
    slug = label.replace('=', '').replace(' ', '-').replace(':', '-')
    out = runs_dir / f"{name}-{slug}-seed{seed}"
    shown = "" if root == SHARED_DATA else str(root / name)
    argv = train_argv(name, out, alpha, extra, seed, shown)
    command = "prism " + " ".join(argv).replace(str(out), "runs/" + out.name)
    if not (out / "run.json").exists():
        print(command, flush=True)
        low, _, high = alpha.partition(":")
        train(train_spec(root / name, out=out, model="twotower", protocol=DATASETS[name],
                         seed=SEED, alpha=float(low), alpha_max=float(high) if high else None,
                         settings=train_settings(name, extra, seed), refit=False))
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


def _families(labels: list[str]) -> dict[str, np.ndarray]:
    owner = np.array(labels)
    return {"re-rank alone": np.flatnonzero(owner == "α=0"),
            "joint loss": np.flatnonzero(owner != "α=0")}


def _matrix(points: list[dict]) -> np.ndarray:
    return np.vstack([p["ndcg"] for p in points] + [p["entropy"] for p in points])


def seed_differences(points: list[dict], labels: list[str], targets: list[float],
                     span: list[float]) -> list[float]:
    """joint − re-rank at each target entropy and over the area span, for one seed's models."""
    families = _families(labels)
    stats = family_stats(_matrix(points).mean(axis=1)[None, :], families, np.array(targets),
                         (span[0], span[1]))[0]
    width = len(targets) + 1
    return [round(float(v), 5) for v in stats[width:] - stats[:width]]


def compare(points: list[dict], labels: list[str], resamples: int) -> dict[str, Any]:
    """Frontiers of the two families, equal-entropy NDCG and areas with paired intervals."""
    from engine.metrics.stats import bootstrap_means

    matrix = _matrix(points)
    families = _families(labels)
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


def test_users(data: Any, limit: int = 0) -> tuple[np.ndarray, list]:
    """The test shoppers and their held-out items; a fixed sample of `limit` when given."""
    users, truth = data.truth(data.test)
    if limit and limit < len(users):
        pick = np.sort(np.random.default_rng(0).choice(len(users), limit, replace=False))
        users, truth = users[pick], [truth[i] for i in pick]
    return users, truth


def run_dataset(name: str, args: argparse.Namespace) -> dict[str, Any]:
    from engine.data import load_dataset
    from engine.runs.data import prepare_data

    dataset = load_dataset(Path(args.data_root) / name)
    _, data = prepare_data(dataset, DATASETS[name], seed=SEED)
    users, truth = test_users(data, args.users)
    seeds = [int(s) for s in args.seeds.split(",")]
    pooled, labels, models, rows = [], [], [], []
    per_seed: dict[int, list[dict]] = {seed: [] for seed in seeds}
    labels_measured = DATASET_VARIANTS.get(name, tuple(VARIANTS))
    for label in labels_measured[:2] if args.smoke else labels_measured:
        fits, epochs, command = [], [], ""
        for seed in seeds:
            run, command = obtain(name, label, seed, Path(args.runs_dir), args=args)
            started = time.perf_counter()
            per_seed[seed] += operating_points(run, data, users, truth)
            print(f"{name} {label} seed {seed}: points in {time.perf_counter() - started:.0f}s",
                  flush=True)
            fits.append(float(run.meta.get("fit_seconds") or 0.0))
            epochs.append(len(getattr(run.model, "logs_", [])))
        count = len(per_seed[seeds[0]]) - len(pooled)
        for index in range(len(pooled), len(pooled) + count):
            runs = [per_seed[seed][index] for seed in seeds]
            pooled.append({"method": runs[0]["method"], "weight": runs[0]["weight"],
                           "ndcg": np.mean([r["ndcg"] for r in runs], axis=0),
                           "entropy": np.mean([r["entropy"] for r in runs], axis=0)})
            seed_ndcg = [float(r["ndcg"].mean()) for r in runs]
            rows.append({"model": label, "method": runs[0]["method"],
                         "weight": runs[0]["weight"], "ndcg": round(float(np.mean(seed_ndcg)), 5),
                         "ndcg_seed_sd": round(float(np.std(seed_ndcg, ddof=1)), 5)
                         if len(seeds) > 1 else None,
                         "entropy": round(float(pooled[-1]["entropy"].mean()), 4)})
        labels += [label] * count
        command = command.replace(f"seed={seeds[-1]}", "seed=S").replace(
            f"-seed{seeds[-1]} ", "-seedS ")
        models.append({"label": label, "command": command,
                       "seeds": seeds, "fit_seconds": [round(f, 1) for f in fits],
                       "epochs": epochs})
    comparison = compare(pooled, labels, args.resamples)
    comparison["per_seed"] = {str(seed): seed_differences(
        per_seed[seed], labels, [t for t in comparison["targets"]], comparison["area_span"])
        for seed in seeds}
    return {"dataset": name, "split": DATASETS[name], "n_users": int(len(users)),
            "seeds": seeds, "models": models, "points": rows, "comparison": comparison}


def write_report(results: dict[str, Any], out: Path = OUT_DIR) -> None:
    """frontier.json, and frontier.md with the conditioned family from frontier_alpha.json."""
    from bench.quality import frontier_alpha

    conditioned = frontier_alpha.load(out)
    lines = frontier_alpha.family_lines(conditioned) if conditioned else None
    write_results(out, "frontier", results, lambda r: render(r, lines))


def main(argv: list[str] | None = None) -> int:
    from bench.quality import frontier_alpha

    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--families", default="fixed,conditioned",
                        help="fixed (re-ranking alone against the fixed-α joint loss), "
                             "conditioned (one model for every α: bench/quality/frontier_alpha.py)")
    parser.add_argument("--runs-dir", default=str(REPO / "runs" / "frontier"))
    add_source_options(parser)
    parser.add_argument("--users", type=int, default=0, help="test users (0: all)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seeds", default="0,1,2", help="training seeds, comma-separated")
    frontier_alpha.add_frontier_seeds(parser)
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the pages from the JSON files; measure nothing")
    args = parser.parse_args(argv)
    results = read_json(args.out / "frontier.json") or {"datasets": []}
    if args.report_only:
        if conditioned := frontier_alpha.load(args.out):
            frontier_alpha.write(conditioned, args.out)
        write_report(results, args.out)
        print((args.out / "frontier.md").read_text())
        return 0
    families = set(args.families.split(","))
    results.update(machine=machine(), resamples=args.resamples)  # data sets not re-run stay
    for name in args.datasets.split(","):
        if "fixed" in families:
            row = run_dataset(name, args)
            results["datasets"] = [r for r in results["datasets"] if r["dataset"] != name]
            results["datasets"] = sorted(results["datasets"] + [row],
                                         key=lambda r: list(DATASETS).index(r["dataset"]))
        if "conditioned" in families:
            frontier_alpha.store(frontier_alpha.run_dataset(name, args), args.resamples,
                                 args.out)
        write_report(results, args.out)  # partial results survive
    print((args.out / "frontier.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
