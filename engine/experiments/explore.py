"""Exploration: a known small randomisation of served lists, and each shown item's propensity.

The list shown is a Plackett–Luce sample of k items from the top `pool` of the ranking: the
item of rank r has weight exp(−(r − 1) / temperature), and each position takes one of the
items left with probability proportional to its weight (drawn at once with the Gumbel-top-k
trick). At a low temperature the list is the ranking; at temperature 1 the top item stays
first about 6 times in 10.

The propensity logged with a shown item is the exact probability that the sampler puts the
item of that rank at that position. It depends only on (pool, k, temperature), so it is
computed once per setting. Plackett–Luce is the order of independent exponential clocks
E_i ~ Exp(w_i), so

    P(rank i at position j) = ∫₀^∞ w_i e^(−w_i t) · P(exactly j − 1 other clocks ring before t) dt

where the inner term is a Poisson-binomial probability over the other items, and the integral
is a trapezoid sum on a fine logarithmic grid of t (error far below 1e-6).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

POINTS_PER_NAT = 40


def weights(pool: int, temperature: float) -> np.ndarray:
    """Plackett–Luce weights of ranks 1..pool, the last one 1 (only ratios matter)."""
    ranks = np.arange(pool, dtype=np.float64)
    return np.exp((pool - 1 - ranks) / temperature)


@lru_cache(maxsize=64)
def position_probabilities(pool: int, k: int, temperature: float) -> np.ndarray:
    """(pool, k): probability that the item of rank i+1 is shown at position j+1."""
    k = min(k, pool)
    w = weights(pool, temperature)
    log_t = np.arange(np.log(1e-9 / w.max()), np.log(50.0 / w.min()), 1.0 / POINTS_PER_NAT)
    t = np.exp(log_t)
    rings = -np.expm1(-np.outer(t, w))  # (G, pool): P(clock l rang before t)
    count = np.zeros((t.size, pool, k))  # P(exactly c of the others rang), per item i
    count[:, :, 0] = 1.0
    others = ~np.eye(pool, dtype=bool)
    for item in range(pool):
        p = rings[:, item][:, None] * others[item][None, :]  # (G, pool): 0 for i == item
        shifted = np.concatenate([np.zeros((t.size, pool, 1)), count[:, :, :-1]], axis=2)
        count = count * (1.0 - p[:, :, None]) + shifted * p[:, :, None]
    density = w[None, :] * np.exp(-np.outer(t, w)) * t[:, None]  # per d(log t)
    integrand = density[:, :, None] * count
    step = 1.0 / POINTS_PER_NAT
    return (integrand.sum(axis=0) - 0.5 * (integrand[0] + integrand[-1])) * step


def sample_ranks(pool: int, k: int, temperature: float, rng: np.random.Generator,
                 size: int | None = None) -> np.ndarray:
    """0-based ranks shown at positions 1..k (shape (k,), or (size, k) for many lists)."""
    k = min(k, pool)
    logits = np.log(weights(pool, temperature))
    shape = (pool,) if size is None else (size, pool)
    noisy = logits + rng.gumbel(size=shape)
    return np.argsort(-noisy, axis=-1, kind="stable")[..., :k]


def explore_list(items: list, k: int, temperature: float, rng: np.random.Generator
                 ) -> tuple[list, list[float]]:
    """A randomised list of k from `items` (the ranking, best first, as many as the pool)
    and the propensity of each shown item at its position."""
    pool = len(items)
    ranks = sample_ranks(pool, k, temperature, rng)
    table = position_probabilities(pool, k, float(temperature))
    shown = [items[int(rank)] for rank in ranks]
    return shown, [float(table[int(rank), j]) for j, rank in enumerate(ranks)]
