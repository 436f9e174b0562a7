"""First start of the studio: the starter model over every alpha against the one-alpha starter.

    python -m bench.studio.starter_fit
    python -m bench.studio.starter_fit --epochs 2 --no-text --out /tmp/starter   # a smoke run

Trains the studio's starter exactly as the first start does (the synthetic shop, the starter's
settings, epoch cap and time budget: dashboard/bootstrap.py, engine/training/presets.py), once
at the one default alpha (the starter before it became a model over every alpha) and once over
the default range of alpha, one after the other in the same run, in a fresh studio home. The
product texts are encoded once before both fits (both read the same vectors), so the numbers
are the training a newcomer waits for: the fit (wall and process CPU seconds, the epochs early
stopping ran) and the refit on every event, plus the whole `train` call. Writes
docs/benchmarks/starter_fit.json and .md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import add_out, machine, machine_line, write_results

ONE_ALPHA, EVERY_ALPHA = "one α (before)", "every α (now)"


def fit_starter(label: str, home: Path, epochs: int, text: Any, settings: dict[str, Any]
                ) -> dict[str, Any]:
    """One starter fit in `home`, timed; `text` the product-text vectors both fits read."""
    from dashboard.bootstrap import STARTER_BUDGET_S, TimeBudget
    from engine.core.config import DEFAULT_ALPHA_RANGE
    from engine.training.pipeline import train
    from engine.training.presets import starter_spec

    spec = starter_spec(home / "runs" / label.split()[0], epochs,
                        alpha_range=DEFAULT_ALPHA_RANGE if label == EVERY_ALPHA else None,
                        search_vectors=text is not None,  # a smoke run skips the text model
                        **settings).replace(text_embeddings=text)
    started, cpu = time.perf_counter(), time.process_time()
    result = train(spec, callbacks=[TimeBudget(STARTER_BUDGET_S)])
    total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
    evaluation, serving = result.meta["models"]["evaluation"], result.meta["models"]["serving"]
    metrics = result.evaluation["metrics"]
    return {"alpha": result.meta["train_config"]["alpha"],
            "alpha_max": result.meta["train_config"]["alpha_max"],
            "fit_seconds": round(result.fit_seconds, 2),
            "fit_cpu_seconds": round(result.fit_cpu_seconds, 2),
            "epochs_run": evaluation.get("epochs_run"), "best_epoch": evaluation.get("best_epoch"),
            "refit_seconds": serving.get("fit_seconds"),
            "refit_cpu_seconds": serving.get("fit_cpu_seconds"),
            "train_seconds": round(total, 2), "train_cpu_seconds": round(total_cpu, 2),
            "ndcg@10": round(metrics["ndcg@10"], 4),
            "category_entropy@10": round(metrics["category_entropy@10"], 4)}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Both starters in a fresh studio home (PRISM_HOME), removed afterwards."""
    home, before = Path(tempfile.mkdtemp(prefix="prism_starter_")), os.environ.get("PRISM_HOME")
    os.environ["PRISM_HOME"] = str(home)  # a newcomer's empty studio home
    try:
        return measure_in(home, args)
    finally:
        if before is None:
            os.environ.pop("PRISM_HOME", None)
        else:
            os.environ["PRISM_HOME"] = before
        shutil.rmtree(home, ignore_errors=True)


def measure_in(home: Path, args: argparse.Namespace) -> dict[str, Any]:
    from dashboard.bootstrap import STARTER, STARTER_BUDGET_S, STARTER_EPOCHS
    from engine.data import load_dataset
    from engine.text.encoders import encode_items
    from engine.training.presets import TINY_SHOP, ensure_synthetic_shop, starter_spec

    epochs = args.epochs or STARTER_EPOCHS
    settings = {**STARTER, "use_text": args.text}
    shop = ensure_synthetic_shop(**TINY_SHOP)
    started = time.perf_counter()
    spec = starter_spec(home / "runs" / "probe", epochs, **settings)  # its text encoder
    text = encode_items(load_dataset(shop), spec.encoder_config) if args.text else None
    encode = time.perf_counter() - started
    fits = {label: fit_starter(label, home, epochs, text, settings)
            for label in (ONE_ALPHA, EVERY_ALPHA)}
    one, every = fits[ONE_ALPHA], fits[EVERY_ALPHA]
    return {"machine": machine(), "command": "python -m bench.studio.starter_fit" + (
        "" if args.epochs is None and args.text else " (smoke settings)"),
            "shop": TINY_SHOP, "settings": settings, "epoch_cap": epochs,
            "budget_seconds": STARTER_BUDGET_S, "encode_seconds": round(encode, 2),
            "fits": fits, **{f"{name}_ratio": round(every[key] / max(one[key], 1e-9), 2)
                             for name, key in (("fit_cpu", "fit_cpu_seconds"),
                                               ("fit_wall", "fit_seconds"),
                                               ("train_wall", "train_seconds"))}}


def render(results: dict[str, Any]) -> str:
    shop, settings = results["shop"], results["settings"]
    lines = ["# First start: the starter model over every α against the one-α starter", "",
             f"Machine: {machine_line(results['machine'])}. The studio's starter on the "
             f"synthetic shop ({shop['n_items']} items, {shop['n_users']} shoppers), its "
             f"settings ({', '.join(f'{k}={v}' for k, v in settings.items())}, at most "
             f"{results['epoch_cap']} epochs, early stopping, a {results['budget_seconds']:.0f} s "
             "budget), trained once at one α and once over every α, one after the other in "
             "the same run; product texts encoded once before both "
             f"({results['encode_seconds']:.1f} s). The model over every α is scored at its "
             "default α.", "", f"Regenerate: `{results['command']}`.", "",
             "| starter | α | fit s (wall) | fit CPU s | epochs run (best) | refit s | "
             "whole training s | NDCG@10 | entropy@10 |", "|---|---|---|---|---|---|---|---|---|"]
    for label, fit in results["fits"].items():
        alpha = f"{fit['alpha']:g}" if fit["alpha_max"] is None \
            else f"{fit['alpha']:g}–{fit['alpha_max']:g}"
        lines.append(f"| {label} | {alpha} | {fit['fit_seconds']:.1f} | "
                     f"{fit['fit_cpu_seconds']:.1f} | {fit['epochs_run']} ({fit['best_epoch']}) | "
                     f"{fit['refit_seconds']:.1f} | {fit['train_seconds']:.1f} | "
                     f"{fit['ndcg@10']:.4f} | {fit['category_entropy@10']:.3f} |")
    return "\n".join(lines + [
        "", f"Fit: **{results['fit_cpu_ratio']:.2f}×** the one-α starter in CPU seconds "
        f"({results['fit_wall_ratio']:.2f}× in wall seconds); the whole training a newcomer "
        f"waits for (fit, refit, saving, search vectors): {results['train_wall_ratio']:.2f}× "
        "in wall seconds.", ""])


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--epochs", type=int, default=None,
                        help="epoch cap (default: the starter's own)")
    parser.add_argument("--no-text", dest="text", action="store_false",
                        help="train without product text (a smoke run)")
    args = parser.parse_args(argv)
    results = measure(args)
    write_results(args.out, "starter_fit", results, render)
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
