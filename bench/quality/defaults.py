"""Quality with no settings: what `prism train --data D` gives, beside the best peer.

    python -m bench.quality.defaults                                   # the three data sets
    python -m bench.quality.defaults --run ml-100k=runs/ml-auto        # report an existing run
    python -m bench.quality.defaults --datasets ml-100k --tune 8       # the settings search's row
    python -m bench.quality.defaults --datasets amazon-scientific --seeds 0,1,2  # spread over seeds

Each data set is trained with `prism train` and no model or settings (`--model auto`: the
candidates of engine/training/selection.py, chosen on the validation part only), split seed 0 (the
CLI's default). The synthetic shop is `prism data generate --seed 7` (SHOP_SEED).
`--tune N` adds the row of `prism train --tune N` (engine/training/tuning.py:
N Optuna trials over the
two-tower's settings, then the same validation choice). `--seeds` trains once per seed (the
seed drives the split and the training) and reports the spread of test NDCG@10; every run's
test NDCG@10 carries a 95% bootstrap interval over its test shoppers (engine/metrics/stats.py).
Writes docs/benchmarks/defaults.json and .md with every candidate's validation score and every
trial's.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.common import DATASETS as PUBLIC_DATASETS
from bench.common import (
    RESAMPLES,
    SHARED_DATA,
    add_out,
    machine,
    machine_line,
    read_json,
    test_ndcg_interval,
    write_results,
)

DATASETS = {**PUBLIC_DATASETS, "synthetic-shop": "leave-last-out"}
PEERS = {"ml-100k": ("RecBole EASE", 0.3295), "amazon-scientific": ("RecBole SASRec", 0.0518),
         "synthetic-shop": (None, None)}
TARGETS = {"ml-100k": 0.3295, "amazon-scientific": 0.0723}
SHOP_SEED = 7


def data_folder(name: str, scratch: Path, root: Path = SHARED_DATA) -> Path:
    """The data set's folder under `root`, or a freshly generated synthetic shop."""
    if name != "synthetic-shop":
        return root / name
    from engine.data import generate_shop, write_tables

    folder = scratch / "shop"
    if (folder / "events.csv").exists():  # generated for an earlier seed
        return folder
    write_tables(*generate_shop(seed=SHOP_SEED), folder)  # `prism data generate --seed 7`
    return folder


def settings(tune: int) -> list[str]:
    return ["--tune", str(tune)] if tune else []


def train(name: str, scratch: Path, tune: int = 0, seed: int = 0,
          root: Path = SHARED_DATA) -> Path:
    from engine.training.options import train_spec
    from engine.training.pipeline import train as fit

    out = scratch / f"{name}-{'tuned' if tune else 'auto'}-seed{seed}"
    # `prism train --data D --split S --out O --seed N [--tune T]`: the model search, no settings
    fit(train_spec(data_folder(name, scratch, root), out=out, protocol=DATASETS[name], seed=seed,
                   tune=tune))
    return out


def shopper_interval(name: str, run: Path) -> dict[str, Any]:
    """Test NDCG@10 per shopper of a run, as its mean with a 95% bootstrap interval."""
    from engine.data import load_dataset
    from engine.runs.data import prepare_data
    from engine.runs.store import load_run

    loaded = load_run(run)
    dataset = load_dataset(loaded.meta["data_path"])  # the folder the run was trained on
    _, data = prepare_data(dataset, DATASETS[name], seed=int(loaded.meta.get("seed", 0)))
    return test_ndcg_interval(loaded.model, data)


def seed_rows(name: str, runs: dict[int, Path], tune: int) -> dict[str, Any]:
    """The first seed's row (with its interval) plus every seed's test NDCG and their spread."""
    from engine.metrics.stats import seed_spread

    first = min(runs)
    entry = row(name, runs[first], tune)
    entry["interval"] = shopper_interval(name, runs[first])
    entry["seeds"] = []
    for seed, run in sorted(runs.items()):
        meta = json.loads((run / "run.json").read_text())
        entry["seeds"].append({"seed": seed, "chosen": meta.get("selection", {}).get("chosen"),
                               "ndcg@10": round(meta["metrics"]["ndcg@10"], 4),
                               "fit_seconds": meta["fit_seconds"]})
    if len(runs) >= 2:
        entry["spread"] = {key: round(value, 4) if isinstance(value, float) else value
                           for key, value in seed_spread(
                               [s["ndcg@10"] for s in entry["seeds"]]).items()}
    return entry


def existing_run(folder: str | None) -> dict[int, Path]:
    """{seed: folder} of a run given with --run (empty without one)."""
    if folder is None:
        return {}
    return {int(json.loads((Path(folder) / "run.json").read_text()).get("seed", 0)):
            Path(folder)}


def row(name: str, run: Path, tune: int = 0) -> dict[str, Any]:
    meta = json.loads((run / "run.json").read_text())
    data = f"data generate --out shop --seed {SHOP_SEED} && prism train --data shop" \
        if name == "synthetic-shop" else f"train --data ../shared/data/{name}"
    peer, peer_ndcg = PEERS[name]
    extra = "".join(f" {part}" for part in settings(tune))
    folder = f"runs/{name}-{'tuned' if tune else 'auto'}"
    return {"dataset": name, "split": meta["split"], "settings": extra.strip() or "none",
            "command": f"prism {data} --split {DATASETS[name]}{extra} --out {folder}",
            "chosen": meta.get("selection", {}).get("chosen"),
            "candidates": meta.get("selection", {}).get("candidates", []),
            "tuning": meta.get("selection", {}).get("tuning"),
            "ndcg@10": round(meta["metrics"]["ndcg@10"], 4),
            "category_entropy@10": round(meta["metrics"]["category_entropy@10"], 3),
            "fit_seconds": meta["fit_seconds"], "peer": peer, "peer_ndcg@10": peer_ndcg,
            "target": TARGETS.get(name)}


def render(results: dict[str, Any]) -> str:
    lines = ["# Quality with no settings (`prism train --data D`)", "",
             f"Machine: {machine_line(results['machine'])}"
             f", shared with other jobs (fit seconds are rough "
             "and include every candidate). Split seed 0. Candidates are fitted on the "
             "training part and chosen by NDCG@10 on the validation part; the test part is "
             "used only for the number reported. **95% CI**: percentile bootstrap over the "
             f"test shoppers ({RESAMPLES} resamples) of the first seed's run. **Seeds**: the "
             "test NDCG@10 of each seed (the seed drives the split and the training): mean ± "
             "standard deviation [min, max]; — where one seed was run. A peer's number is "
             "RecBole's published one, so no paired interval against it exists.", "",
             "| data set | settings | chosen | test NDCG@10 [95% CI] | seeds | entropy@10 | "
             "fit s | best peer | target |", "|---|---|---|---|---|---|---|---|---|"]
    for entry in results["datasets"]:
        peer = f"{entry['peer']} {entry['peer_ndcg@10']:.4f}" if entry["peer"] else "—"
        target = f"{entry['target']:.4f}" if entry["target"] else "—"
        lines.append(f"| {entry['dataset']} | {entry.get('settings', 'none')} | "
                     f"{entry['chosen']} | {entry['ndcg@10']:.4f}{_ci(entry)} | "
                     f"{_spread(entry)} | {entry['category_entropy@10']:.3f} | "
                     f"{entry['fit_seconds']:.0f} | {peer} | {target} |")
    for entry in results["datasets"]:
        lines += ["", f"## {entry['dataset']} (settings: {entry.get('settings', 'none')}): "
                  "validation NDCG@10 per candidate", "",
                  f"`{entry['command']}`", "", "| candidate | valid NDCG@10 | fit s |",
                  "|---|---|---|"]
        lines += [f"| {c['label']} | {c['valid_ndcg']:.4f} | {c['fit_seconds']:.1f} |"
                  for c in entry["candidates"]]
        lines += trial_lines(entry.get("tuning"))
        if len(entry.get("seeds", [])) > 1:
            lines += ["", "| seed | chosen | test NDCG@10 | fit s |", "|---|---|---|---|"]
            lines += [f"| {s['seed']} | {s['chosen']} | {s['ndcg@10']:.4f} | "
                      f"{s['fit_seconds']:.0f} |" for s in entry["seeds"]]
    return "\n".join(lines) + "\n"


def _ci(entry: dict[str, Any]) -> str:
    interval = entry.get("interval")
    return f" [{interval['low']:.4f}, {interval['high']:.4f}]" if interval else ""


def _spread(entry: dict[str, Any]) -> str:
    spread = entry.get("spread")
    if not spread:
        return "—"
    return (f"{spread['mean']:.4f} ± {spread['std']:.4f} [{spread['min']:.4f}, "
            f"{spread['max']:.4f}] ({spread['n']} seeds)")


def trial_lines(tuning: dict[str, Any] | None) -> list[str]:
    """The study's trials: settings, state and validation NDCG@10 (pruned: stopped early)."""
    if not tuning:
        return []
    lines = ["", f"Settings search: {tuning['trials']} trials, {tuning['sampler']} sampler "
             f"(seed {tuning['seed']}), {tuning['pruner']} pruner; best trial "
             f"{tuning['best_trial']} (valid NDCG@10 {tuning['best_value']:.4f}). Trial 0 is "
             "the split's default settings.", "",
             "| trial | state | valid NDCG@10 | epochs | fit s | settings |",
             "|---|---|---|---|---|---|"]
    for trial in tuning["trial_log"]:
        value = "—" if trial["value"] is None else f"{trial['value']:.4f}"
        shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in trial["params"].items())
        lines.append(f"| {trial['number']} | {trial['state'].lower()} | {value} | "
                     f"{trial['epochs']} | {trial['fit_seconds']:.0f} | {shown} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--run", action="append", default=[], metavar="DATASET=RUN_DIR",
                        help="report an existing run folder (for its seed) instead of training it")
    parser.add_argument("--tune", type=int, default=0, metavar="N",
                        help="train (or report, with --run) the --tune N row instead")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, one run each")
    parser.add_argument("--data-root", type=Path, default=SHARED_DATA,
                        help="folder holding the public data sets by name (../shared/data)")
    args = parser.parse_args(argv)
    given = dict(pair.split("=", 1) for pair in args.run)
    rows = read_json(args.out / "defaults.json").get("datasets", [])
    with tempfile.TemporaryDirectory() as scratch:
        seeds = [int(seed) for seed in args.seeds.split(",")]
        for name in args.datasets.split(","):
            runs = existing_run(given.get(name))  # a given run stands for its own seed
            runs.update({seed: train(name, Path(scratch), args.tune, seed, args.data_root)
                         for seed in seeds if seed not in runs and (name not in given
                                                                    or len(seeds) > 1)})
            new = seed_rows(name, runs, args.tune)
            rows = [r for r in rows if (r["dataset"], r.get("settings", "none"))
                    != (name, new["settings"])] + [new]
    rows.sort(key=lambda r: (list(DATASETS).index(r["dataset"]), r.get("settings") != "none"))
    results = {"machine": machine(),
               "datasets": rows}
    write_results(args.out, "defaults", results, render)
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
