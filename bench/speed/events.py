"""Staleness: how soon a shopper's event changes their list, in process and through the API.

    python -m bench.speed.events                      # trains a quick EASE run on amazon-scientific
    python -m bench.speed.events --run RUN --shoppers 200

For `--shoppers` shoppers of the run (a fixed sample), each buys the first item of their
current list. Measured:
- in process: `Recommender.record_event` then the next `recommend` — the milliseconds from the
  event to the changed list, and the share of next lists that no longer hold the bought item;
- through the API (`prism serve` started here on 127.0.0.1, events stored in SQLite): the
  milliseconds from sending `POST /events` to receiving the next `/recommend` answer, and the
  same share;
- "similar items rise": the mean similarity (the re-rankers' item vectors) of the list to the
  bought item before and after, and the share of shoppers for whom it rose.
Writes docs/benchmarks/events.json and .md. Nothing is retrained between event and list.
"""

from __future__ import annotations

import argparse
import os
import statistics
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
    add_out,
    ensure_run,
    machine,
    machine_line,
    percentile,
    write_results,
)

K = 10


def _summary(times: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(times), 3),
            "p90_ms": round(percentile(times, 90), 3)}


def _closeness(service: Any, item_ids: list[str], bought: str) -> float:
    catalogue = service.catalogue
    vectors = catalogue.similarity_vectors()
    positions = catalogue.item_index.get_indexer([*item_ids, bought])
    return float(np.mean(vectors[positions[:-1]] @ vectors[positions[-1]]))


def in_process(run: Path, users: list[str]) -> dict[str, Any]:
    from engine.serving.recommender import Recommender

    service = Recommender.load(run, torch_threads=1)
    times, left, before_sim, after_sim = [], 0, [], []
    for user in users:
        shown = service.recommend(user, k=K).table["item_id"].tolist()
        bought = shown[0]
        start = time.perf_counter()
        service.record_event(user, bought, "purchase", time.time())
        after = service.recommend(user, k=K).table["item_id"].tolist()
        times.append((time.perf_counter() - start) * 1e3)
        left += bought not in after
        before_sim.append(_closeness(service, shown[1:], bought))
        after_sim.append(_closeness(service, after, bought))
    rose = float(np.mean(np.array(after_sim) > np.array(before_sim)))
    return {"event_to_changed_list": _summary(times), "purchase_left_next_list": left / len(users),
            "similarity_to_bought_before": round(float(np.mean(before_sim)), 4),
            "similarity_to_bought_after": round(float(np.mean(after_sim)), 4),
            "share_similarity_rose": round(rose, 4)}


def _serve(run: Path, home: Path, port: int) -> subprocess.Popen:
    import httpx

    server = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--run", str(run),
                               "--port", str(port)], cwd=REPO,
                              env={**os.environ, "PRISM_HOME": str(home)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("bench: prism serve did not start")


def through_api(run: Path, users: list[str], port: int) -> dict[str, Any]:
    import httpx

    with tempfile.TemporaryDirectory() as home:
        server = _serve(run, Path(home), port)
        url = f"http://127.0.0.1:{port}"
        times, left, joined = [], 0, 0
        try:
            with httpx.Client(timeout=60) as client:
                for user in users:
                    shown = client.post(f"{url}/recommend", json={"user_id": user, "k": K}).json()
                    bought = shown["items"][0]["item_id"]
                    start = time.perf_counter()
                    answer = client.post(f"{url}/events", json={
                        "user_id": user, "item_id": bought, "event": "purchase",
                        "list_id": shown["request_id"]})
                    after = client.post(f"{url}/recommend", json={"user_id": user, "k": K})
                    times.append((time.perf_counter() - start) * 1e3)
                    joined += answer.status_code == 201
                    left += bought not in [row["item_id"] for row in after.json()["items"]]
        finally:
            server.terminate()
            server.wait(timeout=60)
    return {"event_to_changed_list": _summary(times), "purchase_left_next_list": left / len(users),
            "events_acknowledged": joined}


def render(results: dict[str, Any]) -> str:
    local, api = results["in_process"], results["api"]
    return "\n".join([
        "# Staleness: from a shopper's event to their changed list", "",
        f"Written by `python -m bench.speed.events` on run `{results['run']}` "
        f"({results['n_items']:,} items), {results['shoppers']} shoppers, k={K}; each buys the "
        "first item of their list, nothing is retrained.", "",
        "| path | event → changed list, median ms | p90 ms | next list without the bought "
        "item |", "|---|---|---|---|",
        f"| in process (`record_event` + `recommend`) | "
        f"{local['event_to_changed_list']['median_ms']} | "
        f"{local['event_to_changed_list']['p90_ms']} | {local['purchase_left_next_list']:.0%} |",
        f"| HTTP (`POST /events` + `POST /recommend`, SQLite store) | "
        f"{api['event_to_changed_list']['median_ms']} | {api['event_to_changed_list']['p90_ms']}"
        f" | {api['purchase_left_next_list']:.0%} |", "",
        "Similar items rise (similarity as the re-rankers measure it: the model's item "
        "vectors, or co-purchase vectors for models without them): the list's mean "
        f"similarity to the bought item went from "
        f"{local['similarity_to_bought_before']} to {local['similarity_to_bought_after']}; it "
        f"rose for {local['share_similarity_rose']:.0%} of shoppers.", "",
        f"Machine: {machine_line(results['machine'])}.", ""])


def main(argv: list[str] | None = None) -> None:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--run", default=None, help="run folder (default: train a quick one)")
    parser.add_argument("--data", default=str(AMAZON), help="data set to train on")
    parser.add_argument("--model", default="ease", help="model of the quick run")
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    from engine.core.paths import prism_home

    run = ensure_run(args.run, Path(args.data), prism_home() / "bench" / f"events-{args.model}",
                     args.model, 3)
    from engine.serving.recommender import Recommender

    service = Recommender.load(run)
    rng = np.random.default_rng(0)
    ids = service.user_ids
    users = [ids[i] for i in rng.choice(len(ids), size=min(args.shoppers, len(ids)),
                                        replace=False)]
    print(f"bench: {len(users)} shoppers in process", file=sys.stderr)
    results = {"run": run.name, "n_items": int(service.catalogue.n_items),
               "shoppers": len(users), "in_process": in_process(run, users)}
    print("bench: the same shoppers through the API", file=sys.stderr)
    results["api"] = through_api(run, users, args.port)
    results["machine"] = machine()
    write_results(args.out, "events", results, render)
    print(render(results))


if __name__ == "__main__":
    main()
