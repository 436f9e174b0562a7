"""One two-tower for every alpha: the user tower reads alpha; the item side is one table
[v_i, d_i] computed once, whose diversity direction d_i alpha weighs in the score."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.config import ModelConfig, TrainConfig
from engine.core.errors import ConfigError, RequestError
from engine.models.twotower import TwoTowerModel


@pytest.fixture(scope="module")
def shop_data():  # noqa: ANN201 - TrainData
    from engine.data import build_dataset, generate_shop
    from engine.runs.data import prepare_data

    items, events = generate_shop(n_items=300, n_users=300, seed=3)
    _, data = prepare_data(build_dataset(items, events, name="shop"), "leave-last-out", seed=0)
    return data


@pytest.fixture(scope="module")
def conditioned(shop_data) -> TwoTowerModel:  # noqa: ANN001
    config = TrainConfig(alpha=0.0, alpha_max=1.0, beta=0.25, epochs=5, patience=5, seed=0,
                         device="cpu")
    return TwoTowerModel(ModelConfig(dim=32, use_text=False), config).fit(shop_data)


def _entropy(model: TwoTowerModel, data) -> float:  # noqa: ANN001
    from engine.evaluation.protocol import evaluate_model

    return evaluate_model(model, data, k=10)["metrics"]["category_entropy@10"]


def test_lists_grow_more_diverse_as_alpha_rises(conditioned, shop_data) -> None:  # noqa: ANN001
    low, mid, high = (_entropy(conditioned.at_alpha(a), shop_data) for a in (0.0, 0.5, 1.0))
    assert low <= mid + 1e-9 and mid <= high + 1e-9
    assert high - low > 0.03  # measured +0.040 (1.960 -> 2.001) on this shop


def test_item_vectors_do_not_depend_on_alpha(conditioned) -> None:  # noqa: ANN001
    np.testing.assert_array_equal(conditioned.at_alpha(0.0).item_vectors(),
                                  conditioned.at_alpha(1.0).item_vectors())
    users = np.arange(5)
    assert not np.allclose(conditioned.at_alpha(0.0).score_users(users),
                           conditioned.at_alpha(1.0).score_users(users), atol=1e-6)


def test_alpha_reaches_the_item_side_through_one_table(conditioned) -> None:  # noqa: ANN001
    """Scores are u·v_i + α·u·d_i: one product of [u, α·u] with the table [v; d]."""
    table = conditioned.scoring_vectors()
    assert table.shape == (300, 64)
    np.testing.assert_array_equal(table[:, :32], conditioned.item_vectors())
    assert np.abs(table[:, 32:]).max() > 1e-3  # the item side's diversity direction learned
    users = np.arange(6)
    for alpha in (0.0, 0.6, 1.0):
        view = conditioned.at_alpha(alpha)
        queries = view.query_vectors(users)
        np.testing.assert_allclose(queries[:, 32:], alpha * queries[:, :32], atol=1e-6)
        np.testing.assert_allclose(queries @ table.T, view.score_users(users), atol=1e-4)


def test_alpha_outside_the_trained_range_is_refused(conditioned) -> None:  # noqa: ANN001
    assert conditioned.alpha_range == (0.0, 1.0)
    with pytest.raises(RequestError, match=r"alpha 1.5 is outside the range .* \(0 to 1\)"):
        conditioned.at_alpha(1.5)
    with pytest.raises(RequestError, match="outside the range"):
        conditioned.at_alpha(-0.1)


def test_the_run_default_is_the_low_end_and_views_do_not_change_the_model(conditioned) -> None:  # noqa: ANN001
    assert conditioned.alpha_ == 0.0
    view = conditioned.at_alpha(0.7)
    assert view.alpha_ == pytest.approx(0.7, abs=1e-12) and conditioned.alpha_ == 0.0
    assert view.net_ is conditioned.net_  # shares the weights


def test_a_saved_conditioned_model_scores_the_same(conditioned) -> None:  # noqa: ANN001
    tensors, meta = conditioned.get_state()
    loaded = TwoTowerModel.from_state(tensors, meta)
    assert loaded.alpha_range == (0.0, 1.0) and loaded.model_config.alpha_film
    users = np.arange(4)
    np.testing.assert_allclose(loaded.at_alpha(0.6).score_users(users),
                               conditioned.at_alpha(0.6).score_users(users), atol=1e-5)


def test_a_fixed_alpha_model_answers_only_for_its_own_alpha(shop_data) -> None:  # noqa: ANN001
    model = TwoTowerModel(ModelConfig(dim=8, use_text=False),
                          TrainConfig(alpha=0.2, epochs=1, device="cpu")).fit(shop_data)
    assert model.alpha_range is None and model.at_alpha(0.2) is model
    with pytest.raises(RequestError, match="trained at alpha 0.2 only.*--alpha 0:1"):
        model.at_alpha(0.5)


@pytest.mark.parametrize("changes, message", [
    ({"alpha": 0.5, "alpha_max": 0.5}, "alpha_max: must be greater than alpha"),
    ({"alpha": 0.0, "alpha_max": 1.0, "beta": 0.0}, "beta: must be > 0"),
    ({"alpha_max": -1.0}, "alpha_max"),
])
def test_a_bad_range_is_refused(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**changes)
