"""TwoTowerModel: the scikit-learn-style estimator around the two-tower network.

`fit` trains with the joint loss L = alpha * L_d + beta * L_r (engine/models/losses.py) and
early stopping on validation NDCG@K; scoring reads the user's most recent `history_len` items (their
order gives recency; timestamps are not needed). Cold-start items join through `add_items`
with vectors from their text and category alone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import torch

from engine.core.config import ModelConfig, TrainConfig
from engine.core.device import resolve_device
from engine.core.errors import RequestError, RunError
from engine.metrics import ndcg_at_k
from engine.metrics.diversity import category_prior
from engine.models import tower_pass
from engine.models.alpha import checked_alpha
from engine.models.base import ITEM_IDX, USER_IDX, BaseModel, TrainData, seen_matrix
from engine.models.credit import ATTENTION
from engine.models.examples import make_examples, pad_histories
from engine.models.network import PAD, TwoTowerNet, check_training_data, effective_model_config
from engine.models.private import trainer_for
from engine.models.topn import SCORE_BLOCK_BYTES, order_top_n
from engine.models.trainer import seed_everything

if TYPE_CHECKING:
    import scipy.sparse as sp

STATE_FORMAT = 1
SCORE_CHUNK = 2048  # users per score_users block (bounds device memory on CUDA)
TOWER_CHUNK_SLOTS = 2048 * 50  # history slots (users × columns) per pass through the user tower
NET_PREFIX = "net."


class TwoTowerModel(BaseModel):
    """Text-aware two-tower recommender trained on relevance plus category diversity."""

    name = "twotower"
    top_n_batch = 65_536  # users per top_n_* call in evaluation: score blocks are cut inside
    configurable = trains_in_epochs = reads_text = scores_with_user = True
    credit_method = ATTENTION
    config_types = {"model_config": ModelConfig, "train_config": TrainConfig}

    @property
    def sequential(self) -> bool:  # type: ignore[override]
        """Trained to predict the next item from the past ones (example_history="past")."""
        return self.train_config.example_history == "past"

    def __init__(self, model_config: ModelConfig | None = None,
                 train_config: TrainConfig | None = None):
        self.model_config = model_config or ModelConfig()
        self.train_config = train_config or TrainConfig()
        self.net_: TwoTowerNet | None = None
        self.item_vectors_: np.ndarray | None = None
        self.score_vectors_: np.ndarray | None = None  # see scoring_vectors
        self.train_histories_: np.ndarray | None = None  # (n_users, history_len), -1 pads
        self.logs_: list[dict[str, float]] = []
        self.privacy_: dict[str, Any] | None = None
        # the alpha a loss-conditioned model scores at (see at_alpha); None for a fixed alpha
        self.alpha_: float | None = self.train_config.alpha if self.alpha_range else None
        # item_vectors_ / score_vectors_ and their copies on the network's device (_on_device)
        self._device_items = self._device_scores = None

    @property
    def device(self) -> str:
        return self.train_config.device

    def unfitted(self, epochs: int | None = None) -> Self:
        fresh = type(self)(self.model_config, self.train_config)
        if epochs is not None:
            fresh.train_config = self.train_config.replace(epochs=epochs)
        return fresh

    # ---- the loss weight alpha --------------------------------------------------------------
    @property
    def alpha_range(self) -> tuple[float, float] | None:
        """(low, high) alpha a loss-conditioned model answers for; None for a fixed alpha."""
        return self.train_config.alpha_range

    def at_alpha(self, alpha: float) -> Self:
        """This model scoring for diversity weight `alpha`: a view sharing the weights and item
        vectors (cheap, thread-safe), for any alpha in the trained range (a fixed-alpha model
        answers only for its own)."""
        alpha = checked_alpha(alpha, self.train_config.alpha, self.alpha_range)
        if self.alpha_range is None:
            return self
        view = copy.copy(self)
        view.alpha_ = alpha
        return view

    # ---- training -------------------------------------------------------------------------
    def fit(self, data: TrainData, callbacks: Sequence[Any] = ()) -> Self:
        """Train on `data.train`, early-stop on `data.valid`; returns self."""
        check_training_data(data)
        config = self.train_config
        self.model_config = effective_model_config(self.model_config, data).replace(
            alpha_film=config.alpha_range is not None,
            alpha_items=config.alpha_range is not None)
        seed_everything(config.seed)
        device = resolve_device(config.device, "TrainConfig.device")
        net = _build_net(data.text_embeddings, data.item_categories, data.n_users,
                         config.history_len, self.model_config).to(device)
        train = data.train
        examples = make_examples(train[USER_IDX].to_numpy(), train[ITEM_IDX].to_numpy(),
                                 train["weight"].to_numpy(), config.history_len,
                                 config.example_history, data.n_items)
        self.train_histories_ = pad_histories(data.histories(), config.history_len)
        self.net_ = net
        # DistributedTrainer under torchrun, PrivateTrainer for dp_epsilon (models/private.py)
        trainer = trainer_for(config)(
            net, config, examples, data.user_category_dist(),
            category_prior(data.item_categories, config.diversity_prior).astype(np.float32),
            self._validator(data), device)
        self.logs_ = trainer.fit(callbacks)
        self.privacy_ = getattr(trainer, "privacy", None)  # DP-SGD's guarantee, when private
        self._finish()
        return self

    def _validator(self, data: TrainData) -> Callable[[], float] | None:
        """Validation NDCG@K of the current weights (train items hidden), or None without data."""
        users, truth = data.truth(data.valid)
        if len(users) == 0:
            return None
        seen = seen_matrix(data, "valid")[users]
        k = self.train_config.eval_k

        # a loss-conditioned model is judged at its range's low end (its most accurate
        # setting, as a fixed-alpha model is judged at its own alpha): a higher alpha's NDCG
        # falls as it learns to spread lists, which must not stop training early
        span = self.train_config.alpha_range
        ends = [None] if span is None else [span[0]]

        def validate() -> float:
            self._finish()
            scores = []
            for alpha in ends:
                model = self if alpha is None else self.at_alpha(alpha)
                top, _ = model._top_n(self.train_histories_[users], users, k, seen)
                scores.append(float(np.mean(ndcg_at_k(top, truth, k))))
            return float(np.mean(scores))

        return validate

    def _finish(self) -> None:
        """Switch to inference and cache the catalogue's item vectors."""
        self.net_.eval()
        with torch.no_grad():
            vectors = self.net_.catalogue_vectors()
            self.item_vectors_ = vectors.float().cpu().numpy()
            self.score_vectors_ = self.item_vectors_ if self.net_.item_offset is None \
                else self.net_.scoring_items(vectors).float().cpu().numpy()
        self._device_items = self._device_scores = None

    # ---- scoring --------------------------------------------------------------------------
    def score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """(B, n_items) scores from each user's training history and user embedding."""
        user_idx = self._known_users(user_idx)
        return self._score(self.train_histories_[user_idx], user_idx)

    def score_histories(self, histories: list[np.ndarray],
                        timestamps: list[np.ndarray] | None = None,
                        user_idx: np.ndarray | None = None) -> np.ndarray:
        """(B, n_items) scores for ad-hoc histories (what-if), no retraining.

        The last `history_len` items count, most recent last; `timestamps` are not needed since
        order carries recency. `user_idx` (B,), -1 for unknown, adds learned user embeddings
        (e.g. to score a known user's training + validation history).
        """
        return self._score(*self._padded(histories, user_idx))

    def top_n_users(self, user_idx: np.ndarray, n: int,
                    exclude: sp.csr_matrix | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Each user's n best items and their scores, `exclude`d items skipped (see BaseModel).

        Scores block by block on the model's device (CUDA when the network is there) and keeps
        only the top n of each block: the (B, n_items) score matrix is never built on the host.
        """
        user_idx = self._known_users(user_idx)
        return self._top_n(self.train_histories_[user_idx], user_idx, n, exclude)

    def top_n_histories(self, histories: list[np.ndarray], n: int,
                        exclude: sp.csr_matrix | None = None,
                        user_idx: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """`top_n_users` for ad-hoc histories, as `score_histories` reads them."""
        return self._top_n(*self._padded(histories, user_idx), n, exclude)

    def query_vectors(self, user_idx: np.ndarray,
                      histories: list[np.ndarray] | None = None) -> np.ndarray:
        """(B, d') q with q · scoring_vectors() = the scores: training users, or ad-hoc
        `histories` (as `score_histories` reads them, `user_idx` -1 for unknown)."""
        if histories is None:
            user_idx = self._known_users(user_idx)
            history = self.train_histories_[user_idx]
        else:
            history, user_idx = self._padded(histories, user_idx)
        return self._user_vectors(history, user_idx, self._item_tensor()).float().cpu().numpy()

    def _known_users(self, user_idx: np.ndarray) -> np.ndarray:
        self._check_fitted("net_")
        user_idx = np.asarray(user_idx, dtype=np.int64)
        n_users = self.train_histories_.shape[0]
        if user_idx.size and (user_idx.min() < 0 or user_idx.max() >= n_users):
            raise RequestError(f"user index out of range: this model knows users 0..{n_users - 1}")
        return user_idx

    def _padded(self, histories: list[np.ndarray],
                user_idx: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Checked, right-aligned (B, history_len) histories and their user indices."""
        self._check_fitted("net_")
        n_items = self.item_vectors_.shape[0]
        histories = [np.asarray(hist) for hist in histories]
        flat = np.concatenate(histories) if histories else np.zeros(0, dtype=np.int64)
        if flat.size and (flat.min() < 0 or flat.max() >= n_items):
            for row, hist in enumerate(histories):
                if hist.size and (hist.min() < 0 or hist.max() >= n_items):
                    raise RequestError(f"history {row} has an item index outside "
                                       f"0..{n_items - 1}")
        users = np.full(len(histories), -1, dtype=np.int64) if user_idx is None \
            else np.asarray(user_idx, dtype=np.int64)
        return pad_histories(histories, self.train_config.history_len), users

    def _item_tensor(self) -> torch.Tensor:  # (n_items, d) item vectors on the device
        return self._on_device(self.item_vectors_, "_device_items")

    def _score_tensor(self) -> torch.Tensor:  # (n_items, d') scoring_vectors on the device
        same = self.score_vectors_ is self.item_vectors_
        return self._on_device(self.score_vectors_, "_device_items" if same else "_device_scores")

    def _on_device(self, table: np.ndarray, cache: str) -> torch.Tensor:
        """`table` on the network's device, cached in attribute `cache` (no copy on the CPU)."""
        device = next(self.net_.parameters()).device
        source, tensor = getattr(self, cache, None) or (None, None)
        if source is not table or tensor.device != device:
            tensor = torch.as_tensor(table, device=device)
            setattr(self, cache, (table, tensor))
        return tensor

    def _user_vectors(self, history: np.ndarray, users: np.ndarray,
                      item_vecs: torch.Tensor) -> torch.Tensor:
        """(B, d) user vectors divided by the temperature, so u @ v.T are the scores.

        Users go through the tower shortest history first, in chunks of at most
        `TOWER_CHUNK_SLOTS` history slots, and each chunk drops the leading columns that are
        padding in all its rows: padded slots carry no attention weight, so they would only
        cost time (short histories make few, wide chunks). One shopper's pass is kept for the
        explanation of their list (engine/models/tower_pass.py)."""
        width = history.shape[1]
        present = history != PAD
        spans = np.where(present.any(axis=1), width - present.argmax(axis=1), 0)  # (B,)
        order = np.argsort(spans, kind="stable")
        spans = np.maximum(spans[order], 1)  # ascending; a chunk keeps at least one column
        device = item_vecs.device
        out = torch.empty((len(history), self.score_vectors_.shape[1]), dtype=item_vecs.dtype,
                          device=device)  # (B, d)
        start, keep_pass = 0, len(history) == 1
        with torch.no_grad():
            while start < len(order):
                # rows × width grows with each added row: the rows that fit are a prefix
                sizes = np.arange(1, len(order) - start + 1) * spans[start:]
                stop = start + max(1, int((sizes <= TOWER_CHUNK_SLOTS).sum()))
                rows, keep = order[start:stop], int(spans[stop - 1])
                hist = torch.as_tensor(history[rows, width - keep:], device=device)
                who = torch.as_tensor(users[rows], device=device)
                alpha = None if self.alpha_ is None else torch.full(
                    (len(rows),), self.alpha_, device=device)
                vecs = self.net_.scoring_users(tower_pass.user_vectors(
                    self.net_, hist, who, item_vecs, alpha, self.alpha_, keep_pass), alpha)
                out[torch.as_tensor(rows, device=device)] = vecs.to(out.dtype)
                start = stop
        return out / self.model_config.temperature

    def _score(self, history: np.ndarray, users: np.ndarray) -> np.ndarray:
        item_vecs = self._item_tensor()
        out = np.empty((len(history), item_vecs.shape[0]), dtype=np.float32)
        if not len(history):
            return out
        user_vecs = self._user_vectors(history, users, item_vecs)
        item_vecs = self._score_tensor()
        on_host = item_vecs.device.type == "cpu" and item_vecs.dtype == torch.float32
        with torch.no_grad():
            for start in range(0, len(history), SCORE_CHUNK):
                block = user_vecs[start:start + SCORE_CHUNK]
                rows = out[start:start + len(block)]
                if on_host:  # the product lands in `out` directly
                    torch.mm(block, item_vecs.T, out=torch.from_numpy(rows))
                else:
                    rows[:] = (block @ item_vecs.T).float().cpu().numpy()
        return out

    def _top_n(self, history: np.ndarray, users: np.ndarray, n: int,
               exclude: sp.csr_matrix | None) -> tuple[np.ndarray, np.ndarray]:
        """User vectors once, then per block of users: scores, -inf on `exclude`, top n."""
        item_vecs = self._item_tensor()
        device, n_items = item_vecs.device, item_vecs.shape[0]
        n = min(n, n_items)
        top = torch.empty((len(history), n), dtype=torch.int64, device=device)
        values = torch.empty((len(history), n), dtype=torch.float32, device=device)
        if len(history):
            user_vecs = self._user_vectors(history, users, item_vecs)
            item_vecs = self._score_tensor()
            step = max(1, SCORE_BLOCK_BYTES // (4 * max(n_items, 1)))  # users per score block
            with torch.no_grad():
                for start in range(0, len(history), step):
                    stop = min(start + step, len(history))
                    scores = user_vecs[start:stop] @ item_vecs.T  # (b, n_items)
                    if exclude is not None:
                        hidden = exclude[start:stop].tocoo()
                        if hidden.nnz:
                            scores[torch.as_tensor(hidden.row, device=device),
                                   torch.as_tensor(hidden.col, device=device)] = -torch.inf
                    values[start:stop], top[start:stop] = scores.topk(n, dim=1, sorted=False)
        return order_top_n(top.cpu().numpy(), values.float().cpu().numpy())

    def item_vectors(self) -> np.ndarray:
        """(n_items, d) L2-normalised item-tower outputs (cosine similarity for re-ranking)."""
        self._check_fitted("net_")
        return self.item_vectors_

    def scoring_vectors(self) -> np.ndarray:
        """(n_items, d') the table `query_vectors` score against, one for every alpha: the item
        vectors, or a loss-conditioned model's [v_i, d_i] (score u·v_i + alpha·u·d_i)."""
        self._check_fitted("net_")
        return self.score_vectors_

    # ---- cold start -----------------------------------------------------------------------
    def add_items(self, text_embeddings: np.ndarray, item_categories: np.ndarray) -> None:
        """Append items unseen in training: text (n_new, d_text), categories (n_new, C)."""
        self._check_fitted("net_")
        text = np.asarray(text_embeddings, dtype=np.float32)
        cats = np.asarray(item_categories, dtype=np.float32)
        net = self.net_
        if cats.ndim != 2 or cats.shape[1] != net.item_categories.shape[1]:
            raise RequestError(f"item_categories must have shape (n_new, "
                               f"{net.item_categories.shape[1]}), got {cats.shape}")
        text_dim = net.text_embeddings.shape[1]
        if text_dim == 0:
            text = np.zeros((len(cats), 0), dtype=np.float32)
        if text.shape != (len(cats), text_dim):
            raise RequestError(f"text_embeddings must have shape ({len(cats)}, {text_dim}) "
                               f"(same encoder as training), got {text.shape}")
        device = net.item_categories.device
        net.add_items(torch.as_tensor(text, device=device), torch.as_tensor(cats, device=device))
        self._finish()

    # ---- persistence ----------------------------------------------------------------------
    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Network weights, frozen inputs and training histories; meta carries both configs."""
        self._check_fitted("net_")
        tensors = {NET_PREFIX + key: value.detach().cpu().numpy()
                   for key, value in self.net_.state_dict().items()}
        tensors["train_histories"] = self.train_histories_
        meta = {"format": STATE_FORMAT, "model": self.name,
                "model_config": self.model_config.to_dict(),
                "train_config": self.train_config.to_dict(),
                "n_users": int(self.train_histories_.shape[0]),
                "logs": self.logs_, "privacy": self.privacy_}
        return tensors, meta

    @classmethod
    def from_state(cls, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> Self:
        """Rebuild a fitted model from `get_state` output, on the CPU."""
        if meta.get("format") != STATE_FORMAT:
            raise RunError(f"two-tower state format {meta.get('format')!r} is not supported "
                           f"(expected {STATE_FORMAT}); retrain the run with this version.")
        model = cls(ModelConfig.from_dict(meta["model_config"]),
                    TrainConfig.from_dict(meta["train_config"]))
        try:
            weights = {key[len(NET_PREFIX):]: torch.as_tensor(np.array(value))
                       for key, value in tensors.items() if key.startswith(NET_PREFIX)}
            net = _build_net(weights["text_embeddings"].numpy(),
                             weights["item_categories"].numpy(), int(meta["n_users"]),
                             model.train_config.history_len, model.model_config)
            net.load_state_dict(weights)
            model.train_histories_ = np.asarray(tensors["train_histories"], dtype=np.int64)
        except (KeyError, RuntimeError) as exc:
            raise RunError(f"two-tower weights do not match their config: {exc}") from exc
        model.net_, model.logs_ = net, list(meta.get("logs", []))
        model.privacy_ = meta.get("privacy")
        model._finish()
        return model


def _build_net(text: np.ndarray | None, categories: np.ndarray, n_users: int,
               history_len: int, config: ModelConfig) -> TwoTowerNet:
    n_items = categories.shape[0]
    text = text if config.use_text and text is not None else np.zeros((n_items, 0), np.float32)
    return TwoTowerNet(torch.as_tensor(np.asarray(text, dtype=np.float32)),
                       torch.as_tensor(np.asarray(categories, dtype=np.float32)),
                       n_users, history_len, config)
