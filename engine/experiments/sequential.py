"""Always-valid intervals: confidence sequences a merchandiser may look at every day.

An ordinary 95% interval is valid at one pre-set sample size; looking every day and stopping
at the first interval that excludes zero makes false wins far more likely than 5%. A
*confidence sequence* holds at every sample size at once, so peeking is free.

We use the two-sided normal-mixture boundary (Robbins 1970; Howard, Ramdas, McAuliffe and
Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence sequences", Annals of
Statistics 49(2), 2021) in its asymptotic form with the sample standard deviation
(Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas, "Time-uniform central limit theory and
asymptotic confidence sequences", Annals of Statistics, 2024):

    mean_t ± sd_t · sqrt( 2 (t ρ² + 1) / (t² ρ²) · ln( sqrt(t ρ² + 1) / α ) )

with ρ chosen so the sequence is tightest near `t_star` observations, as that paper suggests:
ρ² = (−2 ln α + ln(−2 ln α + 1)) / t_star.

Shoppers, not lists, are the independent units: a shopper keeps their arm and comes back, and
their lists are alike. So a per-list rate (clicks per list, ...) is Σ values / Σ lists over
the arm's shoppers, and its spread is that of the per-shopper linearised terms
(y_u − r·n_u) / mean(n) (the delta method for a ratio). A difference between arms uses the
inverse-propensity form of those terms, as that paper does for randomised experiments, over
every shopper of the experiment. Pure numpy.
"""

from __future__ import annotations

import math

import numpy as np

from engine.metrics.stats import Interval

ALPHA = 0.05
T_STAR = 1000  # the sample size where the sequence is tightest
MIN_PER_ARM = 100  # lists each arm needs before a verdict is given


def rho_squared(alpha: float = ALPHA, t_star: int = T_STAR) -> float:
    """The mixture precision that makes the boundary tightest at `t_star` observations."""
    log_term = -2.0 * math.log(alpha)
    return (log_term + math.log(log_term + 1.0)) / float(t_star)


def radius(t: int, sd: float, alpha: float = ALPHA, t_star: int = T_STAR) -> float:
    """Half-width of the (1 − alpha) confidence sequence after `t` observations."""
    if t < 2 or not np.isfinite(sd):
        return math.inf
    rho2 = rho_squared(alpha, t_star)
    scale = t * rho2 + 1.0
    return float(sd) * math.sqrt(2.0 * scale / (t * t * rho2)
                                 * math.log(math.sqrt(scale) / alpha))


def _interval(terms: np.ndarray, alpha: float, t_star: int) -> Interval:
    terms = np.asarray(terms, dtype=np.float64)
    t = terms.size
    if t == 0:
        return Interval(math.nan, -math.inf, math.inf, 1.0 - alpha)
    mean = float(terms.mean())
    sd = float(terms.std(ddof=1)) if t > 1 else math.inf
    half = radius(t, sd, alpha, t_star)
    return Interval(mean, mean - half, mean + half, 1.0 - alpha)


def mean_sequence(values: np.ndarray, alpha: float = ALPHA,
                  t_star: int = T_STAR) -> Interval:
    """Always-valid interval for the mean of i.i.d. `values` (in arrival order)."""
    return _interval(values, alpha, t_star)


def _ratio(totals: np.ndarray, lists: np.ndarray) -> float:
    count = float(np.sum(lists))
    return float(np.sum(totals)) / count if count > 0 else math.nan


def ratio_sequence(totals: np.ndarray, lists: np.ndarray, alpha: float = ALPHA,
                   t_star: int = T_STAR) -> Interval:
    """Always-valid interval for a per-list rate Σ totals / Σ lists counted per shopper
    (`totals[u]`: the shopper's summed value, `lists[u]`: their lists), so a shopper who
    comes back many times is one observation, not many (delta method over shoppers)."""
    totals, lists = np.asarray(totals, np.float64), np.asarray(lists, np.float64)
    if totals.size == 0:
        return Interval(math.nan, -math.inf, math.inf, 1.0 - alpha)
    rate = _ratio(totals, lists)
    terms = (totals - rate * lists) / lists.mean()
    sd = float(terms.std(ddof=1)) if terms.size > 1 else math.inf
    half = radius(terms.size, sd, alpha, t_star)
    return Interval(rate, rate - half, rate + half, 1.0 - alpha)


def ratio_difference_sequence(totals: np.ndarray, lists: np.ndarray, treated: np.ndarray,
                              control: np.ndarray, p_treated: float, p_control: float,
                              alpha: float = ALPHA, t_star: int = T_STAR) -> Interval:
    """Always-valid interval for rate(treatment) − rate(control), both Σ totals / Σ lists
    over the arm's shoppers; one entry per shopper of the experiment (any arm), `treated` /
    `control` mark the arm, `p_*` are the arms' shares. The spread is that of the
    inverse-propensity linearisation (1[t]/p_t·(y − r_t·n) − 1[c]/p_c·(y − r_c·n)) / mean(n)."""
    totals, lists = np.asarray(totals, np.float64), np.asarray(lists, np.float64)
    treated, control = np.asarray(treated, bool), np.asarray(control, bool)
    if not treated.any() or not control.any():
        return Interval(math.nan, -math.inf, math.inf, 1.0 - alpha)
    r_t, r_c = _ratio(totals[treated], lists[treated]), _ratio(totals[control], lists[control])
    terms = (treated / p_treated * (totals - r_t * lists)
             - control / p_control * (totals - r_c * lists)) / lists.mean()
    half = radius(terms.size, float(terms.std(ddof=1)), alpha, t_star)
    return Interval(r_t - r_c, r_t - r_c - half, r_t - r_c + half, 1.0 - alpha)


def paired_difference_sequence(treated: np.ndarray, control: np.ndarray,
                               alpha: float = ALPHA, t_star: int = T_STAR) -> Interval:
    """Always-valid interval for the mean difference of paired i.i.d. observations (the
    first n of each, n the shorter length): for batch-level metrics such as coverage."""
    n = min(len(treated), len(control))
    diff = np.asarray(treated[:n], dtype=np.float64) - np.asarray(control[:n], dtype=np.float64)
    return _interval(diff, alpha, t_star)
