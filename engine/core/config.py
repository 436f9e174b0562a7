"""Frozen, validated configuration dataclasses: one per component, defaults in one place.

Each config validates itself on creation and names the offending field in its message.
`from_dict` rejects unknown keys so a typo in a saved config never passes silently.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Self

from engine.core.columns import DEFAULT_EVENT_WEIGHTS
from engine.core.errors import ConfigError


def _check(condition: bool, cls_name: str, field_name: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{cls_name}.{field_name}: {message}")


class _ConfigMixin:
    """Shared helpers: dict round-trip with unknown-key rejection."""

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"{cls.__name__}: unknown setting(s) {unknown}; known settings are {sorted(known)}"
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclass(frozen=True)
class DataConfig(_ConfigMixin):
    """How raw tables become a clean dataset."""

    category_depth: int = 2  # level of the category path used for diversity (else the deepest)
    event_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))
    min_user_events: int = 1
    min_item_events: int = 1
    max_price: float = 100_000.0  # prices above this (or below 0) are absurd

    def __post_init__(self) -> None:
        name = type(self).__name__
        _check(self.category_depth >= 1, name, "category_depth", "must be >= 1")
        _check(self.min_user_events >= 1, name, "min_user_events", "must be >= 1")
        _check(self.min_item_events >= 1, name, "min_item_events", "must be >= 1")
        _check(self.max_price > 0, name, "max_price", "must be > 0")
        for event, weight in self.event_weights.items():
            _check(weight > 0, name, "event_weights", f"weight of {event!r} must be > 0")


@dataclass(frozen=True)
class EncoderConfig(_ConfigMixin):
    """Which pretrained text model encodes item text, and how."""

    model_name_or_path: str = ""  # "" means the bundled all-MiniLM-L6-v2
    max_length: int = 128
    batch_size: int = 64
    pooling: str = "auto"  # auto | mean | cls | last
    device: str = "auto"  # auto | cpu | cuda

    def __post_init__(self) -> None:
        name = type(self).__name__
        _check(self.max_length >= 8, name, "max_length", "must be >= 8")
        _check(self.batch_size >= 1, name, "batch_size", "must be >= 1")
        _check(self.pooling in {"auto", "mean", "cls", "last"}, name, "pooling",
               "must be one of auto, mean, cls, last")
        _check(self.device in {"auto", "cpu", "cuda"}, name, "device",
               "must be one of auto, cpu, cuda")


@dataclass(frozen=True)
class ModelConfig(_ConfigMixin):
    """Shape of the two-tower network: which item features it reads and how big it is."""

    dim: int = 64  # width of item and user vectors
    temperature: float = 0.07  # score = cosine / temperature
    dropout: float = 0.1
    id_dropout: float = 0.1  # chance an item's ID embedding is hidden in a batch (leans on text)
    use_text: bool = True
    use_id: bool = True
    use_category: bool = True
    use_user_embedding: bool = False  # on: memorises users, hurt next-item accuracy (docs)
    n_layers: int = 0  # self-attention layers over the history before pooling
    n_heads: int = 2

    def __post_init__(self) -> None:
        name = type(self).__name__
        _check(self.dim >= 2, name, "dim", "must be >= 2")
        _check(0.0 < self.temperature <= 10.0, name, "temperature", "must be in (0, 10]")
        _check(0.0 <= self.dropout < 1.0, name, "dropout", "must be in [0, 1)")
        _check(0.0 <= self.id_dropout <= 1.0, name, "id_dropout", "must be in [0, 1]")
        _check(self.use_text or self.use_id or self.use_category, name, "use_text",
               "at least one item feature (use_text, use_id, use_category) must be on")
        _check(self.n_layers >= 0, name, "n_layers", "must be >= 0")
        _check(self.n_heads >= 1 and self.dim % self.n_heads == 0, name, "n_heads",
               "must be >= 1 and divide dim")


@dataclass(frozen=True)
class TrainConfig(_ConfigMixin):
    """How the two-tower model learns: joint loss L = alpha * L_d + beta * L_r, and the loop."""

    alpha: float = 0.0  # weight of the diversity loss L_d
    beta: float = 1.0  # weight of the relevance loss L_r
    gamma: float = 0.5  # target = (1 - gamma) * user's categories + gamma * prior
    diversity_loss: str = "kl"  # kl | entropy | coverage (expected categories in eval_k draws)
    diversity_top: int = 0  # 0: mass over the whole catalogue; M: over each user's M best items
    diversity_prior: str = "catalog"  # catalog | uniform
    epochs: int = 30
    batch_size: int = 512
    lr: float = 1e-3
    lr_schedule: str = "constant"  # constant | cosine (decay to lr / 20 over `epochs`)
    weight_decay: float = 0.0
    patience: int = 3  # epochs without validation gain before stopping
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    history_len: int = 50  # most recent items the user tower reads
    # past: items before the target | rest: all other items | user: one multi-target example
    # per user (all of the user's items, Mult-DAE style; full softmax only)
    example_history: str = "past"
    sampled_softmax_threshold: int = 50_000  # catalogues larger than this use sampled softmax
    num_negatives: int = 1024  # sampled negatives per batch (shared, popularity-sampled)
    eval_k: int = 10  # validation metric is NDCG@eval_k

    def __post_init__(self) -> None:
        name = type(self).__name__
        for field_name in ("alpha", "beta", "gamma", "lr", "weight_decay"):
            value = getattr(self, field_name)
            _check(isinstance(value, int | float) and not isinstance(value, bool)
                   and value == value, name, field_name, f"must be a number, got {value!r}")
        _check(self.alpha >= 0, name, "alpha", "must be >= 0")
        _check(self.beta >= 0, name, "beta", "must be >= 0")
        _check(self.alpha > 0 or self.beta > 0, name, "alpha",
               "alpha and beta cannot both be 0 (nothing to learn); set beta > 0")
        _check(0.0 <= self.gamma <= 1.0, name, "gamma", "must be in [0, 1]")
        _check(self.diversity_loss in {"kl", "entropy", "coverage"}, name, "diversity_loss",
               "must be kl, entropy or coverage")
        _check(isinstance(self.diversity_top, int) and self.diversity_top >= 0, name,
               "diversity_top", "must be an integer >= 0")
        _check(self.diversity_prior in {"catalog", "uniform"}, name, "diversity_prior",
               "must be catalog or uniform")
        _check(self.epochs >= 1, name, "epochs", "must be >= 1")
        _check(self.batch_size >= 1, name, "batch_size", "must be >= 1")
        _check(self.lr > 0, name, "lr", "must be > 0")
        _check(self.lr_schedule in {"constant", "cosine"}, name, "lr_schedule",
               "must be constant or cosine")
        _check(self.weight_decay >= 0, name, "weight_decay", "must be >= 0")
        _check(self.patience >= 1, name, "patience", "must be >= 1")
        _check(self.device in {"auto", "cpu", "cuda"}, name, "device",
               "must be one of auto, cpu, cuda")
        _check(self.history_len >= 1, name, "history_len", "must be >= 1")
        _check(self.example_history in {"past", "rest", "user"}, name, "example_history",
               "must be past, rest or user")
        _check(self.sampled_softmax_threshold >= 1, name, "sampled_softmax_threshold",
               "must be >= 1")
        _check(self.num_negatives >= 1, name, "num_negatives", "must be >= 1")
        _check(self.eval_k >= 1, name, "eval_k", "must be >= 1")
