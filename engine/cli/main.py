"""The `prism` entry point: one parser, every subcommand, one-line errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from engine import __version__
from engine.cli import (
    ask_cmd,
    data_cmds,
    evaluate_cmd,
    events_cmds,
    experiment_cmds,
    exposure_cmds,
    index_cmd,
    metrics_cmd,
    policy_cmds,
    refresh_cmd,
    serve_cmds,
    train_cmd,
)
from engine.core.errors import PrismError

EXIT_USAGE = 2
SUBCOMMAND_MODULES = (data_cmds, train_cmd, evaluate_cmd, serve_cmds, policy_cmds,
                      exposure_cmds, events_cmds, experiment_cmds, refresh_cmd, metrics_cmd,
                      ask_cmd, index_cmd)


class UsageError(Exception):
    """A command line argparse rejected: `prog` is the (sub)command, `message` says why."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog, self.message = prog, message


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block), shown by `main`."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, message)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="prism", description="Prism: diversity-aware recommendation studio."
    )
    parser.add_argument("--version", action="version", version=f"prism {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMAND_MODULES:
        module.register(subparsers)
    return parser


def fail(message: str) -> int:
    """Print one clear line and return the usage exit code."""
    print(f"prism: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"{exc.prog}: error: {exc.message} (see {exc.prog} --help)", file=sys.stderr)
        return EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except PrismError as exc:
        return fail(str(exc))
    except FileNotFoundError as exc:
        return fail(f"{exc.filename or exc}: no such file or folder; check the path.")
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return fail(f"{exc.strerror or exc}{where}; check the path and its permissions.")
    except KeyboardInterrupt:
        print("prism: interrupted", file=sys.stderr)
        return 130
