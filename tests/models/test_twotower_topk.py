"""Two-tower top-N selection: the block-wise path returns the lists the plain path gives.

Plain path: `score_users` / `score_histories` (the full score matrix) then `top_n` with the seen
items hidden. Block path: `top_n_users` / `top_n_histories`, which never builds that matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

import engine.models.topn
import engine.models.twotower
from engine.core.config import ModelConfig, TrainConfig
from engine.evaluation.protocol import RerankSpec, rank_users
from engine.models.base import ITEM_IDX, USER_IDX, BaseModel, TrainData, seen_matrix
from engine.models.examples import pad_histories
from engine.models.network import TwoTowerNet
from engine.models.topn import top_n
from engine.models.twotower import STATE_FORMAT, TwoTowerModel

N_USERS, N_ITEMS, HISTORY_LEN = 40, 30, 6


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several tower chunks (of different padding) and several score blocks per call."""
    monkeypatch.setattr(engine.models.twotower, "SCORE_CHUNK", 7)
    monkeypatch.setattr(engine.models.twotower, "TOWER_CHUNK_SLOTS", 7 * HISTORY_LEN)
    monkeypatch.setattr(engine.models.topn, "SCORE_BLOCK_BYTES", 4 * N_ITEMS * 5)


def random_model(n_layers: int = 0, seed: int = 0) -> TwoTowerModel:
    """Fresh weights, histories of every length from empty to full (the padding varies)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    text = rng.normal(size=(N_ITEMS, 5)).astype(np.float32)
    cats = np.eye(3, dtype=np.float32)[rng.integers(0, 3, N_ITEMS)]
    config = ModelConfig(dim=8, n_layers=n_layers, use_user_embedding=True)
    net = TwoTowerNet(torch.from_numpy(text), torch.from_numpy(cats), N_USERS, HISTORY_LEN,
                      config)
    lengths = rng.integers(1 if n_layers else 0, HISTORY_LEN + 3, N_USERS)
    histories = [rng.choice(N_ITEMS, size=n, replace=False) for n in lengths]
    tensors = {f"net.{key}": value.numpy() for key, value in net.state_dict().items()}
    tensors["train_histories"] = pad_histories(histories, HISTORY_LEN)
    meta = {"format": STATE_FORMAT, "model_config": config.to_dict(),
            "train_config": TrainConfig(history_len=HISTORY_LEN, device="cpu").to_dict(),
            "n_users": N_USERS}
    return TwoTowerModel.from_state(tensors, meta)


def random_seen(seed: int = 1) -> sp.csr_matrix:
    """A few seen items per user; user 0 has seen all but two items."""
    rng = np.random.default_rng(seed)
    seen = rng.random((N_USERS, N_ITEMS)) < 0.2
    seen[0] = True
    seen[0, [3, 17]] = False
    return sp.csr_matrix(seen.astype(np.float32))


def reference(scores: np.ndarray, seen: sp.csr_matrix, n: int) -> np.ndarray:
    """Descending score, ties by item index, seen items dropped, -1 pads (by plain numpy)."""
    masked = np.where(seen.toarray() > 0, -np.inf, scores)
    order = np.argsort(-masked, axis=1, kind="stable")[:, :n]
    return np.where(np.isneginf(np.take_along_axis(masked, order, axis=1)), -1, order)


def score_tolerance(scores: np.ndarray) -> float:
    """Float32 scores summed in another order (blocked vs full matmul, other BLAS kernels or
    thread counts) differ by a few ulps of the largest score, also near zero: an absolute
    tolerance scaled to the score range."""
    finite = scores[np.isfinite(scores)]
    return 64 * float(np.finfo(np.float32).eps) * max(float(np.abs(finite).max()), 1.0)


def assert_same_top(top: np.ndarray, expected: np.ndarray, scores: np.ndarray) -> None:
    """Same lists, except that items whose plain scores are within float noise may swap."""
    atol = score_tolerance(scores)
    np.testing.assert_array_equal(top < 0, expected < 0)
    got = np.take_along_axis(scores, np.maximum(top, 0), axis=1)
    want = np.take_along_axis(scores, np.maximum(expected, 0), axis=1)
    np.testing.assert_allclose(np.where(top < 0, 0, got), np.where(expected < 0, 0, want),
                               rtol=0, atol=atol)
    for user, row in enumerate(top):
        for position in np.flatnonzero(row != expected[user]):
            near = np.abs(scores[user] - scores[user, expected[user, position]]) <= atol
            assert near[row[position]], (user, position)  # only a near-tie may differ


@pytest.mark.parametrize("n_layers", [0, 1])
@pytest.mark.parametrize("n", [1, 5, N_ITEMS - 2, N_ITEMS + 10])
def test_block_path_gives_the_plain_top_n(n_layers: int, n: int) -> None:
    model, seen = random_model(n_layers), random_seen()
    users = np.arange(N_USERS)
    plain_scores = model.score_users(users)
    top, values = model.top_n_users(users, n, seen)
    assert top.shape == values.shape == (N_USERS, min(n, N_ITEMS))
    assert_same_top(top, top_n(plain_scores.copy(), seen, n), plain_scores)
    assert_same_top(top, reference(plain_scores, seen, n), plain_scores)
    picked = np.take_along_axis(plain_scores, np.maximum(top, 0), axis=1)
    np.testing.assert_allclose(values, np.where(top < 0, -np.inf, picked), rtol=1e-6,
                               atol=score_tolerance(plain_scores))
    if n > N_ITEMS - 2:  # user 0 has two unseen items: the rest of the row is padding
        unseen = sorted([3, 17], key=lambda item: -plain_scores[0, item])
        np.testing.assert_array_equal(top[0, :2], unseen)
        assert (top[0, 2:] == -1).all() and np.isneginf(values[0, 2:]).all()


def test_block_path_without_exclusions_and_for_a_user_subset() -> None:
    model = random_model()
    users = np.array([7, 2, 2, 39])
    top, _ = model.top_n_users(users, 4)
    scores = model.score_users(users)
    assert_same_top(top, top_n(scores.copy(), None, 4), scores)


@pytest.mark.parametrize("with_users", [False, True])
def test_history_block_path_gives_the_plain_top_n(with_users: bool) -> None:
    model = random_model()
    histories = [np.array([], dtype=np.int64), np.array([4]), np.arange(12), np.array([9, 1])]
    user_idx = np.array([3, -1, 0, 5]) if with_users else None
    seen = sp.csr_matrix(np.eye(4, N_ITEMS, k=1, dtype=np.float32))
    scores = model.score_histories(histories, user_idx=user_idx)
    top, _ = model.top_n_histories(histories, 6, seen, user_idx=user_idx)
    assert_same_top(top, reference(scores, seen, 6), scores)


@pytest.mark.parametrize("n_layers", [0, 1])
def test_trimmed_padding_leaves_user_vectors_unchanged(n_layers: int) -> None:
    """Chunks drop padding columns; the tower on the full padded matrix agrees."""
    model = random_model(n_layers)
    spans = (model.train_histories_ >= 0).sum(axis=1)
    assert len(np.unique(spans)) > 3  # chunks (shortest first) get different widths
    users = np.arange(N_USERS)
    with torch.no_grad():
        items = torch.as_tensor(model.item_vectors_)
        full = model.net_.user_vectors(torch.as_tensor(model.train_histories_),
                                       torch.as_tensor(users), items)
        expected = (full @ items.T / model.model_config.temperature).numpy()
    np.testing.assert_allclose(model.score_users(users), expected, rtol=1e-5,
                               atol=score_tolerance(expected))


class PlainPath(BaseModel):
    """Only the scoring methods of a model: evaluation goes through the default top-N."""

    def __init__(self, model: TwoTowerModel) -> None:
        self.model, self.name, self.sequential = model, model.name, model.sequential

    def fit(self, data: TrainData, callbacks: Sequence[Any] = ()) -> Self:
        return self

    def score_users(self, user_idx: np.ndarray) -> np.ndarray:
        return self.model.score_users(user_idx)

    def score_histories(self, histories: list[np.ndarray], timestamps: Any = None,
                        user_idx: np.ndarray | None = None) -> np.ndarray:
        return self.model.score_histories(histories, user_idx=user_idx)

    def item_vectors(self) -> np.ndarray:
        return self.model.item_vectors()

    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return self.model.get_state()

    @classmethod
    def from_state(cls, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> Self:
        raise NotImplementedError


def model_data(model: TwoTowerModel) -> TrainData:
    """Training interactions = the model's histories; one later item per user validates."""
    histories = model.train_histories_
    rows = [(u, i) for u in range(N_USERS) for i in histories[u] if i >= 0]
    users, items = (np.array(col, dtype=np.int64) for col in zip(*rows, strict=True))
    train = pd.DataFrame({USER_IDX: users, ITEM_IDX: items, "timestamp": np.arange(len(users)),
                          "weight": 1.0})
    valid = pd.DataFrame({USER_IDX: np.arange(N_USERS), ITEM_IDX: np.arange(N_USERS) % N_ITEMS,
                          "timestamp": len(users) + np.arange(N_USERS), "weight": 1.0})
    cats = model.net_.item_categories.numpy()
    return TrainData([str(u) for u in range(N_USERS)], [str(i) for i in range(N_ITEMS)], train,
                     valid, valid, cats, ["a", "b", "c"], np.ones(N_ITEMS))


@pytest.mark.parametrize("sequential", [True, False])
@pytest.mark.parametrize("rerank", [None, RerankSpec("mmr", 0.3, n_candidates=12)])
def test_rank_users_uses_the_block_path_with_the_same_lists(
        sequential: bool, rerank: RerankSpec | None, monkeypatch: pytest.MonkeyPatch) -> None:
    model = random_model()
    model.train_config = model.train_config.replace(
        example_history="past" if sequential else "rest")
    data = model_data(model)
    users = np.arange(N_USERS)
    scores = model.score_users(users)
    gaps = np.diff(np.sort(scores, axis=1), axis=1)
    # exact list equality below is sound only because no two scores are near-ties
    assert gaps.min() > 4 * score_tolerance(scores)
    plain = rank_users(PlainPath(model), data, users, k=8, rerank=rerank)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the full score matrix was built")

    monkeypatch.setattr(model, "score_users", refuse)
    monkeypatch.setattr(model, "score_histories", refuse)
    np.testing.assert_array_equal(rank_users(model, data, users, k=8, rerank=rerank), plain)
    seen = seen_matrix(data, "test")
    assert not any(seen[u, i] for u, row in enumerate(plain) for i in row if i >= 0)


def test_rank_users_pays_the_user_tower_once_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plain path cuts users into score blocks (5 users here); the block path takes them
    all in one call, so the tower runs over every user once, not once per block."""
    model = random_model()
    data = model_data(model)
    calls = []
    original = model.top_n_histories

    def counted(histories: list[np.ndarray], *args: Any, **kwargs: Any) -> Any:
        calls.append(len(histories))
        return original(histories, *args, **kwargs)

    monkeypatch.setattr(model, "top_n_histories", counted)
    rank_users(model, data, np.arange(N_USERS), k=3)
    assert calls == [N_USERS]
