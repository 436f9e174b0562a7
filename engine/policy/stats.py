"""Paired bootstrap over shoppers: one resampling matrix, shared by every metric.

A resample draws n shoppers with replacement; `weights (R, n)` counts how often each shopper
is drawn in each of R resamples, so any mean or ratio over shoppers is a matrix product and
both policies are always measured on the same resampled shoppers (a paired interval).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.metrics.stats import percentile_interval, resample_counts

N_RESAMPLES = 1000
LEVEL = 0.95


def resample_weights(n_users: int, n_resamples: int = N_RESAMPLES,
                     seed: int = 0) -> np.ndarray:
    """(R, n) draw counts; each row sums to n (`engine.metrics.stats.resample_counts`)."""
    return resample_counts(n_users, n_resamples, seed)


def interval(samples: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of bootstrap samples."""
    return percentile_interval(samples, level)


def comparison(name: str, value_a: float, value_b: float, samples: np.ndarray,
               extra: dict | None = None) -> dict:
    """One row of the impact table: both values, difference, interval, excludes zero."""
    low, high = interval(samples)
    return {"metric": name, "a": float(value_a), "b": float(value_b),
            "diff": float(value_a - value_b), "ci_low": low, "ci_high": high,
            "excludes_zero": bool(low > 0 or high < 0), **(extra or {})}


def paired_mean(name: str, per_user_a: np.ndarray, per_user_b: np.ndarray,
                weights: np.ndarray) -> dict:
    """Mean over shoppers under A and B, and the bootstrap interval of the difference."""
    diff = np.asarray(per_user_a, float) - np.asarray(per_user_b, float)
    samples = weights @ diff / weights.sum(axis=1)
    return comparison(name, float(np.mean(per_user_a)), float(np.mean(per_user_b)), samples)


def paired_ratio(name: str, num_a: np.ndarray, den_a: np.ndarray, num_b: np.ndarray,
                 den_b: np.ndarray, weights: np.ndarray) -> dict:
    """Σ num / Σ den under A and B (e.g. a hit rate over slots), with a paired interval."""
    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        top, bottom = weights @ num, weights @ den
        return np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)

    value_a = float(num_a.sum() / den_a.sum()) if den_a.sum() > 0 else 0.0
    value_b = float(num_b.sum() / den_b.sum()) if den_b.sum() > 0 else 0.0
    return comparison(name, value_a, value_b, ratio(num_a, den_a) - ratio(num_b, den_b),
                      {"n_a": float(den_a.sum()), "n_b": float(den_b.sum())})


def paired_population(name: str, statistic: Callable[[np.ndarray], np.ndarray],
                      counts_a, counts_b, weights: np.ndarray) -> dict:  # noqa: ANN001
    """A statistic of per-item recommendation counts (coverage, Gini) under resampling.

    `counts_a`, `counts_b` are sparse (n_users, n_items) slot counts; `statistic` maps
    (R, n_items) count rows to (R,) values. The interval is the bootstrap percentile
    interval shifted by the resamples' bias (their mean minus the full-sample difference).
    """
    ones = np.ones((1, weights.shape[1]))
    full_a = statistic(np.asarray((counts_a.T @ ones.T).T))[0]
    full_b = statistic(np.asarray((counts_b.T @ ones.T).T))[0]
    sample_a = statistic(np.asarray((counts_a.T @ weights.T).T))
    sample_b = statistic(np.asarray((counts_b.T @ weights.T).T))
    samples = sample_a - sample_b
    # a resample repeats shoppers, which biases pooled statistics such as coverage; the
    # interval keeps the bootstrap spread, re-centred on the full-sample difference
    samples = samples + (full_a - full_b) - samples.mean()
    return comparison(name, full_a, full_b, samples)


def coverage_rows(counts: np.ndarray) -> np.ndarray:
    """(R,) share of items recommended at least once."""
    return (counts > 0).mean(axis=1)


def gini_rows(counts: np.ndarray) -> np.ndarray:
    """(R,) Gini of recommendation counts (0 = equal exposure), as `gini_index`."""
    ordered = np.sort(counts, axis=1)
    n = ordered.shape[1]
    ranks = np.arange(1, n + 1)
    totals = ordered.sum(axis=1)
    top = ((2 * ranks - n - 1) * ordered).sum(axis=1)
    return np.divide(top, n * totals, out=np.zeros_like(totals), where=totals > 0)
