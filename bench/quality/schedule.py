"""The two-tower's default schedule against the previous one, paired over the same shoppers.

    python -m bench.quality.schedule --pair NAME=OLD_RUN,NEW_RUN [--pair ...]

Each pair is two run folders trained on the same data and split (same seed): OLD with the
previous defaults (`--set epochs=30 --set lr=0.001 --set lr_schedule=constant`), NEW with
the current ones (15 epochs, lr 3e-3, cosine). Both are scored on the test shoppers; the
table gives each run's NDCG@10 with a 95% bootstrap interval over shoppers and the paired
difference NEW − OLD (one draw of shoppers for both sides), called a win or a loss only
when its interval excludes zero. Writes docs/benchmarks/schedule.json and .md.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import add_out, machine, machine_line, write_results

K = 10
RESAMPLES = 2000


def shopper_ndcg(folder: Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Test users, their NDCG@K and the run's meta, scored as `prism evaluate` does."""
    from engine.data import load_dataset
    from engine.evaluation.protocol import rank_users
    from engine.metrics import ndcg_at_k
    from engine.runs.data import prepare_data
    from engine.runs.store import load_run

    run = load_run(folder)
    dataset = load_dataset(run.meta["data_path"])
    _, data = prepare_data(dataset, run.meta["split"], seed=int(run.meta.get("seed", 0)))
    users, truth = data.truth(data.test)
    return users, ndcg_at_k(rank_users(run.model, data, users, k=K), truth, K), run.meta


def compare(name: str, old: Path, new: Path) -> dict[str, Any]:
    """Both runs' NDCG@K with intervals and the paired difference new - old."""
    from engine.metrics.stats import mean_interval, paired_difference

    old_users, old_ndcg, old_meta = shopper_ndcg(old)
    new_users, new_ndcg, new_meta = shopper_ndcg(new)
    if not np.array_equal(old_users, new_users):
        raise SystemExit(f"{name}: the two runs were not scored on the same test shoppers")
    side = {}
    for label, values, meta in (("old", old_ndcg, old_meta), ("new", new_ndcg, new_meta)):
        interval = mean_interval(values, n_resamples=RESAMPLES)
        config = meta.get("train_config", {})
        side[label] = {"ndcg@10": round(interval.estimate, 4), "low": round(interval.low, 4),
                       "high": round(interval.high, 4), "fit_seconds": meta["fit_seconds"],
                       "epochs": config.get("epochs"), "lr": config.get("lr"),
                       "lr_schedule": config.get("lr_schedule", "constant")}
    diff = paired_difference(new_ndcg, old_ndcg, n_resamples=RESAMPLES)
    return {"dataset": name, "split": new_meta["split"], "seed": new_meta.get("seed", 0),
            "n_shoppers": int(len(new_users)), **side,
            "difference": {"new_minus_old": round(diff.estimate, 4), "low": round(diff.low, 4),
                           "high": round(diff.high, 4), "win": bool(diff.low > 0),
                           "loss": bool(diff.high < 0)}}


def render(results: dict[str, Any]) -> str:
    lines = ["# Two-tower schedule: 15 epochs at 3e-3 with cosine decay against 30 at 1e-3", "",
             f"Machine: {machine_line(results['machine'])}"
             f", shared with other jobs (fit seconds are rough). "
             "Test shoppers, full ranking, top-10. Intervals: percentile bootstrap over "
             f"shoppers, {RESAMPLES} resamples, 95%; the difference is paired (one draw of "
             "shoppers for both runs) and called a win only when its interval excludes 0.",
             "", "Regenerate: `python -m bench.quality.schedule --pair NAME=OLD_RUN,NEW_RUN`. "
             "The runs: "
             "old `prism train --data D --model twotower --set epochs=30 --set lr=0.001 --set "
             "lr_schedule=constant --out runs/old`, new `prism train --data D --model twotower "
             "--out runs/new` (Amazon-Scientific: old is the stored run trained with the "
             "previous defaults, new the no-settings `prism train` run of \"Quality with no "
             "settings\", which chose the two-tower).", "",
             "| data set | shoppers | old: 30 × 1e-3 constant | new: 15 × 3e-3 cosine | "
             "new − old [95% CI] | verdict | fit s old / new |",
             "|---|---|---|---|---|---|---|"]
    for row in results["pairs"]:
        old, new, diff = row["old"], row["new"], row["difference"]
        call = "new wins" if diff["win"] else "old wins" if diff["loss"] else "tie"
        lines.append(f"| {row['dataset']} ({row['split']}, seed {row['seed']}) | "
                     f"{row['n_shoppers']} | {old['ndcg@10']:.4f} [{old['low']:.4f}, "
                     f"{old['high']:.4f}] | {new['ndcg@10']:.4f} [{new['low']:.4f}, "
                     f"{new['high']:.4f}] | {diff['new_minus_old']:+.4f} [{diff['low']:+.4f}, "
                     f"{diff['high']:+.4f}] | {call} | {old['fit_seconds']:.0f} / "
                     f"{new['fit_seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--pair", action="append", required=True,
                        metavar="NAME=OLD_RUN,NEW_RUN")
    args = parser.parse_args(argv)
    pairs = []
    for spec in args.pair:
        name, _, folders = spec.partition("=")
        old, _, new = folders.partition(",")
        if not (name and old and new):
            raise SystemExit(f"--pair {spec!r}: expected NAME=OLD_RUN,NEW_RUN")
        pairs.append(compare(name, Path(old), Path(new)))
    results = {"machine": machine(),
               "pairs": pairs}
    write_results(args.out, "schedule", results, render)
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
