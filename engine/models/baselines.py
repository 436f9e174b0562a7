"""Classic baselines behind the same interface as the two-tower model.

Most-popular, item-kNN (cosine, RecBole-style top-k neighbours with shrink) and EASE (Steck,
WWW 2019, closed form). All three score from a binary user × item matrix of training
interactions, so `score_histories` on a user's own history gives exactly `score_users`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from engine.core.errors import ConfigError, RequestError
from engine.models.base import ITEM_IDX, USER_IDX, BaseModel, TrainData
from engine.models.credit import EASE_WEIGHT, KNN_SIMILARITY

ITEMKNN_BLOCK = 1024  # item columns per similarity block: bounds memory to n_items × block


def interaction_matrix(users: np.ndarray, items: np.ndarray, n_users: int,
                       n_items: int) -> sp.csr_matrix:
    """Binary (n_users, n_items) float32 CSR matrix; repeated pairs count once."""
    data = np.ones(len(users), dtype=np.float32)
    matrix = sp.csr_matrix((data, (users, items)), shape=(n_users, n_items), dtype=np.float32)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def histories_matrix(histories: Sequence[np.ndarray], n_items: int) -> sp.csr_matrix:
    """Binary CSR matrix with one row per ad-hoc history of item indices."""
    lengths = [len(h) for h in histories]
    items = (np.concatenate([np.asarray(h, dtype=np.int64) for h in histories])
             if sum(lengths) else np.empty(0, dtype=np.int64))
    if len(items) and (items.min() < 0 or items.max() >= n_items):
        raise RequestError(f"history holds item indices outside 0..{n_items - 1}; "
                           "map item ids with the run's item list first.")
    users = np.repeat(np.arange(len(histories)), lengths)
    return interaction_matrix(users, items, len(histories), n_items)


class HistoryModel(BaseModel):
    """Shared plumbing: keeps the training matrix and scores rows of a user × item matrix."""

    user_items_: sp.csr_matrix | None = None

    def fit(self, data: TrainData, callbacks: Sequence[Any] = ()) -> Self:
        train = data.train
        self.user_items_ = interaction_matrix(
            train[USER_IDX].to_numpy(), train[ITEM_IDX].to_numpy(), data.n_users, data.n_items
        )
        self._fit_matrix(self.user_items_)
        return self

    def score_users(self, user_idx: np.ndarray) -> np.ndarray:
        self._check_fitted("user_items_")
        user_idx = np.asarray(user_idx, dtype=np.int64)
        n_users = self.user_items_.shape[0]
        if len(user_idx) and (user_idx.min() < 0 or user_idx.max() >= n_users):
            raise RequestError(f"user indices must lie in 0..{n_users - 1}")
        return self._score_rows(self.user_items_[user_idx])

    def score_histories(self, histories: list[np.ndarray],
                        timestamps: list[np.ndarray] | None = None) -> np.ndarray:
        self._check_fitted("user_items_")
        return self._score_rows(histories_matrix(histories, self.user_items_.shape[1]))

    @abstractmethod
    def _fit_matrix(self, user_items: sp.csr_matrix) -> None:
        """Learn item-side parameters from the binary training matrix."""

    @abstractmethod
    def _score_rows(self, rows: sp.csr_matrix) -> np.ndarray:
        """(B, n_items) float32 scores for rows of a binary user × item matrix."""

    def _matrix_state(self) -> dict[str, np.ndarray]:
        self._check_fitted("user_items_")
        return {"user_items_indptr": self.user_items_.indptr.astype(np.int64),
                "user_items_indices": self.user_items_.indices.astype(np.int64)}

    @staticmethod
    def _matrix_from_state(tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> sp.csr_matrix:
        indices = tensors["user_items_indices"]
        shape = (int(meta["n_users"]), int(meta["n_items"]))
        data = np.ones(len(indices), dtype=np.float32)
        return sp.csr_matrix((data, indices, tensors["user_items_indptr"]), shape=shape)

    def _base_meta(self) -> dict[str, Any]:
        n_users, n_items = self.user_items_.shape
        return {"model": self.name, "n_users": int(n_users), "n_items": int(n_items)}


class MostPopular(HistoryModel):
    """Everyone gets the items with the most training interactions."""

    name = "pop"

    def __init__(self) -> None:
        self.popularity_: np.ndarray | None = None

    def _fit_matrix(self, user_items: sp.csr_matrix) -> None:
        self.popularity_ = np.asarray(user_items.sum(axis=0), dtype=np.float32).ravel()

    def _score_rows(self, rows: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.popularity_, (rows.shape[0], 1))

    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        tensors = self._matrix_state()
        tensors["popularity"] = self.popularity_
        return tensors, self._base_meta()

    @classmethod
    def from_state(cls, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> Self:
        model = cls()
        model.user_items_ = cls._matrix_from_state(tensors, meta)
        model.popularity_ = np.asarray(tensors["popularity"], dtype=np.float32)
        return model


class ItemKNN(HistoryModel):
    """Item-based kNN: cosine similarity of item columns, keep each item's top-k neighbours.

    sim(j, i) = x_j·x_i / (|x_j|·|x_i| + shrink); the score of item i for a user is the sum of
    sim(j, i) over the user's items j that are among i's k nearest neighbours (RecBole's rule).
    """

    name = "itemknn"
    credit_method = KNN_SIMILARITY

    def __init__(self, k: int = 100, shrink: float = 0.0) -> None:
        if not isinstance(k, int) or k < 1:
            raise ConfigError(f"itemknn: k must be a positive integer, got {k!r}")
        if shrink < 0:
            raise ConfigError(f"itemknn: shrink must be >= 0, got {shrink!r}")
        self.k = k
        self.shrink = float(shrink)
        self.similarity_: sp.csr_matrix | None = None

    def _fit_matrix(self, user_items: sp.csr_matrix) -> None:
        n_items = user_items.shape[1]
        item_users = user_items.T.tocsr()  # (n_items, n_users)
        norms = np.sqrt(np.asarray(item_users.multiply(item_users).sum(axis=1)).ravel())
        k = min(self.k, max(n_items - 1, 1))
        rows, cols, vals = [], [], []
        for start in range(0, n_items, ITEMKNN_BLOCK):
            block = np.arange(start, min(start + ITEMKNN_BLOCK, n_items))
            dots = (item_users @ item_users[block].T).toarray()  # (n_items, b)
            sims = dots / (np.outer(norms, norms[block]) + self.shrink + 1e-6)
            sims[block, np.arange(len(block))] = 0.0  # an item is not its own neighbour
            top = np.argpartition(-sims, k - 1, axis=0)[:k]  # (k, b) neighbour rows
            top_vals = np.take_along_axis(sims, top, axis=0)
            keep = top_vals > 0
            rows.append(top[keep])
            cols.append(np.broadcast_to(block, top.shape)[keep])
            vals.append(top_vals[keep])
        self.similarity_ = sp.csr_matrix(
            (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_items, n_items),
        )

    def _score_rows(self, rows: sp.csr_matrix) -> np.ndarray:
        return np.asarray((rows @ self.similarity_).toarray(), dtype=np.float32)

    def history_credit(self, history: np.ndarray, items: np.ndarray) -> np.ndarray:
        """sim(h, i) where h is among i's neighbours: h's term in the score."""
        return self.similarity_[history][:, items].toarray().astype(np.float64)

    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        tensors = self._matrix_state()
        tensors.update(similarity_indptr=self.similarity_.indptr.astype(np.int64),
                       similarity_indices=self.similarity_.indices.astype(np.int64),
                       similarity_data=self.similarity_.data.astype(np.float32))
        return tensors, {**self._base_meta(), "k": self.k, "shrink": self.shrink}

    @classmethod
    def from_state(cls, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> Self:
        model = cls(k=int(meta["k"]), shrink=float(meta["shrink"]))
        model.user_items_ = cls._matrix_from_state(tensors, meta)
        n_items = int(meta["n_items"])
        model.similarity_ = sp.csr_matrix(
            (tensors["similarity_data"], tensors["similarity_indices"],
             tensors["similarity_indptr"]), shape=(n_items, n_items))
        return model


class EASE(HistoryModel):
    """EASE: B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹, zero diagonal; scores = X·B."""

    name = "ease"
    credit_method = EASE_WEIGHT

    def __init__(self, reg_weight: float = 250.0) -> None:
        if not reg_weight > 0:
            raise ConfigError(f"ease: reg_weight must be > 0, got {reg_weight!r}")
        self.reg_weight = float(reg_weight)
        self.weights_: np.ndarray | None = None

    def _fit_matrix(self, user_items: sp.csr_matrix) -> None:
        gram = (user_items.T @ user_items).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.reg_weight
        precision = np.linalg.inv(gram)
        weights = precision / (-np.diag(precision))
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights_ = weights.astype(np.float32)

    def _score_rows(self, rows: sp.csr_matrix) -> np.ndarray:
        return np.asarray(rows @ self.weights_, dtype=np.float32)

    def history_credit(self, history: np.ndarray, items: np.ndarray) -> np.ndarray:
        """B[h, i]: h's term in the score (removing h lowers it by exactly that)."""
        return self.weights_[np.ix_(history, items)].astype(np.float64)

    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        tensors = self._matrix_state()
        tensors["weights"] = self.weights_
        return tensors, {**self._base_meta(), "reg_weight": self.reg_weight}

    @classmethod
    def from_state(cls, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> Self:
        model = cls(reg_weight=float(meta["reg_weight"]))
        model.user_items_ = cls._matrix_from_state(tensors, meta)
        model.weights_ = np.asarray(tensors["weights"], dtype=np.float32)
        return model
