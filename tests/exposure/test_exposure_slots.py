"""Recommendation slots over a shopper sample: per item, per category, the long-tail curve."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import ConfigError
from engine.exposure.slots import category_slots, popularity_lorenz, sample_slots

pytest_plugins = ["serving_runs"]


def test_lorenz_points_start_at_zero_and_end_at_one() -> None:
    slots = np.array([5, 0, 3, 2])
    popularity = np.array([10.0, 1.0, 5.0, 0.0])
    curve = popularity_lorenz(slots, popularity)
    assert curve.iloc[0].tolist() == [0.0, 0.0]
    assert curve.iloc[-1].tolist() == [1.0, 1.0]
    # most popular item first: 5 of 10 slots after a quarter of the catalogue
    assert curve.loc[curve["item_share"] == 0.25, "slot_share"].item() == 0.5
    assert curve["slot_share"].is_monotonic_increasing


def test_lorenz_of_no_slots_is_flat_and_a_long_catalogue_is_thinned() -> None:
    flat = popularity_lorenz(np.zeros(3), np.array([3.0, 2.0, 1.0]))
    assert flat["slot_share"].tolist() == [0.0, 0.0, 0.0, 0.0]
    thinned = popularity_lorenz(np.ones(10_000), np.arange(10_000.0), n_points=50)
    assert len(thinned) <= 51 and thinned["item_share"].iloc[-1] == 1.0


def test_category_slots_spread_multi_category_items_and_keep_the_total() -> None:
    categories = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    slots = np.array([2, 4, 1])
    np.testing.assert_allclose(category_slots(slots, categories), [4.0, 3.0], atol=1e-12)
    # slots counted before a cold-start add are shorter than the category table
    np.testing.assert_allclose(category_slots(slots[:2], categories), [4.0, 2.0], atol=1e-12)


def test_sample_slots_fill_every_list_and_match_the_ranking(tiny_shop) -> None:  # noqa: ANN001
    from engine.data import load_dataset
    from engine.evaluation.protocol import RerankSpec, rank_users
    from engine.evaluation.sweep import sample_users, train_data_for
    from engine.runs.store import load_run

    run = load_run(tiny_shop.ease_run)
    data = train_data_for(run, load_dataset(tiny_shop.data_dir))
    plain = sample_slots(run.model, data, "none", 0.0, n_users=30, k=5, seed=0)
    assert plain.shape == (data.n_items,) and plain.sum() == 30 * 5
    assert np.array_equal(plain, sample_slots(run.model, data, "mmr", 0.0, n_users=30, k=5))
    spread = sample_slots(run.model, data, "mmr", 1.0, n_users=30, k=5, seed=0)
    topk = rank_users(run.model, data, sample_users(data, 30, seed=0), k=5,
                      rerank=RerankSpec("mmr", 1.0))
    assert np.array_equal(spread, np.bincount(topk.ravel(), minlength=data.n_items))
    assert (spread > 0).sum() >= (plain > 0).sum()  # full diversity reaches more items
    with pytest.raises(ConfigError, match="rerank method"):
        sample_slots(run.model, data, "nope", 0.5, n_users=30, k=5)
