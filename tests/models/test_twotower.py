"""TwoTowerModel: the shared model contract, plus cases whose right answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from model_contract import HistoryOnlyContract, ModelContract

from engine.core.columns import TIMESTAMP, WEIGHT
from engine.core.config import ModelConfig, TrainConfig
from engine.core.errors import DataError, RequestError, RunError
from engine.metrics.diversity import category_prior
from engine.models.base import ITEM_IDX, USER_IDX, TrainData
from engine.models.twotower import TwoTowerModel

FAST = TrainConfig(epochs=3, batch_size=8, seed=0, device="cpu", history_len=5)


class TestTwoTowerWithUserEmbeddingContract(ModelContract):
    def make_model(self) -> TwoTowerModel:
        return TwoTowerModel(ModelConfig(dim=8, use_user_embedding=True), FAST)


class TestTwoTowerContract(HistoryOnlyContract):  # the default config has no user embeddings

    def make_model(self) -> TwoTowerModel:
        return TwoTowerModel(ModelConfig(dim=8), FAST)


def two_camps(n_per_category: int = 8, n_users: int = 16, seed: int = 0) -> TrainData:
    """Items 0..n-1 are category A, n..2n-1 category B; even users buy only A, odd only B.

    Text embeddings cluster by category (a shared direction plus noise), as real text would.
    """
    rng = np.random.default_rng(seed)
    n_items = 2 * n_per_category
    categories = np.zeros((n_items, 2), dtype=np.float32)
    categories[:n_per_category, 0] = categories[n_per_category:, 1] = 1.0
    rows = []
    for user in range(n_users):
        offset = 0 if user % 2 == 0 else n_per_category
        items = offset + rng.choice(n_per_category, size=5, replace=False)
        rows += [(user, item, step) for step, item in enumerate(items)]
    users, items, times = (np.array(col, dtype=np.int64) for col in zip(*rows, strict=True))
    frame = pd.DataFrame({USER_IDX: users, ITEM_IDX: items, TIMESTAMP: times,
                          WEIGHT: np.ones(len(rows), dtype=np.float32)})
    is_valid = np.r_[np.diff(users) != 0, True]  # each user's last item validates
    centres = rng.normal(size=(2, 12))
    text = centres[categories.argmax(1)] + 0.3 * rng.normal(size=(n_items, 12))
    return TrainData(
        user_ids=[f"u{u}" for u in range(n_users)], item_ids=[f"i{i}" for i in range(n_items)],
        train=frame[~is_valid].reset_index(drop=True), valid=frame[is_valid].reset_index(drop=True),
        test=frame.iloc[:0], item_categories=categories, category_names=["a", "b"],
        item_popularity=np.bincount(items, minlength=n_items).astype(np.float64),
        text_embeddings=(text / np.linalg.norm(text, axis=1, keepdims=True)).astype(np.float32),
    )


@pytest.fixture(scope="module")
def camps_model() -> tuple[TwoTowerModel, TrainData]:
    data = two_camps()
    config = TrainConfig(epochs=40, batch_size=16, lr=1e-2, patience=40, seed=0,
                         device="cpu", history_len=5)
    return TwoTowerModel(ModelConfig(dim=16, dropout=0.0), config).fit(data), data


def test_users_of_one_category_get_that_category_on_top(camps_model) -> None:
    model, data = camps_model
    scores = model.score_users(np.arange(data.n_users))
    top = np.argsort(-scores, axis=1)[:, :5]
    top_category = data.item_categories[top].argmax(-1)  # (n_users, 5)
    wanted = (np.arange(data.n_users) % 2)[:, None]
    assert (top_category == wanted).mean() >= 0.95


def test_adhoc_history_scores_like_its_category(camps_model) -> None:
    model, data = camps_model
    scores = model.score_histories([np.array([0, 1]), np.array([8, 9])])
    half = data.n_items // 2
    assert scores[0, :half].mean() > scores[0, half:].mean()
    assert scores[1, half:].mean() > scores[1, :half].mean()


def test_cold_item_lands_near_its_category_from_text(camps_model) -> None:
    model, data = camps_model
    model_copy = TwoTowerModel.from_state(*model.get_state())
    text_b = data.text_embeddings[data.n_items // 2:].mean(0, keepdims=True)
    model_copy.add_items(text_b, np.array([[0.0, 1.0]], dtype=np.float32))
    vectors = model_copy.item_vectors()
    assert vectors.shape[0] == data.n_items + 1
    similarity = vectors[:-1] @ vectors[-1]
    half = data.n_items // 2
    assert similarity[half:].mean() > similarity[:half].mean()
    scores = model_copy.score_histories([np.array([9, 10, 11])])
    assert scores.shape == (1, data.n_items + 1)


def test_item_vectors_are_unit_length(camps_model) -> None:
    model, _ = camps_model
    np.testing.assert_allclose(np.linalg.norm(model.item_vectors(), axis=1), 1.0, rtol=1e-5,
                               atol=1e-6)


def test_out_of_range_requests_are_refused(camps_model) -> None:
    model, data = camps_model
    with pytest.raises(RequestError, match="user index out of range"):
        model.score_users(np.array([data.n_users]))
    with pytest.raises(RequestError, match="history 1 has an item index"):
        model.score_histories([np.array([0]), np.array([data.n_items])])
    with pytest.raises(RequestError, match="item_categories must have shape"):
        model.add_items(np.zeros((1, 12), np.float32), np.zeros((1, 3), np.float32))
    with pytest.raises(RequestError, match="same encoder as training"):
        model.add_items(np.zeros((1, 7), np.float32), np.zeros((1, 2), np.float32))


def test_state_from_another_format_is_refused(camps_model) -> None:
    tensors, meta = camps_model[0].get_state()
    with pytest.raises(RunError, match="format"):
        TwoTowerModel.from_state(tensors, {**meta, "format": 99})
    broken = {k: v for k, v in tensors.items() if not k.endswith("id_emb.weight")}
    with pytest.raises(RunError, match="do not match"):
        TwoTowerModel.from_state(broken, meta)


def test_state_carries_both_configs(camps_model) -> None:
    model, _ = camps_model
    clone = TwoTowerModel.from_state(*model.get_state())
    assert clone.model_config == model.model_config
    assert clone.train_config == model.train_config


def test_missing_text_embeddings_warn_and_train_without_text() -> None:
    data = two_camps()
    data.text_embeddings = None
    with pytest.warns(UserWarning, match="no text embeddings"):
        model = TwoTowerModel(ModelConfig(dim=8), FAST).fit(data)
    assert model.model_config.use_text is False
    assert np.isfinite(model.score_users(np.arange(3))).all()


def test_empty_training_data_is_a_data_error() -> None:
    data = two_camps()
    data.train = data.train.iloc[:0]
    with pytest.raises(DataError, match="no interactions"):
        TwoTowerModel(ModelConfig(dim=8), FAST).fit(data)


def test_mismatched_text_embeddings_are_a_data_error() -> None:
    data = two_camps()
    data.text_embeddings = data.text_embeddings[:3]
    with pytest.raises(DataError, match="text_embeddings must have shape"):
        TwoTowerModel(ModelConfig(dim=8), FAST).fit(data)


def test_category_prior_is_catalogue_share_or_uniform() -> None:
    categories = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], dtype=np.float32)
    np.testing.assert_allclose(category_prior(categories, "catalog"), [0.75, 0.25], atol=1e-6)
    np.testing.assert_allclose(category_prior(categories, "uniform"), [0.5, 0.5], atol=1e-6)
