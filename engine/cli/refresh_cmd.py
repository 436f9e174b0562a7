"""`prism refresh --run RUN`: fold the events stored since the run was trained into its model.

Reads the event store's events after the run's last folded one, fine-tunes the served model
on them (the rows of the shoppers and items they touch, beside a replay sample of old
interactions) and writes the run's next version; a server on the run swaps it in by itself.
Counts are printed as it goes; a missing run, no new events or a model that cannot be
fine-tuned is one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from engine.access.gate import Gate
from engine.access.roles import local_actor
from engine.cli.options import positive_integer
from engine.core.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `prism refresh` to the parser."""
    refresh = subparsers.add_parser(
        "refresh", help="fine-tune a run on the events stored since it was trained; a server "
                        "on the run swaps the new version in")
    refresh.add_argument("--run", required=True, help="run folder written by prism train")
    refresh.add_argument("--out", default=None, help="write the new version here instead of "
                                                     "over the run (default: the run itself)")
    refresh.add_argument("--epochs", type=positive_integer, default=3,
                         help="passes over the new interactions (default 3)")
    refresh.add_argument("--replay", type=float, default=1.0,
                         help="old interactions replayed per new one, so the model keeps what "
                              "it knew (default 1)")
    refresh.add_argument("--store", default=None, help="SQLAlchemy URL or SQLite file (default: "
                         "$PRISM_EVENT_STORE, else events.sqlite in the Prism home)")
    refresh.set_defaults(func=run_refresh)


class _Epochs:
    """Prints each fine-tuning epoch with its loss."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_stage(self, name: str) -> None:
        print(name, file=sys.stderr, flush=True)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        print(f"epoch {epoch}/{self.epochs}: loss {logs['L']:.4f}", file=sys.stderr, flush=True)


def run_refresh(args: argparse.Namespace) -> int:
    from engine.events.store import EventStore
    from engine.events.transfer import events_after
    from engine.models.finetune import FineTune
    from engine.training.refresh import refresh_run

    if not args.replay >= 0:
        raise ConfigError(f"--replay must be a number >= 0, got {args.replay}")
    Gate.require(local_actor("cli"), "refresh")  # the new version goes live on its server
    store = EventStore(args.store)
    def read(after: int) -> pd.DataFrame:
        return events_after(store, after, lambda n: print(f"read {n:,} new events",
                                                          file=sys.stderr, flush=True))

    done = refresh_run(args.run, read, out=args.out,
                       settings=FineTune(epochs=args.epochs, replay=args.replay),
                       callbacks=[_Epochs(args.epochs)])
    tuned = done.tuned
    print(f"refreshed {done.path} to version {done.version}: {done.events:,} events "
          f"({done.skipped:,} on unknown items skipped) → {done.interactions:,} new "
          f"interactions; fine-tuned {tuned.users:,} shoppers ({tuned.new_users:,} new) and "
          f"{tuned.items:,} items on {tuned.new_examples:,} new + {tuned.replayed:,} replayed "
          f"examples in {done.seconds:.1f} s; events through id {done.events_through:,}")
    for note in done.notes:
        print(f"note: {note}")
    return 0
