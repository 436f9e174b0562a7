"""The one check of each value a ranking request or setting shares: list length k, the
diversity weight and the calibration target mix. Serving, the re-rankers, policies, the
evaluation protocol, metrics, the API and the CLI all call these, so the same value gets the
same answer and message everywhere (a string such as "0.5" is refused everywhere: parsing text
is the job of the CLI's and the API's own parsers, which say where the text came from; they
and the sweep's weight grid read a number from text with `parse_number`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.core.errors import ConfigError, ValueCheckError


def check_k(k: object, n_items: int | None = None, field: str = "k") -> int:
    """`k` as an int: a whole number >= 1 (and <= the catalogue size `n_items`, when given)."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ValueCheckError(f"{field} must be a whole number >= 1, got {k!r}")
    if n_items is not None and not 1 <= int(k) <= n_items:
        raise ValueCheckError(f"{field} must be between 1 and the catalogue size {n_items}, "
                              f"got {k}")
    if int(k) < 1:
        raise ValueCheckError(f"{field} must be a whole number >= 1, got {k!r}")
    return int(k)


def _unit_number(value: object, field: str, meaning: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueCheckError(f"{field} must be a number in [0, 1], got {value!r}")
    number = float(value)
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise ValueCheckError(f"{field} must be in [0, 1]{meaning}, got {value!r}")
    return number


def check_weight(weight: object, field: str = "diversity_weight") -> float:
    """The serve-time diversity weight: a number (not text) in [0, 1]."""
    return _unit_number(weight, field)


def check_target_mix(value: object, field: str = "target_mix") -> float:
    """γ, the calibrated target's share of the catalogue mix: a number in [0, 1]."""
    return _unit_number(value, field, " (0 = the shopper's own category mix, "
                                      "1 = the catalogue's)")


def parse_number(value: str, option: str, kind: type = float) -> Any:
    """A number from a string option read without `type=`, or ConfigError naming the option."""
    try:
        parsed = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{option} must be a{'n integer' if kind is int else ' number'}, "
                          f"got {value!r}") from None
    if parsed != parsed or parsed in (float("inf"), float("-inf")):
        raise ConfigError(f"{option} must be a finite number, got {value!r}")
    return parsed
