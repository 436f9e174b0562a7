"""Load test of the HTTP API: `prism serve` on loopback, concurrent clients, mixed requests.

Run from the repo root: `python -m bench.speed.load [--run RUN]`. Without --run it uses (or trains)
the same quick Amazon-Scientific two-tower run as bench/speed/serve_latency.py. Starts the server as
a child process on a free 127.0.0.1 port, runs `--clients` threads × `--requests` calls
(alternating /recommend and /search, random shoppers, methods and weights), bounded by
`--max-seconds`, stops the server by its pid, and writes the `load` section of
docs/benchmarks/serving.json (+ serving.md). The last line printed is JSON.

With `--events` the clients alternate /recommend and /events instead (a click, cart, view or
purchase on an item of the list just served, naming its request id), and after the server
has stopped the events stored in its private event store are counted: `lost_events` =
acknowledged (201) − stored. `--workers 1,2` measures each worker count in turn in the same
run (a fresh server and store each time) and reports the throughput ratio to the first.

Each server is measured warm: after /healthz answers, the load waits until the server's
processes go quiet (every worker loads the search encoder in the background; that warm-up's
CPU seconds are reported apart). CPU per request is reported for the server's processes and
for the clients (this process), with the cores both kept busy: on a machine with no spare
core, a second worker cannot raise throughput, only the CPU each request costs can.

Before the server starts, the same kind of /recommend body is timed in this process with
`Recommender.recommend()` (`--in-process` calls, one at a time), so the report gives the HTTP
figures as ratios to the in-process call as well: on a busy machine the ratios hold better
than the absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.common import AMAZON, REPO, SERVE_METHODS, add_out, ensure_run, machine, percentile
from bench.speed.serving_report import update_report
from engine.core.paths import prism_home

METHODS = SERVE_METHODS
STARTUP_SECONDS = 180
QUIET_WINDOW_S, QUIET_CPU_S, WARM_LIMIT_S = 1.0, 0.05, 180.0  # warm: < 5% of a core for 1 s


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--run", default=None, help="run folder (default: the quick Amazon run)")
    parser.add_argument("--data", default=str(AMAZON), help="dataset for the quick run")
    parser.add_argument("--model", default="twotower")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=500, help="requests per client")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop sending after")
    parser.add_argument("--only-recommend", action="store_true",
                        help="send /recommend only (no /search)")
    parser.add_argument("--policy", default=None,
                        help="policy JSON to create and publish first (a private PRISM_HOME "
                             "for the server); /recommend then serves it with attribution")
    parser.add_argument("--events", action="store_true",
                        help="alternate /recommend and /events (and count lost events)")
    parser.add_argument("--workers", default="1",
                        help="prism serve --workers; a comma list (1,2) measures each in turn")
    parser.add_argument("--in-process", type=int, default=200,
                        help="recommend() calls timed in process before the server starts")
    parser.add_argument("--no-report", action="store_true")
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(run: Path, port: int, workers: int = 1,
                 env: dict[str, str] | None = None) -> subprocess.Popen:
    """`prism serve` as a direct child; returns once /healthz answers."""
    process = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--run", str(run),
                                "--port", str(port), "--host", "127.0.0.1",
                                "--workers", str(workers)], cwd=REPO, env=env)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"bench: prism serve exited with code {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_server(process)
    sys.exit(f"bench: prism serve did not answer /healthz within {STARTUP_SECONDS} s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def recommend_body(rng: random.Random, users: list[str]) -> dict:
    """One /recommend body as the clients send it: a random shopper, method and weight."""
    return {"k": 10, "method": rng.choice(METHODS), "diversity_weight": round(rng.random(), 2),
            "user_id": rng.choice(users)}


def in_process_ms(run: Path, users: list[str], n_calls: int) -> dict:
    """Per-call time of `Recommender.recommend()` in this process over `n_calls` bodies."""
    from engine.serving.recommender import Recommender

    service = Recommender.load(run, torch_threads=1)
    rng = random.Random(12345)
    bodies = [recommend_body(rng, users) for _ in range(n_calls + 10)]
    for body in bodies[:10]:  # warm-up: first calls build caches
        service.recommend(**body)
    times = []
    for body in bodies[10:]:
        start = time.perf_counter()
        service.recommend(**body)
        times.append((time.perf_counter() - start) * 1e3)
    return {"calls": n_calls, "mean_ms": round(sum(times) / len(times), 3),
            "p50_ms": round(percentile(times, 50), 3), "p99_ms": round(percentile(times, 99), 3)}


EVENT_KINDS = ("view", "click", "cart", "purchase")


def event_body(rng: random.Random, shown: dict) -> dict | None:
    """An event on an item of the list just served (None when it showed nothing)."""
    if not shown.get("items"):
        return None
    return {"user_id": shown["user_id"], "item_id": rng.choice(shown["items"])["item_id"],
            "event": rng.choice(EVENT_KINDS), "list_id": shown["request_id"]}


def client_loop(base: str, client_id: int, n_requests: int, users: list[str],
                queries: list[str], deadline: float, mode: str = "search"
                ) -> list[tuple[str, float, bool]]:
    """One client's (endpoint, ms, ok) records; /recommend alternates with /search or
    /events (mode), or runs alone (mode 'recommend'). An event answered 201 is ok."""
    rng = random.Random(client_id)
    records, shown = [], {}
    with httpx.Client(base_url=base, timeout=30.0) as http:
        for i in range(n_requests):
            if time.monotonic() > deadline:
                break
            body, endpoint = recommend_body(rng, users), "/recommend"
            event = event_body(rng, shown) if i % 2 == 1 and mode == "events" else None
            if i % 2 == 1 and mode == "search":
                endpoint, body["query"] = "/search", rng.choice(queries)
                body["user_id"] = rng.choice(users) if rng.random() < 0.5 else None
            elif event is not None:
                endpoint, body = "/events", event
            start = time.perf_counter()
            try:
                answer = http.post(endpoint, json=body)
                ok = answer.status_code == (201 if endpoint == "/events" else 200)
            except httpx.HTTPError:
                ok = False
            records.append((endpoint, (time.perf_counter() - start) * 1e3, ok))
            if endpoint == "/recommend":
                shown = {**answer.json(), "user_id": body["user_id"]} if ok else {}
    return records


def server_home(policy_file: str | None) -> tuple[Path, str | None]:
    """A private PRISM_HOME for one server (its own event and policy stores), with the policy
    stored and published there when one is given."""
    home = Path(tempfile.mkdtemp(prefix="prism-load-"))
    if policy_file is None:
        return home, None
    from engine.policy.schema import parse_policy
    from engine.policy.store import PolicyStore

    store = PolicyStore(home / "scenarios.sqlite")
    saved = store.save(parse_policy(Path(policy_file).read_text(), policy_file))
    store.publish(saved.name, saved.version)
    return home, f"{saved.name}@{saved.version}"


def stored_events(home: Path) -> int:
    from engine.events.store import EventStore

    store = EventStore(home / "events.sqlite")
    try:
        return store.count()
    finally:
        store.close()


def workload(run: Path) -> tuple[list[str], list[str], str, str]:
    """Shoppers and queries drawn from the run itself, plus its model and dataset names."""
    from engine.runs.store import load_run

    loaded = load_run(run)
    titles = loaded.items["title"].astype(str).tolist()
    queries = [" ".join(titles[j * 53 % len(titles)].split()[:3]) for j in range(200)]
    return (loaded.user_ids[:2000], queries, loaded.model.name,
            str(loaded.meta.get("dataset", "?")))


def summarise(records: list[tuple[str, float, bool]], wall: float) -> dict:
    times = [ms for _, ms, _ in records] or [0.0]
    per_endpoint = {}
    for endpoint in sorted({e for e, _, _ in records}):
        chosen = [ms for e, ms, _ in records if e == endpoint]
        per_endpoint[endpoint] = {"requests": len(chosen),
                                  "p50_ms": round(percentile(chosen, 50), 2),
                                  "p99_ms": round(percentile(chosen, 99), 2)}
    return {"requests": len(records), "errors": sum(not ok for _, _, ok in records),
            "p50_ms": round(percentile(times, 50), 2), "p99_ms": round(percentile(times, 99), 2),
            "throughput_rps": round(len(records) / wall, 1), "wall_s": round(wall, 1),
            "per_endpoint": per_endpoint}


def with_ratios(summary: dict, local: dict) -> dict:
    """The HTTP figures over the in-process call: how many in-process calls one HTTP request
    costs (latency) and what share of the in-process call rate the server reaches."""
    return {"in_process": local,
            "ratio": {"p50_over_in_process": round(summary["p50_ms"] / local["mean_ms"], 2),
                      "p99_over_in_process": round(summary["p99_ms"] / local["mean_ms"], 2),
                      "throughput_over_in_process_rate": round(
                          summary["throughput_rps"] * local["mean_ms"] / 1e3, 3),
                      "server_cpu_over_in_process": round(
                          summary["server_cpu_ms_per_request"] / local["mean_ms"], 3)}}


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds used so far by process `root` and its live descendants (the
    server and its workers; Linux /proc): unlike wall time, hardly moved by other work on a
    shared machine."""
    procs: dict[int, tuple[int, int]] = {}  # pid -> (parent, clock ticks)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        procs[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, grown = {root}, True
    while grown:
        found = {pid for pid, (parent, _) in procs.items() if parent in tree} - tree
        tree, grown = tree | found, bool(found)
    return sum(procs[pid][1] for pid in tree if pid in procs) / os.sysconf("SC_CLK_TCK")


def wait_warm(pid: int) -> float:
    """Wait until the server's processes go quiet after /healthz first answers — every worker
    loads the search encoder in the background, which would otherwise be counted against
    the load (and compete with it) — and return the CPU seconds that warm-up took."""
    start = last = tree_cpu_seconds(pid)
    deadline = time.monotonic() + WARM_LIMIT_S
    while time.monotonic() < deadline:
        time.sleep(QUIET_WINDOW_S)
        now = tree_cpu_seconds(pid)
        if now - last < QUIET_CPU_S:
            break
        last = now
    return round(last - start, 2)


def own_cpu_seconds() -> float:
    """User + system CPU seconds of this process (the client threads, during the load)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(run: Path, workers: int, args: argparse.Namespace, users: list[str],
            queries: list[str]) -> tuple[dict, str | None]:
    """One server with `workers` workers and a fresh home: the clients' summary (with the
    acknowledged and stored event counts) and the live policy's name."""
    home, policy_name = server_home(args.policy)
    port = free_port()
    server = start_server(run, port, workers, {**os.environ, "PRISM_HOME": str(home)})
    mode = "recommend" if args.only_recommend else "events" if args.events else "search"
    records: list[tuple[str, float, bool]] = []
    try:
        warmup = wait_warm(server.pid)
        started, cpu, own = time.monotonic(), tree_cpu_seconds(server.pid), own_cpu_seconds()
        deadline = started + args.max_seconds
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            futures = [pool.submit(client_loop, f"http://127.0.0.1:{port}", c, args.requests,
                                   users, queries, deadline, mode)
                       for c in range(args.clients)]
            for future in futures:
                records.extend(future.result())
        wall, cpu = time.monotonic() - started, tree_cpu_seconds(server.pid) - cpu
        own = own_cpu_seconds() - own
    finally:
        stop_server(server)
    summary = summarise(records, wall)
    summary.update(cpu_summary(cpu, own, len(records), wall), warmup_cpu_s=warmup)
    if args.events:
        acked = sum(ok for endpoint, _, ok in records if endpoint == "/events")
        stored = stored_events(home)
        summary.update(events_acknowledged=acked, events_stored=stored,
                       lost_events=acked - stored)
    shutil.rmtree(home, ignore_errors=True)
    return summary, policy_name


def cpu_summary(server: float, clients: float, requests: int, wall: float) -> dict:
    """CPU per request of the server's processes and of the clients (this process), and the
    cores both kept busy together: throughput is the cores a load gets over its CPU per
    request, so more workers pay only where they bring more cores than they cost."""
    return {"server_cpu_ms_per_request": round(server * 1e3 / max(requests, 1), 3),
            "client_cpu_ms_per_request": round(clients * 1e3 / max(requests, 1), 3),
            "cores_busy": round((server + clients) / max(wall, 1e-9), 2)}


def compare_workers(first: dict, others: dict[int, dict]) -> dict:
    """Each further worker count's figures and its throughput over the first's."""
    keep = ("requests", "errors", "p50_ms", "p99_ms", "throughput_rps", "lost_events",
            "server_cpu_ms_per_request", "client_cpu_ms_per_request", "cores_busy",
            "warmup_cpu_s")
    return {str(n): {**{k: row[k] for k in keep if k in row},
                     "throughput_over_first": round(row["throughput_rps"]
                                                    / first["throughput_rps"], 2)}
            for n, row in others.items()}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    run = ensure_run(args.run, Path(args.data), prism_home() / "bench" / f"amazon-{args.model}",
                     args.model, args.epochs)
    users, queries, model_name, dataset = workload(run)
    conditions = machine()
    local = in_process_ms(run, users, args.in_process)
    summary, policy_name = measure(run, counts[0], args, users, queries)
    summary.update(with_ratios(summary, local))
    if counts[1:]:
        summary["more_workers"] = compare_workers(
            summary, {n: measure(run, n, args, users, queries)[0] for n in counts[1:]})
    command = f"python -m bench.speed.load --clients {args.clients} --requests {args.requests}" + \
        (" --only-recommend" if args.only_recommend else "") + \
        (" --events" if args.events else "") + \
        (f" --policy {args.policy}" if args.policy else "") + \
        (f" --workers {args.workers}" if args.workers != "1" else "") + \
        (" --run RUN" if args.run else "")
    payload = {"command": command, "policy": policy_name, "workers": counts[0],
               "only_recommend": args.only_recommend, "events": args.events,
               "clients": args.clients, "requests_per_client": args.requests,
               "run_model": model_name, "dataset": dataset, "machine": conditions,
               "load_average_after": round(os.getloadavg()[0], 2), **summary}
    print(json.dumps({k: v for k, v in summary.items() if k != "per_endpoint"}))
    if not args.no_report:
        update_report(report_section(args), payload, args.out)


def report_section(args: argparse.Namespace) -> str:
    """Which serving.json section a run fills: mixed, /recommend alone, or with a policy."""
    if args.policy:
        return "load_policy"
    if args.events:
        return "load_events"
    return "load_recommend" if args.only_recommend else "load"


if __name__ == "__main__":
    main()
