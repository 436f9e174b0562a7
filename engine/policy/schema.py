"""What a merchandising policy is: a named list of stages, validated with pydantic.

A policy is data (JSON in files, the store and the API); `engine.rerank.pipeline` gives it meaning.
Every model forbids unknown keys, so a typo ("strenght") is an error naming the field instead
of a rule that silently does nothing. Stages run in a fixed pipeline by kind, whatever their
order in the list: filter → boost/bury → floor → diversify (caps, promotion shares and quotas
are constraints of its greedy pass) → pins → buy again. Within one kind, the list order is kept (an
earlier pin wins a contested slot).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field, ValidationError, ValidationInfo, model_validator

from engine.core.columns import DESCRIPTION, ITEM_ID, PRICE, TITLE
from engine.core.errors import ConfigError
from engine.core.field_errors import readable
from engine.core.limits import (
    MAX_CANDIDATES,
    MAX_ID_CHARS,
    MAX_MATCH_VALUES,
    MAX_SLOT,
    MAX_STAGES,
    MAX_TEXT_CHARS,
    MAX_VERSION,
    MAX_VERSION_DIGITS,
    StrictModel,
)
from engine.core.messages import Listing, Message, json_problem
from engine.core.names import NAME_PATTERN, is_name
from engine.exposure.prices import ExposurePrices
from engine.rerank.methods import DiversifyMethod
from engine.rerank.targets import DEFAULT_TARGET_MIX
from engine.serving.requests import (
    ALPHA_HELP,
    UNIT,
    Alpha,
    TargetMix,
    Weight,
    check_quota_fields,
)

# item columns a cap per value cannot mean: one value per item, or a continuous number
NOT_CAP_COLUMNS = (ITEM_ID, TITLE, DESCRIPTION, PRICE)
STORED = "stored"  # validation context: a body read back from a store, not new input


def check_policy_name(name: str) -> str:
    """`name` when it is a valid policy name (the one name rule), else a ValueError saying so
    (after pydantic's "name: ", so the rule alone)."""
    if not is_name(name):
        raise ValueError(Message("name_rule"))
    return name


Values = Annotated[list[str], Field(max_length=MAX_MATCH_VALUES)]


class Match(StrictModel):
    """Which items a rule is about. Every condition given must hold (AND); each lists
    alternatives (OR). An empty match selects nothing, so it is rejected."""

    brands: Values | None = Field(None, description="brand is one of these (exact)")
    categories: Values | None = Field(
        None, description="category path starts with one of these (level by level), or the "
                          "item's diversity category is one of them")
    item_ids: Values | None = None
    promo: bool | None = Field(None, description="the catalogue's promo flag equals this")
    price_min: float | None = Field(None, ge=0)
    price_max: float | None = Field(None, ge=0)
    column: str | None = Field(None, max_length=MAX_TEXT_CHARS,
                               description="any item column, with `values`")
    values: list[str | float | bool] | None = Field(None, max_length=MAX_MATCH_VALUES)

    @model_validator(mode="after")
    def _not_empty(self) -> Match:
        if all(v is None for v in self.model_dump().values()):
            raise ValueError(Message("match_empty"))
        if (self.column is None) != (self.values is None):
            raise ValueError(Message("column_values"))
        return _price_order(self)

    def describe(self) -> str:
        """A short human label: 'brand Acme', 'category Tools', 'price 10–50' (a `Listing`
        of Messages joined with " & ")."""
        parts = []
        if self.brands:
            parts.append(Message("match_brand", names=", ".join(self.brands[:3])
                                 + ("…" if len(self.brands) > 3 else "")))
        if self.categories:
            parts.append(Message("match_category", names=", ".join(self.categories[:2])))
        if self.item_ids:
            parts.append(Message("match_items", n=len(self.item_ids)))
        if self.promo is not None:
            parts.append(Message("match_promo" if self.promo else "match_not_promo"))
        if self.price_min is not None or self.price_max is not None:
            parts.append(Message("match_price", low=_bound(self.price_min),
                                 high=_bound(self.price_max)))
        if self.column:
            parts.append(Message("match_column", column=self.column, values=self.values))
        return Listing(parts, " & ")


def _bound(value: float | None) -> str:
    return "…" if value is None else f"{value:g}"


def _price_order(rule: Any) -> Any:
    """`rule` (a match or a filter) when its price range is not upside down."""
    if rule.price_min is not None and rule.price_max is not None and \
            rule.price_min > rule.price_max:
        raise ValueError(Message("price_order", low=rule.price_min, high=rule.price_max))
    return rule


class StageModel(StrictModel):
    """What every stage has: its kind and a label shown instead of the default one."""

    kind: str
    label: str = Field("", max_length=MAX_TEXT_CHARS)


class FilterStage(StageModel):
    """Keep only items that pass: price range, `keep` match, not `drop` match, unseen."""

    kind: Literal["filter"]
    price_min: float | None = Field(None, ge=0)
    price_max: float | None = Field(None, ge=0)
    missing_price: Literal["keep", "drop"] = Field(
        "keep", description="items without a price pass a price filter (keep) or not (drop)")
    keep: Match | None = Field(None, description="only items matching this")
    drop: Match | None = Field(None, description="never items matching this")
    exclude_seen: bool = Field(False, description="never what the shopper already bought")

    @model_validator(mode="after")
    def _does_something(self) -> FilterStage:
        if self.price_min is None and self.price_max is None and self.keep is None and \
                self.drop is None and not self.exclude_seen:
            raise ValueError(Message("filter_empty"))
        return _price_order(self)


class BoostStage(StageModel):
    """Add `strength` (boost) or subtract it (bury) from the relevance of matching items.

    Relevance is the model score min-max scaled to [0, 1] over the allowed items, so 0.1 is
    a tenth of the range between this shopper's best and worst candidate."""

    kind: Literal["boost", "bury"]
    match: Match
    strength: float = Field(..., gt=0, le=1)


class PromoteStage(StageModel):
    """At least ceil(share · k) of the slots go to matching items, the most relevant of them,
    placed by the greedy pass (a promoted item wins a slot on its own merit first; only the
    last slots are reserved when the share is not yet met)."""

    kind: Literal["promote"]
    match: Match
    share: float = Field(..., gt=0, le=1)


def check_cap_column(column: str, info: ValidationInfo) -> str:
    """`column` when a cap per its value can mean something, else a ValueError saying so: an
    id, a title or a description is (nearly) one value per item and a price is a number
    (cap per `price_band` instead), so a cap per them would cap nothing. A version stored
    before this check keeps loading (and serving) as it was written."""
    if column in NOT_CAP_COLUMNS and not (info.context or {}).get(STORED):
        raise ValueError(Message("cap_column_unique", column=column))
    return column


class CapStage(StageModel):
    """At most `max_items` items per value of `column`: brand, category, price_band (the
    catalogue's price quantiles) or another item column with a few values."""

    kind: Literal["cap"]
    column: Annotated[str, AfterValidator(check_cap_column)] = Field(
        "brand", max_length=MAX_TEXT_CHARS)
    max_items: int = Field(..., ge=1, le=MAX_SLOT)


class FloorStage(StageModel):
    """Drop candidates below a relevance floor: the shopper's `quantile` of model scores over
    the allowed catalogue, or a `min_relevance` in [0, 1]. The list gets shorter instead of
    being padded with poor items."""

    kind: Literal["floor"]
    quantile: float | None = Field(None, ge=0, lt=1)
    min_relevance: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _one_bound(self) -> FloorStage:
        if (self.quantile is None) == (self.min_relevance is None):
            raise ValueError(Message("floor_one_bound"))
        return self


class DiversifyStage(StageModel):
    """The re-ranker and its weight; per-category [floor, cap] `quotas` (which 'quota' needs)
    constrain the greedy pass of every method, as on a plain request."""

    kind: Literal["diversify"]
    method: DiversifyMethod
    weight: Weight = Field(..., json_schema_extra=UNIT)  # text such as "0.5" is refused
    quotas: dict[str, tuple[int | None, int | None]] | None = Field(
        None, max_length=MAX_MATCH_VALUES)
    target_mix: TargetMix = Field(DEFAULT_TARGET_MIX, json_schema_extra=UNIT)
    alpha: Alpha | None = Field(None, description=ALPHA_HELP)

    @model_validator(mode="after")
    def _quotas(self) -> DiversifyStage:
        check_quota_fields(self.method, self.quotas)
        return self


class Segment(StrictModel):
    """Shoppers a pin is for: their history's top category is one of `top_categories`."""

    top_categories: list[str] = Field(..., min_length=1, max_length=MAX_MATCH_VALUES)


class PinStage(StageModel):
    """Item `item_id` at `slot` (1 = first) for everyone, or for a segment of shoppers."""

    kind: Literal["pin"]
    item_id: str = Field(..., min_length=1, max_length=MAX_ID_CHARS)
    slot: int = Field(..., ge=1, le=MAX_SLOT, description=f"1..{MAX_SLOT}")
    segment: Segment | None = None


class ExposureTargetsStage(StageModel):
    """Population exposure targets, met by per-group prices fitted on a sample of shoppers
    (`prism exposure --fit`, docs/exposure.md) and added to the candidates' relevance."""

    kind: Literal["exposure_targets"]
    prices: ExposurePrices


class BuyAgainStage(StageModel):
    """Up to `slots` of the shopper's due past purchases at the top of the list, those whose
    due score (`engine.models.repeat`) is above `min_due`; items never bought again by anyone
    stay out. Mode "fixed": the merchandiser's numbers; "learned": numbers chosen on
    validation (docs/buy-again.md); "none": the stage is kept but does nothing."""

    kind: Literal["buy_again"]
    mode: Literal["none", "fixed", "learned"] = "fixed"
    slots: int = Field(1, ge=0, le=MAX_SLOT)
    min_due: float = Field(0.0, ge=0, le=1)


Stage = Annotated[FilterStage | BoostStage | PromoteStage | CapStage | FloorStage |
                  DiversifyStage | PinStage | ExposureTargetsStage | BuyAgainStage,
                  Field(discriminator="kind")]
STAGE_KINDS = tuple(kind for model in get_args(get_args(Stage)[0])  # filter, boost, bury, …
                    for kind in get_args(model.model_fields["kind"].annotation))


class Scope(StrictModel):
    """Where a policy may serve: one run (its folder name) or every run of one data set. The
    store is shared by every run in the Prism home; a policy without a scope serves them all."""

    run: str | None = Field(None, min_length=1, max_length=MAX_ID_CHARS)
    dataset: str | None = Field(None, min_length=1, max_length=MAX_ID_CHARS)

    @model_validator(mode="after")
    def _one(self) -> Scope:
        if (self.run is None) == (self.dataset is None):
            raise ValueError("a scope names exactly one of run or dataset")
        return self

    def covers(self, run: str, dataset: str | None) -> bool:
        return self.run == run if self.run is not None else self.dataset == dataset

    def describe(self) -> str:
        return Message("scope_run", run=self.run) if self.run is not None else \
            Message("scope_dataset", dataset=self.dataset)


class Policy(StrictModel):
    """A named, ordered list of stages. `version` is set by the store, never by hand."""

    name: Annotated[str, AfterValidator(check_policy_name)] = Field(
        ..., json_schema_extra={"pattern": NAME_PATTERN},
        description="1-64 letters (of any script), digits, '.', '_' or '-'")
    description: str = Field("", max_length=MAX_TEXT_CHARS)
    scope: Scope | None = Field(None, description="the run or data set it serves (default: "
                                                  "every run in the Prism home)")
    n_candidates: int = Field(200, ge=1, le=MAX_CANDIDATES,
                              description="model top-N the stages choose from")
    stages: list[Stage] = Field(default_factory=list, max_length=MAX_STAGES)
    include_unavailable: bool = Field(
        False, description="also serve items that cannot be bought now (out of stock, draft, "
                           "archived), which are left out by default")
    version: int | None = Field(None, ge=1, le=MAX_VERSION,
                                description="informational; set by the store")

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        kinds = Counter(stage.kind for stage in self.stages)
        for kind in ("diversify", "buy_again", "exposure_targets"):  # at most one of each
            if kinds[kind] > 1:
                raise ValueError(Message(f"one_{kind}"))
        pins = Counter((s.item_id, s.segment and tuple(s.segment.top_categories))
                       for s in self.stages if isinstance(s, PinStage))
        for (item, _), n in pins.items():  # one pin per item and segment
            if n > 1:
                raise ValueError(Message("pinned_twice", item=item))
        return self

    @property
    def reference(self) -> str:
        """'name@version', or the name of a policy not stored yet."""
        return f"{self.name}@{self.version}" if self.version else self.name

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def parse_policy(value: dict[str, Any] | str, where: str = "policy", *,
                 stored: bool = False) -> Policy:
    """A Policy from a dict or JSON text; ConfigError says what is wrong and where. `stored`:
    a body read back from a store, which the checks added since it was saved let through."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigError(Message("not_json", where=where, error=json_problem(exc.msg),
                                      line=exc.lineno)) from exc
    if not isinstance(value, dict):
        raise ConfigError(Message("policy_not_object", where=where))
    try:
        return Policy.model_validate(value, context={STORED: stored})
    except ValidationError as exc:
        problem = readable(exc, STAGE_KINDS, Message("policy_word"))
        raise ConfigError(Message("field_problem", where=where, problem=problem)) from exc


def split_reference(reference: str) -> tuple[str, int | None]:
    """'name' or 'name@3' → (name, version or None); a version is 1..MAX_VERSION."""
    match = re.fullmatch(r"(.+?)(?:@(\d+))?", reference.strip())
    if not match or not is_name(match.group(1)):
        raise ConfigError(Message("policy_reference", reference=reference[:80]))
    digits = match.group(2)
    if digits is None:
        return match.group(1), None
    if len(digits) > MAX_VERSION_DIGITS or not 1 <= int(digits) <= MAX_VERSION:
        raise ConfigError(Message("policy_version_range", most=MAX_VERSION, reference=(
            f"{match.group(1)}@{digits[:12]}{'…' if len(digits) > 12 else ''}")))
    return match.group(1), int(digits)
