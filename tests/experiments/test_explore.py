"""Exploration: the logged propensities are the sampler's true position probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import ConfigError
from engine.experiments.assign import check_exploration
from engine.experiments.explore import explore_list, position_probabilities, sample_ranks


@pytest.mark.parametrize(("pool", "k", "temperature"), [(20, 10, 1.0), (6, 6, 0.5), (12, 3, 4.0)])
def test_propensities_match_the_sampler(pool: int, k: int, temperature: float) -> None:
    table = position_probabilities(pool, k, temperature)
    assert table.sum(axis=0) == pytest.approx(np.ones(k), abs=1e-6)  # one item per position
    assert np.all(table.sum(axis=1) <= 1 + 1e-6)
    ranks = sample_ranks(pool, k, temperature, np.random.default_rng(0), size=100_000)
    seen = np.stack([np.bincount(ranks[:, j], minlength=pool) for j in range(k)], axis=1)
    assert seen / 100_000 == pytest.approx(table, abs=0.006)


def test_the_first_position_is_the_plackett_luce_share() -> None:
    weights = np.exp(-np.arange(20) / 1.0)
    assert position_probabilities(20, 10, 1.0)[:, 0] == pytest.approx(weights / weights.sum(),
                                                                       abs=1e-6)


def test_an_explored_list_is_k_distinct_items_with_their_propensities() -> None:
    items = [f"i{n}" for n in range(20)]
    shown, propensities = explore_list(items, 10, 1.0, np.random.default_rng(3))
    table = position_probabilities(20, 10, 1.0)
    assert len(set(shown)) == 10
    assert propensities == pytest.approx([table[items.index(item), j]
                                          for j, item in enumerate(shown)], abs=1e-12)


def test_settings_that_never_show_the_pool_tail_are_refused() -> None:
    with pytest.raises(ConfigError, match="never be shown"):
        check_exploration(0.1, 50)
    with pytest.raises(ConfigError, match="between 0.05 and 20"):
        check_exploration(0.0, 10)
    assert check_exploration(None, None) is None
