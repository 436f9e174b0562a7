"""Trending items: popularity over the training interactions with exponential time decay.

trend(i) = Σ over interactions with i of weight · 0.5^((t_last − t) / half_life), where t_last
is the latest timestamp in the run, so "now" is the end of the training data, not the clock.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine.core.columns import DAY, TIMESTAMP, WEIGHT
from engine.core.errors import RequestError


def trending_scores(events: pd.DataFrame, n_items: int, half_life_days: float = 7.0) -> np.ndarray:
    """(n_items,) decayed popularity; `events` has item_idx, timestamp, weight columns."""
    if isinstance(half_life_days, bool) or not isinstance(half_life_days, int | float) or not (
            math.isfinite(half_life_days) and half_life_days > 0):
        raise RequestError(f"half_life_days must be a number > 0, got {half_life_days!r}")
    if len(events) == 0:
        return np.zeros(n_items, dtype=np.float64)
    times = events[TIMESTAMP].to_numpy(dtype=np.float64)
    age_days = (times.max() - times) / DAY
    decayed = events[WEIGHT].to_numpy(dtype=np.float64) * np.exp2(-age_days / half_life_days)
    return np.bincount(events["item_idx"].to_numpy(), weights=decayed, minlength=n_items)
