"""Turn a Policy into per-item arrays for one catalogue, once, so applying it is array work.

Matches become boolean masks over the catalogue, caps become integer group codes with limits,
pins become item positions. Anything that refers to what the catalogue does not have (a brand
no item carries, an unknown pin item) is a notice, not an error: a policy written for one
catalogue keeps serving on another. A column that does not exist is an error (a typo).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.core.columns import (
    BRAND,
    CATEGORY,
    CATEGORY_LEVELS,
    CATEGORY_SEP,
    DIV_CATEGORY,
    MULTI_CATEGORY_SEP,
    PRICE,
)
from engine.core.errors import ConfigError, DataError
from engine.core.messages import Message
from engine.exposure.groups import NO_VALUE, GroupSpec, build_grouping
from engine.exposure.stage import catalogue_bonus
from engine.policy.schema import (
    NOT_CAP_COLUMNS,
    BoostStage,
    BuyAgainStage,
    CapStage,
    DiversifyStage,
    ExposureTargetsStage,
    FilterStage,
    FloorStage,
    Match,
    PinStage,
    Policy,
    PromoteStage,
    StageModel,
)
from engine.rerank.plan import CapRule, PinRule, RankPlan, Rule, quota_rules
from engine.serving.catalogue import Catalogue
from engine.serving.requests import category_positions

LABEL_COLUMN = "category"  # caps on "category" use the item's diversity category label
PRICE_BAND = "price_band"  # caps per price band: the catalogue's price quintiles
MAX_CAP_VALUES = 50  # an item column with more distinct values is not offered for a cap


def cap_columns(items: pd.DataFrame) -> list[str]:
    """The columns a cap per value means something for, in the order to offer them: brand,
    category, price band (when enough items have prices), then item columns with 2 to
    MAX_CAP_VALUES distinct values that repeat (no ids, texts, prices or derived columns)."""
    named = [BRAND, LABEL_COLUMN]
    prices = pd.to_numeric(items[PRICE], errors="coerce") if PRICE in items.columns else None
    if prices is not None and prices.notna().sum() >= GroupSpec().n_bands:
        named.append(PRICE_BAND)
    skip = {*named, *NOT_CAP_COLUMNS, DIV_CATEGORY, CATEGORY_LEVELS}
    others = [str(c) for c in items.columns if c not in skip
              and pd.api.types.is_hashable(c) and _few_values(items[c])]
    return [*named, *others]


def _few_values(values: pd.Series) -> bool:
    if pd.api.types.is_float_dtype(values):
        return False  # a measurement, not a grouping
    try:
        distinct = values.nunique(dropna=True)
    except TypeError:  # lists or dicts in cells
        return False
    return 2 <= distinct <= MAX_CAP_VALUES and distinct < values.notna().sum()


@dataclass(frozen=True, kw_only=True)
class CompiledPolicy(RankPlan):
    """A policy's plan for one catalogue, with the policy it came from."""

    policy: Policy
    buy_again: BuyAgainStage | None = None  # applied after the list (engine.policy.buy_again)

    @property
    def name(self) -> str:
        return self.policy.reference


class ItemFacts:
    """What the predicates read beyond a serving Catalogue's own arrays: each item's brand and
    category paths, taken once."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue, items = catalogue, catalogue.items
        self.brands = (items[BRAND].fillna("").astype(str).to_numpy(dtype=object)
                       if BRAND in items.columns else np.full(catalogue.n_items, "", object))
        paths = (items[CATEGORY].fillna("").astype(str) if CATEGORY in items.columns
                 else [""] * catalogue.n_items)
        self.paths = [p.split(MULTI_CATEGORY_SEP) for p in paths]

    def column(self, name: str) -> pd.Series:
        items = self.catalogue.items
        if name == LABEL_COLUMN:
            return pd.Series(self.catalogue.columns.labels)
        if name not in items.columns:
            shown = ", ".join(str(c) for c in items.columns[:20])
            raise ConfigError(Message("column_unknown", name=name, shown=shown))
        return items[name].reset_index(drop=True)

    def category_mask(self, prefixes: list[str]) -> np.ndarray:
        wanted = [p.strip() for p in prefixes]
        hits = np.isin(self.catalogue.columns.labels.astype(str), wanted)
        for position, paths in enumerate(self.paths):
            if not hits[position]:
                hits[position] = any(path == p or path.startswith(p + CATEGORY_SEP)
                                     for path in paths for p in wanted)
        return hits

    def match(self, match: Match, where: str, notices: list[str]) -> np.ndarray:
        """(n_items,) items meeting every condition of `match`."""
        catalogue = self.catalogue
        mask = np.ones(catalogue.n_items, dtype=bool)
        if match.brands is not None:
            mask &= np.isin(self.brands, match.brands)
        if match.categories is not None:
            mask &= self.category_mask(match.categories)
        if match.item_ids is not None:
            mask &= catalogue.item_index.isin(match.item_ids)
        if match.promo is not None:
            mask &= (catalogue.promo > 0) == match.promo
        if match.price_min is not None or match.price_max is not None:
            mask &= price_mask(catalogue.columns.prices, match.price_min, match.price_max,
                               "drop")
        if match.column is not None:
            mask &= self.column(match.column).isin(match.values).to_numpy()
        if not mask.any():
            notices.append(Message("no_match", where=where, match=match.describe()))
        return mask


def price_mask(prices: np.ndarray, low: float | None, high: float | None,
               missing: str) -> np.ndarray:
    known = np.isfinite(prices)
    inside = known.copy()
    if low is not None:
        inside &= prices >= low
    if high is not None:
        inside &= prices <= high
    return inside | (~known if missing == "keep" else False)


def _filter_rule(stage: FilterStage, label: str, facts: ItemFacts,
                 notices: list[str]) -> Rule:
    prices = facts.catalogue.columns.prices
    mask = np.ones(len(prices), dtype=bool)
    if stage.price_min is not None or stage.price_max is not None:
        mask &= price_mask(prices, stage.price_min, stage.price_max, stage.missing_price)
        if not np.isfinite(prices).any():
            notices.append(Message(f"no_prices_{stage.missing_price}", label=label))
    if stage.keep is not None:
        mask &= facts.match(stage.keep, Message("rule_keep", label=label), notices)
    if stage.drop is not None:
        mask &= ~facts.match(stage.drop, f"{label} drop", [])
    return Rule(label=label, mask=mask)


def _price_band_codes(items: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Each item's price band (-1: no price, in no band) and the number of bands."""
    try:
        bands = build_grouping(GroupSpec(by=PRICE_BAND), items, pd.DataFrame(),
                               np.zeros(len(items)))
    except DataError as exc:
        raise ConfigError(exc.message or str(exc)) from exc
    codes = bands.membership.tocsr().indices.astype(np.int64)  # one band per item, row order
    if NO_VALUE in bands.labels:
        codes[codes == bands.labels.index(NO_VALUE)] = -1
    return codes, bands.n_groups


def _cap_rule(stage: CapStage, label: str, facts: ItemFacts) -> CapRule:
    if stage.column == PRICE_BAND and PRICE_BAND not in facts.catalogue.items.columns:
        codes, n_groups = _price_band_codes(facts.catalogue.items)
        return CapRule(label=label, codes=codes,
                       limits=np.full(max(n_groups, 1), stage.max_items, dtype=np.int64))
    values = facts.column(stage.column)
    text = values.where(values.notna(), "").astype(str)
    codes, uniques = pd.factorize(text.mask(text == ""))  # no value: -1, in no group
    return CapRule(label=label, codes=codes.astype(np.int64),
                   limits=np.full(max(len(uniques), 1), stage.max_items, dtype=np.int64))


def _quota_rules(stage: DiversifyStage,
                 catalogue: Catalogue) -> tuple[list[Rule], list[CapRule]]:
    """Category [floor, cap] pairs as at-least rules and one cap rule on the main category."""
    quotas, names = stage.quotas or {}, list(catalogue.category_names)
    positions = category_positions(list(quotas), names, "diversify quotas", ConfigError)
    return quota_rules(dict(zip(positions, quotas.values(), strict=True)), names,
                       catalogue.item_categories)


def _pin_rule(stage: PinStage, label: str, catalogue: Catalogue,
              notices: list[str]) -> PinRule | None:
    position = int(catalogue.item_index.get_indexer([stage.item_id])[0])
    if position < 0:
        notices.append(Message("pin_missing", label=label, item=stage.item_id))
        return None
    segment = None
    if stage.segment is not None:
        names = catalogue.category_names
        segment = np.isin(np.asarray(names, dtype=object), stage.segment.top_categories)
        if not segment.any():
            notices.append(Message("segment_missing", label=label,
                                   categories=str(stage.segment.top_categories)))
    return PinRule(label=label, item=position, slot=stage.slot, segment=segment)


def compile_policy(policy: Policy, catalogue: Catalogue) -> CompiledPolicy:
    """Resolve every stage of `policy` against `catalogue` (ConfigError for unknown columns)."""
    facts = ItemFacts(catalogue)
    notices: list[str] = []
    filters, boosts, at_least, caps, pins = [], [], [], [], []
    exclude_seen, floor, diversify = False, None, None
    exposure_bonus = buy_again = None
    for position, stage in enumerate(policy.stages):
        label = stage_label(stage, position)
        try:
            if isinstance(stage, FilterStage):
                filters.append(_filter_rule(stage, label, facts, notices))
                exclude_seen |= stage.exclude_seen
            elif isinstance(stage, BoostStage):
                sign = 1.0 if stage.kind == "boost" else -1.0
                boosts.append(Rule(label, facts.match(stage.match, label, notices),
                                   sign * stage.strength))
            elif isinstance(stage, PromoteStage):
                at_least.append(Rule(label, facts.match(stage.match, label, notices),
                                     stage.share))
            elif isinstance(stage, CapStage):
                caps.append(_cap_rule(stage, label, facts))
            elif isinstance(stage, FloorStage):
                floor = stage
            elif isinstance(stage, DiversifyStage):
                diversify = stage
                if stage.quotas:
                    floors, quota_caps = _quota_rules(stage, catalogue)
                    at_least += floors
                    caps += quota_caps
            elif isinstance(stage, PinStage):
                pin = _pin_rule(stage, label, catalogue, notices)
                if pin is not None:
                    pins.append(pin)
            elif isinstance(stage, ExposureTargetsStage):
                exposure_bonus = catalogue_bonus(stage.prices, catalogue)
            elif isinstance(stage, BuyAgainStage):
                buy_again = stage
                if catalogue.purchases is None:
                    notices.append(Message("no_purchases", label=label))
        except ConfigError as exc:
            raise ConfigError(Message("stage_failed", name=policy.name, n=position + 1,
                                      kind=Message(f"kind_{stage.kind}"),
                                      error=exc.message or str(exc))) from exc
    static = np.logical_and.reduce([np.ones(catalogue.n_items, dtype=bool),
                                    *(rule.mask for rule in filters)])
    boost_vector = sum((rule.value * rule.mask for rule in boosts), np.zeros(catalogue.n_items))
    return CompiledPolicy(policy=policy, n_items=catalogue.n_items,
                          n_candidates=policy.n_candidates, has_steps=bool(policy.stages),
                          static_allowed=static, filters=filters, exclude_seen=exclude_seen,
                          boosts=boosts, boost_vector=boost_vector, floor=floor,
                          diversify=diversify, at_least=at_least, caps=caps, pins=pins,
                          notices=notices, exposure_bonus=exposure_bonus,
                          buy_again=buy_again, **catalogue.rank_arrays)


def stage_label(stage: StageModel, position: int = 0) -> str:
    """The label notices, attribution and checks name a stage by (the stage at `position`):
    its own, else 'brand Acme +0.10', 'promote brand X 20%', 'cap brand ≤ 2', 'pin i7 at 1',
    'DPP 0.3' (Messages, so the studio shows them in its language)."""
    if stage.label:
        return stage.label
    if isinstance(stage, BoostStage):
        sign = 1 if stage.kind == "boost" else -1
        return Message("label_boost", match=stage.match.describe(),
                       strength=sign * stage.strength)
    if isinstance(stage, PromoteStage):
        return Message("label_promote", match=stage.match.describe(), share=stage.share)
    if isinstance(stage, CapStage):
        column = stage.column  # a grouping Prism names is said in words, an item column as is
        return Message("label_cap", n=stage.max_items, column=Message(f"cap_by_{column}")
                       if column in (BRAND, LABEL_COLUMN, PRICE_BAND) else column)
    if isinstance(stage, PinStage):
        return Message("label_pin", item=stage.item_id, slot=stage.slot)
    if isinstance(stage, DiversifyStage):
        method = stage.method
        name = Message(f"method_{method}") if method in ("calibrated", "quota") else method.upper()
        return Message("label_diversify", method=name, weight=stage.weight)
    if isinstance(stage, FloorStage):
        return (Message("label_floor_quantile", value=stage.quantile)
                if stage.quantile is not None
                else Message("label_floor_relevance", value=stage.min_relevance))
    if isinstance(stage, FilterStage):
        return Message("label_filter", n=position + 1)
    return Message("label_stage", n=position + 1)

