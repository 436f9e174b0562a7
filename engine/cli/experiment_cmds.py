"""`prism experiment create | status | stop`: split shoppers between published policies.

    prism experiment create spring-test --arm control=spring --arm test=summer:0.3
    prism experiment status spring-test --run RUN      # per arm, always-valid intervals
    prism experiment stop spring-test

Starting and stopping go through `engine.access.Gate` as the local user (publisher, source
"cli"). An arm is NAME=POLICY[:SHARE]: a published policy (pinned to its live version), a
name@version, or `none` for the plain ranking; arms without a share split what is left evenly.
The experiment lives in the event store (`$PRISM_EVENT_STORE`, else events.sqlite in the
Prism home), so every API worker serves it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from engine.access.roles import local_actor
from engine.cli.options import integer, number
from engine.core.errors import ConfigError
from engine.experiments.assign import (
    METRICS,
    Arm,
    Experiment,
    check_arms,
    check_exploration,
    check_name,
)
from engine.runs.store import load_run
from engine.serving.catalogue import catalogue_from_run

STORE_HELP = ("SQLAlchemy URL or SQLite file (default: $PRISM_EVENT_STORE, else events.sqlite "
              "in the Prism home)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `prism experiment ...` to the parser."""
    parser = subparsers.add_parser("experiment", help="experiments: split shoppers between "
                                                      "published policies and compare them")
    commands = parser.add_subparsers(dest="experiment_command", metavar="ACTION", required=True)
    create = commands.add_parser("create", help="start an experiment (one runs at a time)")
    create.add_argument("name")
    create.add_argument("--arm", action="append", required=True, metavar="NAME=POLICY[:SHARE]",
                        help="an arm (repeat; the first is the control), e.g. control=spring")
    create.add_argument("--metric", default="clicks_per_list",
                        help="the metric the verdict is on: clicks_per_list (default), "
                             "conversion or revenue_per_list")
    create.add_argument("--explore-temperature", type=number, default=None,
                        help="randomise the served lists (Plackett-Luce, rank units; e.g. 1)")
    create.add_argument("--explore-pool", type=integer, default=None,
                        help="items the randomised list is drawn from (default 20)")
    create.add_argument("--store", default=None, help=STORE_HELP)
    create.set_defaults(func=run_create)
    status = commands.add_parser("status", help="per arm: lists, metrics with always-valid "
                                                "intervals, and the verdict")
    status.add_argument("name", nargs="?", default=None,
                        help="default: the running experiment, else the latest")
    status.add_argument("--run", default=None, help="the served run folder: adds revenue, "
                        "category entropy, long-tail exposure and coverage")
    status.add_argument("--json", dest="json_out", action="store_true", help="print JSON")
    status.add_argument("--store", default=None, help=STORE_HELP)
    status.set_defaults(func=run_status)
    stop = commands.add_parser("stop", help="stop an experiment: everyone gets the live policy")
    stop.add_argument("name")
    stop.add_argument("--store", default=None, help=STORE_HELP)
    stop.set_defaults(func=run_stop)


def parse_arms(values: list[str]) -> list[Any]:
    """'NAME=POLICY[:SHARE]' → Arms; missing shares split the rest evenly."""
    parsed = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise ConfigError(f"--arm {value!r}: write NAME=POLICY[:SHARE], e.g. test=summer:0.5")
        policy, _, share = rest.partition(":")
        try:
            parsed.append((name, policy, float(share) if share else None))
        except ValueError:
            raise ConfigError(f"--arm {value!r}: share {share!r} is not a number") from None
    given = sum(share for _, _, share in parsed if share is not None)
    missing = sum(share is None for _, _, share in parsed)
    rest = (1.0 - given) / missing if missing else 0.0
    return list(check_arms([Arm(name, policy, rest if share is None else share)
                            for name, policy, share in parsed]))


def _stores(url: str | None) -> Any:
    from engine.events.store import EventStore
    from engine.experiments.store import ExperimentStore

    return ExperimentStore(EventStore(url))


def run_create(args: argparse.Namespace) -> int:
    from engine.access.gate import Gate

    if args.metric not in METRICS:
        raise ConfigError(f"--metric {args.metric!r}: choose one of {', '.join(METRICS)}")
    experiment = Experiment(name=check_name(args.name, "experiment name"),
                            arms=tuple(parse_arms(args.arm)), metric=args.metric,
                            exploration=check_exploration(args.explore_temperature,
                                                          args.explore_pool))
    started = Gate().start_experiment(local_actor("cli"), experiment, _stores(args.store))
    arms = ", ".join(f"{arm.name}={arm.policy} ({arm.share:.0%})" for arm in started.arms)
    print(f"experiment {started.name} running: {arms}; verdict on {started.metric}")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    from engine.access.gate import Gate

    stopped = Gate().stop_experiment(local_actor("cli"), args.name, _stores(args.store))
    print(f"experiment {stopped.name} stopped; every shopper gets the live policy again")
    return 0


def _pick(store: Any, name: str | None) -> str:
    from engine.experiments.store import ExperimentError

    if name is not None:
        return name
    running = store.running()
    if running is not None:
        return running.name
    listed = store.list()
    if not listed:
        raise ExperimentError("no experiment yet; start one with prism experiment create")
    return listed[0].name


def run_status(args: argparse.Namespace) -> int:
    from engine.experiments.report import experiment_report
    from engine.experiments.text import report_lines

    store = _stores(args.store)
    catalogue = None
    if args.run is not None:
        catalogue = catalogue_from_run(load_run(args.run))
    report = experiment_report(store, _pick(store, args.name), catalogue)
    if args.json_out:
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(report_lines(report)))
    return 0
