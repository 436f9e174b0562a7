"""Buy again: NDCG@10 with and without due past purchases brought back, with paired intervals.

    nice python -m bench.quality.buy_again

Data: the synthetic shop with consumables (`prism data generate --consumables 0.2`, seed 0),
and any public data set in ../shared/data whose purchases repeat (each is checked and the
count of repeated (shopper, item) purchase pairs reported; one without repeats is skipped,
since buy again cannot change its lists). Split, repeat model and scoring:
`engine.evaluation.buy_again` (the last purchase event per shopper is the test target even
when it is a repeat). Settings compared on the same shoppers: none (the plain list), fixed
1 and 3 slots, and the setting learned on validation. Results →
docs/benchmarks/buy_again.{json,md}; method in docs/buy-again.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    RESAMPLES,
    SHARED_DATA,
    add_out,
    machine,
    machine_line,
    write_results,
)

COMMAND = "nice python -m bench.quality.buy_again"
SEED, K, CONSUMABLES = 0, 10, 0.2
MODELS = ("ease", "twotower")
FIXED = ((1, 0.0), (3, 0.0))


def repeat_pairs(events: Any) -> int:
    """Repeated (shopper, item) purchase pairs in a data set's events."""
    from engine.core.columns import ITEM_ID, USER_ID
    from engine.models.repeat import purchase_events

    return int((purchase_events(events).groupby([USER_ID, ITEM_ID]).size() > 1).sum())


def build_model(name: str, dataset: Any) -> Any:
    """The unfitted model `prism train --model name` builds."""
    from engine.training.options import train_spec

    return train_spec(dataset, model=name, seed=SEED).build()[0]


def run_model(dataset: Any, name: str) -> dict[str, Any]:
    from engine.evaluation.buy_again import (
        fit_repeat_model,
        learn_setting,
        ndcg_with,
        repeat_split,
        shoppers_at,
    )
    from engine.metrics.stats import mean_interval, paired_difference
    from engine.models.base import TrainData
    from engine.text.encoders import encode_items

    started = time.perf_counter()
    rsplit = repeat_split(dataset.events)
    text = encode_items(dataset, progress=False) if name == "twotower" else None
    data = TrainData.from_split(dataset, rsplit.split, text_embeddings=text)
    model = build_model(name, dataset).fit(data)
    repeat = fit_repeat_model(rsplit, data.item_ids)
    valid = shoppers_at(model, data, rsplit, repeat, "valid", K)
    test = shoppers_at(model, data, rsplit, repeat, "test", K)
    slots, min_due, valid_ndcg = learn_setting(valid, K)
    plain = ndcg_with(test, 0, 0.0, K)
    settings = [("none", 0, 0.0), *((f"fixed {s} slot(s)", s, d) for s, d in FIXED),
                (f"learned: {slots} slot(s), due > {min_due:g}", slots, min_due)]
    rows = []
    for label, n_slots, due in settings:
        values = ndcg_with(test, n_slots, due, K)
        interval = mean_interval(values, n_resamples=RESAMPLES)
        diff = paired_difference(values, plain, n_resamples=RESAMPLES)
        rows.append({"setting": label, "slots": n_slots, "min_due": due,
                     "ndcg@10": round(float(values.mean()), 4),
                     "ndcg_interval": [round(interval.low, 4), round(interval.high, 4)],
                     "minus_none": round(diff.estimate, 4),
                     "minus_none_interval": [round(diff.low, 4), round(diff.high, 4)]})
    bought_before = [bool(np.isin(t, a[0]).any() or np.isin(t, b).any())
                     for t, a, b in zip(test.targets, test.again, test.base, strict=True)]
    return {"model": name, "n_shoppers": len(test.users),
            "repeat_targets": int(sum(_is_repeat(rsplit))),
            "due_target_share": round(float(np.mean(bought_before)), 4),
            "repeatable_items": repeat.n_repeatable,
            "learned": {"slots": slots, "min_due": min_due, "valid_ndcg@10": round(valid_ndcg, 4)},
            "rows": rows, "seconds": round(time.perf_counter() - started, 1)}


def _is_repeat(rsplit: Any) -> list[bool]:
    """Per held-out shopper: was the test purchase an item they had bought before it?"""
    from engine.core.columns import ITEM_ID, TIMESTAMP, USER_ID

    bought = rsplit.purchases.groupby(USER_ID, sort=False)
    out = []
    for user, item, when in zip(rsplit.cut[USER_ID], rsplit.cut["test_item"],
                                rsplit.cut["test_time"], strict=True):
        mine = bought.get_group(user)
        out.append(bool(((mine[ITEM_ID] == item) & (mine[TIMESTAMP] < when)).any()))
    return out


def render(results: dict[str, Any]) -> str:
    lines = ["# Buy again", "",
             f"Command: `{results['command']}` ({machine_line(results['machine'])}). "
             f"NDCG@{K} on each shopper's last purchase (a repeat counts when the item is "
             f"brought back); 95% bootstrap intervals over shoppers ({RESAMPLES} resamples), "
             "paired for the difference from none. Method: docs/buy-again.md.", ""]
    for note in results["skipped"]:
        lines.append(f"- {note}")
    for block in results["datasets"]:
        for run in block["models"]:
            lines += ["", f"## {block['dataset']}, {run['model']}", "",
                      f"{run['n_shoppers']:,} shoppers; {run['repeat_targets']:,} test "
                      f"purchases are repeats; {run['repeatable_items']:,} items were bought "
                      f"again in training. Learned on validation: {run['learned']['slots']} "
                      f"slot(s), due > {run['learned']['min_due']:g}.", "",
                      "| setting | NDCG@10 | interval | minus none | paired interval |",
                      "|---|---:|---|---:|---|"]
            for row in run["rows"]:
                low, high = row["ndcg_interval"]
                dlow, dhigh = row["minus_none_interval"]
                lines.append(f"| {row['setting']} | {row['ndcg@10']:.4f} | {low:.4f} – "
                             f"{high:.4f} | {row['minus_none']:+.4f} | {dlow:+.4f} – "
                             f"{dhigh:+.4f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--data-root", default=str(SHARED_DATA))
    args = parser.parse_args(argv)
    from engine.data import build_dataset, generate_shop, load_dataset

    items, events = generate_shop(seed=SEED, consumables=CONSUMABLES)
    datasets = [build_dataset(items, events, name=f"synthetic (consumables {CONSUMABLES:g})")]
    skipped = []
    root = Path(args.data_root)
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        dataset = load_dataset(folder)
        pairs = repeat_pairs(dataset.events)
        if pairs == 0:
            skipped.append(f"{folder.name}: 0 repeated (shopper, item) purchase pairs, so buy "
                           "again cannot change its lists; skipped")
            continue
        datasets.append(dataset)
    blocks: list[dict[str, Any]] = []
    for dataset in datasets:
        runs: list[dict[str, Any]] = []
        blocks.append({"dataset": dataset.name, "repeat_pairs": repeat_pairs(dataset.events),
                       "models": runs})
        for name in args.models.split(","):
            run = run_model(dataset, name)
            print(f"{dataset.name} {name}: " + ", ".join(
                f"{r['setting']} {r['ndcg@10']:.4f}" for r in run["rows"]), flush=True)
            runs.append(run)  # written after each model, so a long run keeps what it has
            write_results(args.out, "buy_again", {
                "machine": machine(), "command": COMMAND, "k": K, "seed": SEED,
                "skipped": skipped, "datasets": blocks}, render)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
