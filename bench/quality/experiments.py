"""The shop simulator's verdict on experiments and off-policy estimates.

    python -m bench.quality.experiments               # trains a quick EASE run on amazon-scientific
    python -m bench.quality.experiments --run RUN --runs 200 --visits 6000

Shoppers are the run's shoppers with held-out events; their clicks follow a position-based
model built from that held-out behaviour (engine/experiments/simulate.py). Measured:
- in process, over `--runs` experiments each (fresh keyed split per run, `--looks` evenly
  spaced looks, a winner declared at the first look whose verdict is earned):
  the A/A false-winner rate; the detection rate of a planted lift on clicks (+10%, +20%);
  and an A/B of the plain ranking against a diversity re-rank (true effect from the model);
- off-policy: clicks per list of two candidate re-ranks estimated from Plackett–Luce
  randomised logs of the plain ranking (IPS, self-normalised IPS, doubly robust), against the
  model's truth (`--only off-policy` reruns this part alone into the existing report);
- end to end through the API (FastAPI TestClient, SQLite event store): `--api-runs`
  experiments of `--api-visits` visits each, lists out and events in, the report read back.
Writes docs/benchmarks/experiments.json and .md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    AMAZON,
    add_out,
    ensure_run,
    machine,
    machine_line,
    read_json,
    write_results,
)

K, POOL, KEY = 10, 20, b"bench-experiments-key-0123456789"
API_LIFT = 0.3


def _progress(label: str):  # noqa: ANN202
    def show(done: int, total: int) -> None:
        if done == total or done % max(total // 5, 1) == 0:
            print(f"bench: {label} {done}/{total}", file=sys.stderr)
    return show


def build_shop(run: Path, data: Path, shoppers: int) -> tuple[Any, Any]:
    import pandas as pd

    from engine.data.loading import load_dataset
    from engine.experiments.simulate import Shop
    from engine.runs.data import split_like_run
    from engine.serving.recommender import Recommender

    service = Recommender.load(run, torch_threads=1)
    split, _ = split_like_run(load_dataset(data), service.run.meta)
    held = pd.concat([split.valid, split.test])
    return service, Shop.from_held_out(service.catalogue, held, max_users=shoppers, seed=0)


def grids(service: Any, shop: Any) -> dict[str, np.ndarray]:
    from engine.experiments.simruns import list_grid

    index = service.catalogue.item_index

    def ranked(k: int, weight: float = 0.0, candidates: int = 200):  # noqa: ANN202
        return lambda user: service.recommend(user, k=k, diversity_weight=weight,
                                              n_candidates=candidates).table["item_id"]

    print(f"bench: lists for {len(shop.users)} shoppers", file=sys.stderr)
    return {"plain": list_grid(shop, index, ranked(K), K),
            "pool": list_grid(shop, index, ranked(POOL), POOL),
            "diverse": list_grid(shop, index, ranked(K, 0.5), K),
            "near": list_grid(shop, index, ranked(K, 0.2, POOL), K),
            "far": list_grid(shop, index, ranked(K, 0.5, POOL), K)}


def in_process(shop: Any, lists: dict[str, np.ndarray], runs: int, visits: int,
               looks: int) -> dict[str, Any]:
    from engine.experiments.simruns import experiment_rates

    plain, diverse = lists["plain"], lists["diverse"]
    everyone = np.arange(len(shop.users))
    truth = {name: float(shop.expected_clicks(everyone, lists[name]).mean())
             for name in ("plain", "diverse")}
    cases = {"A/A": ([plain, plain], [0.0, 0.0]), "planted +10%": ([plain, plain], [0.0, 0.1]),
             "planted +20%": ([plain, plain], [0.0, 0.2]),
             "plain vs diversity 0.5": ([plain, diverse], [0.0, 0.0])}
    out = {}
    for seed, (name, (arm_lists, lifts)) in enumerate(cases.items()):
        start = time.perf_counter()
        out[name] = experiment_rates(shop, arm_lists, lifts, runs=runs, visits=visits,
                                     peeks=looks, key=KEY, seed=seed, label=name,
                                     progress=_progress(name))
        out[name]["seconds"] = round(time.perf_counter() - start, 1)
    out["plain vs diversity 0.5"]["true_clicks_per_list"] = {k: round(v, 5)
                                                             for k, v in truth.items()}
    return out


def off_policy(shop: Any, lists: dict[str, np.ndarray], runs: int, visits: int
               ) -> list[dict[str, Any]]:
    from engine.experiments.simruns import offpolicy_runs

    rows = []
    for candidate, label in (("near", "diversity 0.2"), ("far", "diversity 0.5")):
        for temperature in (1.0, 3.0):
            row = offpolicy_runs(shop, lists["pool"], lists[candidate], k=K,
                                 temperature=temperature, runs=runs, visits=visits,
                                 progress=_progress(f"off-policy {label} T={temperature:g}"))
            row.pop("last_run")
            row["dr_width_over_ips"] = round(row["dr_mean_width"] / row["ips_mean_width"], 4)
            rows.append({"candidate": f"re-rank of the top {POOL}, {label}", **row})
    return rows


def exploration_cost(shop: Any, lists: dict[str, np.ndarray]) -> dict[str, float]:
    """True clicks per list of the randomised lists against the plain top K."""
    from engine.experiments.explore import position_probabilities

    everyone = np.arange(len(shop.users))
    pool = lists["pool"]
    attraction = shop.attraction(np.repeat(everyone, POOL), pool.reshape(-1, 1)).reshape(
        len(everyone), POOL)
    theta = shop.model.examination(K)
    out = {"deterministic": round(float(shop.expected_clicks(everyone, pool[:, :K]).mean()), 5)}
    for temperature in (1.0, 3.0):
        table = position_probabilities(POOL, K, temperature)
        out[f"temperature {temperature:g}"] = round(float((attraction @ (table * theta)
                                                           ).sum(axis=1).mean()), 5)
    return out


def _api_run(run: Path, shop: Any, number: int, visits: int) -> dict[str, Any]:
    """One experiment through the API in a fresh Prism home (fresh histories too)."""
    from fastapi.testclient import TestClient

    from engine.access.gate import Gate
    from engine.access.roles import local_actor
    from engine.api.app import create_app
    from engine.events.store import EventStore
    from engine.experiments.assign import Arm, Experiment, Exploration
    from engine.experiments.report import experiment_report
    from engine.experiments.simapi import drive
    from engine.experiments.store import ExperimentStore
    from engine.serving.recommender import Recommender

    service = Recommender.load(run, torch_threads=1)
    client = TestClient(create_app(run, recommender=service))
    store = ExperimentStore(EventStore())
    name = f"api-{number}"
    experiment = Experiment(name, (Arm("A", "none", 0.5), Arm("B", "none", 0.5)),
                            exploration=Exploration(3.0, POOL))
    Gate().start_experiment(local_actor("cli"), experiment, store)
    start = time.perf_counter()
    sent = drive(client, shop, service.catalogue.item_index, visits=visits, k=K,
                 lifts={"B": API_LIFT}, seed=number, candidate_policy="none",
                 progress=_progress(f"API run {number + 1}"))
    candidates = sent.pop("candidates")
    seconds = time.perf_counter() - start
    report = experiment_report(store, name, service.catalogue)
    return {"visits": visits, "seconds": round(seconds, 1), "lists_logged": report["lists"],
            "events_sent": sum(c["clicks"] + c["purchases"] for c in sent.values()),
            "events_stored": EventStore().count(), "verdict": report["verdict"]["text"],
            "clicks_per_list": {row["arm"]: row["metrics"]["clicks_per_list"]
                                for row in report["arms"]},
            **_api_off_policy(service, shop, store, name, candidates)}


def _api_off_policy(service: Any, shop: Any, store: Any, name: str,
                    candidates: dict[str, list[str]]) -> dict[str, Any]:
    """IPS of the plain top K (each shopper's list fetched beside the served one) from the
    run's randomised logs, and its truth: the click model's expected clicks of those lists
    (with arm B's planted lift on arm B's visits)."""
    from engine.experiments.offpolicy import from_logs

    estimate, _ = from_logs(store, name, lambda served: candidates[served.request_id])
    served = store.served(name)
    rows_of = {user: n for n, user in enumerate(shop.users)}
    lists = np.array([service.catalogue.item_index.get_indexer(candidates[s.request_id])
                      for s in served])
    users = np.array([rows_of[s.user_id] for s in served])
    lift = np.array([1.0 + API_LIFT * (s.arm == "B") for s in served])
    truth = float((shop.expected_clicks(users, lists) * lift).mean())
    return {"plain_top_k_ips": estimate.ips.to_dict(), "plain_top_k_snips":
            estimate.snips.to_dict(), "plain_top_k_truth": round(truth, 5)}


def through_api(run: Path, shop: Any, runs: int, visits: int) -> dict[str, Any]:
    import os

    rows = []
    for number in range(runs):
        with tempfile.TemporaryDirectory() as home:
            os.environ["PRISM_HOME"] = home
            rows.append(_api_run(run, shop, number, visits))
    return {"runs": rows, "planted_lift_on_B": API_LIFT, "exploration_temperature": 3.0}


def _or_dash(row: dict[str, Any], key: str, spec: str) -> str:
    return "-" if row.get(key) is None else format(row[key], spec)


def _cell(interval: dict[str, Any]) -> str:
    return f"{interval['estimate']:.4f} [{interval['low']:.4f}, {interval['high']:.4f}]"


def render(results: dict[str, Any]) -> str:
    lines = ["## Experiments: the shop simulator", "",
             f"{results['shoppers']:,} shoppers of {results['data']} with held-out events, "
             f"{results['n_items']:,} items; clicks from a position-based model built from "
             "their held-out behaviour (docs/experiments.md). Always-valid 95% intervals, "
             "shoppers as units; a winner is declared at the first look whose verdict is "
             "earned.", "",
             "| experiment | runs | lists per run | looks | winner declared | in the true "
             "direction | median lists at verdict |", "|---|---|---|---|---|---|---|"]
    for name, row in results["in_process"].items():
        lines.append(f"| {name} | {row['runs']} | {row['lists_per_run']:,} | {row['looks']} | "
                     f"{row['declared_rate']:.1%} ({row['declared']}) | "
                     f"{row['b_called_as_planted']} | {row['median_lists_at_verdict'] or '-'} |")
    truth = results["in_process"]["plain vs diversity 0.5"]["true_clicks_per_list"]
    lines += ["", f"True clicks per list in the click model: plain {truth['plain']:.4f}, "
              f"diversity 0.5 {truth['diverse']:.4f}.", "",
              "Off-policy: clicks per list of a candidate estimated from randomised logs of "
              f"the plain ranking (Plackett–Luce over its top {POOL}), against the truth.", "",
              "| candidate | temperature | truth | mean IPS | IPS interval holds truth | mean "
              "SNIPS | SNIPS interval holds truth | mean DR | DR interval holds truth | DR "
              "interval width / IPS | runs × lists |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in results["off_policy"]:
        lines.append(f"| {row['candidate']} | {row['temperature']:g} | "
                     f"{row['truth_clicks_per_list']:.4f} | {row['ips_mean_estimate']:.4f} | "
                     f"{row['ips_interval_covers_truth']:.1%} | {row['snips_mean_estimate']:.4f} "
                     f"| {row['snips_interval_covers_truth']:.1%} | "
                     f"{_or_dash(row, 'dr_mean_estimate', '.4f')} | "
                     f"{_or_dash(row, 'dr_interval_covers_truth', '.1%')} | "
                     f"{_or_dash(row, 'dr_width_over_ips', '.3f')} | {row['runs']} × "
                     f"{row['lists_per_run']:,} |")
    if results.get("off_policy_command"):
        lines += ["", f"The off-policy rows were rerun with `{results['off_policy_command']}`."]
    cost = results["exploration_cost"]
    lines += ["", "True clicks per list of the plain ranking shown as is "
              f"{cost['deterministic']:.4f}; randomised at temperature 1 "
              f"{cost['temperature 1']:.4f}, at temperature 3 {cost['temperature 3']:.4f} (the "
              "price of exploring).", "", "End to end through the API (TestClient, SQLite "
              f"event store), planted lift +{results['api']['planted_lift_on_B']:.0%} on arm B, "
              f"exploration at temperature {results['api']['exploration_temperature']:g}:", "",
              "| visits | lists logged | events sent | events stored | clicks per list A | "
              "clicks per list B | verdict | plain top 10 from the logs: truth | IPS | SNIPS "
              "| seconds |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in results["api"]["runs"]:
        arms = row["clicks_per_list"]
        lines.append(f"| {row['visits']} | {row['lists_logged']} | {row['events_sent']} | "
                     f"{row['events_stored']} | {_cell(arms['A'])} | {_cell(arms['B'])} | "
                     f"{row['verdict']} | {row['plain_top_k_truth']:.4f} | "
                     f"{_cell(row['plain_top_k_ips'])} | {_cell(row['plain_top_k_snips'])} | "
                     f"{row['seconds']} |")
    lines += ["", f"Command: `{results['command']}`. {machine_line(results['machine'])}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--run", default=None, help="run folder (default: train a quick one)")
    parser.add_argument("--data", default=str(AMAZON), help="the data set the run is of")
    parser.add_argument("--shoppers", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--visits", type=int, default=6000)
    parser.add_argument("--looks", type=int, default=14)
    parser.add_argument("--api-runs", type=int, default=2)
    parser.add_argument("--api-visits", type=int, default=300)
    parser.add_argument("--only", choices=["off-policy"], default=None,
                        help="rerun this part alone and merge it into the existing report")
    args = parser.parse_args(argv)
    from engine.core.paths import prism_home

    data = Path(args.data)
    run = ensure_run(args.run, data, prism_home() / "bench" / "events-ease", "ease", 3)
    service, shop = build_shop(run, data, args.shoppers)
    lists = grids(service, shop)
    given = sys.argv[1:] if argv is None else list(argv)
    shown = [a for n, a in enumerate(given) if a != "--out" and
             (n == 0 or given[n - 1] != "--out")]  # the report names no folder of this machine
    command = "python -m bench.quality.experiments " + " ".join(shown)
    if args.only == "off-policy":
        results = read_json(args.out / "experiments.json")
        results["off_policy"] = off_policy(shop, lists, args.runs, args.visits)
        results["off_policy_command"] = command
        write_results(args.out, "experiments", results, render)
        print(render(results))
        return
    results: dict[str, Any] = {"data": data.name, "n_items": int(service.catalogue.n_items),
                               "shoppers": len(shop.users)}
    results["in_process"] = in_process(shop, lists, args.runs, args.visits, args.looks)
    results["off_policy"] = off_policy(shop, lists, args.runs, args.visits)
    results["exploration_cost"] = exploration_cost(shop, lists)
    results["api"] = through_api(run, shop, args.api_runs, args.api_visits)
    results["command"] = command
    results["machine"] = machine()
    write_results(args.out, "experiments", results, render)
    print(render(results))


if __name__ == "__main__":
    main()
