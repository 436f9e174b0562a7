"""Refresh: staleness from an event to a changed list, and `prism refresh` against a full fit.

    python -m bench.speed.refresh                        # synthetic shop and Amazon-Scientific
    python -m bench.speed.refresh --datasets synthetic --new-share 0.04 --epochs 5

Per data set, the last `--new-share` of the events (by time) arrive after the run was trained:
a two-tower run (no item text, `--epochs` epochs, refit on every event it knew, as
`prism train` does) is trained on the rest. The new events go into a SQLite event store in two
halves by time; the first half is what the shop learns from, the second half is the future its
lists are judged on. Measured in the same process, one after another:

- immediate history: per shopper with new events, `record_event` of their events then
  `recommend`: milliseconds from the event to the changed list (nothing retrained);
- refresh: `refresh_run` (read the store, fold, fine-tune, save the next version), then the
  server's swap (`ServingSwap.check`: load it beside the old model) and the next `recommend`:
  seconds from the stored events to the changed list, plus up to the watcher's interval
  (`PRISM_RELOAD_SECONDS`, default 2) when the server finds the version by itself;
- refresh with a candidate index: the same refresh of a copy of the run given an index
  first (`prism index build`), which the refresh updates for the items the fine-tuning moved:
  its seconds, the index's, and the index's recall against exact before and after;
- full fit: the same settings fitted from scratch on every event (old and first half) for the
  epochs the run's refit used, what retraining would take; the ratio is refresh / full fit;
- lists judged on the future half (HR@10 and NDCG@10 over the shoppers with future events,
  their known items hidden): the stale model over the new histories (immediate path), the
  refreshed model and the full fit;
- drift: for shoppers without new events, the share of their top 10 the refresh kept.

Writes docs/benchmarks/refresh.json and .md.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import AMAZON, add_out, machine, machine_line, write_results

K = 10
DATASETS = ("synthetic", "amazon-scientific")


def load(name: str, root: Path, shop: tuple[int, int]) -> Any:
    """The synthetic shop (`shop`: items, shoppers) or a data set under `root`."""
    from engine.data import build_dataset, generate_shop, load_dataset

    if name == "synthetic":
        return build_dataset(*generate_shop(n_items=shop[0], n_users=shop[1], seed=0),
                             name="synthetic")
    if not (root / name).is_dir():
        sys.exit(f"bench: {root / name} not found; use --datasets synthetic or --data-root")
    return load_dataset(root / name)


def split_new(dataset: Any, share: float) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    """(the dataset the run is trained on, first half of the new events, second half)."""
    events = dataset.events.sort_values("timestamp", kind="stable").reset_index(drop=True)
    cut = int(len(events) * (1 - share))
    new = events.iloc[cut:]
    middle = cut + len(new) // 2
    return (dataclasses.replace(dataset, events=events.iloc[:cut].reset_index(drop=True)),
            events.iloc[cut:middle], events.iloc[middle:])


def store_rows(events: pd.DataFrame) -> list[dict[str, Any]]:
    kinds = events["event"].astype(str) if "event" in events else pd.Series(
        "purchase", index=events.index)
    return [{"user_id": str(u), "item_id": str(i), "event": e, "timestamp": float(t),
             "list_id": None} for u, i, e, t in zip(events["user_id"], events["item_id"], kinds,
                                                     events["timestamp"], strict=True)]


def judge(top: np.ndarray, users: np.ndarray, future: dict[int, set[int]]) -> dict[str, float]:
    """HR@K and NDCG@K of top lists (rows for `users`) against each shopper's future items."""
    hits, gains = [], []
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    for row, user in zip(top, users, strict=True):
        truth = future[int(user)]
        found = np.array([int(item) in truth for item in row[:K]], dtype=float)
        ideal = discounts[:min(len(truth), K)].sum()
        hits.append(found.any())
        gains.append(float((found * discounts[:len(found)]).sum() / ideal))
    return {"hr@10": round(float(np.mean(hits)), 4), "ndcg@10": round(float(np.mean(gains)), 4)}


def _seen(data: Any, users: np.ndarray) -> Any:
    import scipy.sparse as sp

    train = data.train
    matrix = sp.csr_matrix((np.ones(len(train), dtype=np.float32),
                            (train["user_idx"].to_numpy(), train["item_idx"].to_numpy())),
                           shape=(data.n_users, data.n_items))
    return matrix[users]


def immediate(run: Path, first: pd.DataFrame) -> dict[str, Any]:
    """Event → changed list on the live-history path, per shopper with new events."""
    from engine.serving.recommender import Recommender

    service = Recommender.load(run, torch_threads=1)
    times, changed = [], 0
    for user, rows in list(first.groupby("user_id", sort=True))[:200]:
        before = service.recommend(str(user), k=K).table["item_id"].tolist()
        start = time.perf_counter()
        for item, stamp in zip(rows["item_id"], rows["timestamp"], strict=True):
            service.record_event(str(user), str(item), "purchase", float(stamp))
        after = service.recommend(str(user), k=K).table["item_id"].tolist()
        times.append((time.perf_counter() - start) * 1e3)
        changed += after != before
    return {"shoppers": len(times), "median_ms": round(float(np.median(times)), 2),
            "p90_ms": round(float(np.percentile(times, 90)), 2),
            "share_lists_changed": round(changed / max(len(times), 1), 4)}


def refreshed(run: Path, first: pd.DataFrame, epochs: int) -> dict[str, Any]:
    """Stored events → refreshed version swapped in → the next list (seconds, in process)."""
    from engine.events.store import EventStore
    from engine.events.transfer import events_after
    from engine.models.finetune import FineTune
    from engine.serving.recommender import Recommender
    from engine.serving.swap import ServingSwap
    from engine.training.refresh import refresh_run

    with tempfile.TemporaryDirectory() as home:
        store = EventStore(Path(home) / "events.sqlite")
        store.add_events(store_rows(first))
        swap = ServingSwap(Recommender.load(run, torch_threads=1), run,
                           lambda: Recommender.load(run))
        user = str(first["user_id"].iloc[0])
        start = time.perf_counter()
        done = refresh_run(run, lambda after: events_after(store, after),
                           settings=FineTune(epochs=epochs))
        saved = time.perf_counter()
        swap.check()
        swap.recommend(user, k=K)
        end = time.perf_counter()
        store.close()
    return {"refresh_seconds": round(saved - start, 2), "fine_tune_seconds":
            round(done.tuned.seconds, 2), "swap_and_list_seconds": round(end - saved, 2),
            "event_to_changed_list_seconds": round(end - start, 2),
            "events": done.events, "interactions": done.interactions,
            "shoppers": done.tuned.users, "new_shoppers": done.tuned.new_users,
            "items": done.tuned.items, "examples_per_epoch": done.tuned.new_examples
            + done.tuned.replayed, "epochs": epochs}


def with_index(run: Path, first: pd.DataFrame, epochs: int) -> dict[str, Any] | None:
    """The same refresh of `run` (a copy, given a candidate index first): its seconds, and the
    index rebuilt inside it over the fine-tuned vectors (seconds, recall against exact); None
    without FAISS."""
    from engine.events.store import EventStore
    from engine.events.transfer import events_after
    from engine.models.finetune import FineTune
    from engine.retrieval.ann import faiss_available
    from engine.retrieval.runindex import build_run_index
    from engine.training.refresh import refresh_run

    if not faiss_available():
        return None
    built = build_run_index(run)
    with tempfile.TemporaryDirectory() as home:
        store = EventStore(Path(home) / "events.sqlite")
        store.add_events(store_rows(first))
        start = time.perf_counter()
        done = refresh_run(run, lambda after: events_after(store, after),
                           settings=FineTune(epochs=epochs))
        seconds = time.perf_counter() - start
        store.close()
    return {"kind": built.kind, "build_seconds": built.build_seconds,
            "refresh_seconds": round(seconds, 2), "rebuild_seconds": done.index.build_seconds,
            "updated_items": done.index_updated,
            "recall_before": built.recall, "recall_after": done.index.recall,
            "tune_n": done.index.tune_n, "target_recall": done.index.target_recall}


def full_fit(stale: Any, data: Any) -> tuple[Any, float]:
    """The run's settings fitted from scratch on every event, for the epochs its refit used."""
    epochs = (stale.meta.get("models") or {}).get("serving", {}).get("epochs")
    model = stale.model.unfitted(epochs)
    start = time.perf_counter()
    model.fit(data)
    return model, time.perf_counter() - start


def lists(stale: Any, new: Any, full: Any, data: Any, future: pd.DataFrame) -> dict[str, Any]:
    """HR/NDCG@10 on the future half for the three ways of serving, and the refresh's drift."""
    users_pos, items_pos = pd.Index(data.user_ids), pd.Index(data.item_ids)
    u = users_pos.get_indexer(future["user_id"].astype(str))
    i = items_pos.get_indexer(future["item_id"].astype(str))
    truth: dict[int, set[int]] = {}
    for user, item in zip(u[(u >= 0) & (i >= 0)], i[(u >= 0) & (i >= 0)], strict=True):
        truth.setdefault(int(user), set()).add(int(item))
    users = np.array(sorted(truth), dtype=np.int64)
    seen = _seen(data, users)
    histories = data.histories()
    stale_top, _ = stale.model.top_n_histories([histories[x] for x in users], K, exclude=seen)
    out = {"judged_shoppers": len(users),
           "immediate_history": judge(stale_top, users, truth),
           "refresh": judge(new.model.top_n_users(users, K, exclude=seen)[0], users, truth),
           "full_fit": judge(full.top_n_users(users, K, exclude=seen)[0], users, truth)}
    return out


def drift(stale: Any, new: Any, data: Any, first: pd.DataFrame, n: int = 300) -> float:
    """Mean share of the top 10 a shopper without new events keeps after the refresh."""
    changed = set(first["user_id"].astype(str))
    old_ids = [x for x in stale.user_ids if x not in changed][:n]
    old_rows = pd.Index(stale.user_ids).get_indexer(old_ids)
    new_rows = pd.Index(data.user_ids).get_indexer(old_ids)
    before = stale.model.top_n_users(old_rows, K, exclude=_seen(data, new_rows))[0]
    after = new.model.top_n_users(new_rows, K, exclude=_seen(data, new_rows))[0]
    return round(float(np.mean([len(set(a) & set(b)) / K for a, b in zip(before, after,
                                                                          strict=True)])), 4)


def measure(name: str, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    from engine.core.config import TrainConfig
    from engine.runs.store import load_run
    from engine.training.pipeline import train
    from engine.training.refresh import fold_events
    from engine.training.spec import TrainSpec

    share, epochs, refresh_epochs = args.new_share, args.epochs, args.refresh_epochs
    dataset = load(name, Path(args.data_root), (args.shop_items, args.shop_users))
    old, first, future = split_new(dataset, share)
    run = root / name
    print(f"bench: {name}: training on {len(old.events):,} events; {len(first):,} new + "
          f"{len(future):,} future", file=sys.stderr)
    start = time.perf_counter()
    train(TrainSpec(old, out=run, model="twotower", train_config=TrainConfig(epochs=epochs)))
    train_seconds = time.perf_counter() - start
    stale = load_run(run, model="serving")
    shutil.copytree(run, root / f"{name}-indexed")
    result = {"dataset": name, "items": int(dataset.n_items), "events_trained": len(old.events),
              "new_events": len(first), "future_events": len(future),
              "train_seconds": round(train_seconds, 2)}
    print(f"bench: {name}: immediate history", file=sys.stderr)
    result["immediate"] = immediate(run, first)
    print(f"bench: {name}: refresh", file=sys.stderr)
    result["refresh"] = refreshed(run, first, refresh_epochs)
    print(f"bench: {name}: refresh of the run with a candidate index", file=sys.stderr)
    result["refresh_with_index"] = with_index(root / f"{name}-indexed", first, refresh_epochs)
    new = load_run(run, model="serving")
    frame = pd.DataFrame(store_rows(first)).assign(id=lambda f: np.arange(1, len(f) + 1))
    data, _, _ = fold_events(stale, frame)
    print(f"bench: {name}: full fit on every event", file=sys.stderr)
    full, seconds = full_fit(stale, data)
    result["full_fit_seconds"] = round(seconds, 2)
    result["refresh_over_full_fit"] = round(result["refresh"]["refresh_seconds"] / seconds, 4)
    result["lists"] = lists(stale, new, full, data, future)
    result["lists"]["kept_of_top10_without_new_events"] = drift(stale, new, data, first)
    return result


def render(results: dict[str, Any]) -> str:
    lines = ["# Refresh: from an event to a changed list, and its cost against a full fit", "",
             f"Written by `python -m bench.speed.refresh` (two-tower without item text, "
             f"{results['epochs']} training epochs, refresh {results['refresh_epochs']} epochs "
             f"with 1 replayed interaction per new one). The last {results['new_share']:.0%} of "
             "each data set's events (by time) arrive after training: the first half is folded "
             "in, the second half is the future the lists are judged on.", "",
             "| data set | new events | immediate history: event → list (median ms) | "
             "refresh: events → swapped list (s) | refresh (s) | full fit (s) | refresh / "
             "full fit |", "|---|---|---|---|---|---|---|"]
    for r in results["datasets"]:
        f = r["refresh"]
        lines.append(f"| {r['dataset']} ({r['items']:,} items) | {r['new_events']:,} | "
                     f"{r['immediate']['median_ms']} | {f['event_to_changed_list_seconds']} | "
                     f"{f['refresh_seconds']} | {r['full_fit_seconds']} | "
                     f"{r['refresh_over_full_fit']:.3f} |")
    lines += ["", "The same refresh of the run given a candidate index first (`prism index build`, "
              "the default kind): inside the new version the refresh re-encodes the items "
              "whose vectors the fine-tuning moved (or rebuilds the index when more than a "
              "tenth of them moved) and tunes the search setting again against exact "
              "scoring.", "",
              "| data set | index | refresh with index (s) | of which the index (s) | items "
              "re-encoded | refresh without (s) | recall@100 before → after (target) |",
              "|---|---|---|---|---|---|---|"]
    for r in results["datasets"]:
        x = r.get("refresh_with_index")
        if x:
            moved = f"rebuilt ({r['refresh']['items']:,} items fine-tuned)" \
                if x.get("updated_items") is None else f"{x['updated_items']:,}"
            lines.append(f"| {r['dataset']} | {x['kind']} | {x['refresh_seconds']} | "
                         f"{x['rebuild_seconds']} | {moved} | {r['refresh']['refresh_seconds']} | "
                         f"{x['recall_before']:.3f} → {x['recall_after']:.3f} "
                         f"({x['target_recall']:.2f}) |")
    lines += ["", "Lists on the future half (HR@10 / NDCG@10, known items hidden), and how much "
              "of a shopper's top 10 survives the refresh when they had no new events:", "",
              "| data set | shoppers judged | immediate history (stale model) | refresh | "
              "full fit | top 10 kept, shoppers without new events |", "|---|---|---|---|---|---|"]
    for r in results["datasets"]:
        q = r["lists"]
        cells = [f"{q[k]['hr@10']:.4f} / {q[k]['ndcg@10']:.4f}"
                 for k in ("immediate_history", "refresh", "full_fit")]
        lines.append(f"| {r['dataset']} | {q['judged_shoppers']:,} | {' | '.join(cells)} | "
                     f"{q['kept_of_top10_without_new_events']:.0%} |")
    lines += ["", "A refresh's staleness is its own duration plus the watcher's interval "
              "(`PRISM_RELOAD_SECONDS`, default 2 s) plus how often it is run; the immediate "
              "path needs no retraining at all but never moves the model. Refresh and full fit "
              "are timed one after the other in the same process, so their ratio holds on a "
              "busy machine better than either number.", "",
              f"Machine: {machine_line(results['machine'])}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--new-share", type=float, default=0.04)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--refresh-epochs", type=int, default=3)
    parser.add_argument("--data-root", default=str(AMAZON.parent),
                        help="folder holding the named data sets (default ../shared/data)")
    parser.add_argument("--shop-items", type=int, default=2000)
    parser.add_argument("--shop-users", type=int, default=1000)
    args = parser.parse_args(argv)
    names = [name for name in args.datasets.split(",") if name]
    with tempfile.TemporaryDirectory() as root:
        found = [measure(name, args, Path(root)) for name in names]
    results = {"datasets": found, "new_share": args.new_share, "epochs": args.epochs,
               "refresh_epochs": args.refresh_epochs, "machine": machine()}
    write_results(args.out, "refresh", results, render)
    print(render(results))


if __name__ == "__main__":
    main()
