"""Quality benchmark: our models through one harness on the shared real data, beside RecBole's.

    python -m bench.quality.quality                                   # everything
    python -m bench.quality.quality --models ease,pop --datasets ml-100k
    python -m bench.quality.quality --models twotower --alphas 0,0.1,0.3,1.0

ML-100K uses RecBole's protocol (random 8:1:1 per user, every rating a positive, seed 2020);
Amazon-Scientific leave-last-out by order. Full ranking, seen items excluded, top-10. Results
merge into docs/benchmarks/quality.json (rows re-run replace their old values) and the Markdown
tables in docs/benchmarks/quality.md are rebuilt from it.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import sys
import time
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    DATASET_SETTINGS,
    DATASETS,
    OUT_DIR,
    RESAMPLES,
    SHARED_DATA,
    add_out,
    machine,
    machine_line,
    test_ndcg_interval,
    write_atomic,
    write_json,
)

MODELS = ("pop", "itemknn", "ease", "twotower", "twotower:no-text")
COLD_MAX_EVENTS = 5  # "cold-ish" test items: at most this many training interactions
MIN_COLD_USERS = 50  # fewer cold-ish test users than this (ML-100K has 1): no table
VARIANTS = {"no-text": ["use_text=false"]}  # model:variant -> extra --set options
SEED = 2020

# RecBole 1.2.1 on the same data (shared/benchmarks/peers.md).
PEERS: dict[str, list[dict[str, Any]]] = {
    "ml-100k": [
        {"model": "Pop", "recall@10": .0838, "ndcg@10": .1005, "precision@10": .0824,
         "hit@10": .4708, "mrr@10": .1896, "catalog_coverage@10": .037, "fit": 0.3},
        {"model": "ItemKNN", "recall@10": .2470, "ndcg@10": .2834, "precision@10": .1931,
         "hit@10": .7847, "mrr@10": .4623, "catalog_coverage@10": .251, "fit": 1.3},
        {"model": "EASE", "recall@10": .2805, "ndcg@10": .3295, "precision@10": .2206,
         "hit@10": .8197, "mrr@10": .5277, "catalog_coverage@10": .237, "fit": 0.9},
        {"model": "BPR", "recall@10": .2466, "ndcg@10": .2928, "precision@10": .1962,
         "hit@10": .7815, "mrr@10": .4895, "catalog_coverage@10": .278, "fit": 23.0},
        {"model": "LightGCN (stop 50, 300 ep)", "recall@10": .2571, "ndcg@10": .3038,
         "precision@10": .2055, "hit@10": .8028, "mrr@10": .5071, "catalog_coverage@10": .383,
         "fit": 472.6},
        {"model": "MultiVAE", "recall@10": .2473, "ndcg@10": .2854, "precision@10": .1910,
         "hit@10": .7943, "mrr@10": .4769, "catalog_coverage@10": .325, "fit": 83.3},
    ],
    "amazon-scientific": [
        {"model": "Pop (train counts)", "hit@10": .0244, "ndcg@10": .0167, "mrr@10": .0144,
         "category_coverage@10": 4.95, "category_entropy@10": 1.41, "ild@10": .795,
         "catalog_coverage@10": .004, "fit": 3},
        {"model": "ItemKNN", "hit@10": .0565, "ndcg@10": .0362, "mrr@10": .0301,
         "category_coverage@10": 5.32, "category_entropy@10": 1.38, "ild@10": .724,
         "catalog_coverage@10": .972, "fit": 7},
        {"model": "EASE", "hit@10": .0739, "ndcg@10": .0464, "mrr@10": .0380,
         "category_coverage@10": 4.51, "category_entropy@10": 1.18, "ild@10": .639,
         "catalog_coverage@10": .869, "fit": 8},
        {"model": "BPR (96 epochs)", "hit@10": .0522, "ndcg@10": .0328, "mrr@10": .0269,
         "category_coverage@10": 4.88, "category_entropy@10": 1.27, "ild@10": .675,
         "catalog_coverage@10": .616, "fit": 322},
        {"model": "SASRec (14 epochs)", "hit@10": .0843, "ndcg@10": .0518, "mrr@10": .0418,
         "category_coverage@10": 3.97, "category_entropy@10": 1.02, "ild@10": .565,
         "catalog_coverage@10": .459, "fit": 903},
    ],
}
COLUMNS = {
    "ml-100k": ["recall@10", "ndcg@10", "precision@10", "hit@10", "mrr@10",
                "category_coverage@10", "category_entropy@10", "catalog_coverage@10"],
    "amazon-scientific": ["hit@10", "ndcg@10", "mrr@10", "category_coverage@10",
                          "category_entropy@10", "ild@10", "catalog_coverage@10"],
}


def cold_subset(data: Any, max_events: int = COLD_MAX_EVENTS) -> np.ndarray:
    """Test users whose held-out item had at most `max_events` training interactions."""
    users, truth = data.truth(data.test)
    counts = np.array([data.item_popularity[items].max() for items in truth])
    return users[counts <= max_events]


def run_one(dataset: Any, protocol: str, name: str, alpha: float, seed: int = SEED,
            variant: str = "") -> dict[str, Any]:
    """Fit and evaluate one model on one dataset; the row written to quality.json."""
    from engine.evaluation.protocol import evaluate_model
    from engine.text.encoders import encode_items
    from engine.training.options import train_spec
    from engine.training.pipeline import train

    settings = (list(VARIANTS.get(variant, [])) + list(DATASET_SETTINGS.get(dataset.name, []))
                if name == "twotower" else [])  # baselines have no settings to pass
    started = time.perf_counter()
    text = encode_items(dataset, progress=False) if name == "twotower" else None
    encode_seconds = time.perf_counter() - started
    spec = train_spec(dataset, model=name, alpha=alpha, seed=SEED, protocol=protocol,
                      settings=settings)  # as `prism train` with the same options
    result = train(spec.replace(text_embeddings=text, encoder_config=None,
                                search_vectors=False, progress=False))
    evaluation = result.evaluation
    cold_users = cold_subset(result.data)
    cold = (evaluate_model(result.model, result.data, users=cold_users)["metrics"]
            if len(cold_users) else {"ndcg@10": None, "hit@10": None})
    command = (f"prism train --data ../shared/data/{dataset.name} --out runs/{name} "
               f"--model {name} --split {protocol} --seed {seed}"
               + (f" --alpha {alpha:g}" if name == "twotower" else "")
               + "".join(f" --set {pair}" for pair in settings))
    label = name + (f" ({variant})" if variant else "")
    interval = test_ndcg_interval(result.model, result.data)
    return {"dataset": dataset.name, "split": protocol, "model": label, "seed": seed,
            "alpha": alpha if name == "twotower" else None, "n_users": evaluation["n_users"],
            "metrics": evaluation["metrics"], "ndcg_interval": interval,
            "seconds": {**evaluation["seconds"], "encode": round(encode_seconds, 2)},
            "cold": {"max_training_events": COLD_MAX_EVENTS, "n_users": int(len(cold_users)),
                     "ndcg@10": cold["ndcg@10"], "hit@10": cold["hit@10"]},
            "command": command}


def row_key(row: dict[str, Any]) -> tuple[str, str, Any, int]:
    return row["dataset"], row["model"], row["alpha"], row.get("seed", SEED)


def merge(path: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Old results with the re-run rows replaced; written atomically."""
    old = json.loads(path.read_text()) if path.exists() else {"rows": []}
    fresh = {row_key(r) for r in rows}
    kept = [r for r in old["rows"] if row_key(r) not in fresh]
    merged = {"machine": machine(),
              "protocol": "full ranking over all items, training (and validation) items "
                          "excluded, top-10, seed 2020", "rows": kept + rows}
    write_json(path, merged)
    return merged


def _fmt(value: Any) -> str:
    return "" if value is None else (f"{value:.4f}" if isinstance(value, float) and value < 1
                                     else f"{value:.2f}" if isinstance(value, float)
                                     else str(value))


def _model_order(label: str) -> int:
    base = label.split(" (")[0]
    variant = label[len(base):].strip(" ()")
    name = f"{base}:{variant}" if variant else base
    return MODELS.index(name) if name in MODELS else len(MODELS)


def _cold_table(rows: list[dict[str, Any]]) -> list[str]:
    """NDCG@10 / Hit@10 on test users whose item had few training interactions."""
    rows = [r for r in rows if "cold" in r]
    if not rows or max(r["cold"]["n_users"] for r in rows) < MIN_COLD_USERS:
        return []
    limit = rows[0]["cold"]["max_training_events"]
    lines = [f"Cold-ish test items (at most {limit} training interactions):", "",
             "| model | users | ndcg@10 | hit@10 |", "|---|---|---|---|"]
    for row in sorted(rows, key=lambda r: (_model_order(r["model"]), r["alpha"] or 0)):
        label = row["model"] + (f" α={row['alpha']:g}" if row["alpha"] is not None else "")
        cold = row["cold"]
        lines.append(f"| {label} | {cold['n_users']} | {_fmt(cold['ndcg@10'])} | "
                     f"{_fmt(cold['hit@10'])} |")
    return lines + [""]


def render(results: dict[str, Any]) -> str:
    """Markdown: one table per dataset, our rows then RecBole's, then the commands."""
    lines = ["# Recommendation quality: Prism beside RecBole", "",
             f"Machine: {machine_line(results['machine'])}"
             f". Protocol: {results['protocol']}. Peer numbers: "
             "RecBole 1.2.1, `shared/benchmarks/peers.md`. Regenerate with "
             "`python -m bench.quality.quality` (`--models`, `--datasets`, `--alphas` rerun "
             "parts). "
             f"Brackets: 95% bootstrap interval over the test shoppers ({RESAMPLES} resamples); "
             "RecBole publishes one number per metric, so its rows have none.", ""]
    for dataset, protocol in DATASETS.items():
        columns = COLUMNS[dataset]
        lines += [f"## {dataset} ({protocol})", "",
                  "| model | source | " + " | ".join(columns) + " | fit s |",
                  "|---|---|" + "---|" * (len(columns) + 1)]
        ours = [r for r in results["rows"]
                if r["dataset"] == dataset and r.get("seed", SEED) == SEED]
        for row in sorted(ours, key=lambda r: (_model_order(r["model"]), r["alpha"] or 0)):
            label = row["model"] + (f" α={row['alpha']:g}" if row["alpha"] is not None else "")
            cells = [_fmt(row["metrics"].get(c)) + _interval(row, c) for c in columns]
            lines.append(f"| {label} | Prism | " + " | ".join(cells)
                         + f" | {row['seconds']['fit']:.1f} |")
        for peer in PEERS[dataset]:
            cells = [_fmt(peer.get(c)) for c in columns]
            lines.append(f"| {peer['model']} | RecBole | " + " | ".join(cells)
                         + f" | {peer['fit']} |")
        lines += ["", "Commands (same harness through the CLI):", ""]
        lines += [f"    {row['command']}" for row in ours] + [""]
        lines += _cold_table(ours)
    lines += _seed_spread(results["rows"]) + NOTES
    return "\n".join(lines)


def _interval(row: dict[str, Any], column: str) -> str:
    """ " [low, high]" after the NDCG@10 cell of a row measured with its interval."""
    interval = row.get("ndcg_interval")
    if column != "ndcg@10" or not interval:
        return ""
    return f" [{interval['low']:.4f}, {interval['high']:.4f}]"


NOTES = [
    "## Notes", "",
    "- RecBole's shipped Pop miscounts popularity (upstream issues #1844, #2198). peers.md says "
    "its Amazon Pop row uses true training counts (it matches ours); the ML-100K Pop row "
    "apparently comes from the shipped code, which would explain the gap to our counts.",
    "- The random split's shuffle differs from RecBole's random generator, so ML-100K numbers "
    "move with the split seed; the spread over split seeds (table above, when measured) is "
    "the yardstick for comparing with a single RecBole run.",
    "- Test lists hide each user's training and validation items, as RecBole's full-sort "
    "evaluation does (`history_item = used_item - positive_item`, used items accumulated over "
    "the train and valid phases).", "",
]


def _seed_spread(rows: list[dict[str, Any]]) -> list[str]:
    """NDCG@10 of every (dataset, model) measured under more than one split seed."""
    groups: dict[tuple[str, str], dict[int, float]] = {}
    for row in rows:
        label = row["model"] + (f" α={row['alpha']:g}" if row["alpha"] is not None else "")
        groups.setdefault((row["dataset"], label), {})[row.get("seed", SEED)] = \
            row["metrics"]["ndcg@10"]
    spread = {key: seeds for key, seeds in groups.items() if len(seeds) > 1}
    if not spread:
        return []
    lines = ["## NDCG@10 across split seeds", "", "| dataset | model | seeds | min | mean | max |",
             "|---|---|---|---|---|---|"]
    for (dataset, label), seeds in sorted(spread.items()):
        values = list(seeds.values())
        lines.append(f"| {dataset} | {label} | {', '.join(map(str, sorted(seeds)))} | "
                     f"{min(values):.4f} | {sum(values) / len(values):.4f} | {max(values):.4f} |")
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--alphas", default="0", help="two-tower diversity weights")
    parser.add_argument("--seeds", default=str(SEED), help="split seeds (first = main table)")
    parser.add_argument("--data-root", default=str(SHARED_DATA))
    args = parser.parse_args(argv)
    from engine.data import load_dataset

    for name in args.datasets.split(","):
        folder = Path(args.data_root) / name
        if not folder.is_dir():
            print(f"skipping {name}: {folder} not found", file=sys.stderr)
            continue
        dataset = load_dataset(folder)
        for model in args.models.split(","):
            model, _, variant = model.partition(":")
            alphas = [float(a) for a in args.alphas.split(",")] if model == "twotower" else [0.0]
            for alpha, seed in product(alphas, [int(x) for x in args.seeds.split(",")]):
                row = run_one(dataset, DATASETS[name], model, alpha, seed, variant)
                print(f"{name} {row['model']} alpha={alpha:g} seed={seed}: ndcg@10 "
                      f"{row['metrics']['ndcg@10']:.4f} fit {row['seconds']['fit']:.1f}s",
                      flush=True)
                save([row], args.out)  # after every row, so a long run keeps what it measured
    return 0


def save(rows: list[dict[str, Any]], out: Path = OUT_DIR) -> None:
    """Merge rows into quality.json and re-render quality.md."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".quality.lock", "w") as lock:  # parts may run side by side
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = merge(out / "quality.json", rows)
        write_atomic(out / "quality.md", render(results))


if __name__ == "__main__":
    raise SystemExit(main())
