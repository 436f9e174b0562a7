"""`prism metrics`: the metric vocabulary — each column's name, definition and meaning."""

from __future__ import annotations

import argparse
import json

from engine.metrics.registry import METRICS, as_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `metrics` to the `prism` parser."""
    command = subparsers.add_parser(
        "metrics", help="what every metric column means (name, definition, plain words)")
    command.add_argument("--json", action="store_true", help="print the vocabulary as JSON")
    command.set_defaults(func=metrics_command)


def metrics_command(args: argparse.Namespace) -> int:
    """Print every metric of `engine.metrics.registry`, one block each (or JSON)."""
    if args.json:
        print(json.dumps(as_json(), ensure_ascii=False, indent=1))
        return 0
    for metric in METRICS.values():
        print(f"{metric.key}@k — {metric.name.format(k='k')}\n  {metric.definition}\n"
              f"  {metric.explanation}\n")
    return 0
