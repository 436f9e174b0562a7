"""The two-tower network: nn.Modules only, no data handling or file I/O.

Item vector v_i = normalise(text projection + ID embedding + category embedding).
User vector u = normalise(attention pooling over the user's recent history of item vectors,
with a learned recency embedding, + a learned user embedding where the user was seen).
Score s(u, i) = cos(u, v_i) / temperature.

Histories are right-aligned (B, L) item-index matrices: the last column is the most recent
item and -1 pads the left. User index -1 means "not seen in training" (no user embedding).

A loss-conditioned network (ModelConfig.alpha_film) also reads the diversity weight alpha of
the loss it should answer for: a small MLP of alpha gives a per-dimension scale and shift of
the pooled history (FiLM, Perez et al. 2018) and a shift of the attention query, so one network
trained over a range of alpha serves any alpha in it with one user-tower pass ("You Only Train
Once", Dosovitskiy & Djolonga 2020). Alpha reaches the item side through a second learned
table (ModelConfig.alpha_items), a diversity direction d_i per item: s(u, i, alpha) =
(u·v_i + alpha·u·d_i) / temperature, one product of [u, alpha·u] with [v; d]. Neither table
depends on alpha, so both are computed once.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from engine.core.config import ModelConfig
from engine.core.errors import DataError
from engine.models.base import TrainData

PAD = -1
ITEM_CHUNK = 65_536  # items per pass of the item tower over a large catalogue


class ItemTower(nn.Module):
    """Item vectors from frozen text embeddings, learned ID embeddings and category rows."""

    def __init__(self, n_items: int, n_categories: int, text_dim: int, config: ModelConfig):
        super().__init__()
        dim = config.dim
        self.config = config
        self.text_proj = (
            nn.Sequential(nn.Linear(text_dim, dim), nn.GELU(), nn.Linear(dim, dim))
            if config.use_text and text_dim > 0 else None
        )
        self.id_emb = nn.Embedding(n_items, dim) if config.use_id else None
        self.cat_proj = (
            nn.Linear(n_categories, dim, bias=False) if config.use_category else None
        )
        self.norm = nn.LayerNorm(dim)
        if self.id_emb is not None:
            nn.init.normal_(self.id_emb.weight, std=0.1)

    def forward(
        self,
        text: torch.Tensor,
        categories: torch.Tensor,
        items: torch.Tensor | None,
        id_keep: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(N, d) L2-normalised item vectors.

        text (N, d_text), categories (N, C), items (N,) item indices for the ID embedding
        (None: the whole catalogue in order),
        id_keep (N,) float 0/1 mask hiding ID embeddings (ID dropout in training; None keeps all).
        """
        parts = []
        if self.text_proj is not None:
            parts.append(self.text_proj(text))  # (N, d)
        if self.id_emb is not None:
            # the whole catalogue reads the table itself (a cheaper backward than a lookup)
            ids = self.id_emb.weight if items is None else self.id_emb(items)  # (N, d)
            parts.append(ids if id_keep is None else ids * id_keep.unsqueeze(1))
        if self.cat_proj is not None:
            parts.append(self.cat_proj(categories))  # (N, d)
        return F.normalize(self.norm(torch.stack(parts).sum(0)), dim=-1)

    def parts(self, text: torch.Tensor, categories: torch.Tensor,
              items: torch.Tensor) -> dict[str, torch.Tensor]:
        """The item vector split exactly into its inputs: {"text", "id", "category",
        "offset"} -> (N, d), summing to `forward`'s output.

        LayerNorm(x) = γ·(x − mean x)/σ(x) + β is linear in the parts of x = Σ p once σ(x)
        is fixed, so part p gives γ·(p − mean p)/σ(x) and β is the shared offset; each is
        divided by the same norm as the whole vector.
        """
        raw = {}
        if self.text_proj is not None:
            raw["text"] = self.text_proj(text)
        if self.id_emb is not None:
            raw["id"] = self.id_emb(items)
        if self.cat_proj is not None:
            raw["category"] = self.cat_proj(categories)
        total = torch.stack(list(raw.values())).sum(0)  # (N, d)
        sigma = (total.var(-1, unbiased=False, keepdim=True) + self.norm.eps).sqrt()
        length = self.norm(total).norm(dim=-1, keepdim=True).clamp_min(1e-12)  # (N, 1)
        out = {name: self.norm.weight * (part - part.mean(-1, keepdim=True)) / sigma / length
               for name, part in raw.items()}
        out["offset"] = self.norm.bias.expand_as(total) / length
        return out

    def extend(self, n_new: int) -> None:
        """Append zero ID embeddings for cold-start items (they rely on text and category)."""
        if self.id_emb is None or n_new <= 0:
            return
        old = self.id_emb.weight.data
        grown = torch.cat([old, old.new_zeros(n_new, old.shape[1])])  # (N + n_new, d)
        self.id_emb = nn.Embedding.from_pretrained(grown, freeze=False,
                                                   sparse=self.id_emb.sparse)


class AlphaFiLM(nn.Module):
    """alpha (B,) -> scale, shift (B, d) of the pooled history and a query shift (B, d).

    The last layer starts at zero, so an untrained FiLM is the identity and the conditioned
    network starts where the plain one does.
    """

    def __init__(self, dim: int, hidden: int = 32):
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(2, hidden), nn.GELU(), nn.Linear(hidden, 3 * dim))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features = torch.stack([alpha, alpha.sqrt()], dim=-1).float()  # (B, 2)
        scale, shift, query = self.mlp(features).split(self.dim, dim=-1)  # 3 x (B, d)
        return scale, shift, query


class UserTower(nn.Module):
    """Recency-aware attention pooling over history item vectors, plus a user embedding.

    Attention logit of history slot j: (v_j + r_pos(j)) . (q + e_u) / sqrt(d), with r a learned
    recency embedding (position 0 = most recent), q a learned query and e_u the user embedding.
    With self-attention layers, r is added to the slots before the layers (so the layers see
    positions) and the pooled logit reads it from there, not a second time.
    A null slot (logit learned, value 0) lets empty or uninformative histories pool to zero.
    """

    def __init__(self, n_users: int, history_len: int, config: ModelConfig):
        super().__init__()
        dim = config.dim
        self.history_len = history_len
        self.dropout_rate = config.dropout
        self.pos_emb = nn.Embedding(history_len, dim)  # 0 = most recent
        self.null_logit = nn.Parameter(torch.zeros(1))
        self.query = nn.Parameter(torch.randn(dim) * 0.02)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(dim, config.n_heads, dim * 2, config.dropout,
                                       batch_first=True, norm_first=True)
            for _ in range(config.n_layers)
        )
        self.out = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(config.dropout)
        self.user_emb = nn.Embedding(n_users, dim) if config.use_user_embedding else None
        self.film = AlphaFiLM(dim) if config.alpha_film else None
        if self.user_emb is not None:
            nn.init.normal_(self.user_emb.weight, std=0.1)
        nn.init.normal_(self.pos_emb.weight, std=0.02)

    def forward(
        self, history: torch.Tensor, item_vecs: torch.Tensor, users: torch.Tensor,
        alpha: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, d) L2-normalised user vectors.

        history (B, L) item indices, right-aligned, PAD on the left; item_vecs (n_items, d);
        users (B,) user indices, -1 for users without an embedding; alpha (B,) the diversity
        weight each row answers for (required by a loss-conditioned tower, ignored otherwise).
        """
        return self._pool(*self._attend(history, item_vecs, users, alpha))

    def _pool(self, weights: torch.Tensor, hist: torch.Tensor, user_vec: torch.Tensor | None,
              film: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
        """`forward`'s user vectors from one attention pass (`_attend`'s four parts)."""
        pooled = (weights.unsqueeze(1) @ hist).squeeze(1)  # (B, d)
        if film is not None:
            pooled = pooled * (1.0 + film[0]) + film[1]
        pooled = self.out(pooled)  # (B, d)
        if user_vec is not None:
            pooled = pooled + user_vec
        return F.normalize(self.dropout(pooled), dim=-1)

    def attention(self, history: torch.Tensor, item_vecs: torch.Tensor, users: torch.Tensor,
                  alpha: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The pooling weight of each history slot (B, L) (padding 0; the rest of 1 is the
        null slot's), as `forward` uses them; each slot's value as the user vector
        receives it (B, L, d): the attended slot through FiLM's scale and the output layer
        (no bias), so Σ_j weight_j · value_j is the pooled history's part of the user vector
        before normalisation; and the user vectors (B, d) `forward` returns, from the same
        attention pass."""
        attended = self._attend(history, item_vecs, users, alpha)
        weights, hist, _, film = attended
        if film is not None:
            hist = hist * (1.0 + film[0]).unsqueeze(1)
        return weights, hist @ self.out.weight.T, self._pool(*attended)

    def _attend(self, history: torch.Tensor, item_vecs: torch.Tensor, users: torch.Tensor,
                alpha: torch.Tensor | None):  # noqa: ANN202 - (weights, slots, user, film)
        """Attention weights (B, L), the attended slots (B, L, d), user embeddings (or None)
        and the FiLM terms (or None)."""
        film = self._film(alpha, history.shape[0])
        batch, length = history.shape
        mask = history != PAD  # (B, L)
        if self.training and self.dropout_rate > 0:  # hide whole history items (denoising)
            mask = mask & (torch.rand(mask.shape, device=mask.device) >= self.dropout_rate)
        # index_select: its backward (index_add_) is about twice as fast on the CPU as the
        # scatter that advanced indexing's backward runs (the largest cost of a step)
        hist = item_vecs.index_select(0, history.clamp_min(0).reshape(-1)).view(
            batch, length, -1)  # (B, L, d)
        positions = torch.arange(length - 1, -1, -1, device=history.device)
        recency = self.pos_emb(positions.clamp_max(self.history_len - 1))  # (L, d)
        if self.layers:
            hist = hist + recency
            for layer in self.layers:
                hist = layer(hist, src_key_padding_mask=~mask)  # (B, L, d)
        user_vec = self._user_vectors(users) if self.user_emb is not None else None
        query = self.query if user_vec is None else self.query + user_vec  # (d,) or (B, d)
        query = query.expand(batch, -1)  # (B, d)
        if film is not None:
            query = query + film[2]
        logits = (hist @ query.unsqueeze(-1)).squeeze(-1)  # (B, L)
        if not self.layers:  # with layers, recency is already inside hist (added once only)
            logits = logits + query @ recency.T
        logits = logits.masked_fill(~mask, float("-inf")) / math.sqrt(hist.shape[-1])
        logits = torch.cat([self.null_logit.expand(batch, 1), logits], 1)  # (B, 1 + L)
        weights = logits.softmax(-1)[:, 1:]  # (B, L); the null slot's value is zero
        return weights, hist, user_vec, film

    def _film(self, alpha: torch.Tensor | None, batch: int
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        """FiLM terms for alpha (B,), or None for a tower that is not loss-conditioned."""
        if self.film is None:
            return None
        if alpha is None:
            raise ValueError("a loss-conditioned user tower needs alpha for every row")
        return self.film(alpha.reshape(-1).expand(batch))

    def _user_vectors(self, users: torch.Tensor) -> torch.Tensor:
        """(B, d) user embeddings, zero for unseen users (index -1)."""
        seen = (users >= 0).unsqueeze(-1)  # (B, 1)
        return self.user_emb(users.clamp_min(0)) * seen


class TwoTowerNet(nn.Module):
    """Both towers plus the frozen item inputs (text embeddings, category rows) as buffers."""

    def __init__(
        self,
        text_embeddings: torch.Tensor,
        item_categories: torch.Tensor,
        n_users: int,
        history_len: int,
        config: ModelConfig,
    ):
        super().__init__()
        self.config = config
        self.register_buffer("text_embeddings", text_embeddings.float())  # (n_items, d_text)
        self.register_buffer("item_categories", item_categories.float())  # (n_items, C)
        n_items, n_categories = item_categories.shape
        self.item_tower = ItemTower(n_items, n_categories, text_embeddings.shape[1], config)
        self.user_tower = UserTower(n_users, history_len, config)
        # the item side's diversity direction d_i (alpha_items): zero at the start, so the
        # conditioned network starts where the plain one does
        self.item_offset = nn.Embedding(n_items, config.dim) if config.alpha_items else None
        if self.item_offset is not None:
            nn.init.zeros_(self.item_offset.weight)

    @property
    def n_items(self) -> int:
        return self.item_categories.shape[0]

    def item_vectors(
        self, items: torch.Tensor | None = None, id_keep: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(N, d) normalised vectors of `items` (N,), or (n_items, d) of the whole catalogue.

        id_keep (N,) float 0/1 hides ID embeddings of some items (ID dropout).
        """
        if items is None:
            return self.item_tower(self.text_embeddings, self.item_categories, None, id_keep)
        return self.item_tower(
            self.text_embeddings[items], self.item_categories[items], items, id_keep)

    def catalogue_vectors(self) -> torch.Tensor:
        """`item_vectors()` of the whole catalogue, `ITEM_CHUNK` items per pass above that
        size, so the tower's intermediate tables stay small beside the (n_items, d) result."""
        if self.n_items <= ITEM_CHUNK:
            return self.item_vectors()
        device, out = self.item_categories.device, None
        for start in range(0, self.n_items, ITEM_CHUNK):
            part = self.item_vectors(torch.arange(start, min(start + ITEM_CHUNK, self.n_items),
                                                  device=device))
            if out is None:
                out = part.new_empty((self.n_items, part.shape[1]))
            out[start:start + len(part)] = part
        return out

    def item_parts(self, items: torch.Tensor) -> dict[str, torch.Tensor]:
        """`ItemTower.parts` of `items` (N,): exact per-input shares of their vectors."""
        return self.item_tower.parts(
            self.text_embeddings[items], self.item_categories[items], items)

    def user_vectors(
        self, history: torch.Tensor, users: torch.Tensor, item_vecs: torch.Tensor,
        alpha: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, d) normalised user vectors for right-aligned histories (B, L) at alpha (B,)."""
        return self.user_tower(history, item_vecs, users, alpha)

    def forward(
        self, history: torch.Tensor, users: torch.Tensor, id_keep: torch.Tensor | None = None,
        alpha: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Full-catalogue logits (B, n_items) = cosine / temperature, and item vectors."""
        item_vecs = self.item_vectors(None, id_keep)  # (n_items, d)
        user_vecs = self.user_vectors(history, users, item_vecs, alpha)  # (B, d)
        table = self.scoring_items(item_vecs)
        query = self.scoring_users(user_vecs, alpha)
        return query @ table.T / self.config.temperature, item_vecs

    def scoring_items(self, item_vecs: torch.Tensor,
                      items: torch.Tensor | None = None) -> torch.Tensor:
        """The table scores are read from: item vectors (N, d), or [v_i, d_i] (N, 2d) with the
        item side's diversity direction (alpha_items); items (N,) or None for the catalogue."""
        if self.item_offset is None:
            return item_vecs
        offset = self.item_offset.weight if items is None else self.item_offset(items)
        return torch.cat([item_vecs, offset.to(item_vecs.dtype)], dim=-1)

    def scoring_users(self, user_vecs: torch.Tensor,
                      alpha: torch.Tensor | None) -> torch.Tensor:
        """Queries against `scoring_items`: u (B, d), or [u, alpha·u] (B, 2d), so the score
        is u·v_i + alpha·u·d_i (one product against the table computed once)."""
        if self.item_offset is None:
            return user_vecs
        scale = alpha.reshape(-1, 1).to(user_vecs.dtype).expand(len(user_vecs), 1)
        return torch.cat([user_vecs, scale * user_vecs], dim=-1)

    def add_items(self, text_embeddings: torch.Tensor, item_categories: torch.Tensor) -> None:
        """Append cold-start items: their vectors come from text and category only."""
        self.text_embeddings = torch.cat(
            [self.text_embeddings, text_embeddings.to(self.text_embeddings)])
        self.item_categories = torch.cat(
            [self.item_categories, item_categories.to(self.item_categories)])
        self.item_tower.extend(item_categories.shape[0])
        if self.item_offset is not None:  # new items: no diversity direction of their own
            old = self.item_offset.weight.data
            grown = torch.cat([old, old.new_zeros(item_categories.shape[0], old.shape[1])])
            self.item_offset = nn.Embedding.from_pretrained(grown, freeze=False)


def effective_model_config(config: ModelConfig, data: TrainData) -> ModelConfig:
    """Drop the text feature (with a warning) when the data carries no text embeddings."""
    if config.use_text and data.text_embeddings is None:
        if not (config.use_id or config.use_category):
            raise DataError("ModelConfig.use_text is the only item feature but the training data "
                            "has no text embeddings; encode item text first or enable use_id.")
        warnings.warn("training data has no text embeddings; the two-tower model trains without "
                      "text (encode item text with engine.text.encoders to use it)", stacklevel=3)
        return config.replace(use_text=False)
    return config


def check_training_data(data: TrainData) -> None:
    """Fail early, naming the problem, on data the model cannot learn from."""
    if len(data.train) == 0:
        raise DataError("training data has no interactions; check the dataset and the split.")
    if data.item_categories.shape[0] != data.n_items:
        raise DataError(f"item_categories has {data.item_categories.shape[0]} rows for "
                        f"{data.n_items} items; rebuild TrainData from the dataset.")
    text = data.text_embeddings
    if text is not None and (text.ndim != 2 or text.shape[0] != data.n_items):
        raise DataError(f"text_embeddings must have shape ({data.n_items}, d), got {text.shape}; "
                        "encode the same item table the data was built from.")
