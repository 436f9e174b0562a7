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


def test_doubly_robust_covers_the_truth_and_is_tighter_than_ips() -> None:
    rng = np.random.default_rng(5)
    pool, k, n = 12, 5, 20_000
    attraction = rng.uniform(0.05, 0.6, size=pool)
    theta = 1.0 / np.arange(1, k + 1)
    candidate = np.array([3, 0, 5, 1, 2])
    truth = float((theta * attraction[candidate]).sum())
    ranks = sample_ranks(pool, k, 2.0, rng, size=n)
    clicks = rng.random((n, k)) < theta * attraction[ranks]
    propensity = position_probabilities(pool, k, 2.0)[ranks, np.arange(k)]
    wanted = np.broadcast_to(candidate, ranks.shape)
    result = estimate(clicks, propensity, ranks == wanted, ranks.tolist(), wanted.tolist())
    assert result.dr.low <= truth <= result.dr.high
    assert result.dr.high - result.dr.low < result.ips.high - result.ips.low
    assert "dr" in result.to_dict()


def test_a_misspecified_click_model_leaves_doubly_robust_on_the_truth() -> None:
    """Two kinds of shopper like opposite items: one attraction per item cannot fit them, yet
    the IPS correction keeps the estimate on the truth."""
    from engine.experiments.offpolicy import ClickModel

    rng = np.random.default_rng(6)
    pool, k, n = 10, 4, 30_000
    likes = rng.uniform(0.05, 0.6, size=pool)
    attraction = np.stack([likes, likes[::-1]])  # (2 kinds, pool)
    theta = 1.0 / np.arange(1, k + 1)
    candidate = np.array([9, 8, 0, 1])
    truth = float((theta * attraction[:, candidate]).sum(axis=1).mean())
    kind = rng.integers(2, size=n)
    ranks = sample_ranks(pool, k, 1.5, rng, size=n)
    clicks = rng.random((n, k)) < theta * attraction[kind[:, None], ranks]
    propensity = position_probabilities(pool, k, 1.5)[ranks, np.arange(k)]
    wanted = np.broadcast_to(candidate, ranks.shape)
    result = estimate(clicks, propensity, ranks == wanted, ranks.tolist(), wanted.tolist())
    assert result.dr.low <= truth <= result.dr.high
    model = ClickModel.fit(clicks.astype(float), ranks, pool)
    assert model.predict(np.array([[-1, 0, 1, 2]]))[0, 0] == 0.0  # an empty slot: no click
