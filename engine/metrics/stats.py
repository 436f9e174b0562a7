"""Bootstrap intervals over shoppers for metric means and for paired differences.

Every comparison in a benchmark table is a difference of per-shopper means measured on the
same shoppers, so the honest interval resamples shoppers once and applies the same draw to
both sides (a paired bootstrap): shopper-to-shopper variation that both lists share cancels.
A difference is called a win only when its interval excludes zero. Pure numpy, seeded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 2000
DRAW_CHUNK = 100  # resamples drawn at once: bounds the (chunk, n) count matrix


@dataclass(frozen=True)
class Interval:
    """A statistic with its percentile bootstrap interval."""

    estimate: float
    low: float
    high: float
    level: float

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of zero (a significant difference)."""
        return self.low > 0 or self.high < 0

    def to_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high,
                "level": self.level}


def _as_matrix(values: np.ndarray | list) -> np.ndarray:
    """(m, n) float64: m aligned per-shopper series over the same n shoppers."""
    matrix = np.atleast_2d(np.asarray(values, dtype=np.float64))
    if matrix.ndim != 2 or matrix.shape[1] == 0:
        raise ValueError(f"expected one value per shopper (a non-empty 1-d or 2-d array), "
                         f"got shape {np.shape(values)}")
    if not np.isfinite(matrix).all():
        raise ValueError("per-shopper values must be finite (found NaN or inf)")
    return matrix


def resample_counts(n_users: int, n_resamples: int = DEFAULT_RESAMPLES,
                    seed: int = 0) -> np.ndarray:
    """(n_resamples, n_users) how often each shopper is drawn in each resample (rows sum to
    n_users): the one draw every paired statistic applies to all the series it compares."""
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    rng = np.random.default_rng(seed)
    out = np.empty((n_resamples, n_users))
    for start in range(0, n_resamples, DRAW_CHUNK):
        size = min(DRAW_CHUNK, n_resamples - start)
        draws = rng.integers(0, n_users, size=(size, n_users))  # (size, n) shopper indices
        offsets = (draws + n_users * np.arange(size)[:, None]).ravel()
        out[start:start + size] = np.bincount(offsets, minlength=size * n_users).reshape(
            size, n_users)  # times drawn
    return out


def bootstrap_means(values: np.ndarray | list, n_resamples: int = DEFAULT_RESAMPLES,
                    seed: int = 0) -> np.ndarray:
    """(n_resamples, m) means of each of the m series over the same resampled shoppers.

    values (n,) or (m, n): row j is one series' per-shopper values, aligned by shopper, so
    every resample applies one draw of shoppers to all series (what makes differences paired).
    """
    matrix = _as_matrix(values)
    counts = resample_counts(matrix.shape[1], n_resamples, seed)
    return counts @ matrix.T / matrix.shape[1]  # (R, m) resampled means


def percentile_interval(resampled: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central `level` percentile interval of bootstrap samples."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(resampled, [tail, 100.0 - tail])
    return float(low), float(high)


def _interval(estimate: float, resampled: np.ndarray, level: float) -> Interval:
    low, high = percentile_interval(resampled, level)
    return Interval(float(estimate), low, high, level)


def mean_interval(values: np.ndarray | list, level: float = 0.95,
                  n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Interval:
    """Mean of per-shopper values (n,) with its bootstrap interval."""
    matrix = _as_matrix(values)
    if matrix.shape[0] != 1:
        raise ValueError(f"mean_interval takes one series, got {matrix.shape[0]}")
    resampled = bootstrap_means(matrix, n_resamples, seed)[:, 0]
    return _interval(matrix.mean(), resampled, level)


def mean_intervals(series: dict[str, np.ndarray], level: float = 0.95,
                   n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> dict[str, Interval]:
    """`mean_interval` of several per-shopper series at once: series over the same number of
    shoppers share one draw (one resample matrix for all of them, so many metrics cost about
    as much as one)."""
    by_length: dict[int, list[str]] = {}
    for name, values in series.items():
        by_length.setdefault(len(np.atleast_1d(values)), []).append(name)
    out: dict[str, Interval] = {}
    for names in by_length.values():
        matrix = _as_matrix([np.asarray(series[name], dtype=np.float64) for name in names])
        resampled = bootstrap_means(matrix, n_resamples, seed)
        for column, name in enumerate(names):
            out[name] = _interval(matrix[column].mean(), resampled[:, column], level)
    return {name: out[name] for name in series}


def paired_difference(first: np.ndarray | list, second: np.ndarray | list,
                      level: float = 0.95, n_resamples: int = DEFAULT_RESAMPLES,
                      seed: int = 0) -> Interval:
    """mean(first) - mean(second) over the same shoppers, with a paired bootstrap interval."""
    a, b = _as_matrix(first), _as_matrix(second)
    if a.shape != b.shape or a.shape[0] != 1:
        raise ValueError(f"paired series must be two aligned 1-d arrays of equal length, got "
                         f"{np.shape(first)} and {np.shape(second)}")
    resampled = bootstrap_means(a - b, n_resamples, seed)[:, 0]
    return _interval(float(a.mean() - b.mean()), resampled, level)


def statistic_interval(values: np.ndarray | list, statistic, level: float = 0.95,
                       n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Interval:
    """Any function of the m series' means (e.g. an area under a frontier), bootstrapped.

    values (m, n) aligned per-shopper series; statistic maps an (r, m) array of means to (r,).
    """
    matrix = _as_matrix(values)
    resampled = np.asarray(statistic(bootstrap_means(matrix, n_resamples, seed)), dtype=float)
    estimate = float(np.asarray(statistic(matrix.mean(axis=1)[None, :])).reshape(-1)[0])
    return _interval(estimate, resampled, level)


def seed_spread(values: np.ndarray | list) -> dict[str, float]:
    """Mean, standard deviation (ddof 1), min and max of a metric over training seeds."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size < 2:
        raise ValueError(f"a spread needs at least 2 seeds, got {array.size}")
    return {"mean": float(array.mean()), "std": float(array.std(ddof=1)),
            "min": float(array.min()), "max": float(array.max()), "n": int(array.size)}


def upper_frontier(entropy: np.ndarray, quality: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points no other point beats on both axes, by ascending entropy (quality falls).

    entropy, quality (P,): one operating point each (a model with a re-ranker at a weight).
    """
    order = np.lexsort((-np.asarray(quality), -np.asarray(entropy)))  # high entropy first
    xs, ys, best = [], [], -np.inf
    for index in order:
        if quality[index] > best:
            xs.append(float(entropy[index]))
            ys.append(float(quality[index]))
            best = quality[index]
    return np.array(xs[::-1]), np.array(ys[::-1])


def frontier_at(entropy: np.ndarray, quality: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Best quality reachable at (at least) each target entropy, interpolated linearly on
    the upper frontier (a mix of two operating points over shoppers); NaN beyond its reach."""
    xs, ys = upper_frontier(entropy, quality)
    targets = np.asarray(targets, dtype=float)
    values = np.interp(targets, xs, ys, left=ys[0])
    return np.where(targets > xs[-1], np.nan, values)


def frontier_area(entropy: np.ndarray, quality: np.ndarray, low: float, high: float,
                  n_grid: int = 41) -> float:
    """Mean frontier quality over the entropy range [low, high] (area / width); NaN if the
    frontier does not reach `high`."""
    grid = np.linspace(low, high, n_grid)
    return float(np.mean(frontier_at(entropy, quality, grid)))


# Paired comparisons on one fixed draw of shoppers (policy impact, run comparison): `weights`
# (R, n) are `resample_counts`, so any mean or ratio over shoppers is a matrix product and both
# sides are always measured on the same resampled shoppers.

def comparison(name: str, value_a: float, value_b: float, samples: np.ndarray,
               extra: dict | None = None, level: float = 0.95) -> dict:
    """One comparison row: both values, their difference, its interval, excludes zero."""
    low, high = percentile_interval(samples, level)
    return {"metric": name, "a": float(value_a), "b": float(value_b),
            "diff": float(value_a - value_b), "ci_low": low, "ci_high": high,
            "excludes_zero": bool(low > 0 or high < 0), **(extra or {})}


def paired_mean(name: str, per_user_a: np.ndarray, per_user_b: np.ndarray,
                weights: np.ndarray) -> dict:
    """Mean over shoppers under A and B, and the bootstrap interval of the difference (the
    same numbers as `paired_difference` with the same draw)."""
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
