"""The 1,000,000-item synthetic shop: what is measured, what is extrapolated, and memory.

    nice python -m bench.scale.large_catalogue                   # every stage, one subprocess each
    nice python -m bench.scale.large_catalogue --stages generate,ann

Stages (each in its own process so each peak RSS is its own):
- generate: `generate_shop(1_000_000, 200_000)` — time, event count, peak RSS (measured);
- encode: item text of a 20,000-item slice through the resumable encoder cache (measured),
  a second pass over the same slice (cache hits only), and the 1 M-item time (EXTRAPOLATED
  from the measured rate);
- train: one epoch of sampled-softmax + logQ training on the events of a user subsample over
  the full catalogue (measured), and the full 10 M-event epoch (EXTRAPOLATED linearly);
- ann: exact vs FAISS IVF top-200 over 1 M unit vectors in 64 dims (measured).
Results merge, stage by stage, into docs/benchmarks/large.json; docs/benchmarks/large.md
reads them (measured vs extrapolated, and what they mean).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

from bench.common import (
    REPO,
    add_out,
    load_average,
    process_memory_gb,
    read_json,
    write_json,
)

N_ITEMS, N_USERS, SEED = 1_000_000, 200_000, 0
ENCODE_SLICE = 20_000
TRAIN_USERS = 10_000
STAGES = ("generate", "encode", "train", "ann")


def peak_rss_gb() -> float:
    return round(process_memory_gb()["peak_rss_gb"], 2)


def stage_generate() -> dict[str, Any]:
    from engine.data import generate_shop

    started = time.perf_counter()
    items, events = generate_shop(N_ITEMS, N_USERS, seed=SEED)
    return {"n_items": len(items), "n_users": N_USERS, "n_events": len(events),
            "seconds": round(time.perf_counter() - started, 1), "peak_rss_gb": peak_rss_gb()}


def shop_subset(n_users: int) -> tuple[Any, Any]:
    """The full 1 M-item table (items are drawn before shoppers, so the same seed gives the
    same items) with the events of `n_users` shoppers from the same generator."""
    from engine.data import generate_shop

    return generate_shop(N_ITEMS, n_users, seed=SEED)


def log(message: str) -> None:
    """Progress on stderr, so a stage stopped by its time limit still shows how far it got."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def stage_encode() -> dict[str, Any]:
    from engine.core.columns import ITEM_ID
    from engine.data import build_dataset, generate_shop
    from engine.text.encoders import TextEncoder

    items, events = generate_shop(N_ITEMS, N_USERS, seed=SEED)
    part = items.iloc[:ENCODE_SLICE]
    dataset = build_dataset(part, events[events[ITEM_ID].isin(part[ITEM_ID])])
    texts = dataset.item_text()
    with tempfile.TemporaryDirectory() as cache:
        encoder = TextEncoder(progress=False, cache_dir=cache)
        _ = encoder.dim  # load the model outside the timed part
        started = time.perf_counter()
        encoder.encode(texts)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = TextEncoder(progress=False, cache_dir=cache)
        again.encode(texts)
        second = time.perf_counter() - started
    rate = len(texts) / first
    return {"texts": len(texts), "seconds": round(first, 1), "texts_per_second": round(rate, 1),
            "second_pass_seconds": round(second, 2), "second_pass_encoded": again.texts_encoded,
            "extrapolated_1m_hours": round(N_ITEMS / rate / 3600, 2),
            "peak_rss_gb": peak_rss_gb()}


def stage_train(train_users: int = TRAIN_USERS) -> dict[str, Any]:
    import torch

    from engine.core.config import ModelConfig, TrainConfig
    from engine.data import build_dataset
    from engine.models.base import ITEM_IDX, USER_IDX
    from engine.models.examples import TrainingExamples
    from engine.models.network import TwoTowerNet
    from engine.models.trainer import Trainer
    from engine.models.twotower import category_prior
    from engine.runs.data import prepare_data

    started = time.perf_counter()
    items, events = shop_subset(train_users)
    log(f"generated {len(items)} items, {len(events)} events")
    dataset = build_dataset(items, events)
    log(f"cleaned: {len(dataset.items)} items with events")
    _, data = prepare_data(dataset, "leave-last-out", seed=SEED)
    prep = time.perf_counter() - started
    log("split and indexed; training one epoch")
    config = TrainConfig(epochs=1, seed=SEED)
    model_config = ModelConfig(use_text=False)  # 1 M texts are not encoded here (see encode)
    net = TwoTowerNet(torch.zeros((data.n_items, 0)), torch.as_tensor(data.item_categories),
                      data.n_users, config.history_len, model_config)
    train = data.train
    examples = TrainingExamples(train[USER_IDX].to_numpy(), train[ITEM_IDX].to_numpy(),
                                train["weight"].to_numpy(), config.history_len)
    trainer = Trainer(net, config, examples, data.user_category_dist(),
                      category_prior(data.item_categories, config.diversity_prior), None,
                      torch.device("cpu"))
    logs = trainer.fit()[0]
    n_valid = int(data.valid[USER_IDX].nunique())
    per_example = logs["seconds"] / len(examples)
    return {"train_users": data.n_users, "catalogue_items": data.n_items,
            "sampled_softmax": bool(trainer.sampled), "examples": len(examples),
            "sparse_id_gradients": trainer.sparse_optimizer is not None,
            "prepare_seconds": round(prep, 1), "epoch_seconds": round(logs["seconds"], 1),
            "loss": round(logs["L"], 4), "num_negatives": config.num_negatives,
            "extrapolated_full_epoch_hours": None, "seconds_per_example": per_example,
            "validator_score_block_gb": round(n_valid * data.n_items * 4 / 2**30, 1),
            "peak_rss_gb": peak_rss_gb()}


def stage_ann() -> dict[str, Any]:
    from engine.retrieval.ann import ExactIndex, build_index, recall_at_n

    rng = np.random.default_rng(SEED)
    dim, n_clusters = 64, 1000
    centres = rng.normal(size=(n_clusters, dim)).astype(np.float32)
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    items = unit(centres[rng.integers(0, n_clusters, N_ITEMS)]
                 + 0.5 * rng.normal(size=(N_ITEMS, dim)).astype(np.float32))
    queries = unit(centres[rng.integers(0, n_clusters, 3000)]
                   + 0.5 * rng.normal(size=(3000, dim)).astype(np.float32))
    tune, test = queries[:1000], queries[1000:]
    exact = ExactIndex(items, device="cpu")
    started = time.perf_counter()
    _, truth = exact.search(test, 200)
    exact_s = time.perf_counter() - started
    started = time.perf_counter()
    index = build_index(items, "faiss", tune_queries=tune, tune_n=200, target_recall=0.95)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    _, found = index.search(test, 200)
    faiss_s = time.perf_counter() - started
    return {"items": N_ITEMS, "dim": dim, "queries": len(test), "n": 200,
            "n_lists": index.n_lists, "nprobe": index.nprobe,
            "recall_at_200": round(recall_at_n(found, truth), 4),
            "exact_seconds": round(exact_s, 2), "faiss_seconds": round(faiss_s, 2),
            "speedup": round(exact_s / faiss_s, 1), "build_and_tune_seconds": round(build_s, 1),
            "peak_rss_gb": peak_rss_gb()}


def run_stage(name: str, timeout: int, train_users: int = TRAIN_USERS) -> dict[str, Any]:
    """One stage in a fresh, niced process; its last stdout line is the JSON result."""
    command = ["nice", sys.executable, "-m", "bench.scale.large_catalogue", "--stage", name,
               "--train-users", str(train_users)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                              env={**os.environ, "HF_HUB_OFFLINE": "1"})
    except subprocess.TimeoutExpired as exc:
        reached = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        return {"error": f"stopped after the {timeout} s limit",
                "last_progress": reached[-1] if reached else ""}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    sys.stderr.write(done.stderr)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--stage", choices=STAGES, help="run one stage in this process")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--timeout", type=int, default=590, help="seconds per stage")
    parser.add_argument("--train-users", type=int, default=TRAIN_USERS,
                        help=f"shoppers in the train stage ({N_USERS:,} = all)")
    args = parser.parse_args(argv)
    if args.stage:
        stage = globals()[f"stage_{args.stage}"]
        result = stage(args.train_users) if args.stage == "train" else stage()
        print(json.dumps(result))
        return 0
    path = args.out / "large.json"
    results = read_json(path)
    for name in [s for s in args.stages.split(",") if s]:
        results[name] = run_stage(name, args.timeout, args.train_users)
        print(name, json.dumps(results[name]), flush=True)
    train, gen = results.get("train", {}), results.get("generate", {})
    if "seconds_per_example" in train and "n_events" in gen:
        # examples scale with interactions; the subsample's events-per-example ratio carries over
        train["extrapolated_full_epoch_hours"] = round(
            train["seconds_per_example"] * train["examples"] * N_USERS
            / train["train_users"] / 3600, 2)
    results["load_average_at_end"] = load_average()
    write_json(path, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
