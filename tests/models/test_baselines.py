"""Baselines: the shared model contract plus each model checked against a naive reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_contract import TRAIN_HISTORIES, HistoryOnlyContract, frame, tiny_train_data

from engine.core.errors import ConfigError, RequestError
from engine.models.base import BaseModel, TrainData
from engine.models.baselines import EASE, ItemKNN, MostPopular, histories_matrix
from engine.models.registry import MODEL_REGISTRY, get_model_class


class TestMostPopularContract(HistoryOnlyContract):
    def make_model(self) -> BaseModel:
        return MostPopular()


class TestItemKNNContract(HistoryOnlyContract):
    def make_model(self) -> BaseModel:
        return ItemKNN(k=3)


class TestEASEContract(HistoryOnlyContract):
    def make_model(self) -> BaseModel:
        return EASE(reg_weight=1.0)


def dense_train(data: TrainData) -> np.ndarray:
    return histories_matrix(data.histories(), data.n_items).toarray().astype(np.float64)


def test_most_popular_scores_are_training_counts() -> None:
    data = tiny_train_data()
    scores = MostPopular().fit(data).score_users(np.array([0, 3]))
    # counted by hand from TRAIN_HISTORIES: items 0, 1 and 4 appear three times, ...
    expected = np.array([3, 3, 2, 2, 3, 2, 1, 1], dtype=np.float32)
    np.testing.assert_array_equal(scores, np.vstack([expected, expected]))


def naive_itemknn(matrix: np.ndarray, k: int, shrink: float) -> np.ndarray:
    """Reference: for every target item i, keep its k most similar other items j."""
    n_items = matrix.shape[1]
    norms = np.linalg.norm(matrix, axis=0)
    weights = np.zeros((n_items, n_items))
    for i in range(n_items):
        sims = np.array([matrix[:, j] @ matrix[:, i] / (norms[j] * norms[i] + shrink + 1e-6)
                         for j in range(n_items)])
        sims[i] = 0.0
        for j in np.argsort(-sims, kind="stable")[:k]:
            weights[j, i] = sims[j]
    return matrix @ weights


@pytest.mark.parametrize(("k", "shrink"), [(1, 0.0), (2, 0.0), (3, 5.0), (100, 0.0)])
def test_itemknn_matches_naive_reference(k: int, shrink: float) -> None:
    # distinct similarity values so the top-k choice is unambiguous
    histories = [[0, 1, 2], [0, 1], [0, 3], [2, 3, 4], [1, 4], [0, 1, 2, 4], [3]]
    data = tiny_train_data()
    data.train = frame(histories)
    data.user_ids = [f"u{u}" for u in range(len(histories))]
    model = ItemKNN(k=k, shrink=shrink).fit(data)
    scores = model.score_users(np.arange(len(histories)))
    np.testing.assert_allclose(scores, naive_itemknn(dense_train(data), k, shrink), rtol=1e-5,
                               atol=1e-6)


def test_itemknn_keeps_at_most_k_neighbours_per_item() -> None:
    model = ItemKNN(k=2).fit(tiny_train_data())
    per_item = np.diff(model.similarity_.tocsc().indptr)
    assert per_item.max() <= 2
    assert np.all(model.similarity_.diagonal() == 0)


def naive_ease(matrix: np.ndarray, reg: float) -> np.ndarray:
    """Reference: per item j, ridge regression of column j on the other columns."""
    n_items = matrix.shape[1]
    weights = np.zeros((n_items, n_items))
    for j in range(n_items):
        others = [i for i in range(n_items) if i != j]
        x = matrix[:, others]
        weights[others, j] = np.linalg.solve(x.T @ x + reg * np.eye(len(others)),
                                             x.T @ matrix[:, j])
    return matrix @ weights


@pytest.mark.parametrize("reg", [0.5, 10.0, 250.0])
def test_ease_matches_per_item_ridge_regression(reg: float) -> None:
    data = tiny_train_data()
    scores = EASE(reg_weight=reg).fit(data).score_users(np.arange(data.n_users))
    np.testing.assert_allclose(scores, naive_ease(dense_train(data), reg), rtol=1e-4, atol=1e-6)


def test_ease_ranks_same_category_items_first_for_a_category_fan() -> None:
    data = tiny_train_data()
    scores = EASE(reg_weight=1.0).fit(data).score_histories([np.array([4, 5])])[0]
    unseen = [i for i in np.argsort(-scores, kind="stable") if i not in (4, 5)]
    assert set(unseen[:2]) == {6, 7}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(0, 7), min_size=1, max_size=5), min_size=2, max_size=8),
       st.integers(1, 8))
def test_itemknn_scores_are_non_negative_and_zero_without_history(
    histories: list[list[int]], k: int
) -> None:
    data = tiny_train_data()
    data.train = frame(histories)
    data.user_ids = [f"u{u}" for u in range(len(histories))]
    model = ItemKNN(k=k).fit(data)
    scores = model.score_histories([np.array(h) for h in histories] + [np.array([], int)])
    assert (scores >= 0).all()
    assert not scores[-1].any()


def test_bad_settings_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        ItemKNN(k=0)
    with pytest.raises(ConfigError, match="shrink must be >= 0"):
        ItemKNN(shrink=-1.0)
    with pytest.raises(ConfigError, match="reg_weight must be > 0"):
        EASE(reg_weight=0.0)


def test_out_of_range_history_raises_request_error() -> None:
    model = EASE().fit(tiny_train_data())
    with pytest.raises(RequestError, match="outside 0..7"):
        model.score_histories([np.array([8])])
    with pytest.raises(RequestError, match="user indices"):
        model.score_users(np.array([len(TRAIN_HISTORIES)]))


def test_cold_start_items_need_a_text_model() -> None:
    with pytest.raises(RequestError, match="two-tower"):
        MostPopular().add_items(np.zeros((1, 4)), np.ones((1, 2)))


def test_registry_names_and_unknown_model() -> None:
    assert get_model_class("ease") is EASE
    assert set(MODEL_REGISTRY) == {"pop", "itemknn", "ease", "twotower"}
    assert "pop" in MODEL_REGISTRY and "bpr" not in MODEL_REGISTRY
    with pytest.raises(ConfigError, match="unknown model 'bpr'; choose one of .*ease"):
        get_model_class("bpr")
