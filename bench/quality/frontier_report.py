"""The frontier benchmark's page (docs/benchmarks/frontier.md): the fixed-α families' table,
verdict and models, from the results `bench.quality.frontier` measures."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.common import machine_line

WEIGHTS = (0.1, 0.2, 0.3, 0.5, 0.7)  # the re-rank weights each family is measured at


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


def difference_cells(comp: dict[str, Any], diff: dict[str, Any],
                     win: str) -> tuple[str, str, str | None]:
    """One row of a frontier comparison: where it is taken (an entropy, or the area over the
    span both families reach), the paired difference with its interval, and the call (`win`
    when the model family is significantly higher); the call is None when the difference is
    NaN (one family cannot reach that entropy)."""
    at = (f"area / width over {comp['area_span'][0]:.3f}–{comp['area_span'][1]:.3f}"
          if diff["at"] == "area" else f"{diff['at']:.3f}")
    if diff["joint_minus_rerank"] != diff["joint_minus_rerank"]:  # NaN: out of reach
        return at, "—", None
    gap = f"{diff['joint_minus_rerank']:+.4f} [{diff['low']:+.4f}, {diff['high']:+.4f}]"
    return at, gap, win if diff["win"] else "re-rank wins" if diff["loss"] else "tie"


def render(results: dict[str, Any], conditioned: list[str] | None = None) -> str:
    """The page: the fixed-α families, then `conditioned` (the conditioned family's lines)."""
    lines = ["# Training-time diversity against re-ranking: the NDCG@10 / entropy@10 frontier",
             "", f"Machine: {machine_line(results['machine'])}"
                 f" (shared with other jobs; fit seconds are "
             "rough). Split seed 2020, test users, full ranking, top-10. Families: **re-rank "
             "alone** = the α=0 model with MMR, DPP, calibrated at weights "
             f"{', '.join(map(str, WEIGHTS))}; **joint loss** = every α>0 model, alone or "
             "with the same re-rankers. Frontier = the upper envelope of (entropy, NDCG) "
             "points, linearly interpolated. Each model is trained once per training seed on "
             "the same split; **pooled** averages each shopper's NDCG and entropy over the "
             "seeds. Intervals: paired bootstrap over shoppers of the pooled numbers, "
             f"{results['resamples']} resamples, 95%; a win only when the interval excludes 0. "
             "**Per seed**: the same difference with each seed's models alone (mean ± "
             "standard deviation over seeds). L_d: a model labelled \"coverage\" rewards the "
             "expected number of categories in a 10-item list drawn from its region "
             "(TrainConfig's default, `diversity_loss=auto`); the others KL(t_u ‖ q_u) to the "
             "shopper's target. Region: \"top-50\" reads the category mass of each shopper's "
             "50 best items (the default, `diversity_top=auto`); the others the whole "
             "catalogue's (`diversity_top=0`).",
             "", "Regenerate: `python -m bench.quality.frontier` (`--seeds 0,1,2` by default; "
             "trained runs under runs/frontier are reused); "
             "`python -m bench.quality.frontier --report-only` "
             "rewrites this page from docs/benchmarks/frontier.json and frontier_alpha.json "
             "without measuring.", ""]
    lines += [f"- **{row['dataset']}**: {_verdict(row['comparison'])}." for row in
              results["datasets"]] + [""] + (conditioned or [])
    for row in results["datasets"]:
        comp = row["comparison"]
        seeds = row.get("seeds", [0])
        lines += [f"## {row['dataset']} ({row['split']}, {row['n_users']} test users, "
                  f"training seeds {', '.join(map(str, seeds))})", "",
                  "| at entropy | re-rank alone NDCG@10 | joint loss NDCG@10 | joint − re-rank "
                  "pooled [95% CI] | per seed | verdict |", "|---|---|---|---|---|---|"]
        per_seed = list(comp.get("per_seed", {}).values())
        rerank, joint = comp["families"]["re-rank alone"], comp["families"]["joint loss"]
        for index, diff in enumerate(comp["difference"]):
            at, gap, call = difference_cells(comp, diff, "joint wins")
            if call is None:
                gap, call = "—", _reach(rerank[index], joint[index])
            lines.append(f"| {at} | {_num(rerank[index])} | {_num(joint[index])} | {gap} | "
                         f"{_spread([d[index] for d in per_seed])} | {call} |")
        lines += ["", f"Verdict: {_verdict(comp)}.", "", "Models (the product's defaults, "
                  "only the diversity term differs; S = each training seed):", "",
                  "| model | fit s per seed | epochs per seed | command |", "|---|---|---|---|"]
        lines += [f"| {m['label']} | {_listed(m['fit_seconds'])} | {_listed(m['epochs'])} "
                  f"| `{m['command']}` |" for m in row["models"]]
        lines += ["", "| model | re-ranker | weight | NDCG@10 (mean ± sd over seeds) | "
                  "entropy@10 |", "|---|---|---|---|---|"]
        lines += [f"| {p['model']} | {p['method']} | {p['weight']} | {p['ndcg']:.4f}"
                  + (f" ± {p['ndcg_seed_sd']:.4f}" if p.get("ndcg_seed_sd") is not None else "")
                  + f" | {p['entropy']:.3f} |" for p in row["points"]]
        lines.append("")
    return "\n".join(lines)


def _num(value: float) -> str:
    return "—" if value != value else f"{value:.4f}"


def _reach(rerank: float, joint: float) -> str:
    """The verdict of an entropy that one family's frontier (or neither) does not reach."""
    if joint == joint:
        return "only the joint loss reaches it"
    if rerank == rerank:
        return "only re-ranking reaches it"
    return "neither reaches it"


def _spread(values: list[float]) -> str:
    """Per-seed differences as mean ± sd, or — when no seed reached that entropy."""
    values = [v for v in values if v == v]
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:+.4f}"
    return f"{np.mean(values):+.4f} ± {np.std(values, ddof=1):.4f} (n={len(values)})"


def _listed(values: Any) -> str:
    return " / ".join(str(v) for v in values) if isinstance(values, list) else str(values)
