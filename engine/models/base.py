"""What every recommender model shares: the indexed training data and the model interface.

Models are scikit-learn-like: `__init__` stores parameters, `fit` learns attributes ending in
`_` and returns `self`, and scoring before `fit` raises `NotFittedError`. Every model scores
the whole catalogue for a batch of users, from their training histories or from ad-hoc
histories (what-if sessions, unknown shoppers) without retraining.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from engine.core.columns import ITEM_ID, TIMESTAMP, USER_ID, WEIGHT
from engine.core.errors import ConfigError, DataError, NotFittedError, RequestError
from engine.core.messages import render
from engine.models.topn import top_n_with_scores

if TYPE_CHECKING:

    from engine.data import Dataset, Split

USER_IDX = "user_idx"
ITEM_IDX = "item_idx"
SPLIT_PARTS = ("valid", "test")


def _index_frame(frame: pd.DataFrame, user_pos: pd.Index, item_pos: pd.Index) -> pd.DataFrame:
    """Map string ids to integer indices; rows whose user is unknown are dropped."""
    user_idx = user_pos.get_indexer(frame[USER_ID])
    item_idx = item_pos.get_indexer(frame[ITEM_ID])
    keep = (user_idx >= 0) & (item_idx >= 0)
    out = pd.DataFrame(
        {
            USER_IDX: user_idx[keep].astype(np.int64),
            ITEM_IDX: item_idx[keep].astype(np.int64),
            TIMESTAMP: frame[TIMESTAMP].to_numpy()[keep].astype(np.int64),
            WEIGHT: frame[WEIGHT].to_numpy()[keep].astype(np.float32),
        }
    )
    return out.sort_values([USER_IDX, TIMESTAMP], kind="stable").reset_index(drop=True)


def group_by_user(frame: pd.DataFrame, n_users: int, column: str = ITEM_IDX) -> list[np.ndarray]:
    """Per user index, the values of `column` in time order (empty arrays for absent users)."""
    groups: list[np.ndarray] = [np.empty(0, dtype=frame[column].dtype)] * n_users
    if len(frame) == 0:
        return groups
    users = frame[USER_IDX].to_numpy()
    values = frame[column].to_numpy()
    bounds = np.flatnonzero(np.diff(users)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(users)]])
    for start, end in zip(starts, ends, strict=True):
        groups[users[start]] = values[start:end]
    return groups


@dataclass
class TrainData:
    """A split indexed for models: users are those seen in training, items the whole catalogue."""

    user_ids: list[str]
    item_ids: list[str]
    train: pd.DataFrame  # user_idx, item_idx, timestamp, weight; sorted by user, time
    valid: pd.DataFrame
    test: pd.DataFrame
    item_categories: np.ndarray  # (n_items, C) float32, rows sum to 1
    category_names: list[str]
    item_popularity: np.ndarray  # (n_items,) training interaction counts
    text_embeddings: np.ndarray | None = None  # (n_items, d_text), L2-normalised
    _category_dist: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @classmethod
    def from_split(
        cls,
        dataset: Dataset,
        split: Split,
        text_embeddings: np.ndarray | None = None,
        category_depth: int | None = None,
        known_categories: tuple[pd.Index, np.ndarray, list[str]] | None = None,
    ) -> Self:
        """`known_categories` (item ids, item × category table, names) is a table already
        built from this catalogue (a run's): used as is when its ids are the dataset's, in
        order, instead of building the same table again from the category paths."""
        item_ids = dataset.items[ITEM_ID].astype(str).tolist()
        user_ids = sorted(split.train[USER_ID].astype(str).unique().tolist())
        user_pos, item_pos = pd.Index(user_ids), pd.Index(item_ids)
        train = _index_frame(split.train, user_pos, item_pos)
        valid = _index_frame(split.valid, user_pos, item_pos)
        test = _index_frame(split.test, user_pos, item_pos)
        if len(split.test) and len(test) == 0:
            raise DataError(
                f"dataset {dataset.name!r}: no test user also appears in training, so nothing "
                "can be evaluated; use a split that keeps each user's earlier events in training."
            )
        if known_categories is not None and category_depth is None and \
                pd.Index(known_categories[0]).equals(item_pos):
            categories, names = known_categories[1], known_categories[2]
        else:
            categories, names = dataset.category_matrix(category_depth)
        popularity = np.bincount(train[ITEM_IDX].to_numpy(), minlength=len(item_ids))
        return cls(
            user_ids=user_ids,
            item_ids=item_ids,
            train=train,
            valid=valid,
            test=test,
            item_categories=np.asarray(categories, dtype=np.float32),  # a known table: shared
            category_names=list(names),
            item_popularity=popularity.astype(np.float64),
            text_embeddings=text_embeddings,
        )

    @classmethod
    def from_interactions(cls, every: pd.DataFrame, item_ids: list[str],
                          item_categories: np.ndarray, category_names: list[str]) -> Self:
        """Every interaction (user_id, item_id, timestamp, weight) as training data, nothing
        held out, over a given catalogue (a run's, in its order); rows on other items drop."""
        user_ids = sorted(every[USER_ID].astype(str).unique().tolist())
        train = _index_frame(every.assign(**{USER_ID: every[USER_ID].astype(str),
                                             ITEM_ID: every[ITEM_ID].astype(str)}),
                             pd.Index(user_ids), pd.Index(item_ids))
        popularity = np.bincount(train[ITEM_IDX].to_numpy(), minlength=len(item_ids))
        return cls(user_ids=user_ids, item_ids=list(item_ids), train=train,
                   valid=train.iloc[0:0], test=train.iloc[0:0],
                   item_categories=np.asarray(item_categories, dtype=np.float32),
                   category_names=list(category_names),
                   item_popularity=popularity.astype(np.float64))

    def histories(self, frame: pd.DataFrame | None = None) -> list[np.ndarray]:
        """Item indices per user in time order (training history by default)."""
        return group_by_user(self.train if frame is None else frame, self.n_users)

    def truth(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray]]:
        """Users with held-out items in `frame`, and their item indices."""
        groups = group_by_user(frame, self.n_users)
        users = np.array([u for u, g in enumerate(groups) if len(g)], dtype=np.int64)
        return users, [groups[u] for u in users]

    def user_category_dist(self, users: np.ndarray | None = None) -> np.ndarray:
        """(n_users or B, C) each user's training category distribution (rows sum to 1).

        Computed once per TrainData (one sparse product) and reused: sweeps ask for it per point.
        """
        if self._category_dist is None:
            counts = sp.csr_matrix(
                (np.ones(len(self.train)), (self.train[USER_IDX], self.train[ITEM_IDX])),
                shape=(self.n_users, self.n_items))
            mass = np.asarray(counts @ self.item_categories.astype(np.float64))
            totals = mass.sum(axis=1, keepdims=True)
            self._category_dist = np.divide(mass, totals, out=np.zeros_like(mass),
                                            where=totals > 0)
            self._category_dist.flags.writeable = False  # shared by every caller
        return self._category_dist if users is None else self._category_dist[users]


class BaseModel(ABC):
    """Interface shared by the two-tower model and the baselines.

    Every model is built from its config (`from_config`, the registry's `build`) and reports
    that config back (`config`, run.json form), so a fitted model's unfitted twin, a search
    candidate and a saved run's record all go through the same two methods. What a model can
    do beyond scoring is said by the capability attributes below, never by its name.
    """

    name: str = "base"
    # Built from the training configs (ModelConfig, TrainConfig: `--set`, `--tune`, the
    # studio's form and the settings search set them); other models take their own settings.
    configurable: bool = False
    # Trains in epochs: hears trainer callbacks (bars, TensorBoard, stop buttons), early-stops
    # on the validation part and can train across processes (torchrun).
    trains_in_epochs: bool = False
    # Reads the items' text embeddings (the encoder runs before it is fitted).
    reads_text: bool = False
    # Setting name -> config class whose dict form run.json keeps (`from_config` rebuilds it).
    config_types: Mapping[str, Any] = {}
    # The model search that chose this model, when one did (engine/training/selection.py).
    selection_: Any = None
    # One record per training epoch (models that train in epochs); empty otherwise.
    logs_: Sequence[dict[str, float]] = ()
    # The loss weight alpha the model scores at (a loss-conditioned model); None otherwise.
    alpha_: float | None = None
    # `score_histories` also takes `user_idx=` (a known shopper's learned embedding).
    scores_with_user: bool = False
    # How the model credits a shopper's history items for a listed item (engine/models/credit
    # .py names the methods); None: it gives no per-history credit.
    credit_method: str | None = None
    # A sequential model reads the history up to the moment it predicts: the evaluation
    # protocol scores its test part from training + validation items (as RecBole does for
    # SASRec), while other models score from their training interactions.
    sequential: bool = False
    # Users per `top_n_users` call in evaluation; None: as many as one dense float32 score block
    # of SCORE_BLOCK_BYTES holds. Models whose top-N path bounds its own memory take more, so
    # per-call work (a user tower pass, say) is paid once for many users.
    top_n_batch: int | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        """The unfitted model with these settings (run.json form: configs as dicts or objects).

        ConfigError naming the setting for one the model does not take."""
        known = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise ConfigError(render("model {name!r}: unknown {n:setting|settings} {unknown}; "
                                     "it takes {known}", name=cls.name, n=len(unknown),
                                     unknown=", ".join(map(repr, unknown)),
                                     known=known or "no settings"))
        values = {key: cls.config_types[key].from_dict(value)
                  if key in cls.config_types and isinstance(value, dict) else value
                  for key, value in config.items()}
        return cls(**values)

    def config(self) -> dict[str, Any]:
        """The settings that rebuild this model unfitted (`from_config`), JSON-able."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: _plain(getattr(self, name)) for name in names}

    def unfitted(self, epochs: int | None = None) -> Self:
        """A new, unfitted model with these settings; `epochs` caps the training epochs of a
        model that has them (a refit trains for the epoch count early stopping chose)."""
        return type(self).from_config(self.config())

    @property
    def device(self) -> str:
        """The device the model trains on (`auto` for models that do not choose one)."""
        return "auto"

    @abstractmethod
    def fit(self, data: TrainData, callbacks: Sequence[Any] = ()) -> Self:
        """Learn from `data.train` (and `data.valid` for early stopping); return self."""

    @abstractmethod
    def score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """(B, n_items) float32 scores for training users, higher is better.

        A fresh array each call: callers may modify it (top-N selection masks it in place).
        """

    @abstractmethod
    def score_histories(
        self, histories: list[np.ndarray], timestamps: list[np.ndarray] | None = None
    ) -> np.ndarray:
        """(B, n_items) float32 scores for ad-hoc histories of item indices, no retraining.

        A fresh array each call, like `score_users`.
        """

    def top_n_users(
        self, user_idx: np.ndarray, n: int, exclude: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each training user's n best items: (B, n') item indices and their scores.

        Sorted by descending score, n' = min(n, n_items); items marked in `exclude`
        (B, n_items) are skipped, and -1 (score -inf) pads rows with fewer items left. This
        default scores the whole catalogue with `score_users` and selects on the host; models
        that can select without materialising the (B, n_items) block override it.
        """
        return _select(self.score_users(user_idx), exclude, n)

    def top_n_histories(
        self, histories: list[np.ndarray], n: int, exclude: sp.csr_matrix | None = None,
        user_idx: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """`top_n_users` for ad-hoc histories (`user_idx`, when given, goes to
        `score_histories` for models that take it)."""
        scores = self.score_histories(histories) if user_idx is None \
            else self.score_histories(histories, user_idx=user_idx)  # type: ignore[call-arg]
        return _select(scores, exclude, n)

    def history_credit(self, history: np.ndarray, items: np.ndarray) -> np.ndarray | None:
        """(H, k) each history item's exact term in each listed item's score, for a model
        whose score is a sum over the history; None otherwise."""
        return None

    def item_vectors(self) -> np.ndarray | None:
        """(n_items, d) L2-normalised vectors for cosine similarity, or None."""
        return None

    @property
    def alpha_range(self) -> tuple[float, float] | None:
        """(low, high) of the loss weight alpha a loss-conditioned model takes when serving;
        None for models trained at one alpha or without one."""
        return None

    def at_alpha(self, alpha: float) -> Self:
        """This model scoring for loss weight `alpha`; only loss-conditioned models can."""
        raise RequestError(
            f"alpha {alpha:g}: model {self.name!r} has no loss weight to choose when serving; "
            "use diversity_weight (the re-rank weight), or train a two-tower over a range of "
            "alpha (prism train --alpha 0:1).")

    @abstractmethod
    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Tensors (saved as safetensors) and JSON-able meta that rebuild the fitted model."""

    @classmethod
    @abstractmethod
    def from_state(cls, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> Self:
        """Rebuild a fitted model from `get_state` output."""

    def add_items(self, text_embeddings: np.ndarray, item_categories: np.ndarray) -> None:
        """Append cold-start items (text only, no events). Only text-aware models can."""
        raise RequestError(
            f"model {self.name!r} cannot score items it never saw in training; "
            "cold-start items need a two-tower run (prism train --model twotower)."
        )

    def _check_fitted(self, attribute: str) -> None:
        if getattr(self, attribute, None) is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit() first.")


def _plain(value: Any) -> Any:
    """A setting in run.json form (a config object as its dict)."""
    return value.to_dict() if callable(getattr(value, "to_dict", None)) else value


def _select(scores: np.ndarray, exclude: sp.csr_matrix | None,
            n: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-n of a score block (float32, masked in place; read-only blocks are copied first)."""

    scores = np.asarray(scores, dtype=np.float32)
    if not scores.flags.writeable:
        scores = scores.copy()
    return top_n_with_scores(scores, exclude, n)


def seen_matrix(data: TrainData, split_part: str) -> sp.csr_matrix:
    """Binary (n_users, n_items) matrix of items hidden from each user's ranking."""
    if split_part not in SPLIT_PARTS:
        raise ConfigError(f"split part must be one of {SPLIT_PARTS}, got {split_part!r}")
    frames = [data.train] + ([data.valid] if split_part == "test" else [])
    users = np.concatenate([f[USER_IDX].to_numpy() for f in frames])
    items = np.concatenate([f[ITEM_IDX].to_numpy() for f in frames])
    matrix = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)),
                           shape=(data.n_users, data.n_items))
    matrix.sum_duplicates()
    return matrix
