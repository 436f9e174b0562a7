"""Option types for the `prism` parser, and small helpers the subcommands share.

Each type function turns one command-line string into a value or raises
`argparse.ArgumentTypeError` with one clear message; argparse then prints
`prism <command>: error: argument --name: <message>` on one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from engine.core.checks import check_target_mix, parse_number
from engine.core.errors import ConfigError
from engine.data.importers import FORMATS
from engine.models.registry import MODEL_NAMES
from engine.rerank.methods import METHODS
from engine.training.tuning import check_trials

SPLITS = ("leave-last-out", "random")
DEVICES = ("auto", "cpu", "cuda")


def number(value: str) -> float:
    """A finite float."""
    try:
        parsed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {value!r}") from None
    if not math.isfinite(parsed):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {value!r}")
    return parsed


def alpha_setting(value: str) -> tuple[float, float | None]:
    """`--alpha A` (one loss weight) or `--alpha LOW:HIGH` (a loss-conditioned range)."""
    low, sep, high = value.partition(":")
    if not sep:
        return number(value), None
    return number(low), number(high)


def integer(value: str) -> int:
    """A whole number."""
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {value!r}") from None


def positive_integer(value: str) -> int:
    """A whole number ≥ 1."""
    parsed = integer(value)
    if parsed < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {parsed}")
    return parsed


def non_negative_integer(value: str) -> int:
    """A whole number ≥ 0."""
    parsed = integer(value)
    if parsed < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {parsed}")
    return parsed


def unit_interval(value: str) -> float:
    """A number in [0, 1]."""
    parsed = number(value)
    if not 0.0 <= parsed <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {parsed:g}")
    return parsed


def trial_count(value: str) -> int:
    """A settings-search trial budget (engine/training/tuning.py's bounds)."""
    try:
        return check_trials(value, option="--tune")
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--tune ")) from None


def model_name(value: str) -> str:
    """`auto` or a registry model name (checked when parsed: the registry imports pandas)."""
    if value not in ("auto", *MODEL_NAMES):
        raise argparse.ArgumentTypeError(f"unknown model {value!r}; choose one of auto, "
                                         f"{', '.join(MODEL_NAMES)}")
    return value


def data_format(value: str) -> str:
    """`auto` or a dataset format the importers read."""
    if value not in ("auto", *FORMATS):
        raise argparse.ArgumentTypeError(f"unknown format {value!r}; choose one of auto, "
                                         f"{', '.join(FORMATS)}")
    return value


def rerank_method(value: str) -> str:
    """`none` or a re-ranking method (engine/rerank/methods.py's list)."""
    if value not in METHODS:
        raise argparse.ArgumentTypeError(f"unknown method {value!r}; choose one of "
                                         f"{', '.join(METHODS)}")
    return value


def add_diversity_weight_option(parser: argparse.ArgumentParser, typed: bool = False) -> None:
    """`--diversity-weight w` (the old `--weight` still works): the serve-time re-rank weight.

    Not the training loss weights `--alpha`/`--beta`: this one only re-orders a list.
    `typed`: argparse checks the value (a number in [0, 1]); otherwise the command does.
    """
    parser.add_argument("--diversity-weight", dest="diversity_weight",
                        default=0.0 if typed else "0.0", type=unit_interval if typed else str,
                        help="at serving: re-rank weight in [0, 1] (0 = relevance order)")
    parser.add_argument("--weight", dest="diversity_weight", default=argparse.SUPPRESS,
                        type=unit_interval if typed else str, help=argparse.SUPPRESS)


def add_target_mix_option(parser: argparse.ArgumentParser, typed: bool = False) -> None:
    """`--target-mix γ`: the calibrated re-ranker's target (1 − γ)·history + γ·catalogue.

    `typed`: argparse checks the value (a number in [0, 1]); otherwise `parse_target_mix` does.
    """
    parser.add_argument("--target-mix", default=0.5 if typed else "0.5",
                        type=unit_interval if typed else str,
                        help="calibrated only: share of the catalogue's category mix in the "
                             "target, in [0, 1] (0 = the shopper's own mix; default 0.5)")


def parse_target_mix(value: str | float) -> float:
    """--target-mix as a float in [0, 1], or ConfigError naming the option."""
    return check_target_mix(parse_number(value, "--target-mix"), "--target-mix")


def add_data_options(parser: argparse.ArgumentParser,
                     split_default: str | None = "leave-last-out") -> None:
    """`--split` and `--format`: how a dataset folder is read and split."""
    parser.add_argument("--split", default=split_default, choices=SPLITS,
                        help=" or ".join(SPLITS) + (
                            "" if split_default else " (default: the run's own split)"))
    parser.add_argument("--format", default="auto", type=data_format,
                        help="auto (detected from the files), generic, recbole or movielens")




def names_a_file(text: str) -> bool:
    """Whether an option's value names an existing file (a value that could be a path or an
    inline value); a long inline value is no file name the system takes, never an error."""
    try:
        return Path(text).is_file()
    except OSError:  # e.g. a name longer than the file system allows
        return False
