"""Training cost of one model for every alpha: CPU seconds per epoch against a fixed-alpha fit.

    OMP_NUM_THREADS=1 python -m bench.speed.conditioned_fit          # amazon-scientific
    OMP_NUM_THREADS=1 python -m bench.speed.conditioned_fit --datasets ml-100k --epochs 3

On the shared machine wall seconds swing several-fold with other jobs, so this measures the
CPU seconds of the process (run it with one thread) of an alpha = 0 fit and of a fit over
alpha in [0, 1] (`prism train --alpha 0:1`), with bench/quality/frontier_alpha.py's settings,
each for --epochs epochs with early stopping off, in the same run. A whole fit also differs in
how many epochs early stopping lets it run: where --runs-dir holds the frontier benchmark's
runs of both kinds for a training seed (--seeds), their epochs are read and the whole fit's
ratio is estimated as the per-epoch ratio times the ratio of the epochs summed over those
seeds. Writes docs/benchmarks/conditioned_fit.json
and .md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench.common import DATASETS, REPO, add_out, machine, machine_line, read_json, write_results
from bench.quality.frontier import SEED, add_source_options, smoke_settings, train_settings
from bench.quality.frontier_alpha import CONDITIONED, VARIANTS, fixed_label

FIXED = fixed_label(0.0)


def measure(data: Any, name: str, label: str, epochs: int, args: argparse.Namespace
            ) -> dict[str, Any]:
    """CPU and wall seconds per epoch (validation included) of one variant's fit."""
    from engine.training.options import train_spec

    alpha, extra = VARIANTS[label]
    low, _, high = alpha.partition(":")
    settings = extra + smoke_settings(args) + [f"epochs={epochs}", f"patience={epochs}"]
    spec = train_spec(Path(args.data_root) / name, out=None, model="twotower",
                      protocol=DATASETS[name], seed=SEED, alpha=float(low),
                      alpha_max=float(high) if high else None,
                      settings=train_settings(name, settings, args.seed), refit=False)
    model, _ = spec.build()
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(data)
    done = len(model.logs_)
    return {"epochs": done, "cpu_per_epoch": round((time.process_time() - cpu) / done, 3),
            "wall_per_epoch": round((time.perf_counter() - wall) / done, 3)}


def epochs_run(runs_dir: Path, name: str, label: str, seed: int) -> int | None:
    """Epochs early stopping let the frontier benchmark's run of `label` train, if it exists."""
    slug = label.replace("=", "").replace(" ", "-").replace(":", "-")
    meta = read_json(runs_dir / f"{name}-{slug}-seed{seed}" / "run.json")
    return (meta or {}).get("models", {}).get("evaluation", {}).get("epochs_run")


def run_dataset(name: str, args: argparse.Namespace) -> dict[str, Any]:
    from engine.data import load_dataset
    from engine.runs.data import prepare_data
    from engine.text.encoders import encode_items

    probe = train_spec_encoder(name, args)
    dataset = load_dataset(Path(args.data_root) / name)
    text = encode_items(dataset, probe) if probe is not None else None
    _, data = prepare_data(dataset, DATASETS[name], seed=SEED, text_embeddings=text)
    fits = {label: measure(data, name, label, args.epochs, args) for label in (FIXED,
                                                                                 CONDITIONED)}
    per_epoch = fits[CONDITIONED]["cpu_per_epoch"] / max(fits[FIXED]["cpu_per_epoch"], 1e-9)
    runs = {seed: {label: epochs_run(Path(args.runs_dir), name, label, seed)
                   for label in (FIXED, CONDITIONED)} for seed in args.seeds.split(",")}
    runs = {seed: ran for seed, ran in runs.items() if all(ran.values())}
    source = "runs"
    if not runs and (earlier := recorded_epochs(Path(args.out), name)):
        runs, source = earlier, "report"  # the frontier runs are gone; their epochs were kept
    whole = per_epoch * sum(r[CONDITIONED] for r in runs.values()) / sum(
        r[FIXED] for r in runs.values()) if runs else None
    return {"dataset": name, "seed": args.seed, "epochs": args.epochs, "fits": fits,
            "cpu_ratio_per_epoch": round(per_epoch, 2), "epochs_run": runs,
            "epochs_from": source,
            "fit_ratio_estimate": None if whole is None else round(whole, 2)}


def recorded_epochs(out: Path, name: str) -> dict[str, dict[str, int]]:
    """The epochs per seed the report in `out` read from the frontier runs for `name` ({} when
    none): reused when those runs are no longer on this machine."""
    rows = read_json(out / "conditioned_fit.json").get("datasets", [])
    return next((row["epochs_run"] for row in rows if row["dataset"] == name), {})


def train_spec_encoder(name: str, args: argparse.Namespace) -> Any:
    """The text encoder the variants' fits read item text with (None without text)."""
    from engine.training.options import train_spec

    spec = train_spec(Path(args.data_root) / name, out=None, model="twotower",
                      protocol=DATASETS[name], seed=SEED,
                      settings=train_settings(name, smoke_settings(args), args.seed),
                      refit=False)
    return spec.encoder_config


def render(results: dict[str, Any]) -> str:
    lines = ["# Training one model for every α: CPU seconds against one fixed-α fit", "",
             f"Machine: {machine_line(results['machine'])}. CPU seconds of the process (one "
             "thread) per training epoch, validation included, early stopping off: the α = 0 "
             "two-tower and the one trained over α ∈ [0, 1], the frontier benchmark's "
             "settings, measured one after the other in the same run. Whole fit: the "
             "per-epoch ratio times the ratio of the epochs early stopping ran in the "
             "frontier benchmark's runs (runs/frontier), summed over the training seeds "
             "listed.", "",
             f"Regenerate: `{results['command']}`.", "",
             "| data set | epochs timed | α = 0 CPU s/epoch | α ∈ [0, 1] CPU s/epoch | "
             "ratio per epoch | epochs run by seed (α = 0 / [0, 1]) | whole fit ratio "
             "(estimate) |",
             "|---|---|---|---|---|---|---|"]
    for row in results["datasets"]:
        fixed, cond = row["fits"][FIXED], row["fits"][CONDITIONED]
        runs = row["epochs_run"]
        ran = ", ".join(f"seed {seed}: {r[FIXED]} / {r[CONDITIONED]}"
                        for seed, r in runs.items()) or "—"
        whole = row["fit_ratio_estimate"]
        lines.append(f"| {row['dataset']} (seed {row['seed']}) | {row['epochs']} | "
                     f"{fixed['cpu_per_epoch']:.2f} | {cond['cpu_per_epoch']:.2f} | "
                     f"{row['cpu_ratio_per_epoch']:.2f}× | {ran} | "
                     f"{'—' if whole is None else f'{whole:.2f}×'} |")
    kept = [row["dataset"] for row in results["datasets"] if row.get("epochs_from") == "report"]
    if kept:
        lines += ["", f"Epochs run for {', '.join(kept)}: as the previous report read them "
                  "from the frontier benchmark's runs, which are not on this machine any more "
                  "(rerun `python -m bench.quality.frontier_alpha` to read them afresh)."]
    return "\n".join(lines + ["", "The goal is a whole fit ≤ 1.5× one fixed-α fit.", ""])


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--datasets", default="amazon-scientific")
    parser.add_argument("--epochs", type=int, default=2, help="epochs timed per fit")
    parser.add_argument("--seed", type=int, default=0, help="training seed of the timed fits")
    parser.add_argument("--seeds", default="0,1,2",
                        help="training seeds whose frontier runs' epochs are read")
    parser.add_argument("--runs-dir", default=str(REPO / "runs" / "frontier"),
                        help="the frontier benchmark's runs, read for their epochs")
    add_source_options(parser)
    args = parser.parse_args(argv)
    command = "OMP_NUM_THREADS=1 python -m bench.speed.conditioned_fit" + (
        "" if args.datasets == "amazon-scientific" else f" --datasets {args.datasets}")
    results = {"machine": machine(), "command": command,
               "datasets": [run_dataset(name, args) for name in args.datasets.split(",")]}
    write_results(args.out, "conditioned_fit", results, render)
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
