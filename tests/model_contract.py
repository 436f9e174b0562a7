"""The contract every recommender model honours, as a test mixin reused by each model's tests.

Subclass `ModelContract` in a test class (`HistoryOnlyContract` for a model without learned
per-user parameters), implement `make_model`, and the shared tests run against that model
on a tiny hand-made catalogue (two categories, eight items, six users).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load_file, save_file

from engine.core.columns import TIMESTAMP, WEIGHT
from engine.core.errors import NotFittedError
from engine.models.base import ITEM_IDX, USER_IDX, BaseModel, TrainData

# Items 0-3 are in category "a", 4-7 in "b". Users 0, 1, 5 like "a", 2 and 3 like "b".
TRAIN_HISTORIES = [[0, 1, 2], [0, 1, 3], [4, 5, 6], [4, 5, 7], [0, 4], [1, 2, 3]]
VALID_ITEMS = [3, 2, 7, 6, 1, 0]
TEST_ITEMS = [5, 6, 3, 2, 5, 4]


def frame(histories: list[list[int]], start: int = 0) -> pd.DataFrame:
    """An indexed interaction frame (user_idx, item_idx, timestamp, weight) from histories."""
    rows = [(u, i, start + t) for u, items in enumerate(histories) for t, i in enumerate(items)]
    users, items, times = (np.array(col, dtype=np.int64) for col in zip(*rows, strict=True))
    return pd.DataFrame({USER_IDX: users, ITEM_IDX: items, TIMESTAMP: times,
                         WEIGHT: np.ones(len(rows), dtype=np.float32)})


def tiny_train_data(text_dim: int = 16, seed: int = 0) -> TrainData:
    """Six users, eight items in two categories, one valid and one test item per user."""
    n_items = 8
    categories = np.zeros((n_items, 2), dtype=np.float32)
    categories[:4, 0] = categories[4:, 1] = 1.0
    train = frame(TRAIN_HISTORIES)
    popularity = np.bincount(train[ITEM_IDX], minlength=n_items).astype(np.float64)
    text = np.random.default_rng(seed).normal(size=(n_items, text_dim)).astype(np.float32)
    return TrainData(
        user_ids=[f"u{u}" for u in range(len(TRAIN_HISTORIES))],
        item_ids=[f"i{i}" for i in range(n_items)],
        train=train,
        valid=frame([[i] for i in VALID_ITEMS], start=100),
        test=frame([[i] for i in TEST_ITEMS], start=200),
        item_categories=categories,
        category_names=["a", "b"],
        item_popularity=popularity,
        text_embeddings=text / np.linalg.norm(text, axis=1, keepdims=True),
    )


class ModelContract:
    """Shared tests; subclasses provide `make_model` (and may override `make_data`)."""

    def make_model(self) -> BaseModel:
        raise NotImplementedError

    def make_data(self) -> TrainData:
        return tiny_train_data()

    def fitted(self) -> tuple[BaseModel, TrainData]:
        data = self.make_data()
        return self.make_model().fit(data), data

    def test_fit_returns_self_and_scores_every_item(self) -> None:
        data = self.make_data()
        model = self.make_model()
        assert model.fit(data) is model
        scores = model.score_users(np.arange(data.n_users))
        assert scores.shape == (data.n_users, data.n_items)
        assert scores.dtype == np.float32
        assert np.isfinite(scores).all()

    def test_scoring_before_fit_raises_not_fitted(self) -> None:
        model = self.make_model()
        with pytest.raises(NotFittedError, match="not fitted"):
            model.score_users(np.array([0]))
        with pytest.raises(NotFittedError, match="not fitted"):
            model.score_histories([np.array([0, 1])])

    def test_state_round_trip_gives_identical_scores(self, tmp_path: Path) -> None:
        model, data = self.fitted()
        tensors, meta = model.get_state()
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()},
                  str(tmp_path / "m.safetensors"))
        meta_back = json.loads(json.dumps(meta))  # meta must be JSON-able
        clone = type(model).from_state(load_file(str(tmp_path / "m.safetensors")), meta_back)
        users = np.arange(data.n_users)
        np.testing.assert_array_equal(clone.score_users(users), model.score_users(users))
        histories = [np.array([0, 4]), np.array([7])]
        np.testing.assert_array_equal(clone.score_histories(histories),
                                      model.score_histories(histories))

    def test_score_histories_shape_for_adhoc_histories(self) -> None:
        model, data = self.fitted()
        scores = model.score_histories([np.array([0, 1]), np.array([6]), np.array([], int)])
        assert scores.shape == (3, data.n_items)
        assert np.isfinite(scores).all()



class HistoryOnlyContract(ModelContract):
    """The contract for models whose scores depend only on the history (no learned per-user
    parameters): a known shopper scores as their own history does."""

    def test_own_history_scores_match_user_scores(self) -> None:
        model, data = self.fitted()
        users = np.arange(data.n_users)
        from_histories = model.score_histories(data.histories())
        np.testing.assert_allclose(from_histories, model.score_users(users), rtol=1e-5,
                                   atol=1e-6)
