"""Benchmark exposure targets: prices vs tuned per-list caps/quotas on held-out shoppers.

Run from the repo root: `python -m bench.quality.exposure --run RUN` (a trained run; its data is
read from the run's data_path unless --data). Three target sets are built from the run's own
ledger: a ceiling on the most exposed brand at half its share, new items at twice their
share, every top category at 3% or more. Prices are fitted on `--fit-users` test shoppers
and evaluated on the others; per-list levels are tuned by bisection on the same fitting
shoppers. Writes docs/benchmarks/exposure.json and .md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import add_out, machine, machine_line, write_results
from engine.exposure.context import ExposureContext
from engine.exposure.groups import GroupSpec
from engine.exposure.perlist import per_list_lists, tune_levels
from engine.exposure.pool import top_k
from engine.exposure.prices import apply_prices, target_problem, targeted_shares
from engine.exposure.targets import parse_targets
from engine.metrics import ndcg_at_k
from engine.metrics.stats import paired_mean, resample_counts
from engine.rerank.scaling import min_max

K, TOLERANCE_PP = 10, 1.0


def target_sets(ctx: ExposureContext, rows: np.ndarray) -> dict[str, dict[str, Any]]:
    """The three target sets, from the current (unpriced) ledger of all test shoppers."""
    brand = ctx.ledger(GroupSpec(by="brand"), rows)
    top = brand.table.iloc[0]
    new_share = ctx.ledger(GroupSpec(by="new", new_days=30), rows).share("new")
    new = ctx.grouping(GroupSpec(by="new", new_days=30))
    return {
        "brand_ceiling": {"by": "brand", "targets": [
            {"group": str(top["group"]), "max": round(float(top["exposure_share"]) / 2, 6)}]},
        "new_floor": {"by": "new", "new_days": 30, "targets": [
            {"group": "new", "min": round(2 * new_share, 8)}]},
        "new_at_catalogue_share": {"by": "new", "new_days": 30, "targets": [
            {"group": "new", "min": round(float(new.catalogue_share()[new.position("new")]),
                                          6)}]},
        "category_floor": {"by": "top_category", "targets": [{"group": "*", "min": 0.03}]},
    }


def evaluate_set(ctx: ExposureContext, raw: dict[str, Any], fit_rows: np.ndarray,
                 eval_rows: np.ndarray) -> dict[str, Any]:
    """Fit prices, tune per-list levels, compare both on the evaluation shoppers."""
    targets = parse_targets(raw)
    grouping = ctx.grouping(targets.group_spec())
    fit = ctx.fit(targets, fit_rows, k=K)
    problem = target_problem(grouping, targets, K)
    pool = ctx.pool()
    fit_pool, eval_pool = pool.subset(fit_rows), pool.subset(eval_rows)
    low = np.array([min(problem.floors[i], fit.unreachable.get(g, 1.0))
                    for i, g in enumerate(problem.labels)])
    started = time.perf_counter()
    floors, caps = tune_levels(lambda f, c: targeted_shares(per_list_lists(
        fit_pool, K, problem.member, problem.weights, f, c), problem), low, problem.ceilings)
    tune_seconds = time.perf_counter() - started
    plain = top_k(eval_pool, K)
    priced = top_k(eval_pool, K, fit.prices.item_bonus(grouping))
    capped = per_list_lists(eval_pool, K, problem.member, problem.weights, floors, caps)
    truth = [ctx.truth[r] for r in eval_rows]
    weights = resample_counts(len(eval_rows), seed=0)  # paired: same resamples for both
    ndcg = {name: ndcg_at_k(lists, truth, K) for name, lists in
            (("plain", plain), ("prices", priced), ("per_list", capped))}
    shares = {name: targeted_shares(lists, problem) for name, lists in
              (("plain", plain), ("prices", priced), ("per_list", capped))}
    groups = []
    for i, label in enumerate(problem.labels):
        wanted = problem.floors[i] if problem.floors[i] > 0 else problem.ceilings[i]
        groups.append({"group": label, "min": float(problem.floors[i]),
                       "max": float(problem.ceilings[i]), "target": float(wanted),
                       "reachable": label not in fit.unreachable,
                       "reach": fit.unreachable.get(label),
                       **{f"share_{n}": float(s[i]) for n, s in shares.items()},
                       "price": fit.prices.prices[label]})
    return {"targets": raw, "note": grouping.note, "groups": groups,
            "fit_seconds": round(fit.seconds, 3), "fit_iterations": fit.iterations,
            "per_list_tune_seconds": round(tune_seconds, 1),
            "met_prices": _met(groups, "share_prices"), "met_per_list": _met(groups,
                                                                             "share_per_list"),
            "ndcg": {n: float(v.mean()) for n, v in ndcg.items()},
            "prices_minus_per_list": paired_mean("ndcg@10", ndcg["prices"], ndcg["per_list"],
                                                 weights),
            "prices_minus_plain": paired_mean("ndcg@10", ndcg["prices"], ndcg["plain"],
                                              weights)}


def _met(groups: list[dict[str, Any]], column: str) -> dict[str, Any]:
    """Targets met within ±1 pp on the evaluation shoppers (reachable floors only)."""
    tol = TOLERANCE_PP / 100
    checked = [g for g in groups if g["reachable"]]
    ok = [g for g in checked if g["min"] - tol <= g[column] <= g["max"] + tol]
    worst = max((max(g["min"] - g[column], g[column] - g["max"], 0.0) for g in checked),
                default=0.0)
    return {"met": len(ok), "checked": len(checked), "worst_violation_pp": round(100 * worst, 3)}


def serving_overhead(ctx: ExposureContext, rows: np.ndarray, prices_book: Any,
                     repeats: int = 2000) -> dict[str, float]:
    """Median microseconds per request: scale, add prices, take the top k, vs top k alone."""
    grouping = ctx.grouping(prices_book.group)
    bonus = prices_book.item_bonus(grouping)
    pool = ctx.pool().subset(rows[:repeats])
    with_prices, without = [], []
    for u in range(len(pool.users)):
        items, scores = pool.items[u], pool.relevance[u]
        start = time.perf_counter()
        adjusted = apply_prices(scores, items, bonus)
        np.argsort(-adjusted, kind="stable")[:K]
        with_prices.append(time.perf_counter() - start)
        start = time.perf_counter()
        np.argsort(-min_max(scores, fill=-np.inf), kind="stable")[:K]
        without.append(time.perf_counter() - start)
    price_us, plain_us = 1e6 * statistics.median(with_prices), 1e6 * statistics.median(without)
    return {"with_prices_us": round(price_us, 1), "plain_us": round(plain_us, 1),
            "overhead_ms": round((price_us - plain_us) / 1000, 4)}


def render(results: dict[str, Any]) -> str:
    lines = ["# Exposure targets: prices vs per-list caps/quotas", "",
             f"Command: `{results['command']}`. Run `{results['run']}`, "
             f"{results['n_fit']} shoppers to fit, {results['n_eval']} others to evaluate, "
             f"k = {K}, {results['n_candidates']} candidates, exposure weight 1/log2(rank+1). "
             f"{machine_line(results['machine'])}.", "",
             "| target set | targets met ±1 pp (prices) | (per-list) | NDCG@10 plain | prices "
             "| per-list | prices − per-list [95% CI] | fit s | fit iters |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in results["sets"].items():
        d = r["prices_minus_per_list"]
        lines.append(f"| {name} | {r['met_prices']['met']}/{r['met_prices']['checked']} "
                     f"(worst {r['met_prices']['worst_violation_pp']} pp) | "
                     f"{r['met_per_list']['met']}/{r['met_per_list']['checked']} "
                     f"(worst {r['met_per_list']['worst_violation_pp']} pp) | "
                     f"{r['ndcg']['plain']:.4f} | {r['ndcg']['prices']:.4f} | "
                     f"{r['ndcg']['per_list']:.4f} | {d['diff']:+.4f} [{d['ci_low']:+.4f}, "
                     f"{d['ci_high']:+.4f}] | {r['fit_seconds']} | {r['fit_iterations']} |")
    lines += ["", "Per-group shares on the evaluation shoppers (targets set from the plain "
              "ledger of all test shoppers):", ""]
    for name, r in results["sets"].items():
        lines += [f"**{name}** ({r['note'] or r['targets']['by']})", "",
                  "| group | target | plain | prices | per-list | price | reachable |",
                  "|---|---|---|---|---|---|---|"]
        for g in r["groups"]:
            reach = "yes" if g["reachable"] else f"no (≤ {100 * g['reach']:.2f}%)"
            lines.append(f"| {g['group']} | {'≥' if g['min'] > 0 else '≤'} "
                         f"{100 * g['target']:.3f}% | {100 * g['share_plain']:.3f}% | "
                         f"{100 * g['share_prices']:.3f}% | {100 * g['share_per_list']:.3f}% | "
                         f"{g['price']:+.3f} | {reach} |")
        lines.append("")
    s = results["serving"]
    lines.append(f"Serving: {s['with_prices_us']} µs per request with prices vs {s['plain_us']} "
                 f"µs without (overhead {s['overhead_ms']} ms, median over "
                 f"{results['serving_requests']} requests of {results['n_candidates']} "
                 "candidates).")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--run", required=True, help="run folder")
    parser.add_argument("--data", default=None, help="dataset folder (default: the run's)")
    parser.add_argument("--fit-users", type=int, default=2000)
    args = parser.parse_args(argv)
    ctx = ExposureContext.load(args.run, args.data)
    every = np.arange(len(ctx.users))
    fit_rows = ctx.sample(args.fit_users, seed=0)
    eval_rows = np.setdiff1d(every, fit_rows)
    ctx.pool()
    sets = {}
    for name, raw in target_sets(ctx, every).items():
        sets[name] = r = evaluate_set(ctx, raw, fit_rows, eval_rows)
        print(name, r["met_prices"], r["met_per_list"], r["ndcg"], r["fit_seconds"], flush=True)
    book = ctx.fit(parse_targets(sets["category_floor"]["targets"]), fit_rows, k=K).prices
    results = {"command": "python -m bench.quality.exposure --run RUN", "run": Path(args.run).name,
               "n_fit": int(len(fit_rows)), "n_eval": int(len(eval_rows)), "n_candidates": 200,
               "machine": machine(),
               "sets": sets, "serving": serving_overhead(ctx, eval_rows, book),
               "serving_requests": int(min(2000, len(eval_rows)))}
    write_results(args.out, "exposure", results, render)
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
