"""Validate serving requests and turn category names into the arrays the re-rankers read.

Every check raises `RequestError` with what is wrong, which field, and what to do, so the CLI
prints one line and the API answers 400 instead of a traceback or a silently wrong list.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.core.errors import RequestError
from engine.core.limits import MAX_CANDIDATES, check_work
from engine.rerank.quotas import check_bounds, check_supply
from engine.rerank.targets import DEFAULT_TARGET_MIX

Quota = tuple[int | None, int | None]


@dataclass(frozen=True)
class RankRequest:
    """A validated ranking request, with categories already mapped to indices."""

    k: int
    method: str
    diversity_weight: float
    n_candidates: int
    allowed_categories: np.ndarray | None = None  # (C,) bool, None = every category
    category_boosts: np.ndarray | None = None  # (C,) additive relevance boost per category
    promo_boost: float = 0.0
    target: np.ndarray | None = None  # (C,) distribution for the calibrated re-ranker
    quotas: dict[int, Quota] | None = None  # category index -> (floor, cap)
    target_mix: float = DEFAULT_TARGET_MIX  # calibrated target (1 - γ)·history + γ·prior


def check_candidates(n_candidates: object, k: int) -> int:
    """The candidate pool must hold at least k items and stay small enough to re-rank."""
    if isinstance(n_candidates, bool) or not isinstance(n_candidates, int | np.integer):
        raise RequestError(f"n_candidates must be a whole number, got {n_candidates!r}")
    if not 1 <= int(n_candidates) <= MAX_CANDIDATES:
        raise RequestError(f"n_candidates must be between 1 and {MAX_CANDIDATES}, "
                           f"got {n_candidates}")
    return max(int(n_candidates), k)


def check_cost(k: int, n_candidates: int, method: str) -> None:
    """A re-ranked list must stay within the cost limits (engine.core.limits)."""
    check_work(k, n_candidates, method)


def category_positions(names: Sequence[str], category_names: Sequence[str],
                       field: str) -> list[int]:
    """Indices of `names` among the run's categories; unknown names are listed in the error."""
    position = {name: i for i, name in enumerate(category_names)}
    unknown = [name for name in names if name not in position]
    if unknown:
        shown = ", ".join(repr(n) for n in list(category_names)[:20])
        more = " ..." if len(category_names) > 20 else ""
        raise RequestError(f"{field}: unknown categor{'y' if len(unknown) == 1 else 'ies'} "
                           f"{unknown}; known categories are {shown}{more}")
    return [position[name] for name in names]


def category_vector(values: Mapping[str, float], category_names: Sequence[str],
                    field: str) -> np.ndarray:
    """(C,) float vector from a {category name: value} mapping; values must be finite."""
    vector = np.zeros(len(category_names), dtype=np.float64)
    positions = category_positions(list(values), category_names, field)
    for position, (name, value) in zip(positions, values.items(), strict=True):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value):
            raise RequestError(f"{field}[{name!r}] must be a finite number, got {value!r}")
        vector[position] = float(value)
    return vector


def target_vector(target: Mapping[str, float], category_names: Sequence[str]) -> np.ndarray:
    """A merchandiser's target category distribution, normalised to sum to 1."""
    vector = category_vector(target, category_names, "target")
    if (vector < 0).any() or vector.sum() <= 0:
        raise RequestError("target: shares must be >= 0 and at least one must be > 0")
    return vector / vector.sum()


def quota_map(quotas: Mapping[str, Sequence[int | None]], category_names: Sequence[str],
              k: int, available: np.ndarray) -> dict[int, Quota]:
    """Category index -> (floor, cap), rejecting quotas no list of length k can satisfy.

    `available[c]` is how many catalogue items carry category c.
    """
    positions = category_positions(list(quotas), category_names, "quotas")
    named = {name: check_bounds(name, bounds) for name, bounds in quotas.items()}
    check_supply(named, {name: available[p] for name, p in zip(named, positions, strict=True)},
                 k, "catalogue items")
    out = dict(zip(positions, named.values(), strict=True))
    capped_all = len(out) == len(category_names) and all(c is not None for _, c in out.values())
    if capped_all and sum(c or 0 for _, c in out.values()) < k:
        raise RequestError(f"quotas: caps add up to fewer than k={k} slots; raise the caps")
    return out


def check_boost(value: object) -> float:
    """A finite promo boost, else RequestError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise RequestError(f"promo_boost must be a finite number, got {value!r}")
    return float(value)
