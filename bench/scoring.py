"""Full-catalogue scoring throughput: every user × every item, then the top-k per user.

    nice python bench/scoring.py                       # the three default tables
    nice python bench/scoring.py --tables amazon --repeats 3

Three timings per table, all in the same process on the same vectors:
- product: `engine.evaluate.rank_users` over a two-tower model (`model.score_users` for the
  user tower + scores, then the harness's `top_n` with seen items hidden) — what evaluation
  and batch recommendation actually run;
- parts: the same path split into `score_users` alone and `top_n` alone;
- bound: raw torch `U @ V.T` + `torch.topk` over user blocks on precomputed user vectors
  (the floor any implementation pays for the arithmetic).
The model has random weights (`TwoTowerModel.from_state` on a fresh network): throughput does
not depend on what the weights learned. Results → docs/benchmarks/scoring.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import write_results  # noqa: E402

from engine.base import ITEM_IDX, USER_IDX, TrainData  # noqa: E402
from engine.config import ModelConfig, TrainConfig  # noqa: E402
from engine.evaluate import batch_size_for, rank_users, seen_matrix, top_n  # noqa: E402
from engine.model import TwoTowerNet  # noqa: E402
from engine.twotower import STATE_FORMAT, TwoTowerModel  # noqa: E402

OUT_DIR = REPO / "docs" / "benchmarks"
K = 10
TABLES = {  # name: (n_users, n_items, interactions per user, text dim, categories)
    "ml-100k": (943, 1682, 106, 0, 19),
    "amazon": (8317, 4344, 7, 384, 25),
    "synthetic-100k": (10_000, 100_000, 50, 0, 40),
}


def random_model(n_users: int, n_items: int, text_dim: int, n_categories: int,
                 history_len: int, seed: int = 0) -> TwoTowerModel:
    """A two-tower model with fresh weights, built through the public state round-trip."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    text = rng.normal(size=(n_items, text_dim)).astype(np.float32)
    cats = np.eye(n_categories, dtype=np.float32)[rng.integers(0, n_categories, n_items)]
    config = ModelConfig(use_text=text_dim > 0)
    net = TwoTowerNet(torch.from_numpy(text), torch.from_numpy(cats), n_users, history_len,
                      config)
    tensors = {f"net.{key}": value.numpy() for key, value in net.state_dict().items()}
    tensors["train_histories"] = rng.integers(0, n_items, (n_users, history_len))
    meta = {"format": STATE_FORMAT, "model_config": config.to_dict(),
            "train_config": TrainConfig(history_len=history_len).to_dict(), "n_users": n_users}
    return TwoTowerModel.from_state(tensors, meta)


def random_data(model: TwoTowerModel, per_user: int, n_categories: int,
                seed: int = 0) -> TrainData:
    """TrainData whose training interactions are the model's histories (the seen items)."""
    histories = model.train_histories_[:, -per_user:]
    n_users, n_items = histories.shape[0], model.item_vectors_.shape[0]
    train = pd.DataFrame({USER_IDX: np.repeat(np.arange(n_users), histories.shape[1]),
                          ITEM_IDX: histories.reshape(-1), "timestamp": 0, "weight": 1.0})
    empty = train.iloc[:0]
    cats = np.eye(n_categories, dtype=np.float32)[np.random.default_rng(seed).integers(
        0, n_categories, n_items)]
    return TrainData([str(u) for u in range(n_users)], [str(i) for i in range(n_items)], train,
                     empty, empty, cats, [str(c) for c in range(n_categories)],
                     np.ones(n_items))


def best_of(repeats: int, work: Any) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def bound(user_vecs: torch.Tensor, item_vecs: torch.Tensor, block: int) -> None:
    """Raw matmul + top-k over user blocks (no masking, no copies to numpy)."""
    with torch.no_grad():
        for start in range(0, len(user_vecs), block):
            torch.topk(user_vecs[start:start + block] @ item_vecs.T, K, dim=1)


def user_vectors(model: TwoTowerModel, users: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        items = torch.as_tensor(model.item_vectors_)
        return model.net_.user_vectors(torch.as_tensor(model.train_histories_[users]),
                                       torch.as_tensor(users), items)


def suggested(model: TwoTowerModel, seen: Any, users: np.ndarray, step: int) -> np.ndarray:
    """The changes proposed in scoring.md, applied outside the engine to price them:
    temperature folded into the user vectors (one pass fewer over the score block), seen items
    masked in place and `torch.topk` instead of `np.argpartition` on a negated copy."""
    items = torch.as_tensor(model.item_vectors_)
    tau = model.model_config.temperature
    out = np.empty((len(users), K), dtype=np.int64)
    with torch.no_grad():
        for start in range(0, len(users), step):
            batch = users[start:start + step]
            u_vecs = user_vectors(model, batch) / tau  # (b, d)
            scores = u_vecs @ items.T  # (b, n_items)
            coo = seen[batch].tocoo()
            scores[torch.from_numpy(coo.row).long(), torch.from_numpy(coo.col).long()] = -np.inf
            out[start:start + len(batch)] = torch.topk(scores, K, dim=1).indices.numpy()
    return out


def measure(name: str, repeats: int) -> dict[str, Any]:
    n_users, n_items, per_user, text_dim, n_categories = TABLES[name]
    model = random_model(n_users, n_items, text_dim, n_categories, history_len=50)
    data = random_data(model, per_user, n_categories)
    users = np.arange(n_users)
    step = batch_size_for(n_items)
    seen = seen_matrix(data, "test")
    first = users[:step]
    timings = {
        "product_rank_users": best_of(repeats, lambda: rank_users(model, data, users, k=K)),
        "score_users_block": best_of(repeats, lambda: model.score_users(first)),
        "user_tower": best_of(repeats, lambda: user_vectors(model, users)),
        "suggested_path": best_of(repeats, lambda: suggested(model, seen, users, step)),
    }
    block_scores = model.score_users(first)
    timings["top_n_block"] = best_of(repeats, lambda: top_n(block_scores.copy(), seen[first], K))
    u_vecs = user_vectors(model, users)
    i_vecs = torch.as_tensor(model.item_vectors_)
    timings["bound_matmul_topk"] = best_of(repeats, lambda: bound(u_vecs, i_vecs, step))
    blocks = -(-n_users // step)
    ratio = timings["product_rank_users"] / timings["bound_matmul_topk"]
    with_tower = timings["bound_matmul_topk"] + timings["user_tower"]
    return {"table": name, "n_users": n_users, "n_items": n_items, "k": K,
            "users_per_block": int(step), "blocks": int(blocks),
            "seconds": {key: round(value, 4) for key, value in timings.items()},
            "scores_per_second_product": round(n_users * n_items
                                               / timings["product_rank_users"]),
            "scores_per_second_bound": round(n_users * n_items / timings["bound_matmul_topk"]),
            "product_over_bound": round(ratio, 2), "within_2x": bool(ratio <= 2.0),
            "product_over_bound_plus_tower": round(timings["product_rank_users"] / with_tower, 2),
            "suggested_over_bound": round(timings["suggested_path"]
                                          / timings["bound_matmul_topk"], 2)}


FINDINGS = [
    "## Where the time goes, and what to change",
    "",
    "Small tables (ML-100K) are dominated by the user tower (attention over 50-item "
    "histories), which the bound leaves out: against bound + tower the product is within "
    "2×. On larger tables the score block is walked many times beyond the matmul:",
    "",
    "1. `TwoTowerModel._score` (engine/twotower.py) divides the (b, n_items) block by the "
    "temperature after the matmul — a second full pass; fold it into the user vectors "
    "(`(user_vecs / tau) @ item_vecs.T`). It also keeps a list of chunk arrays and "
    "`np.concatenate`s them — a full copy; write each chunk into one preallocated output.",
    "2. `rank_users` (engine/evaluate.py) copies the block again "
    "(`np.array(scores, copy=True)`); `score_users` already returns a fresh array, so "
    "`np.asarray(scores, dtype=np.float32)` suffices.",
    "3. `top_n` (engine/evaluate.py) negates the block (another copy) and runs "
    "`np.argpartition` single-threaded; `torch.topk(torch.from_numpy(scores), n)` after "
    "the in-place seen mask does the same selection without the copy, multi-threaded, "
    "already sorted (the `argsort` of the n winners goes away). This is the largest share "
    "at 100k items.",
    "4. Best: a model-level top-k that never materialises numpy scores (mask and "
    "`torch.topk` on the device), for models that have item vectors; `suggested` above is "
    "that path.",
]


def render(results: dict[str, Any]) -> str:
    lines = ["# Full-catalogue scoring throughput", "",
             f"Command: `{results['command']}`  ",
             f"Machine: {results['machine']}, torch {results['torch']}, "
             f"{results['threads']} threads, load average {results['load_average']} at the "
             f"start (a shared machine: timings are best of {results['repeats']} runs).", "",
             "| table | users × items | product (s) | bound (s) | product / bound | "
             "user tower (s) | product / (bound + tower) | suggested (s) | suggested / bound "
             "| score_users, 1 block (s) | top_n, 1 block (s) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in results["rows"]:
        sec = row["seconds"]
        lines.append(
            f"| {row['table']} | {row['n_users']:,} × {row['n_items']:,} | "
            f"{sec['product_rank_users']:.3f} | {sec['bound_matmul_topk']:.3f} | "
            f"{row['product_over_bound']:.2f}× | {sec['user_tower']:.3f} | "
            f"{row['product_over_bound_plus_tower']:.2f}× | {sec['suggested_path']:.3f} | "
            f"{row['suggested_over_bound']:.2f}× | {sec['score_users_block']:.3f} | "
            f"{sec['top_n_block']:.3f} |")
    lines += ["", "product = `engine.evaluate.rank_users` (two-tower `score_users` + `top_n` "
              f"with seen items hidden), top-{K}; bound = torch `U @ V.T` + `torch.topk` on "
              "precomputed user vectors, same user blocks. Per-block columns time one block of "
              "`users_per_block` users (see the JSON). suggested = the same work with the "
              "changes below applied (user tower included).", "", *FINDINGS, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default=",".join(TABLES),
                        help=f"comma-separated subset of {', '.join(TABLES)}")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--render-only", action="store_true",
                        help="rebuild scoring.md from the existing scoring.json")
    args = parser.parse_args(argv)
    if args.render_only:
        results = json.loads((args.out / "scoring.json").read_text())
        (args.out / "scoring.md").write_text(render(results))
        return 0
    names = [n for n in args.tables.split(",") if n]
    unknown = sorted(set(names) - set(TABLES))
    if unknown:
        parser.error(f"unknown table(s) {unknown}; choose from {', '.join(TABLES)}")
    load_average = [round(x, 1) for x in os.getloadavg()]
    rows = []
    for name in names:
        rows.append(measure(name, args.repeats))
        print(json.dumps(rows[-1]), flush=True)
    results = {"command": "python bench/scoring.py " + " ".join(argv or sys.argv[1:]),
               "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
               "torch": torch.__version__, "threads": torch.get_num_threads(),
               "repeats": args.repeats, "load_average": load_average, "rows": rows}
    write_results(args.out, "scoring", results, render)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
