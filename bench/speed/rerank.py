"""Benchmark the re-rankers: median milliseconds per list, and a batched sweep.

Run from the repo root: `python -m bench.speed.rerank` (add `--quick` for a smoke run). Writes
docs/benchmarks/rerank.json and docs/benchmarks/rerank.md; the last printed line is one JSON
object {"mmr": ms, "dpp": ms, "calibrated": ms, "quota": ms} (median ms, N = 500, k = 20).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from bench.common import DIVERSIFY, OUT_DIR, add_out, machine, machine_line, write_results
from engine.rerank import rerank, rerank_batch

METHODS = DIVERSIFY
N_CATEGORIES, DIM, K, WEIGHT = 25, 64, 20, 0.5
QUOTAS = {0: (2, 5), 1: (2, 5), 2: (None, 3)}


def make_list(rng: np.random.Generator, n: int) -> dict:
    """One user's candidates: scores, d = 64 vectors, 25 one-hot categories, a target."""
    return {"relevance": rng.normal(size=n),
            "item_vectors": rng.normal(size=(n, DIM)).astype(np.float32),
            "item_categories": np.eye(N_CATEGORIES)[rng.integers(0, N_CATEGORIES, n)],
            "target": rng.dirichlet(np.ones(N_CATEGORIES))}


def time_one_list(method: str, n: int, repeats: int, seed: int = 0) -> float:
    """Median wall milliseconds of `rerank` over `repeats` calls on seeded random lists."""
    rng = np.random.default_rng(seed)
    lists = [make_list(rng, n) for _ in range(5)]
    quotas = QUOTAS if method == "quota" else None
    for case in lists:  # warm-up
        rerank(method, case["relevance"], K, WEIGHT, item_vectors=case["item_vectors"],
               item_categories=case["item_categories"], target=case["target"], quotas=quotas)
    times = []
    for rep in range(repeats):
        case = lists[rep % len(lists)]
        start = time.perf_counter()
        rerank(method, case["relevance"], K, WEIGHT, item_vectors=case["item_vectors"],
               item_categories=case["item_categories"], target=case["target"], quotas=quotas)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def time_batch(method: str, n_users: int, n_cand: int, device: str, seed: int = 0) -> float:
    """Wall milliseconds per user of `rerank_batch` over one block of users."""
    rng = np.random.default_rng(seed)
    n_items = 5000
    vectors = rng.normal(size=(n_items, DIM))
    cats = np.eye(N_CATEGORIES)[rng.integers(0, N_CATEGORIES, n_items)]
    candidates = np.stack([rng.choice(n_items, n_cand, replace=False) for _ in range(n_users)])
    relevance = rng.normal(size=(n_users, n_cand))
    targets = rng.dirichlet(np.ones(N_CATEGORIES), size=n_users)
    args = (method, relevance, candidates, K, WEIGHT, vectors, cats, targets)
    rerank_batch(*args, device=device)  # warm-up (CUDA start-up, allocations)
    start = time.perf_counter()
    rerank_batch(*args, device=device)
    return (time.perf_counter() - start) * 1e3 / n_users


def batch_devices() -> list[str]:
    devices = ["numpy"]
    try:
        import torch

        if torch.cuda.is_available():
            devices.append("cuda")
    except ImportError:
        pass
    return devices


def render(results: dict) -> str:
    lines = ["# Re-ranker speed", "",
             f"Command: `{results['command']}` (from the repo root). Machine: "
             f"{machine_line(results['machine'])}. Seeded random candidates: d = {DIM} vectors, "
             f"{N_CATEGORIES} one-hot categories, k = {K}, diversity weight {WEIGHT}; quota "
             f"uses floors/caps {QUOTAS}.", "",
             "## One list (median ms per call)", "",
             "| N | " + " | ".join(METHODS) + " |", "|---|" + "---|" * len(METHODS)]
    for n, row in results["one_list"].items():
        lines.append(f"| {n} | " + " | ".join(f"{row[m]:.2f}" for m in METHODS) + " |")
    lines += ["", "Targets at N = 500: DPP ≤ 5 ms, MMR ≤ 5 ms, calibrated ≤ 10 ms.", "",
              "## Batched (`rerank_batch`, ms per user)", "",
              "| device | users × candidates | mmr | dpp | calibrated |", "|---|---|---|---|---|"]
    for row in results["batch"]:
        lines.append(f"| {row['device']} | {row['users']} × {row['candidates']} | "
                     + " | ".join(f"{row[m]:.3f}" for m in ("mmr", "dpp", "calibrated")) + " |")
    if not any(row["device"] != "numpy" for row in results["batch"]):
        lines += ["", "No CUDA device was present for this run; with one, `rerank_batch` "
                  "(device 'auto') runs the same greedy steps in torch on the GPU and a "
                  "`cuda` row is added here."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--quick", action="store_true",
                        help="few repeats; reports are written only to an --out folder other "
                             "than docs/benchmarks")
    opts = parser.parse_args(argv)
    repeats = {500: 7, 2000: 3} if opts.quick else {500: 60, 2000: 20}
    one_list = {str(n): {m: time_one_list(m, n, reps) for m in METHODS}
                for n, reps in repeats.items()}
    n_users = 32 if opts.quick else 256
    batch = [{"device": device, "users": n_users, "candidates": 200,
              **{m: time_batch(m, n_users, 200, device) for m in ("mmr", "dpp", "calibrated")}}
             for device in batch_devices()]
    results = {"command": "python -m bench.speed.rerank", "machine": machine(),
               "k": K, "diversity_weight": WEIGHT, "one_list": one_list, "batch": batch}
    for n, row in one_list.items():
        print(f"N={n}: " + ", ".join(f"{m} {row[m]:.2f} ms" for m in METHODS))
    for row in batch:
        print(f"batch {row['device']} {row['users']}x{row['candidates']}: "
              + ", ".join(f"{m} {row[m]:.3f} ms/user" for m in ("mmr", "dpp", "calibrated")))
    if not opts.quick or opts.out.resolve() != OUT_DIR.resolve():
        write_results(opts.out, "rerank", results, render)
    print(json.dumps({m: round(one_list["500"][m], 3) for m in METHODS}))


if __name__ == "__main__":
    main()
