"""One model for every alpha: the loss-conditioned two-tower against separately trained models.

    python -m bench.quality.frontier_alpha                                 # both data sets, 3 seeds
    python -m bench.quality.frontier_alpha --datasets ml-100k --seeds 0 --resamples 500

For each data set it trains, per training seed, the fixed-alpha two-towers of the default
diversity term (coverage of the top-50 region) at alpha in ALPHAS and one model trained over
alpha in [0, 1] (`prism train --alpha 0:1`). At each alpha it compares the conditioned model's
NDCG@10 and entropy@10 with the fixed model's (pooled over seeds, paired bootstrap 95%
intervals over shoppers); the goal is NDCG@10 no lower than the fixed model's lower interval
bound. Then the conditioned model's frontier (every alpha on a grid, alone and re-ranked)
against re-ranking alone (the alpha = 0 model with every re-ranker), as bench/quality/frontier.py
compares families, and the fit time of the conditioned model against one fixed-alpha fit.
Writes docs/benchmarks/frontier_alpha.json and .md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    OUT_DIR,
    REPO,
    add_out,
    machine,
    machine_line,
    read_json,
    write_results,
)
from bench.quality.frontier import (
    DATASETS,
    SEED,
    K,
    add_source_options,
    compare,
    obtain,
    operating_points,
    test_users,
)
from bench.quality.frontier_report import difference_cells

ALPHAS = (0.0, 0.1, 0.3, 0.5, 1.0)
GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)  # the conditioned model's frontier points
CONDITIONED = "α=0:1"
VARIANTS = {("α=0" if a == 0 else f"coverage α={a:g} top-50"): (f"{a:g}", [
    "diversity_loss=coverage", "diversity_top=50"]) for a in ALPHAS}
VARIANTS[CONDITIONED] = ("0:1", ["diversity_loss=coverage", "diversity_top=50"])


def fixed_label(alpha: float) -> str:
    return "α=0" if alpha == 0 else f"coverage α={alpha:g} top-50"


def plain_point(model: Any, data: Any, users: np.ndarray, truth: list) -> dict[str, Any]:
    """Per-shopper NDCG@K and entropy@K of a model's plain top-K."""
    from engine.evaluation.protocol import rank_users
    from engine.metrics import category_entropy_at_k, ndcg_at_k

    top = rank_users(model, data, users, k=K)
    return {"ndcg": ndcg_at_k(top, truth, K),
            "entropy": category_entropy_at_k(top, data.item_categories, K)}


def plain_points(model: Any, data: Any, users: np.ndarray, truth: list) -> list[dict]:
    return [plain_point(model, data, users, truth)]


def compare_at_alpha(cond: dict, fixed: dict, resamples: int) -> dict[str, Any]:
    """Conditioned − fixed NDCG and entropy with paired intervals; the fixed NDCG interval."""
    from engine.metrics.stats import mean_interval, paired_difference

    gap = paired_difference(cond["ndcg"], fixed["ndcg"], n_resamples=resamples)
    spread = paired_difference(cond["entropy"], fixed["entropy"], n_resamples=resamples)
    fixed_ci = mean_interval(fixed["ndcg"], n_resamples=resamples)
    cond_ndcg = float(np.mean(cond["ndcg"]))
    return {"conditioned_ndcg": round(cond_ndcg, 5),
            "fixed_ndcg": round(float(np.mean(fixed["ndcg"])), 5),
            "fixed_ndcg_low": round(fixed_ci.low, 5),
            "ndcg_difference": [round(gap.estimate, 5), round(gap.low, 5), round(gap.high, 5)],
            "conditioned_entropy": round(float(np.mean(cond["entropy"])), 4),
            "fixed_entropy": round(float(np.mean(fixed["entropy"])), 4),
            "entropy_difference": [round(spread.estimate, 4), round(spread.low, 4),
                                   round(spread.high, 4)],
            "goal_met": bool(cond_ndcg >= fixed_ci.low)}


def _pool(per_seed: list[dict]) -> dict[str, np.ndarray]:
    return {key: np.mean([p[key] for p in per_seed], axis=0) for key in ("ndcg", "entropy")}


def kept_points(run: Any, key: str, compute: Callable[..., list[dict]], model: Any,
                data: Any, users: np.ndarray, truth: list) -> list[dict]:
    """Per-shopper points of one trained run, measured once: kept in the run's folder
    (frontier-KEY.npz) for the same test users, measured again when the run was retrained.
    `compute(model, data, users, truth)` measures them."""
    path = Path(run.path) / f"frontier-{key}.npz"
    stamp = str(run.meta.get("created", ""))
    if path.exists():
        saved = np.load(path, allow_pickle=False)
        if str(saved["created"]) == stamp and np.array_equal(saved["users"], users):
            return [{"method": str(m), "weight": float(w), "ndcg": n, "entropy": e}
                    for m, w, n, e in zip(saved["methods"], saved["weights"], saved["ndcg"],
                                          saved["entropy"], strict=True)]
    points = compute(model, data, users, truth)
    np.savez(path, created=stamp, users=users,
             methods=np.array([p.get("method", "none") for p in points]),
             weights=np.array([p.get("weight", 0.0) for p in points]),
             ndcg=np.stack([p["ndcg"] for p in points]),
             entropy=np.stack([p["entropy"] for p in points]))
    return points


def _measure_seed(name: str, seed: int, frontier: bool, context: dict[str, Any]) -> None:
    """One training seed: the fixed-alpha runs and the conditioned one, their plain points at
    every alpha and, for a frontier seed, every re-ranker's (`context` gathers them)."""
    data, users, truth, args = (context[k] for k in ("data", "users", "truth", "args"))
    for alpha in ALPHAS:
        run, context["commands"][fixed_label(alpha)] = obtain(
            name, fixed_label(alpha), seed, Path(args.runs_dir), VARIANTS, args)
        _count_fit(context, fixed_label(alpha), run.meta)
        context["fixed"][alpha] += kept_points(run, "plain", plain_points, run.model, data,
                                               users, truth)
        if alpha == 0 and frontier:
            context["rerank"][seed] = kept_points(run, "rerank", operating_points, run, data,
                                                  users, truth)
    run, context["commands"][CONDITIONED] = obtain(name, CONDITIONED, seed, Path(args.runs_dir),
                                                   VARIANTS, args)
    _count_fit(context, CONDITIONED, run.meta)
    context["cond_points"][seed] = []
    for alpha in sorted(context["cond"]):
        view = run.model.at_alpha(alpha)
        context["cond"][alpha] += kept_points(run, f"plain-α{alpha:g}", plain_points, view,
                                              data, users, truth)
        if alpha in GRID and frontier:
            context["cond_points"][seed] += kept_points(
                run, f"rerank-α{alpha:g}", operating_points, _AtAlpha(run, view), data, users,
                truth)
    print(f"{name} seed {seed}: done", flush=True)


def _count_fit(context: dict[str, Any], label: str, meta: dict[str, Any]) -> None:
    """A run's fit seconds: wall, and the process's CPU seconds (None for runs trained before
    run.json recorded them)."""
    context["fits"].setdefault(label, []).append(float(meta.get("fit_seconds", 0)))
    cpu = meta.get("fit_cpu_seconds")
    context["cpu_fits"].setdefault(label, []).append(None if cpu is None else float(cpu))


def fit_time(fits: dict[str, list[float]], cpu_fits: dict[str, list[float | None]]
             ) -> dict[str, Any]:
    """The conditioned fit against one fixed-alpha fit (alpha = 0), as a ratio of the means over
    the training seeds: in CPU seconds when every run recorded them (wall seconds swing with
    other jobs on a shared machine), otherwise in wall seconds."""
    labels = (CONDITIONED, "α=0")
    cpu = all(v is not None for label in labels for v in cpu_fits.get(label, [None]))
    used = cpu_fits if cpu else fits
    ratio = np.mean(used[CONDITIONED]) / max(float(np.mean(used["α=0"])), 1e-9)
    return {"fit_seconds": {k: [round(v, 1) for v in vals] for k, vals in fits.items()},
            "fit_cpu_seconds": {k: [round(v, 1) for v in used[k]] for k in labels}
            if cpu else None,
            "fit_clock": "cpu" if cpu else "wall", "fit_ratio": round(float(ratio), 2)}


def run_dataset(name: str, args: argparse.Namespace) -> dict[str, Any]:
    from engine.data import load_dataset
    from engine.runs.data import prepare_data

    seeds = [int(s) for s in args.seeds.split(",")]
    frontier_seeds = [int(s) for s in (getattr(args, "frontier_seeds", "") or args.seeds
                                       ).split(",")]
    if not set(frontier_seeds) & set(seeds):
        print(f"--frontier-seeds {args.frontier_seeds}: none of them is among --seeds "
              f"{args.seeds}; name at least one of those", file=sys.stderr)
        raise SystemExit(2)
    dataset = load_dataset(Path(args.data_root) / name)
    _, data = prepare_data(dataset, DATASETS[name], seed=SEED)
    users, truth = test_users(data, getattr(args, "users", 0))
    context: dict[str, Any] = {
        "data": data, "users": users, "truth": truth, "args": args, "commands": {}, "fits": {},
        "cpu_fits": {},
        "fixed": {a: [] for a in ALPHAS}, "cond": {a: [] for a in set(ALPHAS) | set(GRID)},
        "rerank": {}, "cond_points": {}}
    for seed in seeds:
        _measure_seed(name, seed, seed in frontier_seeds, context)
    fixed, cond, fits = context["fixed"], context["cond"], context["fits"]
    per_alpha = {f"{a:g}": compare_at_alpha(_pool(cond[a]), _pool(fixed[a]), args.resamples)
                 for a in ALPHAS}
    drawn = [s for s in seeds if s in context["rerank"]]
    pooled_rerank = [_pool([context["rerank"][s][i] for s in drawn])
                     for i in range(len(context["rerank"][drawn[0]]))]
    pooled_cond = [_pool([context["cond_points"][s][i] for s in drawn])
                   for i in range(len(context["cond_points"][drawn[0]]))]
    labels = ["α=0"] * len(pooled_rerank) + ["conditioned"] * len(pooled_cond)
    frontier = compare(pooled_rerank + pooled_cond, labels, args.resamples)
    return {"dataset": name, "split": DATASETS[name], "n_users": int(len(users)),
            "seeds": seeds, "frontier_seeds": drawn, "per_alpha": per_alpha,
            "frontier": frontier, **fit_time(fits, context["cpu_fits"]),
            "commands": {k: v.replace(f"seed={seeds[-1]}", "seed=S").replace(
                f"-seed{seeds[-1]} ", "-seedS ") for k, v in context["commands"].items()}}


class _AtAlpha:
    """A run whose model scores at one alpha (what `operating_points` reads: `.model`)."""

    def __init__(self, run: Any, model: Any):
        self.meta, self.model = run.meta, model


INTRO = ("Split seed 2020, test users, full ranking, top-10, the default diversity term "
         "(expected category coverage of the top-50 region). **Conditioned**: one model "
         "trained over α ∈ [0, 1] (`prism train --alpha 0:1`), scored at each α; **fixed**: "
         "a model trained at that α alone. Per α, NDCG@10 and entropy@10 pooled over the "
         "training seeds (each shopper's value averaged over seeds), conditioned − fixed "
         "with a paired bootstrap 95% interval over shoppers ({resamples} resamples). The "
         "goal holds on a data set when at every α the conditioned NDCG@10 ≥ the fixed "
         "model's lower interval bound, and no row of the frontier comparison (each equal "
         "entropy and the area over the entropy range both reach) has re-ranking alone "
         "significantly higher.")


def verdict(row: dict[str, Any]) -> str:
    """Whether the conditioned model holds the goal on one data set, and where it does not."""
    missed = [alpha for alpha, cell in row["per_alpha"].items() if not cell["goal_met"]]
    behind = [d for d in row["frontier"]["difference"] if d["loss"]]
    if not missed and not behind:
        return "holds the goal (every α within the fixed models' interval, frontier no lower)"
    parts = []
    if missed:
        parts.append("NDCG@10 below the fixed model's lower bound at α = " + ", ".join(missed))
    if behind:
        parts.append("re-ranking alone higher at " + ", ".join(
            "the area" if d["at"] == "area" else f"entropy {d['at']:.3f}" for d in behind))
    return "misses the goal: " + "; ".join(parts)


def holds_goal(results: dict[str, Any]) -> bool:
    """True when the conditioned model holds the goal on every data set measured."""
    return bool(results["datasets"]) and all(verdict(row).startswith("holds")
                                             for row in results["datasets"])


def section(row: dict[str, Any], level: str = "##") -> list[str]:
    """One data set's tables: quality per α, the frontier against re-ranking, fit time, commands."""
    seeds = ", ".join(map(str, row["seeds"]))
    lines = [f"{level} {row['dataset']} ({row['split']}, {row['n_users']} test users, "
             f"training seeds {seeds})", "", f"Verdict: the conditioned model {verdict(row)}.",
             "", "| α | conditioned NDCG@10 | fixed NDCG@10 [low] | cond − fixed [95% CI] | "
             "conditioned entropy@10 | fixed entropy@10 | goal |",
             "|---|---|---|---|---|---|---|"]
    for alpha, cell in row["per_alpha"].items():
        gap = cell["ndcg_difference"]
        lines.append(f"| {alpha} | {cell['conditioned_ndcg']:.4f} | {cell['fixed_ndcg']:.4f}"
                     f" [{cell['fixed_ndcg_low']:.4f}] | {gap[0]:+.4f} [{gap[1]:+.4f}, "
                     f"{gap[2]:+.4f}] | {cell['conditioned_entropy']:.3f} | "
                     f"{cell['fixed_entropy']:.3f} | {'met' if cell['goal_met'] else 'missed'} |")
    comp = row["frontier"]
    lines += ["", "Frontier of the conditioned model (α grid "
              f"{', '.join(f'{a:g}' for a in GRID)}, alone and re-ranked) against re-ranking "
              f"alone (the α = 0 model with MMR, DPP, calibrated){_frontier_seeds(row)}:", "",
              "| at entropy | re-rank alone | conditioned | cond − re-rank [95% CI] | "
              "verdict |", "|---|---|---|---|---|"]
    rerank, joint = comp["families"]["re-rank alone"], comp["families"]["joint loss"]
    for index, diff in enumerate(comp["difference"]):
        at, gap, call = difference_cells(comp, diff, "conditioned wins")
        call = call or "out of one family's reach"
        lines.append(f"| {at} | {_num(rerank[index])} | {_num(joint[index])} | {gap} | {call} |")
    lines += ["", fit_line(row),
              "", _entropy_span(row), "",
              "Commands (S = each training seed):", ""]
    lines += [f"- {label}: `{command}`" for label, command in row["commands"].items()]
    return lines + [""]


def fit_line(row: dict[str, Any]) -> str:
    """The fit-time sentence: CPU seconds of the process where the runs recorded them."""
    cpu = row.get("fit_clock") == "cpu"
    fits = row["fit_cpu_seconds"] if cpu else row["fit_seconds"]
    clock = ("CPU seconds of the process (comparable on a loaded machine)" if cpu else
             "wall seconds (these runs were trained before run.json recorded CPU seconds; "
             "runs trained now record both, and this line then compares CPU seconds)")
    return (f"Fit time, in {clock}: the conditioned model {_secs(fits[CONDITIONED])} s "
            f"against one fixed-α fit {_secs(fits['α=0'])} s (α = 0), per training seed: ratio "
            f"of the means **{row['fit_ratio']:.2f}×** (goal ≤ 1.5×).")


def _frontier_seeds(row: dict[str, Any]) -> str:
    """Which training seeds the frontier pools, when not every seed of the table."""
    drawn = row.get("frontier_seeds", row["seeds"])
    if drawn == row["seeds"]:
        return ""
    return (f", training seed{'s' if len(drawn) > 1 else ''} {', '.join(map(str, drawn))} "
            "only (re-ranking every α of every seed is the slow part: `--frontier-seeds`)")


def _entropy_span(row: dict[str, Any]) -> str:
    """How far entropy@10 moves over the α range: the conditioned model and the fixed ones."""
    cells = list(row["per_alpha"].values())
    low, high = cells[0], cells[-1]
    first, last = list(row["per_alpha"])[0], list(row["per_alpha"])[-1]
    return (f"Entropy@10 from α = {first} to α = {last}: the conditioned model "
            f"{low['conditioned_entropy']:.3f} → {high['conditioned_entropy']:.3f}, the "
            f"fixed models {low['fixed_entropy']:.3f} → {high['fixed_entropy']:.3f}.")


def family_lines(results: dict[str, Any]) -> list[str]:
    """The conditioned family as a section of docs/benchmarks/frontier.md."""
    lines = ["## One model for every α: the conditioned family", "",
             INTRO.format(resamples=results["resamples"]), "",
             "Measured by `python -m bench.quality.frontier` (or "
             "`python -m bench.quality.frontier_alpha` "
             "alone); numbers from docs/benchmarks/frontier_alpha.json.", ""]
    lines += [f"- **{row['dataset']}**: the conditioned model {verdict(row)}; fit time "
              f"{row['fit_ratio']:.2f}× one fixed-α fit." for row in results["datasets"]]
    measured = {row["dataset"] for row in results["datasets"]}
    lines += [f"- **{name}**: not measured yet (`python -m bench.quality.frontier "
              f"--datasets {name} "
              "--families conditioned`)." for name in DATASETS if name not in measured]
    lines.append("")
    for row in results["datasets"]:
        lines += section(row, "###")
    return lines


def load(out: Path = OUT_DIR) -> dict[str, Any] | None:
    """The measured results (docs/benchmarks/frontier_alpha.json), or None."""
    return read_json(out / "frontier_alpha.json") or None


def write(results: dict[str, Any], out: Path = OUT_DIR) -> None:
    write_results(out, "frontier_alpha", results, render)


def store(row: dict[str, Any], resamples: int, out: Path = OUT_DIR) -> dict[str, Any]:
    """Write one data set's results beside those of the data sets not measured again."""
    results = load(out) or {"datasets": []}
    results.update(machine=machine(), resamples=resamples)
    kept = [r for r in results["datasets"] if r["dataset"] != row["dataset"]]
    results["datasets"] = sorted(kept + [row], key=lambda r: list(DATASETS).index(r["dataset"]))
    write(results, out)
    return results


def render(results: dict[str, Any]) -> str:
    lines = ["# One model for every alpha: the loss-conditioned two-tower", "",
             f"Machine: {machine_line(results['machine'])}"
             f" (shared with other jobs: fit times compare CPU seconds where recorded). "
             + INTRO.format(resamples=results["resamples"]), "",
             "Regenerate: `python -m bench.quality.frontier_alpha` (`--seeds 0,1,2` by default; "
             "`python -m bench.quality.frontier` measures it too, beside the fixed-α "
             "families).", ""]
    lines += [f"- **{row['dataset']}**: the conditioned model {verdict(row)}."
              for row in results["datasets"]] + [""]
    for row in results["datasets"]:
        lines += section(row)
    return "\n".join(lines)


def _num(value: float) -> str:
    return "—" if value != value else f"{value:.4f}"


def _secs(values: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


def add_frontier_seeds(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frontier-seeds", default="",
                        help="training seeds whose conditioned and α = 0 models are re-ranked "
                             "for the frontier comparison (default: every seed); the NDCG goal "
                             "per α uses every seed")


def main(argv: list[str] | None = None) -> int:
    from bench.quality import frontier

    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--runs-dir", default=str(REPO / "runs" / "frontier"))
    add_source_options(parser)
    parser.add_argument("--users", type=int, default=0, help="test users (0: all)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seeds", default="0,1,2", help="training seeds, comma-separated")
    add_frontier_seeds(parser)
    args = parser.parse_args(argv)
    for name in args.datasets.split(","):
        results = store(run_dataset(name, args), args.resamples, args.out)  # partial results
    if fixed := read_json(args.out / "frontier.json"):  # the frontier page carries it too
        frontier.write_report(fixed, args.out)
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
