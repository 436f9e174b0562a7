"""Slow-request probe: the costliest requests the API's limits still allow, timed on one run.

Run from the repo root: `python -m bench.speed.request_probe [--run RUN]`. Without --run it uses (or
trains) the quick Amazon-Scientific two-tower run of bench/speed/serve_latency.py. Each probe is a
request at the edge of the limits in engine/core/limits.py (longest lists, largest candidate
pools, the DPP bound, a full what-if session, a policy) sent `--repeats` times in process
through the app (middleware and validation included, no network); the slowest answer counts.
Writes docs/benchmarks/request_probe.json and .md; the last line printed is JSON. It measures
and reports: the limits are meant to keep every answer under `--budget` seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import AMAZON, REPO, add_out, ensure_run, machine, write_results
from engine.core.limits import (
    MAX_CANDIDATES,
    MAX_DPP_WORK,
    MAX_HISTORY,
    MAX_K,
    MAX_RERANK_WORK,
)

POLICY = REPO / "examples" / "policies" / "amazon-spring.json"


def edge_requests(user: str, items: list[str], n_items: int) -> list[tuple[str, str, dict]]:
    """(label, path, body) for each request at the edge of the limits on a catalogue of
    `n_items` (k never above it)."""
    top_k = min(MAX_K, n_items)
    dpp_k = min(int(round((MAX_DPP_WORK / MAX_CANDIDATES) ** 0.5)), n_items)
    cube_k = min(int(MAX_DPP_WORK ** (1 / 3)), n_items)
    wide = MAX_RERANK_WORK // top_k
    probes = [("none, longest list, largest pool", "/recommend",
               {"user_id": user, "k": top_k, "method": "none", "n_candidates": MAX_CANDIDATES})]
    for method in ("mmr", "calibrated"):
        probes += [(f"{method}, k={top_k} × {max(wide, top_k)} candidates", "/recommend",
                    {"user_id": user, "k": top_k, "method": method, "diversity_weight": 0.5,
                     "n_candidates": wide}),
                   (f"{method}, k={MAX_RERANK_WORK // MAX_CANDIDATES} × {MAX_CANDIDATES} "
                    "candidates", "/recommend",
                    {"user_id": user, "k": MAX_RERANK_WORK // MAX_CANDIDATES, "method": method,
                     "diversity_weight": 0.5, "n_candidates": MAX_CANDIDATES})]
    probes += [(f"dpp, k={dpp_k} × {MAX_CANDIDATES} candidates", "/recommend",
                {"user_id": user, "k": dpp_k, "method": "dpp", "diversity_weight": 0.5,
                 "n_candidates": MAX_CANDIDATES}),
               (f"dpp, k={cube_k} × {cube_k} candidates", "/recommend",
                {"user_id": user, "k": cube_k, "method": "dpp", "diversity_weight": 0.5,
                 "n_candidates": cube_k}),
               (f"what-if session of {MAX_HISTORY} items, mmr", "/recommend",
                {"history": (items * MAX_HISTORY)[:MAX_HISTORY], "k": 100, "method": "mmr",
                 "diversity_weight": 0.5, "n_candidates": 2000}),
               (f"search, k={top_k}, mmr", "/search",
                {"query": "safety glasses for the lab", "k": top_k, "method": "mmr",
                 "diversity_weight": 0.5}),
               (f"trending, k={top_k}, mmr", f"/hot?k={top_k}&method=mmr&diversity_weight=0.5",
                {}),
               ("policy amazon-spring (DPP 0.3, caps, pin), k=200", "/recommend",
                {"user_id": user, "k": min(200, n_items), "policy": "amazon-spring"})]
    return [(label, path, {**body, "policy": body.get("policy", "none")}
             if path == "/recommend" else body)
            for label, path, body in probes]  # the plain ranking unless a policy is named


def run_probes(client: Any, probes: list[tuple[str, str, dict]], repeats: int) -> list[dict]:
    rows = []
    for label, path, body in probes:
        seconds, status = [], None
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.get(path) if not body else client.post(path, json=body)
            seconds.append(time.perf_counter() - started)
            status = response.status_code
        rows.append({"request": label, "status": status, "max_seconds": round(max(seconds), 3),
                     "min_seconds": round(min(seconds), 3)})
        print(f"{label:<55} {status} {max(seconds):7.3f} s", file=sys.stderr, flush=True)
    return rows


def app_for(run: Path, home: Path) -> Any:
    """The API app on `run` with a private Prism home holding the example policy (live)."""
    import os

    from fastapi.testclient import TestClient

    os.environ["PRISM_HOME"] = str(home)
    from engine.api.app import create_app
    from engine.policy.schema import parse_policy
    from engine.policy.store import PolicyStore

    store = PolicyStore()
    store.save(parse_policy(POLICY.read_text(encoding="utf-8"), str(POLICY)))
    return TestClient(create_app(run), raise_server_exceptions=False)


def render(report: dict[str, Any]) -> str:
    lines = ["# Slow-request probe", "",
             f"Command: `{report['command']}` · run `{report['run']}` "
             f"({report['n_items']:,} items) · {report['repeats']} tries each · "
             f"{report['machine']['cpu_cores']} cores, load "
             f"{report['machine']['load_average_1min']}",
             "", f"Slowest answer: **{report['slowest_seconds']:.3f} s** "
             f"(budget {report['budget_seconds']:g} s: "
             f"{'within' if report['within_budget'] else 'OVER'}).", "",
             "| request | status | slowest (s) | fastest (s) |", "|---|---:|---:|---:|"]
    lines += [f"| {r['request']} | {r['status']} | {r['max_seconds']:.3f} | "
              f"{r['min_seconds']:.3f} |" for r in report["probes"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--run", default=None, help="run folder (default: the quick Amazon run)")
    parser.add_argument("--data", default=str(AMAZON))
    parser.add_argument("--model", default="twotower")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per request")
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args(argv)
    from engine.core.paths import prism_home

    run = ensure_run(args.run, Path(args.data), prism_home() / "bench" / f"amazon-{args.model}",
                     args.model, args.epochs)
    with tempfile.TemporaryDirectory(prefix="prism_probe_") as home:
        client = app_for(run, Path(home))
        service = client.app.state.recommender
        probes = edge_requests(service.user_ids[0], service.catalogue.columns.ids[:50].tolist(),
                               service.catalogue.n_items)
        client.post("/recommend", json={"user_id": service.user_ids[0]})  # warm caches and
        client.post("/search", json={"query": "glue"})  # load the text model
        from engine.policy.store import PolicyStore

        PolicyStore().publish("amazon-spring")
        rows = run_probes(client, probes, args.repeats)
    slowest = max(r["max_seconds"] for r in rows)
    report = {"command": "python -m bench.speed.request_probe"
              + (" --run RUN" if args.run else ""),
              "run": run.name, "n_items": int(service.catalogue.n_items),
              "repeats": args.repeats, "budget_seconds": args.budget,
              "slowest_seconds": slowest, "within_budget": slowest <= args.budget,
              "all_answered": all(r["status"] < 500 for r in rows), "probes": rows,
              "machine": machine()}
    if not args.no_report:
        write_results(args.out, "request_probe", report, render)
    print(json.dumps({k: report[k] for k in ("run", "slowest_seconds", "within_budget",
                                             "all_answered")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
