"""The variety an item adds to a list: one definition for every method, between 0 and w."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine.serving.ranking import variety_added
from engine.serving.recommender import Recommender

pytest_plugins = ["serving_runs"]


def test_a_new_category_adds_the_whole_weight_a_repeat_adds_none() -> None:
    categories = np.eye(3)[[0, 0, 1, 2]]  # items a, a', b, c; no vectors: category rows
    plan = SimpleNamespace(similarity_rows=categories)
    gains = variety_added(plan, np.array([0, 1, 2, 3]), 0.8)
    np.testing.assert_allclose(gains, [0.8, 0.0, 0.8, 0.8], atol=1e-12)
    assert not variety_added(plan, np.array([0, 2]), 0.0).any()


def test_opposed_vectors_add_at_most_the_weight() -> None:
    plan = SimpleNamespace(similarity_rows=np.array([[1.0, 0.0], [-1.0, 0.0], [0.6, 0.8]]))
    np.testing.assert_allclose(variety_added(plan, np.array([0, 1, 2]), 0.5),
                               [0.5, 0.5, 0.5 * (1 - 0.6)], atol=1e-12)


@pytest.mark.parametrize("method", ["mmr", "dpp", "calibrated"])
def test_every_method_reports_variety_between_zero_and_w(twotower_service: Recommender,
                                                         method: str) -> None:
    result = twotower_service.recommend(user_id=twotower_service.user_ids[0], k=10,
                                        method=method, diversity_weight=0.8)
    gains = result.table["diversity_gain"].to_numpy()
    assert gains.min() >= 0.0 and gains.max() <= 0.8 + 1e-4
    assert gains[0] == pytest.approx(0.8, abs=1e-4)
    assert not result.table["explanation"].str.contains("adds -").any()
