"""What differential privacy costs: the two-tower at epsilon 1, 4, 8 and without noise.

    nice -n 10 python -m bench.quality.privacy --jobs 4   # Amazon-Scientific, 2 epochs per model

Each model is trained on the leave-last-out split of ../shared/data/amazon-scientific with the
same settings (one example per shopper, text and category item features, dim 32, no ID or
shopper embeddings: see docs/privacy.md); epsilon = inf is the same training without
clipping or noise. The item text vectors are cut to their first TEXT_DIMS principal
components (of the catalogue's own text: public, no privacy cost) so that per-shopper
gradients fit this benchmark's time on a shared CPU. Private models use DP-SGD over shoppers
(engine/models/private.py) at delta = 1 / shoppers^1.1. Test NDCG@10 and category
entropy@10 come with 95% bootstrap intervals over shoppers. Results:
docs/benchmarks/privacy.json and the table in docs/privacy.md (between its table markers).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    AMAZON,
    OUT_DIR,
    REPO,
    RESAMPLES,
    add_out,
    machine,
    machine_line,
    read_json,
    write_atomic,
    write_results,
)

EPSILONS = (math.inf, 8.0, 4.0, 1.0)
TEXT_DIMS = 64
MODEL = {"dim": 32, "use_id": False}
TRAIN = {"batch_size": 256, "lr": 0.01}  # few epochs: a high rate, many small steps
DOC = REPO / "docs" / "privacy.md"
START, END = "<!-- privacy table: start -->", "<!-- privacy table: end -->"


def principal(text: np.ndarray) -> np.ndarray:
    """The text vectors on their first TEXT_DIMS principal components, rows L2-normalised."""
    centred = text - text.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ axes[:TEXT_DIMS].T
    return (reduced / np.linalg.norm(reduced, axis=1, keepdims=True)).astype(np.float32)


def fit_one(data: Any, epsilon: float, epochs: int, seed: int) -> dict[str, Any]:
    """Train at `epsilon` (inf: no privacy), then test NDCG@10 and entropy@10 with intervals."""
    from engine.core.config import ModelConfig, TrainConfig
    from engine.evaluation.protocol import rank_users
    from engine.metrics.stats import mean_intervals
    from engine.metrics.summary import per_user_metrics
    from engine.models.private import private_settings
    from engine.models.twotower import TwoTowerModel

    private = private_settings(epsilon) if math.isfinite(epsilon) else \
        {"example_history": "user"}
    config = TrainConfig(epochs=epochs, seed=seed, device="cpu", patience=epochs, **TRAIN,
                         **private)
    model = TwoTowerModel(ModelConfig(**MODEL), config)
    started = time.perf_counter()
    model.fit(data, callbacks=[EpochLine(epsilon)])
    seconds = time.perf_counter() - started
    users, truth = data.truth(data.test)
    lists = rank_users(model, data, users, k=10)
    values = per_user_metrics(lists, truth, k=10, item_categories=data.item_categories,
                              item_popularity=data.item_popularity,
                              category_names=data.category_names)
    shown = mean_intervals({name: values[name] for name in ("ndcg@10", "category_entropy@10")},
                           n_resamples=RESAMPLES)
    return {"epsilon": None if math.isinf(epsilon) else epsilon,
            "privacy": model.privacy_, "fit_seconds": round(seconds, 1),
            "epochs": len(model.logs_),
            **{name: {key: round(value, 4) for key, value in interval.to_dict().items()}
               for name, interval in shown.items()}}


class EpochLine:
    """Prints each epoch, so a long run shows where it is."""

    def __init__(self, epsilon: float):
        self.epsilon = epsilon

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        print(f"epsilon {self.epsilon:g}: epoch {epoch} L={logs['L']:.3f} "
              f"val_ndcg@10={logs.get('val_ndcg@10', float('nan')):.4f} "
              f"({logs['seconds']:.0f}s)", flush=True)


def fit_all(data: Any, epochs: int, seed: int, jobs: int) -> list[dict[str, Any]]:
    """`fit_one` at every epsilon, `jobs` at a time in their own processes, in EPSILONS order."""
    if jobs <= 1:
        return [_report(fit_one(data, epsilon, epochs, seed)) for epsilon in EPSILONS]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_one_thread) as pool:
        futures = [pool.submit(fit_one, data, epsilon, epochs, seed) for epsilon in EPSILONS]
        return [_report(future.result()) for future in futures]


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _report(row: dict[str, Any]) -> dict[str, Any]:
    print(json.dumps(row), flush=True)
    return row


def render(results: dict[str, Any]) -> str:
    """The Markdown table of docs/privacy.md."""
    rows = ["| ε | δ | noise multiplier | sampling rate | steps | ε spent (PRV) | NDCG@10 "
            "(95% CI) | entropy@10 (95% CI) |", "|---|---|---|---|---|---|---|---|"]
    for row in results["rows"]:
        privacy = row["privacy"] or {}
        ndcg, entropy = row["ndcg@10"], row["category_entropy@10"]
        eps = "∞ (no noise)" if row["epsilon"] is None else f"{row['epsilon']:g}"
        cells = [eps, f"{privacy['delta']:.2e}" if privacy else "—",
                 f"{privacy['noise_multiplier']:.3f}" if privacy else "0",
                 f"{privacy['sample_rate']:.4f}" if privacy else "—",
                 str(privacy.get("steps_done", "—")),
                 f"{privacy['epsilon_spent']:.3f}" if privacy else "—",
                 f"{ndcg['estimate']:.4f} ({ndcg['low']:.4f}–{ndcg['high']:.4f})",
                 f"{entropy['estimate']:.3f} ({entropy['low']:.3f}–{entropy['high']:.3f})"]
        rows.append("| " + " | ".join(cells) + " |")
    setup = results["setup"]
    return ("\n".join(rows) + f"\n\n{setup['data']}, {setup['shoppers']:,} shoppers, "
            f"{setup['epochs']} epochs per model, settings {setup['model']}, clip "
            f"{setup['clip']}, seed {setup['seed']}; {machine_line(setup['machine'])}. Command: "
            f"`{setup['command']}`.\n")


def write_doc(table: str) -> None:
    """Replace the table between the markers of docs/privacy.md."""
    text = DOC.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    write_atomic(DOC, f"{head}{START}\n{table}{END}{tail}")


def main(argv: list[str] | None = None) -> None:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--data", type=Path, default=AMAZON, help="data folder")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1,
                        help="models trained at once, one process each (one thread each)")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the pages from docs/benchmarks/privacy.json, no training")
    args = parser.parse_args(argv)
    if args.report_only:
        return write_pages(read_json(args.out / "privacy.json"), args.out)
    if not args.data.exists():
        sys.exit(f"{args.data} is missing: this benchmark needs the shared Amazon-Scientific data")
    from engine.data import load_dataset
    from engine.runs.data import prepare_data
    from engine.text.encoders import encode_items

    dataset = load_dataset(args.data)
    _, data = prepare_data(dataset, "leave-last-out", seed=args.seed,
                           text_embeddings=principal(encode_items(dataset, progress=False)))
    rows = fit_all(data, args.epochs, args.seed, args.jobs)
    command = "nice -n 10 python -m bench.quality.privacy" + (
        f" --epochs {args.epochs}" if args.epochs != 2 else "") + (
        f" --jobs {args.jobs}" if args.jobs != 1 else "")
    shown = "Amazon-Scientific" if args.data == AMAZON else args.data.name
    results = {"setup": {"data": f"{shown} (leave-last-out)",
                         "shoppers": int(data.n_users), "epochs": args.epochs,
                         "model": ", ".join(f"{k}={v}" for k, v in MODEL.items())
                         + f", text on {TEXT_DIMS} principal components, "
                         + ", ".join(f"{k}={v}" for k, v in TRAIN.items()),
                         "clip": 1.0, "seed": args.seed, "machine": machine(),
                         "command": command}, "rows": rows}
    write_pages(results, args.out)


def write_pages(results: dict[str, Any], out: Path = OUT_DIR) -> None:
    """docs/benchmarks/privacy.{json,md}, and the table of docs/privacy.md when the report
    goes to docs/benchmarks."""
    write_results(out, "privacy", results, lambda found: (
        "# Differential privacy: Amazon-Scientific\n\n" + render(found)))
    if Path(out).resolve() == OUT_DIR.resolve():
        write_doc(render(results))
    print(render(results))


if __name__ == "__main__":
    main()
