"""Off-policy estimates from randomised lists land on the truth of a known click model."""

from __future__ import annotations

import numpy as np

from engine.experiments.explore import position_probabilities, sample_ranks
from engine.experiments.offpolicy import estimate, slot_matches


def test_ips_and_snips_cover_the_candidate_truth() -> None:
    rng = np.random.default_rng(4)
    pool, k, n = 12, 5, 20_000
    attraction = rng.uniform(0.05, 0.6, size=pool)  # one shopper type; pool in logging order
    theta = 1.0 / np.arange(1, k + 1)
    candidate = np.array([3, 0, 5, 1, 2])  # a different order of the pool's items
    truth = float((theta * attraction[candidate]).sum())
    ranks = sample_ranks(pool, k, 2.0, rng, size=n)
    clicks = rng.random((n, k)) < theta * attraction[ranks]
    propensity = position_probabilities(pool, k, 2.0)[ranks, np.arange(k)]
    result = estimate(clicks, propensity, ranks == candidate[None, :])
    assert result.ips.low <= truth <= result.ips.high
    assert result.snips.low <= truth <= result.snips.high
    logging_value = float((theta * attraction[:k]).sum())
    assert not result.ips.low <= logging_value <= result.ips.high  # it tells them apart


def test_slot_matches_compare_position_by_position() -> None:
    assert slot_matches([["a", "b", "c"]], [["a", "c", "b"]]).tolist() == [[True, False, False]]
