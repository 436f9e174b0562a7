"""Paired bootstrap confidence intervals for per-shopper metric differences (vectorised)."""

from __future__ import annotations

import numpy as np

from engine.errors import ConfigError

DEFAULT_RESAMPLES = 2000


def paired_bootstrap(a: np.ndarray, b: np.ndarray, *, resamples: int = DEFAULT_RESAMPLES,
                     level: float = 0.95, seed: int = 0) -> dict[str, float]:
    """Mean of a, of b and of a − b over the same shoppers, with a percentile bootstrap
    interval for the difference (shoppers resampled with replacement, pairs kept together)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ConfigError(f"paired bootstrap needs two equal-length 1-D arrays, got {a.shape} "
                          f"and {b.shape}")
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got {level}")
    diff = a - b
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, 256):  # bounded memory: 256 × n indices at a time
        count = min(256, resamples - start)
        means[start:start + count] = diff[rng.integers(0, len(diff), (count, len(diff)))].mean(1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return {"a": float(a.mean()), "b": float(b.mean()), "diff": float(diff.mean()),
            "low": float(low), "high": float(high)}
