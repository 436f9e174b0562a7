"""Interactions (one row per user and item) and the evaluation splits.

Splits work on `interactions(events)`, so a (user, item) pair lives in exactly one of train,
valid and test: held-out items can never leak into training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.core.columns import ITEM_ID, TIMESTAMP, USER_ID, WEIGHT
from engine.core.errors import ConfigError, DataError
from engine.core.messages import render

COUNT = "count"
PROTOCOLS = ("leave-last-out", "random")
RANDOM_RATIOS = (0.8, 0.1, 0.1)  # RecBole's RS default


@dataclass
class Split:
    """Train/validation/test interactions (same columns as `interactions`)."""

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame

    def heldout_by_user(self) -> dict[str, list[str]]:
        """user_id -> held-out item ids (validation, then test), for per-shopper precision."""
        frame = pd.concat([self.valid, self.test], ignore_index=True)
        if frame.empty:
            return {}
        grouped = frame.groupby(USER_ID, sort=False)[ITEM_ID]
        return {str(user): [str(item) for item in items] for user, items in grouped}


def interactions(events: pd.DataFrame) -> pd.DataFrame:
    """Collapse events to one row per (user, item).

    `timestamp` is the last time, `weight` the strongest event's weight, `count` the number of
    events collapsed. Sorted by user, timestamp (ties by item id, so the order is stable).
    """
    missing = [c for c in (USER_ID, ITEM_ID, TIMESTAMP, WEIGHT) if c not in events.columns]
    if missing:
        raise DataError(render("events: missing {n:column|columns} {missing} needed for "
                               "interactions; load the data with load_dataset first",
                               n=len(missing), missing=", ".join(missing)))
    grouped = events.groupby([USER_ID, ITEM_ID], sort=False, observed=True)
    inter = grouped.agg(**{TIMESTAMP: (TIMESTAMP, "max"), WEIGHT: (WEIGHT, "max"),
                           COUNT: (TIMESTAMP, "size")}).reset_index()
    inter[TIMESTAMP] = inter[TIMESTAMP].astype(np.int64)
    inter[WEIGHT] = inter[WEIGHT].astype(float)
    inter[COUNT] = inter[COUNT].astype(np.int64)
    inter = inter.sort_values([USER_ID, TIMESTAMP, ITEM_ID], kind="stable")
    return inter.reset_index(drop=True)


def _user_runs(users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows grouped by user: each row's position within its user and its user's size."""
    n = len(users)
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]]) if n else np.empty(0, int)
    sizes = np.diff(np.r_[starts, n])
    position = np.arange(n) - np.repeat(starts, sizes)
    return position, np.repeat(sizes, sizes)


def _leave_last_out(inter: pd.DataFrame) -> np.ndarray:
    """0 train, 1 valid, 2 test: last → test, second-to-last → valid (users with ≥ 3)."""
    position, size = _user_runs(inter[USER_ID].to_numpy())
    part = np.zeros(len(inter), dtype=np.int8)
    eligible = size >= 3
    part[eligible & (position == size - 1)] = 2
    part[eligible & (position == size - 2)] = 1
    return part


def ratio_counts(size: np.ndarray, ratios: tuple[float, ...] = RANDOM_RATIOS) -> np.ndarray:
    """(n, 3) train/valid/test counts per group, rounded exactly as RecBole's split_by_ratio.

    valid/test get floor(ratio·n); train the rest; then, for test and then valid, a part whose
    exact share is in (0, 1) gets one row taken from train while train keeps more than one.
    """
    total = sum(ratios)
    ratios = tuple(r / total for r in ratios)  # RecBole normalises the ratios first
    size = np.asarray(size, dtype=np.int64)
    counts = np.zeros((len(size), len(ratios)), dtype=np.int64)
    for j in range(1, len(ratios)):
        counts[:, j] = np.floor(ratios[j] * size.astype(float)).astype(np.int64)
    counts[:, 0] = size - counts[:, 1:].sum(axis=1)
    for j in range(len(ratios) - 1, 0, -1):
        share = ratios[j] * size.astype(float)
        bump = (counts[:, 0] > 1) & (share > 0) & (share < 1)
        counts[bump, j] += 1
        counts[bump, 0] -= 1
    return counts


def _random_split(inter: pd.DataFrame, seed: int) -> np.ndarray:
    """RecBole RS 8:1:1 per user: shuffle each user's rows with the seed, cut by ratio."""
    rng = np.random.default_rng(seed)
    users = inter[USER_ID].to_numpy()
    user_codes = pd.factorize(users, sort=True)[0]
    order = np.lexsort((rng.permutation(len(inter)), user_codes))
    position, size = _user_runs(user_codes[order])
    counts = ratio_counts(size)
    part_sorted = np.where(position < counts[:, 0], 0,
                           np.where(position < counts[:, 0] + counts[:, 1], 1, 2))
    part = np.empty(len(inter), dtype=np.int8)
    part[order] = part_sorted
    return part


def split_interactions(inter: pd.DataFrame, protocol: str = "leave-last-out",
                       seed: int = 0) -> Split:
    """Split interactions per user; deterministic given `seed`.

    leave-last-out: by time, last → test, second-to-last → valid; users with fewer than 3
    interactions stay in train only. random: RecBole's RS 8:1:1 per user.
    """
    if protocol not in PROTOCOLS:
        raise ConfigError(f"split protocol {protocol!r} is unknown; use one of "
                          f"{', '.join(PROTOCOLS)}")
    inter = inter.sort_values([USER_ID, TIMESTAMP, ITEM_ID], kind="stable")
    inter = inter.reset_index(drop=True)
    part = _leave_last_out(inter) if protocol == "leave-last-out" else _random_split(inter, seed)
    train, valid, test = (inter[part == k].reset_index(drop=True) for k in range(3))
    return Split(train=train, valid=valid, test=test)
