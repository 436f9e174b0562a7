"""Serving through the candidate index against exact scoring: recall, list quality, speed, memory.

    nice python -m bench.scale.ann_serving                       # Amazon-Scientific, then 1 M items
    nice python -m bench.scale.ann_serving --parts amazon --users 1000
    OMP_NUM_THREADS=1 nice -n -5 python -m bench.scale.ann_serving --parts shop --users 150 \
        --shop-users 5000 --keep ../million-runs     # keeps the 1 M-item run for the studio

Per part, one two-tower model is trained on a leave-last-out split (no text; Amazon-Scientific:
`--epochs` epochs; the 1,000,000-item synthetic shop: one epoch over the events of
`--shop-users` shoppers, so every item vector comes from the trained item tower) and saved as a
run; then, each in this process unless said otherwise, in this order:
- the default index kind (ivf-sq8), saved as the run's index: build seconds, bytes, search
  setting, recall@100 against exact top-100 on held-out shoppers' query vectors;
- the served lists (the run's default index, 1000 candidates, exact re-scoring, DPP at weight
  0.3 over 500 candidates, k = 10) against exact scoring on the same shoppers: NDCG@10 of the
  held-out item and category entropy@10, each with a 95 % bootstrap interval;
- `/recommend` for one shopper at a time through the HTTP app (FastAPI TestClient), with the
  index and with `retrieval="exact"`, each in its own process: p50/p99 ms, load seconds,
  resident memory of that process after loading, after the requests and at its peak
  (/proc/self/status: not the peak of this parent process, which ru_maxrss would report);
  ratios index/exact;
- the other index kinds (ivf, hnsw, `--kinds`), measured as the first (not saved).
Results → docs/benchmarks/ann_serving.{json,md}, rewritten after each stage of a part (a part
that stops early keeps what it measured). With `--keep DIR` each part's run folder is kept as
DIR/<part> (with its index), ready for `prism dashboard` and `bench/browser_speed.py --run`;
the 1 M-item shop's data is then written to DIR/shop-1m and the run records it (the studio's
Ledger and held-out shoppers re-split it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    AMAZON,
    REPO,
    RESAMPLES,
    add_out,
    load_average,
    machine,
    process_memory_gb,
    read_json,
    write_results,
)
from bench.scale.ann_report import KINDS, render

BODY = {"k": 10, "method": "dpp", "diversity_weight": 0.3, "n_candidates": 500}
PROBE_REQUESTS = 200


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_rss_gb() -> float:
    return process_memory_gb()["peak_rss_gb"]


def train_run(dataset: Any, out: Path, epochs: int, seed: int,
              data_path: Path | None = None) -> tuple[Any, Any, float]:
    """Fit a two-tower (no text) on a leave-last-out split and save it as a run at `out`
    (recording `data_path`, the folder the dataset was read from, when given)."""
    from engine.core.config import ModelConfig, TrainConfig
    from engine.models.twotower import TwoTowerModel
    from engine.runs.data import prepare_data
    from engine.runs.store import save_run

    _, data = prepare_data(dataset, "leave-last-out", seed=seed)
    model = TwoTowerModel(ModelConfig(use_text=False),
                          TrainConfig(epochs=epochs, seed=seed, device="cpu"))
    started = time.perf_counter()
    model.fit(data)
    seconds = time.perf_counter() - started
    log(f"trained on {data.n_items:,} items, {data.n_users:,} shoppers in {seconds:.0f}s")
    save_run(out, model=model, data=data, items=dataset.items,
             meta={"dataset": dataset.name, "split": "leave-last-out", "seed": seed,
                   **({} if data_path is None else {"data_path": str(data_path.resolve())})})
    return model, data, seconds


def compare_kinds(model: Any, data: Any, users: np.ndarray, kinds: list[str],
                  run: Path) -> dict:
    """Per index kind: build seconds, bytes, setting, recall@100 on held-out shoppers; the
    default kind is saved as the run's index (what `prism index build` would write)."""
    from engine.retrieval.ann import ExactIndex, recall_at_n
    from engine.retrieval.runindex import (
        DEFAULT_KIND,
        TUNE_SHOPPERS,
        build_item_index,
        save_item_index,
    )

    vectors = model.scoring_vectors()  # the table query_vectors score against
    rng = np.random.default_rng(1)
    tune = np.sort(rng.choice(data.n_users, min(TUNE_SHOPPERS, data.n_users), replace=False))
    tune_q, test_q = model.query_vectors(tune), model.query_vectors(users)
    started = time.perf_counter()
    _, truth = ExactIndex(vectors, device="cpu").search(test_q, 100)
    exact_s = time.perf_counter() - started
    out = {"exact_top100_ms_per_shopper": round(1000 * exact_s / len(users), 3)}
    for kind in kinds:
        built = build_item_index(vectors, tune_q, kind=kind, part="evaluation")
        started = time.perf_counter()
        found = built.search(test_q, 100)[1]
        search_s = time.perf_counter() - started
        info = built.info
        out[kind] = {"build_seconds": info.build_seconds, "index_mib": round(
            info.index_bytes / 2**20, 1), "setting": info.setting,
            "recall_at_100_tuning": info.recall,
            "recall_at_100_heldout": round(recall_at_n(found, truth), 4),
            "search_ms_per_shopper": round(1000 * search_s / len(users), 3)}
        log(f"{kind}: {out[kind]}")
        if kind == DEFAULT_KIND:
            save_item_index(run, built)
        del built
    return out


def list_quality(run: Path, data: Any, users: np.ndarray) -> dict:
    """NDCG@10 / entropy@10 of served lists through the index and exactly, same shoppers."""
    from engine.metrics import ndcg_at_k
    from engine.metrics.diversity import category_entropy_at_k
    from engine.metrics.stats import mean_intervals
    from engine.serving.recommender import Recommender
    from engine.serving.retrieve import Retrieval

    service = Recommender.load(run, model="evaluation")
    index = service.retrieval
    catalogue = service.catalogue
    truth_users, truth = data.truth(data.test)
    held = dict(zip(truth_users.tolist(), truth, strict=True))
    users = [u for u in users.tolist() if u in held]
    lists: dict[str, list] = {"index": [], "exact": []}
    for name, retrieval in (("index", index), ("exact", Retrieval(None))):
        service.retrieval = retrieval
        for user in users:
            user_id = catalogue.user_index[user]
            table = service.recommend(user_id=user_id, **BODY).table
            positions = catalogue.item_index.get_indexer(table["item_id"].astype(str))
            lists[name].append(np.pad(positions, (0, 10 - len(positions)),
                                      constant_values=-1))
    truth_rows = [held[u] for u in users]
    series = {}
    for name, rows in lists.items():
        topk = np.vstack(rows)
        series[f"ndcg@10 {name}"] = ndcg_at_k(topk, truth_rows, 10)
        series[f"entropy@10 {name}"] = category_entropy_at_k(topk, catalogue.item_categories,
                                                             10)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(
        lists["index"], lists["exact"], strict=True)])
    intervals = mean_intervals(series, n_resamples=RESAMPLES)
    return {"shoppers": len(users), "same_items_share": round(float(overlap), 4),
            **{name: {"mean": round(i.estimate, 4), "low": round(i.low, 4),
                      "high": round(i.high, 4)} for name, i in intervals.items()}}


def probe(run: str, retrieval: str, n_users: int) -> dict:
    """In this process: load the run, then `/recommend` one shopper at a time; wall and CPU
    (process time, which the machine's other work barely moves) per request."""
    from fastapi.testclient import TestClient

    from engine.api.app import create_app
    from engine.serving.recommender import Recommender

    started = time.perf_counter()
    service = Recommender.load(run, torch_threads=1, retrieval=retrieval)
    load_s = time.perf_counter() - started
    loaded = process_memory_gb()
    client = TestClient(create_app(run, recommender=service))
    rng = np.random.default_rng(2)
    users = [service.user_ids[i] for i in rng.choice(len(service.user_ids),
                                                     min(n_users, len(service.user_ids)),
                                                     replace=False)]
    for user in users[:5]:  # warm up
        assert client.post("/recommend", json={"user_id": user, **BODY}).status_code == 200
    wall, cpu = [], []
    for user in users:
        started, ticks = time.perf_counter(), time.process_time()
        response = client.post("/recommend", json={"user_id": user, **BODY})
        wall.append(1000 * (time.perf_counter() - started))
        cpu.append(1000 * (time.process_time() - ticks))
        assert response.status_code == 200, response.text[:200]
    return {"retrieval": service.retrieval.describe().get("retrieval"), "requests": len(wall),
            **percentiles(wall, "ms"), **percentiles(cpu, "cpu_ms"),
            "load_seconds": round(load_s, 1), "rss_after_load_gb": loaded["rss_gb"],
            **process_memory_gb()}


def percentiles(values: list[float], name: str) -> dict:
    return {f"p50_{name}": round(float(np.percentile(values, 50)), 2),
            f"p99_{name}": round(float(np.percentile(values, 99)), 2)}


def probes(run: Path, apart: bool = False) -> dict:
    """`probe` with the index and exactly, each in its own process (its own memory). Started
    together, both run under the same machine load, each slowed by the other; `apart`, one
    after the other, each has the machine to itself (wall times on a quiet machine)."""
    command = [sys.executable, "-m", "bench.scale.ann_serving", "--probe", str(run)]

    def start(name: str) -> subprocess.Popen:
        return subprocess.Popen([*command, "--retrieval", name], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=REPO)

    running = {name: start(name) for name in ("auto", "exact")} if not apart else {}
    out = {}
    for name in ("auto", "exact"):
        process = running.get(name) or start(name)
        stdout, stderr = process.communicate()
        out[name] = json.loads(stdout.strip().splitlines()[-1]) if process.returncode == 0 \
            else {"error": (stderr.strip().splitlines() or ["failed"])[-1]}
    return out


def with_probes(result: dict, run: Path, apart: bool = False) -> dict:
    result["recommend"] = found = probes(run, apart)
    if all("p99_ms" in found[name] for name in found):
        result["ratios"] = {key: round(found["auto"][key] / found["exact"][key], 3) for key in (
            "p50_ms", "p99_ms", "p50_cpu_ms", "p99_cpu_ms", "peak_rss_gb", "load_seconds")
            if key in found["auto"] and key in found["exact"]}
    return result


def serve_part(run: Path, model: Any, data: Any, users: np.ndarray, kinds: list[str],
               progress: Any) -> dict:
    """The run's default index kind, the served lists, `/recommend`, then the other index
    kinds; `progress(result)` after each stage."""
    from engine.retrieval.runindex import DEFAULT_KIND, read_index_info

    result = {"items": int(data.n_items), "shoppers": int(data.n_users),
              "kinds": compare_kinds(model, data, users, [DEFAULT_KIND], run)}
    info = read_index_info(run)
    result["served_index"] = {"kind": info.kind, "build_seconds": info.build_seconds,
                              "setting": info.setting, "recall_at_100_tuning": info.recall}
    log(f"served index built: {result['served_index']}")
    progress(result)
    result["lists"] = list_quality(run, data, users)
    log(f"lists: {result['lists']}")
    progress(result)
    with_probes(result, run)
    for kind in (k for k in kinds if k != DEFAULT_KIND):
        progress(result)
        result["kinds"].update(compare_kinds(model, data, users, [kind], run))
    return result


def held_out_users(data: Any, n: int, seed: int) -> np.ndarray:
    users = np.unique(data.truth(data.test)[0])
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(users, min(n, len(users)), replace=False))


def part_amazon(args: argparse.Namespace, work: Path) -> dict:
    from engine.data import load_dataset

    if not args.data.exists():
        return {"skipped": f"{args.data.name} not found (default: ../shared/data beside the "
                           "repository)"}
    dataset = load_dataset(args.data)
    model, data, fit_s = train_run(dataset, work / "amazon", args.epochs, args.seed)
    head = {"dataset": "amazon-scientific", "epochs": args.epochs,
            "fit_seconds": round(fit_s, 1)}
    result = serve_part(work / "amazon", model, data, held_out_users(data, args.users, 0),
                        list(KINDS), lambda partial: args.progress({**head, **partial}))
    return {**head, **result}


def part_shop(args: argparse.Namespace, work: Path) -> dict:
    from engine.data import build_dataset, generate_shop, load_dataset, write_tables

    started = time.perf_counter()
    items, events = generate_shop(1_000_000, args.shop_users, seed=args.seed)
    folder = None
    if args.keep:  # the studio re-splits a run's data (Ledger, held-out shoppers): keep it
        folder = work / "shop-1m"
        write_tables(items, events, folder, fmt="parquet")
        dataset = load_dataset(folder)
    else:
        dataset = build_dataset(items, events, name="shop-1m")
    log(f"generated {len(dataset.items):,} items in {time.perf_counter() - started:.0f}s")
    del items, events
    model, data, fit_s = train_run(dataset, work / "shop", 1, args.seed, folder)
    head = {"dataset": "synthetic shop, 1,000,000 items", "epochs": 1,
            "shop_users": args.shop_users, "fit_seconds": round(fit_s, 1)}
    result = serve_part(work / "shop", model, data,
                        held_out_users(data, min(args.users, 500), 0), args.kinds.split(","),
                        lambda partial: args.progress({**head, **partial}))
    return {**head, "peak_rss_gb_bench_process": peak_rss_gb(), **result}


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--parts", default="amazon,shop", help="amazon and/or shop (1 M items)")
    parser.add_argument("--data", type=Path, default=AMAZON, help="the amazon part's data folder")
    parser.add_argument("--users", type=int, default=1000, help="held-out shoppers measured")
    parser.add_argument("--epochs", type=int, default=5, help="Amazon-Scientific epochs")
    parser.add_argument("--shop-users", type=int, default=10_000,
                        help="shoppers generated for the 1 M-item shop")
    parser.add_argument("--kinds", default=",".join(KINDS), help="index kinds at 1 M items")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path,
                        help="keep each part's run folder as KEEP/<part> (default: discarded)")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--remeasure", nargs=2, metavar=("PART", "RUN"),
                        help="only re-time /recommend for PART on a kept run folder RUN")
    parser.add_argument("--apart", action="store_true",
                        help="with --remeasure: time the index and exact scoring one after the "
                             "other instead of together (wall times on a quiet machine)")
    parser.add_argument("--retrieval", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite ann_serving.md from ann_serving.json; measure nothing")
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe, args.retrieval, PROBE_REQUESTS)))
        return 0
    path = args.out / "ann_serving.json"
    results = read_json(path) or {"parts": {}}
    if args.report_only:
        write_results(args.out, "ann_serving", results, render)
        return 0
    if args.remeasure:
        name, run = args.remeasure
        shown = run if not Path(run).is_absolute() else "RUN"  # never this machine's folders
        part = with_probes(results["parts"][name], Path(run), args.apart)
        apart = " --apart" if args.apart else ""
        part["recommend_timed"] = {
            "command": f"nice python -m bench.scale.ann_serving --remeasure {name} {shown}"
                       f"{apart}", "apart": args.apart, "load_average": load_average()}
        results["parts"][name] = part
        write_results(args.out, "ann_serving", results, render)
        return 0
    given = list(argv if argv is not None else sys.argv[1:])
    for option in ("--out", "--keep"):  # the report names the command, not this machine's folders
        if option in given:
            del given[given.index(option):given.index(option) + 2]
    command = " ".join(["nice python -m bench.scale.ann_serving", *given])
    results.update(command=command, machine=machine())
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        for name in [p for p in args.parts.split(",") if p]:
            def record(part: dict, name: str = name) -> None:
                results["parts"][name] = {**part, "command": command,
                                          "load_average": load_average()}
                write_results(args.out, "ann_serving", results, render)
            args.progress = lambda partial, record=record: record({**partial, "note": (
                "stopped before the remaining stages; figures so far")})
            record({"amazon": part_amazon, "shop": part_shop}[name](args, work))
            log(f"{name} done")
    results.update(command=command,
                   machine=machine(), load_average=load_average())
    write_results(args.out, "ann_serving", results, render)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
