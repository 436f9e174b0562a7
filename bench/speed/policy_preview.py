"""Policy preview speed: two policies over every held-out test shopper of a run.

Run from the repo root: `python -m bench.speed.policy_preview --run RUN [--policy FILE]
[--against FILE|none] [--repeats 3]`. Loads the run and its test split once, then times
`engine.policy.preview.preview` (one scoring pass, both policies applied in blocks, the
paired bootstrap report) `--repeats` times and keeps the fastest and the median. Writes
docs/benchmarks/policy_preview.json and .md; the last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench.common import REPO, add_out, machine, machine_line, write_results
from engine.policy.preview import load_inputs, preview
from engine.policy.schema import parse_policy


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = add_out(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--run", required=True, help="run folder (its run.json names the data)")
    parser.add_argument("--data", default=None, help="dataset folder (default: the run's)")
    parser.add_argument("--policy", default="examples/policies/amazon-spring.json")
    parser.add_argument("--against", default="none", help="'none' or a policy JSON file")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--no-report", action="store_true")
    return parser.parse_args(argv)


def read(path: str):  # noqa: ANN201 - a Policy
    return parse_policy((REPO / path).read_text() if not Path(path).is_absolute()
                        else Path(path).read_text(), path)


def render(payload: dict) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in (
        ("policy", payload["policy"]), ("against", payload["against"]),
        ("test shoppers", f"{payload['n_users']:,}"), ("k", payload["k"]),
        ("loading run + split (s, once)", payload["seconds_loading"]),
        ("preview, fastest (s)", payload["seconds_fastest"]),
        ("preview, median (s)", payload["seconds_median"]),
        ("of which replay: scoring + both policies (s, fastest)", payload["seconds_replay"]),
        ("process CPU time of one preview (s, fastest; both cores count)",
         payload["cpu_seconds_fastest"]),
        ("goal (s)", payload["goal_s"]), ("machine", machine_line(payload["machine"]))))
    return ("# Policy preview speed\n\n"
            f"Command: `{payload['command']}`. One preview = one scoring pass over every "
            "test shopper, both policies applied in blocks of 512, and the impact report with "
            "1,000 paired bootstrap resamples. The machine was shared: wall time grows with "
            "the load average; the CPU time is what the preview itself used.\n\n"
            f"| measure | value |\n|---|---|\n{rows}\n")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    inputs = load_inputs(args.run, args.data)
    policy = read(args.policy)
    against = None if args.against == "none" else read(args.against)
    times, replays, cpu, report = [], [], [], None
    for _ in range(args.repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        report = preview(inputs, policy, against, k=args.k)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        replays.append(report["seconds"]["replay"])
    payload = {
        "command": f"python -m bench.speed.policy_preview --run RUN --policy {args.policy} "
                   f"--against {args.against} --repeats {args.repeats}",
        "run_model": inputs.run.model.name, "dataset": inputs.run.meta.get("dataset"),
        "policy": report["policy"], "against": report["against"], "k": args.k,
        "n_users": report["n_users"], "seconds_loading": round(inputs.seconds_loading, 2),
        "seconds_fastest": round(min(times), 2),
        "seconds_median": round(statistics.median(times), 2),
        "seconds_replay": round(min(replays), 2), "cpu_seconds_fastest": round(min(cpu), 2),
        "goal_s": 5.0,
        "machine": machine(),
    }
    print(json.dumps(payload))
    if not args.no_report:
        write_results(args.out, "policy_preview", payload, render)


if __name__ == "__main__":
    main()
