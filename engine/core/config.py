"""Frozen, validated configuration dataclasses: one per component, defaults in one place.

Each field's type and range is declared on the field (`Annotated[float, Field(ge=0)]`,
`Literal[...]` for choices) and checked by pydantic when the config is created; the few rules
that tie fields together are checked after. A problem raises `ConfigError` with one message
naming the field and the rule (`TrainConfig.alpha: must be >= 0`). `from_dict` rejects unknown
keys so a typo in a saved config never passes silently.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Self

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from engine.core.columns import DEFAULT_EVENT_WEIGHTS
from engine.core.errors import ConfigError
from engine.core.messages import render

Device = Literal["auto", "cpu", "cuda"]
Positive = Annotated[int, Field(ge=1)]
NonNegative = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
_OPERATORS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
              "less_than_equal": "<="}
_TYPE_WORDS = {"float": "a number", "int": "an integer", "bool": "true or false",
               "string": "text", "dict": "a mapping", "finite": "a number"}


def _check(condition: bool, cls_name: str, field_name: str, message: str) -> None:
    """A rule that ties fields together (the per-field rules live on the fields)."""
    if not condition:
        raise ConfigError(f"{cls_name}.{field_name}: {message}")


@functools.cache
def _schema(cls: type) -> type[BaseModel]:
    """A strict pydantic model with the dataclass's annotated fields (built once per class)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {f.name: (hints[f.name], ...) for f in dataclasses.fields(cls)}
    config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False,
                        protected_namespaces=())  # fields such as model_name_or_path
    return create_model(f"{cls.__name__}Schema", __config__=config, **fields)


def _bounds_rule(cls: type, name: str) -> str | None:
    """'must be >= 1', 'must be in [0, 1)'... from the field's declared bounds."""
    hint = typing.get_type_hints(cls, include_extras=True)[name]
    marks = {type(m).__name__: m for m in getattr(hint, "__metadata__", ())
             for m in (m.metadata if hasattr(m, "metadata") else [m])}
    low = marks.get("Ge") or marks.get("Gt")
    high = marks.get("Le") or marks.get("Lt")
    if low is not None and high is not None:
        left, right = ("[" if "Ge" in marks else "("), ("]" if "Le" in marks else ")")
        return f"must be in {left}{_bound(low)}, {_bound(high)}{right}"
    if low is not None:
        return f"must be {'>=' if 'Ge' in marks else '>'} {_bound(low)}"
    if high is not None:
        return f"must be {'<=' if 'Le' in marks else '<'} {_bound(high)}"
    return None


def _bound(mark: annotated_types.BaseMetadata) -> Any:
    return getattr(mark, dataclasses.fields(mark)[0].name)  # Ge(ge=1).ge


def _choices(expected: str) -> str:
    names = [part.strip().strip("'") for part in expected.replace(" or ", ", ").split(",")]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _message(cls: type, exc: ValidationError) -> str:
    """One line for the first problem: `Class.field: rule, got value`."""
    error = exc.errors()[0]
    name, *inner = (str(part) for part in error["loc"])
    where = f"{cls.__name__}.{name}" + "".join(f"[{part!r}]" for part in inner)
    kind, got = error["type"], error.get("input")
    if kind in _OPERATORS:
        rule = (_bounds_rule(cls, name) if not inner else None) or \
            f"must be {_OPERATORS[kind]} {next(iter(error['ctx'].values()))}"
        rule = f"{rule}, got {got!r}"
    elif kind == "literal_error":
        rule = f"must be {_choices(error['ctx']['expected'])}, got {got!r}"
    elif kind.endswith("_type") or kind.endswith("_parsing") or kind == "finite_number":
        word = next((w for k, w in _TYPE_WORDS.items() if kind.startswith(k)), "valid")
        rule = f"must be {word}, got {got!r}"
    else:
        rule = f"{error['msg']}, got {got!r}"
    return f"{where}: {rule}"


class _ConfigMixin:
    """Shared behaviour: validation on creation, dict round-trip with unknown-key rejection."""

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        try:
            _schema(type(self)).model_validate(values)
        except ValidationError as exc:
            raise ConfigError(_message(type(self), exc)) from None
        self._check_rules()

    def _check_rules(self) -> None:
        """Rules between fields; none by default."""

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                render("{name}: unknown {n:setting|settings} {unknown}; known settings are "
                       "{known}", name=cls.__name__, n=len(unknown),
                       unknown=", ".join(map(repr, unknown)), known=sorted(known))
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclass(frozen=True)
class DataConfig(_ConfigMixin):
    """How raw tables become a clean dataset."""

    category_depth: Positive = 2  # level of the category path used for diversity (else deepest)
    event_weights: dict[str, Annotated[float, Field(gt=0)]] = field(
        default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))
    min_user_events: Positive = 1
    min_item_events: Positive = 1
    max_price: Annotated[float, Field(gt=0)] = 100_000.0  # prices above this (or < 0) are absurd
    decimal_mark: Literal["auto", ".", ","] = "auto"  # decides values like 1,299 (else unknown)


@dataclass(frozen=True)
class EncoderConfig(_ConfigMixin):
    """Which pretrained text model encodes item text, and how."""

    model_name_or_path: str = ""  # "" means the bundled all-MiniLM-L6-v2
    max_length: Annotated[int, Field(ge=8)] = 128
    batch_size: Positive = 64
    pooling: Literal["auto", "mean", "cls", "last"] = "auto"
    device: Device = "auto"


@dataclass(frozen=True)
class ModelConfig(_ConfigMixin):
    """Shape of the two-tower network: which item features it reads and how big it is."""

    dim: Annotated[int, Field(ge=2)] = 64  # width of item and user vectors
    temperature: Annotated[float, Field(gt=0, le=10)] = 0.07  # score = cosine / temperature
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.1
    id_dropout: Share = 0.1  # chance an item's ID embedding is hidden in a batch (leans on text)
    use_text: bool = True
    use_id: bool = True
    use_category: bool = True
    use_user_embedding: bool = False  # on: memorises users, hurt next-item accuracy (docs)
    n_layers: Annotated[int, Field(ge=0)] = 0  # self-attention layers over the history
    n_heads: Positive = 2
    # alpha enters the user tower (FiLM): set by training when TrainConfig.alpha_max is given
    alpha_film: bool = False
    # alpha reaches the item side too: score u·v_i + alpha·u·d_i with a learned table d
    alpha_items: bool = False

    def _check_rules(self) -> None:
        name = type(self).__name__
        _check(self.use_text or self.use_id or self.use_category, name, "use_text",
               "at least one item feature (use_text, use_id, use_category) must be on")
        _check(self.dim % self.n_heads == 0, name, "n_heads", "must be >= 1 and divide dim")


# Prism's α defaults, stated here only (docs/architecture.md, "Defaults").
# DEFAULT_ALPHA_RANGE: the α range of the default model, one two-tower trained over every α in
# it (serving then takes any α in it with one user-tower pass): the studio's starter model,
# the Training page's primary button and a `prism train` model-selection candidate. It holds
# its goal on both shared data sets (docs/benchmarks/frontier_alpha.md: at every α NDCG@10
# within the separately trained model's interval, a frontier no lower than re-ranking alone).
DEFAULT_ALPHA_RANGE: tuple[float, float] = (0.0, 1.0)
# DEFAULT_ALPHA: the α a two-tower trained at one α uses when nobody chose one (`prism train`
# without --alpha, the Training page's α slider, TrainConfig). 0 (no diversity term) keeps that
# model the most accurate one and every measured default (docs/benchmarks/defaults.md)
# reproducible; it is also where a model trained over DEFAULT_ALPHA_RANGE serves by default.
DEFAULT_ALPHA = 0.0


@dataclass(frozen=True)
class TrainConfig(_ConfigMixin):
    """How the two-tower model learns: joint loss L = alpha * L_d + beta * L_r, and the loop.

    alpha and beta are training loss weights: they shape the model. The serve-time re-rank
    weight is a different knob, `diversity_weight` (engine.rerank), and never retrains.
    """

    # weight of the diversity loss L_d (a range's low end), in [0, 1] like every form and
    # option that sets it (the studio's slider, `prism train --alpha`, the API)
    alpha: Share = DEFAULT_ALPHA
    beta: NonNegative = 1.0  # weight of the relevance loss L_r
    # Set: one loss-conditioned model over alpha in [alpha, alpha_max]. Each example draws its
    # own alpha (half at the low end, the rest uniform: engine.models.losses.draw_alphas), the
    # user tower reads it, and serving takes any alpha in the range with one user-tower pass
    # (docs/architecture.md, "One model for every alpha").
    alpha_max: Share | None = None
    gamma: Share = 0.5  # target = (1 - gamma) * user's categories + gamma * prior
    # L_d: "kl" (KL(t_u || q_u), gamma and diversity_prior set t_u), "entropy" (-H(q_u)),
    # "coverage" (-expected distinct categories in a list of eval_k drawn from q_u), or "auto":
    # coverage on a top region, KL on the whole catalogue's mass.
    diversity_loss: Literal["auto", "kl", "entropy", "coverage"] = "auto"
    # The region L_d reads: "auto" is each user's AUTO_DIVERSITY_TOP best items under the full
    # softmax and the whole catalogue under sampled softmax; 0: whole catalogue; M: M best.
    # Measured (docs/benchmarks/frontier.md, 3 seeds): the coverage of the top-50 region beats
    # re-ranking an α = 0 model at equal entropy on ML-100K and Amazon-Scientific, and beats
    # the KL of the same region; the whole catalogue's KL only ties re-ranking on Amazon.
    diversity_top: Annotated[int, Field(ge=0)] | Literal["auto"] = "auto"
    diversity_prior: Literal["catalog", "uniform"] = "catalog"
    # 15 epochs at 3e-3 decayed by cosine reach the validation NDCG of 30 constant-rate
    # epochs at 1e-3 in half the time (Amazon-Scientific, synthetic shop: docs/benchmarks.md)
    epochs: Positive = 15
    batch_size: Positive = 512
    lr: Annotated[float, Field(gt=0)] = 3e-3
    lr_schedule: Literal["constant", "cosine"] = "cosine"  # cosine: decay to lr / 20
    weight_decay: NonNegative = 0.0
    patience: Positive = 3  # epochs without validation gain before stopping
    seed: int = 0
    device: Device = "auto"
    history_len: Positive = 50  # most recent items the user tower reads
    # past: items before the target | rest: all other items | user: one multi-target example
    # per user (all of the user's items, Mult-DAE style; full softmax only)
    example_history: Literal["past", "rest", "user"] = "past"
    sampled_softmax_threshold: Positive = 50_000  # larger catalogues use sampled softmax
    num_negatives: Positive = 1024  # sampled negatives per batch (shared, popularity-sampled)
    eval_k: Positive = 10  # validation metric is NDCG@eval_k
    # Differential privacy (engine/models/private.py): set, the two-tower trains with DP-SGD
    # (Opacus) at this epsilon over shoppers: one Poisson-sampled example per shopper, each
    # shopper's gradient clipped to dp_clip, Gaussian noise calibrated by the accountant.
    # dp_delta None: 1 / shoppers^1.1 (below 1 / shoppers, see docs/privacy.md).
    dp_epsilon: Annotated[float, Field(gt=0)] | None = None
    dp_delta: Annotated[float, Field(gt=0, lt=1)] | None = None
    dp_clip: Annotated[float, Field(gt=0)] = 1.0  # per-shopper gradient norm bound

    def _check_rules(self) -> None:
        _check(self.dp_delta is None or self.dp_epsilon is not None, type(self).__name__,
               "dp_delta", "applies to private training only; set dp_epsilon too")
        _check(self.alpha > 0 or self.beta > 0 or self.alpha_max is not None,
               type(self).__name__, "alpha",
               "alpha and beta cannot both be 0 (nothing to learn); set beta > 0")
        _check(self.alpha_max is None or self.alpha_max > self.alpha, type(self).__name__,
               "alpha_max", "must be greater than alpha (the range is alpha..alpha_max)")
        _check(self.alpha_max is None or self.beta > 0, type(self).__name__, "beta",
               "must be > 0 for a model trained over a range of alpha")

    @property
    def alpha_range(self) -> tuple[float, float] | None:
        """(low, high) of a loss-conditioned model's alpha, or None for one fixed alpha."""
        return None if self.alpha_max is None else (self.alpha, self.alpha_max)
