"""Are explanations faithful? Remove the history item a list credits most, and compare.

    nice python -m bench.quality.explain_faithfulness

For each data set (the synthetic shop of `prism data generate` defaults, and
Amazon-Scientific from ../shared/data when present) a two-tower (the `prism train` defaults,
text included), EASE and item-kNN are trained on the leave-last-out split. For up to
`--shoppers` shoppers (a seeded sample), each model's top-10 list is explained with
`engine.models.credit.model_reasons` and checked with `engine.evaluation.faithfulness`:
removing the top-credited history item must lower the listed item's score more than removing
a random other history item. The two-tower is also checked with the plain cosine of item
vectors in place of the tower's own similarity (an ablation). Results →
docs/benchmarks/explain_faithfulness.{json,md}; method in docs/explanations.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    OUT_DIR,
    SHARED_DATA,
    add_out,
    machine,
    machine_line,
    read_json,
    write_results,
)

COMMAND = "nice python -m bench.quality.explain_faithfulness"
SEED = 0
K = 10
CHECKS = [("twotower", "tower"), ("twotower", "cosine"), ("ease", "tower"),
          ("itemknn", "tower")]
LABELS = {("twotower", "tower"): "two-tower: attention × tower similarity (served)",
          ("twotower", "cosine"): "two-tower: attention × item-vector cosine (ablation)",
          ("ease", "tower"): "EASE: item-item weight B[h, i] (served)",
          ("itemknn", "tower"): "item-kNN: neighbour similarity (served)"}


def synthetic_dataset() -> Any:
    from engine.data import build_dataset, generate_shop

    items, events = generate_shop(seed=SEED)
    return build_dataset(items, events, name="synthetic")


def fit(dataset: Any, name: str) -> Any:
    """A model as `prism train --model name --split leave-last-out` builds and fits it."""
    from engine.text.encoders import encode_items
    from engine.training.options import train_spec
    from engine.training.pipeline import train

    spec = train_spec(dataset, model=name, seed=SEED, protocol="leave-last-out")
    text = encode_items(dataset, progress=False) if spec.encoder_config is not None else None
    return train(spec.replace(text_embeddings=text, encoder_config=None,
                              search_vectors=False, progress=False,
                              refit=False))  # the check reads the evaluation model


def check_dataset(dataset: Any, n_shoppers: int) -> list[dict[str, Any]]:
    from engine.evaluation.faithfulness import faithfulness

    rows, fitted = [], {}
    for name, similarity in CHECKS:
        if name not in fitted:
            started = time.perf_counter()
            fitted[name] = fit(dataset, name)
            print(f"{dataset.name}: {name} trained in {time.perf_counter() - started:.0f}s",
                  flush=True)
        result = fitted[name]
        histories = result.data.histories()
        rng = np.random.default_rng(SEED)
        users = np.sort(rng.choice(len(histories), min(n_shoppers, len(histories)),
                                   replace=False))
        started = time.perf_counter()
        found = faithfulness(result.model, [histories[u] for u in users], users, k=K,
                             seed=SEED, similarity=similarity)
        rows.append({"dataset": dataset.name, "model": name, "credit": LABELS[
            (name, similarity)], **found.to_dict(),
            "seconds": round(time.perf_counter() - started, 1)})
        print(f"{dataset.name} {LABELS[(name, similarity)]}: top item "
              f"{found.top_item_share:.3f}, majority {found.majority_share:.3f}, pairs "
              f"{found.pair_share:.3f} over {found.n_shoppers} shoppers", flush=True)
    return rows


def render(results: dict[str, Any]) -> str:
    lines = ["# Faithfulness of explanations", "",
             f"Command: `{results['command']}` ({machine_line(results['machine'])}"
             f"). Leave-last-out "
             f"split, top-{K} lists, already-bought items left out; method in "
             "docs/explanations.md.", "",
             "A pass: removing the history item the explanation credits most lowers the "
             "listed item's score more than removing a random other history item (ties "
             "fail).", "",
             "| data set | model and credit | shoppers | first item passes | majority of list "
             "passes | all (shopper, item) pairs | ties |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for row in results["rows"]:
        lines.append(f"| {row['dataset']} | {row['credit']} | {row['n_shoppers']:,} | "
                     f"{row['top_item_share']:.1%} | {row['majority_share']:.1%} | "
                     f"{row['pair_share']:.1%} | {row['tie_share']:.1%} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--shoppers", type=int, default=1000,
                        help="shoppers checked per data set (a seeded sample)")
    parser.add_argument("--datasets", default="synthetic,amazon-scientific",
                        help="which to check; rows of others already in the report are kept")
    parser.add_argument("--data-root", default=str(SHARED_DATA))
    args = parser.parse_args(argv)
    from engine.data import load_dataset

    for name in args.datasets.split(","):
        folder = Path(args.data_root) / name
        if name != "synthetic" and not folder.is_dir():
            print(f"skipping {name}: {folder} not found", file=sys.stderr)
            continue
        dataset = synthetic_dataset() if name == "synthetic" else load_dataset(folder)
        rows = check_dataset(dataset, args.shoppers)
        save(rows, args.shoppers, args.out)  # after each data set, so a long run keeps what it has
    return 0


def save(rows: list[dict[str, Any]], shoppers: int, out: Path = OUT_DIR) -> None:
    """Merge `rows` into the report (replacing their data set's rows) and re-render it."""
    done = {row["dataset"] for row in rows}
    kept = [row for row in read_json(out / "explain_faithfulness.json").get("rows", [])
            if row["dataset"] not in done]
    write_results(out, "explain_faithfulness",
                  {"machine": machine(), "command": COMMAND, "k": K, "seed": SEED,
                   "shoppers_per_dataset": shoppers, "rows": kept + rows}, render)


if __name__ == "__main__":
    raise SystemExit(main())
