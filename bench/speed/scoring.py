"""Full-catalogue scoring throughput: every user × every item, then the top-k per user.

    nice python -m bench.speed.scoring                       # the three default tables
    nice python -m bench.speed.scoring --tables amazon --repeats 3

Timings per table, all in the same process on the same model:
- product: `engine.evaluation.protocol.rank_users` over a two-tower model, what evaluation and batch
  recommendation run: the model's block path (`TwoTowerModel.top_n_histories`: user tower,
  then per user block the scores, seen items set to -inf and the top k, on the model's device;
  the (users × items) score matrix is never built on the host);
- user tower: the network's `user_vectors` in one call over the padded histories the product
  reads (no padding trimmed);
- bound: raw torch `U @ V.T` + `torch.topk` over user blocks on precomputed user vectors
  (the floor any implementation pays for the arithmetic; no user tower, no seen-item mask);
- parts of the host path that models without a block path take (one block of users):
  `score_users` (tower + full score block) and `top_n` (mask + selection).
The model has random weights (`TwoTowerModel.from_state` on a fresh network): throughput does
not depend on what the weights learned. Results → docs/benchmarks/scoring.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from bench.common import (
    add_out,
    load_average,
    machine,
    machine_line,
    read_json,
    write_results,
)
from engine.core.config import ModelConfig, TrainConfig
from engine.evaluation.protocol import rank_users
from engine.models.base import (
    ITEM_IDX,
    USER_IDX,
    TrainData,
    seen_matrix,
)
from engine.models.examples import pad_histories
from engine.models.network import TwoTowerNet
from engine.models.topn import batch_size_for, top_n
from engine.models.twotower import STATE_FORMAT, TwoTowerModel

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


def user_vectors(model: TwoTowerModel, histories: np.ndarray, users: np.ndarray) -> torch.Tensor:
    """The raw user tower: one call of the network over (B, history_len) padded histories."""
    with torch.no_grad():
        items = torch.as_tensor(model.item_vectors_)
        return model.net_.user_vectors(torch.as_tensor(histories), torch.as_tensor(users), items)


def product_histories(model: TwoTowerModel, data: TrainData) -> np.ndarray:
    """The padded histories `rank_users` feeds the model on the test part: training +
    validation items for a sequential model, its training histories otherwise."""
    if not model.sequential:
        return model.train_histories_
    frame = pd.concat([data.train, data.valid]).sort_values([USER_IDX, "timestamp"],
                                                            kind="stable")
    return pad_histories(data.histories(frame), model.train_config.history_len)


def measure(name: str, repeats: int) -> dict[str, Any]:
    n_users, n_items, per_user, text_dim, n_categories = TABLES[name]
    model = random_model(n_users, n_items, text_dim, n_categories, history_len=50)
    data = random_data(model, per_user, n_categories)
    users = np.arange(n_users)
    step = batch_size_for(n_items)
    seen = seen_matrix(data, "test")
    first = users[:step]
    histories = product_histories(model, data)
    timings = {
        "product_rank_users": best_of(repeats, lambda: rank_users(model, data, users, k=K)),
        "score_users_block": best_of(repeats, lambda: model.score_users(first)),
        "user_tower": best_of(repeats, lambda: user_vectors(model, histories, users)),
    }
    block_scores = model.score_users(first)
    timings["top_n_block"] = best_of(repeats, lambda: top_n(block_scores.copy(), seen[first], K))
    u_vecs = user_vectors(model, model.train_histories_, users)
    i_vecs = torch.as_tensor(model.item_vectors_)
    timings["bound_matmul_topk"] = best_of(repeats, lambda: bound(u_vecs, i_vecs, step))
    blocks = -(-n_users // step)
    ratio = timings["product_rank_users"] / timings["bound_matmul_topk"]
    with_tower = timings["product_rank_users"] / (timings["bound_matmul_topk"]
                                                  + timings["user_tower"])
    return {"table": name, "n_users": n_users, "n_items": n_items, "k": K,
            "history_len": int(histories.shape[1]),
            "history_items_mean": round(float((histories >= 0).sum(axis=1).mean()), 1),
            "users_per_block": int(step), "blocks": int(blocks),
            "seconds": {key: round(value, 4) for key, value in timings.items()},
            "scores_per_second_product": round(n_users * n_items
                                               / timings["product_rank_users"]),
            "scores_per_second_bound": round(n_users * n_items / timings["bound_matmul_topk"]),
            "product_over_bound": round(ratio, 2), "within_2x": bool(ratio <= 2.0),
            "product_over_bound_plus_tower": round(with_tower, 2),
            "within_2x_of_bound_plus_tower": bool(with_tower <= 2.0)}


BEFORE = {"ml-100k": 25.43, "amazon": 4.99, "synthetic-100k": 7.72}  # product / bound, old path


def findings(results: dict[str, Any]) -> list[str]:
    """The prose under the table: what the product runs and where its time goes."""
    lines = [
        "## Where the time goes",
        "",
        "`rank_users` asks the model for the top-k of its users (`top_n_users` / "
        "`top_n_histories`). The two-tower model (engine/models/twotower.py) "
         "takes up to 65,536 users "
        "per call (`top_n_batch`; every table here is one call) and answers without building "
        "the score matrix on the host:",
        "",
        "1. user vectors once per call: users shortest history first, in chunks of at most "
        "2,048 × 50 history slots, each chunk cut to the columns that are not padding in some "
        "row (padded slots get no attention weight, so the vectors are the same), "
        "1/temperature folded into the vectors;",
        "2. per block of users (a 256 MiB float32 score block, as the bound's blocks): one "
        "matmul, the seen items set to -inf in place, `torch.topk` (multi-threaded) and a sort "
        "of the k winners that orders equal scores by item index; only (users × k) indices and "
        "scores leave the block. Everything runs on the model's device, so a model on CUDA "
        "scores and selects there and copies back (users × k).",
        "",
        "Models without that path (baselines, score replays) take the host path, also "
        "reworked: `score_users` writes each chunk's product straight into one preallocated "
        "array (temperature folded in, no concatenation), `rank_users` no longer copies the "
        "block, and `top_n` masks in place and runs the same `torch.topk` selection on the "
        "array's memory (no negated copy, no single-threaded `argpartition`). The per-block "
        "columns above time that path.",
        "",
        "Per table, product = bound + user tower column + the rest. The rest holds the "
        "seen-item matrix, the histories, the mask, and the gap between the tower column (one "
        "call, padding kept) and the tower inside the product (padding trimmed, chunks of "
        "2,048 × 50 slots: cheaper for short histories, dearer under load for many full ones):",
        "",
    ]
    for row in results["rows"]:
        sec = row["seconds"]
        rest = sec["product_rank_users"] - sec["bound_matmul_topk"] - sec["user_tower"]
        before = BEFORE.get(row["table"])
        was = f"; before this path {before:.2f}×" if before else ""
        lines.append(
            f"- {row['table']}: bound {sec['bound_matmul_topk']:.3f} s, tower "
            f"{sec['user_tower']:.3f} s ({sec['user_tower'] / sec['bound_matmul_topk']:.2f}× "
            f"the bound), rest {rest:+.3f} s; product / bound {row['product_over_bound']:.2f}×"
            f"{was}.")
    within = [row["table"] for row in results["rows"] if row["within_2x"]]
    beyond = [row["table"] for row in results["rows"] if not row["within_2x"]]
    lines += [
        "",
        f"Within 2× of the bound in this run: {', '.join(within) or 'none'}; not: "
        f"{', '.join(beyond) or 'none'}.",
        "",
        "The rest is per-call work that does not grow with the catalogue: the seen-item matrix "
        "built from the interaction frames, the train + validation histories (pandas concat, "
        "grouping, padding) and the mask. At 100k items it vanishes beside the matmul. On a "
        "small table (ML-100K: 943 users × 1,682 items, full 50-item histories) the bound is a "
        "few milliseconds and the user tower, which the bound leaves out and the product cannot "
        "skip, costs as much or more, and so does that fixed work: product / bound stays above "
        "2× there however the scoring itself is written, and product / (bound + tower) is the "
        "ratio that measures the scoring code. Making the tower cheaper is a change to "
        "`UserTower.forward` (engine/models/network.py); the fixed work belongs to the evaluation "
        "protocol (`seen_matrix`, the history frames). Short histories (Amazon: 7 items on "
        "average, padded to 50) cost the product less than the tower column, which runs the "
        "untrimmed padded matrix.",
        "",
        "On this 2-core shared machine, timings move with the load from other jobs: the tower "
        "(many small operations, each a 2-thread parallel region) suffers most, and runs of "
        "this code under a load average of 3–4 put Amazon at about 2× and ML-100K at about "
        "10×. Compare ratios within one run.",
    ]
    return lines


def render(results: dict[str, Any]) -> str:
    lines = ["# Full-catalogue scoring throughput", "",
             f"Command: `{results['command']}`  ",
             f"Machine: {machine_line(results['machine'])}, torch {results['torch']}, "
             f"{results['threads']} threads, load average {results['load_average']} at the "
             f"start (a shared machine: timings are best of {results['repeats']} runs).", "",
             "| table | users × items | product (s) | bound (s) | product / bound | "
             "user tower (s) | product / (bound + tower) | score_users, 1 block (s) "
             "| top_n, 1 block (s) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in results["rows"]:
        sec = row["seconds"]
        lines.append(
            f"| {row['table']} | {row['n_users']:,} × {row['n_items']:,} | "
            f"{sec['product_rank_users']:.3f} | {sec['bound_matmul_topk']:.3f} | "
            f"{row['product_over_bound']:.2f}× | {sec['user_tower']:.3f} | "
            f"{row['product_over_bound_plus_tower']:.2f}× | {sec['score_users_block']:.3f} | "
            f"{sec['top_n_block']:.3f} |")
    lines += ["", "product = `engine.evaluation.protocol.rank_users` over the two-tower model "
              "(its block "
              f"path: user tower, scores, seen items hidden, top-{K}); bound = torch `U @ V.T` + "
              "`torch.topk` on precomputed user vectors, same user blocks, no mask; user tower "
              "= the network over the padded histories the product reads. The goal is product "
              "/ bound ≤ 2×. Per-block columns time one block of `users_per_block` users (see "
              "the JSON) on the host path other models take.", "", *findings(results), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--tables", default=",".join(TABLES),
                        help=f"comma-separated subset of {', '.join(TABLES)}")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--render-only", action="store_true",
                        help="rebuild scoring.md from the existing scoring.json")
    args = parser.parse_args(argv)
    if args.render_only:
        write_results(args.out, "scoring", read_json(args.out / "scoring.json"), render)
        return 0
    names = [n for n in args.tables.split(",") if n]
    unknown = sorted(set(names) - set(TABLES))
    if unknown:
        parser.error(f"unknown table(s) {unknown}; choose from {', '.join(TABLES)}")
    load_before = load_average()
    rows = []
    for name in names:
        rows.append(measure(name, args.repeats))
        print(json.dumps(rows[-1]), flush=True)
    results = {"command": "python -m bench.speed.scoring " + " ".join(argv or sys.argv[1:]),
               "machine": machine(),
               "torch": torch.__version__, "threads": torch.get_num_threads(),
               "repeats": args.repeats, "load_average": load_before, "rows": rows}
    write_results(args.out, "scoring", results, render)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
