"""The one request model every list request is validated by, at the boundary, and the
catalogue look-ups that turn a valid request into the arrays the pipeline reads.

`RecommendRequest` (pydantic) is the API's `POST /recommend` body and what the CLI, the
studio and `Recommender.recommend(**fields)` build. Its field checks are the engine's own
(`engine.core.checks`, `engine.rerank.quotas`), so a value gets one answer everywhere: a 422
in the API (400 for fields that cannot be combined), one line and exit 2 in the CLI, an
`st.error` in the studio (`RecommendRequest.of` raises `RequestError` with that line). What
needs the run's catalogue (category names, k within it, floors within each category's
supply) is checked when the request is served (`RequestError`, 400).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import numpy as np
from pydantic import (
    BeforeValidator,
    Field,
    StrictBool,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from engine.core.checks import check_target_mix, check_weight
from engine.core.errors import PrismError, RequestError
from engine.core.field_errors import readable
from engine.core.limits import (
    MAX_CANDIDATES,
    MAX_HISTORY,
    MAX_ID_CHARS,
    MAX_K,
    MAX_MATCH_VALUES,
    StrictModel,
    check_work,
)
from engine.core.messages import Message
from engine.rerank.methods import Method
from engine.rerank.quotas import CategorySupply, check_bounds, check_quota_room, check_supply
from engine.rerank.targets import DEFAULT_TARGET_MIX

Quota = tuple[int | None, int | None]
INCLUDE_HELP = ("also return items that cannot be bought now (out of stock, draft, archived); "
                "they are left out by default")
ALPHA_HELP = ("the model's loss weight alpha (L = alpha * L_diversity + beta * L_relevance) "
              "for a loss-conditioned run, within its trained range; default: the run's own")


def _not_bool(value: Any) -> Any:
    """JSON true/false is not a number: pydantic's lax mode would read it as 1/0; nor is text
    such as "5" (the CLI's and the API's parsers read text, and say where it came from)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    if isinstance(value, str | bytes):
        raise ValueError(f"must be a number, not text, got {value!r}")
    return value.item() if isinstance(value, np.generic) else value


Number = Annotated[float, BeforeValidator(_not_bool), Field(allow_inf_nan=False)]
Whole = Annotated[int, BeforeValidator(_not_bool)]
Bound = Annotated[int, Field(ge=0), BeforeValidator(_not_bool)] | None
UNIT = {"minimum": 0.0, "maximum": 1.0}  # in the schema; checked by the engine's own check
Weight = Annotated[float, BeforeValidator(check_weight)]  # text such as "0.5" is refused
TargetMix = Annotated[float, BeforeValidator(check_target_mix)]
Alpha = Annotated[float, Field(ge=0.0), BeforeValidator(_not_bool)]
ItemId = Annotated[str, Field(max_length=MAX_ID_CHARS)]


UNSERVABLE = "unservable"  # pydantic error type: valid fields whose combination cannot be served


@contextmanager
def _combination() -> Iterator[None]:
    """A check across fields fails as an UNSERVABLE error (the API answers it with 400)."""
    try:
        yield
    except ValueError as exc:
        raise PydanticCustomError(UNSERVABLE, "{reason}", {"reason": str(exc)}) from None


class ListRequest(StrictModel):
    """What every list takes: shopper, length and re-ranking."""

    user_id: str | None = Field(None, max_length=MAX_ID_CHARS,
                                description="training shopper id; unknown → trending")
    k: Whole = Field(10, ge=1, le=MAX_K, description="list length")
    method: Method = "mmr"
    diversity_weight: Weight = Field(0.0, description="serve-time re-rank weight in [0, 1]",
                                     json_schema_extra=UNIT)
    n_candidates: Whole = Field(200, ge=1, le=MAX_CANDIDATES)
    target_mix: TargetMix = Field(DEFAULT_TARGET_MIX, json_schema_extra=UNIT,
                                  description="calibrated target: (1 - target_mix)·the "
                                  "shopper's mix + target_mix·the catalogue's")
    include_unavailable: StrictBool = Field(False, description=INCLUDE_HELP)

    @classmethod
    def of(cls, **fields: Any) -> Any:
        """The request from Python values; RequestError with `readable`'s one line."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            raise RequestError(readable(exc)) from None

    @model_validator(mode="after")
    def _affordable(self) -> ListRequest:
        with _combination():
            check_quota_fields(self.method, getattr(self, "quotas", None))  # a list request: none
            check_work(self.k, self.n_candidates, self.method)
        return self


class RecommendRequest(ListRequest):
    """A shopper (`user_id`) or a what-if session (`history` of item ids), and the knobs."""

    history: list[ItemId] | None = Field(None, max_length=MAX_HISTORY,
                                         description="item ids of a live session (what-if)")
    alpha: Alpha | None = Field(None, description=ALPHA_HELP)
    exclude_seen: StrictBool = True
    categories: list[str] | None = Field(None, max_length=MAX_MATCH_VALUES,
                                         description="only items in these categories")
    category_boosts: dict[str, Number] | None = Field(None, max_length=MAX_MATCH_VALUES)
    promo_boost: Number = Field(0.0, description="added to the relevance (0..1 over the "
                                "candidates) of items flagged promo")
    target: dict[str, Annotated[float, Field(ge=0.0), BeforeValidator(_not_bool)]] | None = \
        Field(None, max_length=MAX_MATCH_VALUES, description="category shares (calibrated)")
    quotas: dict[str, tuple[Bound, Bound]] | None = Field(
        None, max_length=MAX_MATCH_VALUES, description="category → [floor, cap]; null for no "
                                                       "bound")
    policy: str | None = Field(None, max_length=MAX_ID_CHARS,
                               description="policy name or name@version (default: the live "
                                           "one); 'none' for no policy")

    @model_validator(mode="after")
    def _consistent(self) -> RecommendRequest:
        with _combination():
            if self.target is not None and self.method != "calibrated":
                raise ValueError(f"target applies to method 'calibrated' only, not "
                                 f"{self.method!r}")
            if self.target is not None and sum(self.target.values()) <= 0:
                raise ValueError("target: shares must be >= 0 and at least one must be > 0")
            if self.quotas:
                check_supply(self.quotas, None, self.k, "catalogue items")
        return self


def check_quota_fields(method: str, quotas: Mapping[str, Sequence[int | None]] | None) -> None:
    """The one check of a method and its quotas, for a request and a policy's diversify stage:
    'quota' needs quotas; every method honours them, each bound pair floor <= cap."""
    if method == "quota" and not quotas:
        raise ValueError(Message("quota_needs_quotas", example='{"Tools": [1, 3]}'))
    for name, bounds in (quotas or {}).items():
        check_bounds(name, bounds)  # a ValueError: pydantic reports it with the field


def category_positions(names: Sequence[str], category_names: Sequence[str], field: str,
                       error: type[PrismError] = RequestError) -> list[int]:
    """Indices of `names` among the run's categories; unknown names are listed in the error
    (a RequestError for a request, a ConfigError for a policy's quotas)."""
    position = {name: i for i, name in enumerate(category_names)}
    unknown = [name for name in names if name not in position]
    if unknown:
        shown = ", ".join(repr(n) for n in list(category_names)[:20])
        more = " ..." if len(category_names) > 20 else ""
        raise error(Message("unknown_category" if len(unknown) == 1 else "unknown_categories",
                            field=field, unknown=str(unknown), known=shown + more))
    return [position[name] for name in names]


def category_vector(values: Mapping[str, float], category_names: Sequence[str],
                    field: str) -> np.ndarray:
    """(C,) float vector from a {category name: number} mapping (numbers checked by the
    request model); unknown names raise RequestError."""
    vector = np.zeros(len(category_names), dtype=np.float64)
    vector[category_positions(list(values), category_names, field)] = list(values.values())
    return vector


def quota_map(quotas: Mapping[str, Quota], category_names: Sequence[str],
              k: int, counts: CategorySupply) -> dict[int, Quota]:
    """Category index -> (floor, cap) for a request's or a policy's validated quotas,
    rejecting quotas no list of length k drawn from this catalogue can meet
    (`check_quota_room`, `counts` the catalogue's `category_supply`); the floors together
    must fit k, as the request model checks before the catalogue is known."""
    positions = category_positions(list(quotas), category_names, "quotas")
    check_quota_room(quotas, positions, counts, k, "catalogue items", k)
    return dict(zip(positions, quotas.values(), strict=True))
