"""Bootstrap intervals: hand-checkable cases, pairing, seeding and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from engine.metrics import stats


def test_constant_values_give_a_point_interval() -> None:
    interval = stats.mean_interval(np.full(50, 0.3))
    assert interval.estimate == pytest.approx(0.3)
    assert interval.low == pytest.approx(0.3) and interval.high == pytest.approx(0.3)


def test_interval_covers_the_mean_and_shrinks_with_more_shoppers() -> None:
    rng = np.random.default_rng(0)
    small = stats.mean_interval(rng.binomial(1, 0.2, 200), seed=1)
    large = stats.mean_interval(rng.binomial(1, 0.2, 20_000), seed=1)
    assert small.low <= small.estimate <= small.high
    assert large.high - large.low < (small.high - small.low) / 5
    # binomial standard error at n=20000: sqrt(.2 * .8 / 20000) = .0028; 95% half-width ~ .0055
    assert large.high - large.low == pytest.approx(2 * 1.96 * 0.00283, rel=0.15)


def test_same_seed_same_interval() -> None:
    values = np.random.default_rng(3).random(300)
    assert stats.mean_interval(values, seed=7) == stats.mean_interval(values, seed=7)


def test_pairing_cancels_shared_shopper_variation() -> None:
    rng = np.random.default_rng(0)
    shopper = rng.random(1000) * 10  # large differences between shoppers
    first, second = shopper + 0.05, shopper.copy()
    paired = stats.paired_difference(first, second)
    assert paired.estimate == pytest.approx(0.05)
    assert paired.excludes_zero() and paired.high - paired.low < 1e-9
    unpaired = stats.mean_interval(first).high - stats.mean_interval(first).low
    assert unpaired > 0.1  # the same gap, judged without pairing, is lost in the noise


def test_difference_of_noise_does_not_exclude_zero() -> None:
    rng = np.random.default_rng(5)
    first, second = rng.random(500), rng.random(500)
    interval = stats.paired_difference(first, second)
    assert interval.low < interval.estimate < interval.high
    assert interval.low < 0 < interval.high or abs(interval.estimate) > 0.02


def test_bootstrap_means_applies_one_draw_to_every_series() -> None:
    values = np.vstack([np.arange(10.0), np.arange(10.0) * 2])
    means = stats.bootstrap_means(values, n_resamples=40, seed=0)
    assert means.shape == (40, 2)
    np.testing.assert_allclose(means[:, 1], 2 * means[:, 0], atol=1e-12)


def test_statistic_interval_of_a_difference_matches_paired_difference() -> None:
    rng = np.random.default_rng(2)
    values = rng.random((2, 400))
    direct = stats.paired_difference(values[0], values[1], seed=4)
    general = stats.statistic_interval(values, lambda m: m[:, 0] - m[:, 1], seed=4)
    assert general.estimate == pytest.approx(direct.estimate)
    assert general.low == pytest.approx(direct.low) and general.high == pytest.approx(direct.high)


def test_seed_spread() -> None:
    spread = stats.seed_spread([0.30, 0.32, 0.34])
    assert spread["mean"] == pytest.approx(0.32) and spread["std"] == pytest.approx(0.02)
    assert (spread["min"], spread["max"], spread["n"]) == (0.30, 0.34, 3)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: stats.mean_interval([]), "one value per shopper"),
    (lambda: stats.mean_interval([1.0, np.nan]), "must be finite"),
    (lambda: stats.paired_difference([1.0, 2.0], [1.0]), "aligned 1-d arrays"),
    (lambda: stats.mean_interval([1.0, 2.0], level=1.5), "level must be in"),
    (lambda: stats.seed_spread([0.3]), "at least 2 seeds"),
])
def test_bad_input_is_a_clear_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_upper_frontier_drops_dominated_points() -> None:
    entropy = np.array([1.0, 1.2, 1.1, 1.5, 1.4])
    quality = np.array([0.30, 0.28, 0.25, 0.20, 0.19])  # (1.1, .25), (1.4, .19) dominated
    xs, ys = stats.upper_frontier(entropy, quality)
    np.testing.assert_allclose(xs, [1.0, 1.2, 1.5], atol=1e-12)
    np.testing.assert_allclose(ys, [0.30, 0.28, 0.20], atol=1e-12)


def test_frontier_interpolates_and_stops_at_its_reach() -> None:
    entropy, quality = np.array([1.0, 2.0]), np.array([0.4, 0.2])
    values = stats.frontier_at(entropy, quality, np.array([0.5, 1.5, 2.5]))
    np.testing.assert_allclose(values, [0.4, 0.3, np.nan], atol=1e-12)
    assert stats.frontier_area(entropy, quality, 1.0, 2.0) == pytest.approx(0.3)


def test_mean_intervals_equal_one_series_at_a_time() -> None:
    rng = np.random.default_rng(5)
    series = {"a": rng.random(40), "b": rng.random(40) * 3, "short": rng.random(25)}
    together = stats.mean_intervals(series, n_resamples=400, seed=2)
    assert list(together) == ["a", "b", "short"]
    for name, values in series.items():
        alone = stats.mean_interval(values, n_resamples=400, seed=2)
        assert together[name].low == pytest.approx(alone.low, abs=1e-12)
        assert together[name].high == pytest.approx(alone.high, abs=1e-12)
        assert together[name].estimate == pytest.approx(float(values.mean()), abs=1e-12)


def test_paired_rows_match_paired_difference_on_the_same_draw() -> None:
    """The policy impact rows and the run comparison use the one paired bootstrap: with the
    same draw of shoppers their interval is `paired_difference`'s."""
    from engine.metrics.stats import (
        DEFAULT_RESAMPLES,
        paired_difference,
        paired_mean,
        resample_counts,
    )

    rng = np.random.default_rng(3)
    a, b = rng.random(40), rng.random(40)
    row = paired_mean("m", a, b, resample_counts(40, DEFAULT_RESAMPLES, seed=0))
    expected = paired_difference(a, b, seed=0)
    np.testing.assert_allclose([row["diff"], row["ci_low"], row["ci_high"]],
                               [expected.estimate, expected.low, expected.high], atol=1e-12)


def test_gini_rows_match_gini_index() -> None:
    from engine.metrics.exposure import gini, gini_index

    lists = np.array([[0, 1], [0, 2], [0, -1]])
    counts = np.array([[3.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(gini(counts), [gini_index(lists, 4), 0.0], atol=1e-12)
