"""Quantised item tables on Amazon-Scientific: NDCG@10 with fp32 vs fp16 vs int8, memory saved.

    nice python -m bench.scale.quantize                        # trains a quick two-tower first
    nice python -m bench.scale.quantize --run ~/.prism/runs/amazon-twotower

Protocol: leave-last-out, full ranking, seen items hidden (engine.evaluation.protocol).
A served model
keeps only the compact table, so the quantised table replaces the item vectors everywhere the
model reads them (history pooling in the user tower and the scores); rows are widened back to
float32 for the matmul, the same numbers `QuantizedTable.scores` gives. Results →
docs/benchmarks/quantize.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import AMAZON, add_out, write_results
from engine.core.config import TrainConfig
from engine.data import load_dataset
from engine.evaluation.protocol import evaluate_model
from engine.models.base import BaseModel, TrainData
from engine.retrieval.quantize import DTYPES, quantize, topk_overlap
from engine.runs.data import prepare_data
from engine.training.pipeline import train
from engine.training.spec import TrainSpec

DATA = AMAZON
K = 10
METRICS = ("ndcg@10", "recall@10", "hit@10", "category_entropy@10")


def trained_model(dataset: Any, epochs: int, seed: int) -> tuple[BaseModel, TrainData, float]:
    """A quick two-tower fit through the evaluation harness (text embeddings from the cache)."""
    from engine.text.encoders import encode_items

    text = encode_items(dataset, progress=False)
    result = train(TrainSpec(dataset, model="twotower", protocol="leave-last-out", seed=seed,
                             train_config=TrainConfig(epochs=epochs, seed=seed),
                             text_embeddings=text))
    return result.model, result.data, result.fit_seconds


def saved_model(run_dir: Path, dataset: Any, seed: int) -> tuple[BaseModel, TrainData, float]:
    """A saved run's model with the dataset re-split the same way (leave-last-out)."""
    from engine.runs.store import load_run

    run = load_run(run_dir)
    model = run.model
    _, data = prepare_data(dataset, "leave-last-out", seed=seed)
    if model.item_vectors() is None or len(model.item_vectors()) != data.n_items \
            or model.scoring_vectors() is not model.item_vectors():
        raise SystemExit(f"{run_dir}: not a fixed-alpha two-tower run over this dataset's "
                         f"{data.n_items} items")
    return model, data, float(run.meta.get("fit_seconds") or 0.0)


def measure(model: BaseModel, data: TrainData) -> list[dict[str, Any]]:
    """Evaluate the model once per table dtype, restoring the fp32 table at the end."""
    full = model.item_vectors().copy()
    users, _ = data.truth(data.test)
    reference = model.score_users(users[:2000])
    rows = []
    try:
        for dtype in DTYPES:
            table = quantize(full, dtype)
            model.item_vectors_ = model.score_vectors_ = table.dequantize()
            started = time.perf_counter()
            result = evaluate_model(model, data, k=K, protocol="leave-last-out")
            rows.append({"dtype": dtype, "table_bytes": table.nbytes,
                         "metrics": {m: result["metrics"][m] for m in METRICS},
                         "top10_overlap_vs_fp32": topk_overlap(
                             reference, model.score_users(users[:2000]), K),
                         "evaluate_seconds": round(time.perf_counter() - started, 2)})
    finally:
        model.item_vectors_ = model.score_vectors_ = full
    base = rows[0]
    for row in rows:
        row["ndcg_change_pct"] = round(100 * (row["metrics"]["ndcg@10"]
                                              / base["metrics"]["ndcg@10"] - 1), 3)
        row["memory_saved_pct"] = round(100 * (1 - row["table_bytes"] / base["table_bytes"]), 1)
    return rows


def render(results: dict[str, Any]) -> str:
    lines = ["# Quantised item tables (Amazon-Scientific)", "",
             f"Command: `{results['command']}`"
             + (" (RUN: a saved two-tower run on this data, e.g. the one "
                "`bench/quality/tradeoff.py` "
                "trains)" if "RUN" in results["command"] else "") + "  ",
             f"Model: {results['model']} ({results['n_items']:,} items × {results['dim']} dims; "
             f"fit {results['fit_seconds']} s). Leave-last-out, full ranking, top-{K}.", "",
             "| table | bytes | memory saved | NDCG@10 | change vs fp32 | Recall@10 | "
             "top-10 overlap with fp32 |", "|---|---|---|---|---|---|---|"]
    for row in results["rows"]:
        m = row["metrics"]
        lines.append(f"| {row['dtype']} | {row['table_bytes']:,} | {row['memory_saved_pct']}% | "
                     f"{m['ndcg@10']:.4f} | {row['ndcg_change_pct']:+.2f}% | "
                     f"{m['recall@10']:.4f} | {row['top10_overlap_vs_fp32']:.3f} |")
    worst = min(row["ndcg_change_pct"] for row in results["rows"])
    lines += ["", f"Target: NDCG@10 loss ≤ 1% — worst change {worst:+.2f}% "
              f"({'met' if worst >= -1.0 else 'NOT met'}). int8 stores one float32 scale per "
              "row besides the int8 values.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--run", type=Path, help="a saved two-tower run over Amazon-Scientific")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"skipped: {args.data} not found (the shared real data is absent)")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    dataset = load_dataset(args.data)
    if args.run:
        model, data, fit_seconds = saved_model(args.run, dataset, args.seed)
    else:
        model, data, fit_seconds = trained_model(dataset, args.epochs, args.seed)
    rows = measure(model, data)
    vectors = model.item_vectors()
    shown = [arg if not args.run or arg != str(args.run) else "RUN"
             for arg in (argv if argv is not None else sys.argv[1:])]
    results = {"command": "python -m bench.scale.quantize " + " ".join(shown),
               "model": model.name, "n_items": int(vectors.shape[0]),
               "dim": int(vectors.shape[1]), "fit_seconds": round(fit_seconds, 1),
               "rows": rows}
    print(json.dumps(results, indent=2))
    write_results(args.out, "quantize", results, render)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
