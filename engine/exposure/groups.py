"""Item groupings for exposure: brand, top category, price band, promo, item age, popularity.

A grouping maps every catalogue item to one or more groups through a row-stochastic sparse
`(n_items, G)` membership matrix (an item listed under two category paths counts half in
each), so group exposures always add up to the total. Groupings are built from what a run
folder holds (item table, training interactions, training popularity), so serving can
rebuild exactly the grouping that prices were fitted on without the raw data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field

from engine.core.columns import (
    BRAND,
    CATEGORY,
    CATEGORY_SEP,
    DAY,
    ITEM_ID,
    MULTI_CATEGORY_SEP,
    PRICE,
    PROMO,
    TIMESTAMP,
)
from engine.core.errors import ConfigError, DataError
from engine.core.messages import Message

NAMED_GROUPINGS = ("brand", "top_category", "price_band", "promo", "new", "popularity")
NO_VALUE = "(none)"
# {grouping: {label Prism makes: its message code}}: labels that are no data, said in the
# studio's language (the labels themselves, as targets and prices name them, never change)
MADE_LABELS = {"promo": {"promo": "group_promo", "regular": "group_regular"},
               "new": {"new": "group_new", "established": "group_established"}}
# the NO_VALUE group of a grouping said for what it holds: items without a price, ...
NO_VALUE_CODES = {"price_band": "group_no_price", "brand": "group_no_brand",
                  "top_category": "group_no_category"}


def group_label(by: str, label: str) -> str:
    """A group's label to show: a `Message` for the labels Prism makes ("promo", "regular",
    "(none)", "no price", ...), else the label (data: a brand, a category, a price band) as
    it is."""
    if label == NO_VALUE:
        return Message(NO_VALUE_CODES.get(by, "group_none"))
    code = MADE_LABELS.get(by, {}).get(label)
    return Message(code) if code else label


class GroupSpec(BaseModel):
    """How to group items: a named grouping or any item column, plus its parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: str = Field("brand", min_length=1, description="a named grouping or an item column")
    new_days: int = Field(30, ge=1, le=3650, description="'new' = first seen in the last N days")
    n_bands: int = Field(5, ge=2, le=20, description="price bands (quantiles)")
    price_edges: list[float] | None = Field(None, description="fixed band edges (from a fit)")


@dataclass(frozen=True)
class Grouping:
    """Which groups each item belongs to."""

    spec: GroupSpec
    labels: list[str]  # (G,)
    membership: sp.csr_matrix  # (n_items, G), rows sum to 1
    note: str = ""  # how the grouping was read, e.g. the shared category root skipped

    @property
    def n_groups(self) -> int:
        return len(self.labels)

    def position(self, label: str) -> int:
        """Column of a group label; ConfigError lists a few known labels."""
        try:
            return self.labels.index(label)
        except ValueError:
            shown = ", ".join(repr(x) for x in self.labels[:8])
            raise ConfigError(Message("unknown_group", group=label, by=self.spec.by,
                                      known=shown)) from None

    def catalogue_share(self) -> np.ndarray:
        """(G,) share of catalogue items in each group."""
        mass = np.asarray(self.membership.sum(axis=0)).ravel()
        return mass / max(mass.sum(), 1e-12)

    def item_bonus(self, prices: dict[str, float]) -> np.ndarray:
        """(n_items,) sum of the prices of each item's groups (membership-weighted)."""
        vector = np.zeros(self.n_groups)
        for label, price in prices.items():
            vector[self.position(label)] = float(price)
        return np.asarray(self.membership @ vector).ravel()


def _from_labels(spec: GroupSpec, per_item: list[list[str]], note: str = "") -> Grouping:
    """Membership from each item's list of labels (each label of an item gets an equal share)."""
    labels = sorted({label for row in per_item for label in row})
    column = {label: c for c, label in enumerate(labels)}
    rows = np.repeat(np.arange(len(per_item)), [len(r) for r in per_item])
    cols = np.array([column[label] for row in per_item for label in row], dtype=np.int64)
    weights = np.concatenate([np.full(len(r), 1.0 / len(r)) for r in per_item]) \
        if per_item else np.zeros(0)
    matrix = sp.csr_matrix((weights, (rows, cols)), shape=(len(per_item), len(labels)))
    return Grouping(spec, labels, matrix, note)


def _from_codes(spec: GroupSpec, codes: np.ndarray, names: list[str], note: str = ""
                ) -> Grouping:
    """`_from_labels` for items with exactly one label each, given as `names[codes[i]]`
    (names may repeat): the same sorted labels and membership, without a loop per item."""
    codes = np.asarray(codes, dtype=np.int64)
    used = np.zeros(len(names), dtype=bool)
    used[codes] = True  # a name no item carries is no group
    labels, inverse = np.unique(np.asarray(names, dtype=object)[used], return_inverse=True)
    column = np.full(len(names), -1, dtype=np.int64)
    column[np.flatnonzero(used)] = inverse.ravel()
    columns = column[codes]
    n_items = len(columns)
    matrix = sp.csr_matrix((np.ones(n_items), (np.arange(n_items), columns)),
                           shape=(n_items, len(labels)))
    return Grouping(spec, [str(label) for label in labels], matrix, note)


def _flags(spec: GroupSpec, flags: np.ndarray, yes: str, no: str, note: str = "") -> Grouping:
    return _from_codes(spec, np.asarray(flags, dtype=bool).astype(np.int64), [no, yes], note)


def _values(items: pd.DataFrame, spec: GroupSpec) -> Grouping:
    """One group per value of an item column (stripped text; empty or missing: NO_VALUE),
    the text cleaned once per distinct value."""
    codes, uniques = pd.factorize(items[spec.by])
    text = pd.Series(uniques, dtype=object).astype("string").fillna("").str.strip().tolist()
    names = [value or NO_VALUE for value in text] + [NO_VALUE]
    return _from_codes(spec, np.where(codes < 0, len(uniques), codes), names)


def _top_categories(items: pd.DataFrame, spec: GroupSpec) -> Grouping:
    """First level of each category path; below a root every item shares, the level under it."""
    if CATEGORY not in items:
        raise DataError(Message("no_category_column"))
    codes, texts = pd.factorize(items[CATEGORY].fillna("").astype(str))  # work per distinct text
    paths = [[p.strip() for p in str(v).split(MULTI_CATEGORY_SEP) if p.strip()] for v in texts]
    levels = [[[x.strip() for x in p.split(CATEGORY_SEP)] for p in row] for row in paths]
    roots = {path[0] for row in levels for path in row}
    depth, note = 0, ""
    if len(roots) == 1 and any(len(path) > 1 for row in levels for path in row):
        depth, note = 1, Message("groups_below_root", root=next(iter(roots)))
    per_text = [sorted({path[min(depth, len(path) - 1)] for path in row}) or [NO_VALUE]
                for row in levels]
    by_text = _from_labels(spec, per_text, note)
    return Grouping(spec, by_text.labels, by_text.membership[codes], note)


def _price_bands(items: pd.DataFrame, spec: GroupSpec) -> Grouping:
    prices = pd.to_numeric(items[PRICE], errors="coerce") if PRICE in items else None
    if prices is None or prices.notna().sum() < spec.n_bands:
        raise DataError(Message("few_prices", bands=spec.n_bands))
    edges = spec.price_edges or np.unique(_cents_up(np.quantile(prices.dropna(), np.linspace(
        0, 1, spec.n_bands + 1))[1:-1])).tolist()
    band = np.searchsorted(np.asarray(edges), prices.to_numpy(), side="right")
    bounds = [-np.inf, *edges, np.inf]
    width = len(str(len(bounds) - 1))  # P01 … P12: names sort in band order
    names = [_band_name(f"P{b + 1:0{width}d}", bounds[b], bounds[b + 1])
             for b in range(len(bounds) - 1)]
    codes = np.where(np.isnan(prices.to_numpy(dtype=np.float64)), len(names), band)
    fixed = spec.model_copy(update={"price_edges": [float(e) for e in edges]})
    return _from_codes(fixed, codes, [*names, NO_VALUE])


def _cents_up(prices: np.ndarray | float) -> np.ndarray:
    """Band edges raised to the next cent: a price in cents falls on the same side of 20.19 as
    of a quantile at 20.186, and the band's name shows the edge as a price (2 decimals)."""
    return np.ceil(np.round(np.asarray(prices, dtype=np.float64) * 100, 6)) / 100


def _band_name(band: str, low: float, high: float) -> str:
    if np.isinf(low):
        return f"{band} < {_cents_up(high):.2f}"
    if np.isinf(high):
        return f"{band} ≥ {_cents_up(low):.2f}"
    return f"{band} {_cents_up(low):.2f}–{_cents_up(high):.2f}"


def _promo(items: pd.DataFrame, spec: GroupSpec) -> Grouping:
    flags = items[PROMO].fillna(False).astype(bool) if PROMO in items else \
        pd.Series(False, index=items.index)
    return _flags(spec, flags.to_numpy(dtype=bool), "promo", "regular")


def _new_items(items: pd.DataFrame, interactions: pd.DataFrame, spec: GroupSpec) -> Grouping:
    """'new' = first training interaction in the last `new_days` days of the data (or none)."""
    first = interactions.groupby(ITEM_ID)[TIMESTAMP].min() if len(interactions) else pd.Series()
    now = int(interactions[TIMESTAMP].max()) if len(interactions) else 0
    seen = items[ITEM_ID].astype(str).map(first)
    new = (seen.isna() | (seen >= now - spec.new_days * DAY)).to_numpy()
    note = Message("groups_new_items", days=spec.new_days)
    return _flags(spec, new, "new", "established", note)


def _popularity(popularity: np.ndarray, spec: GroupSpec) -> Grouping:
    """Deciles of training popularity, D10 the most popular; ties split by item order."""
    ranks = pd.Series(np.asarray(popularity, dtype=float)).rank(method="first").to_numpy()
    decile = np.minimum((10 * (ranks - 1) / max(len(ranks), 1)).astype(int), 9) + 1
    return _from_codes(spec, decile - 1, [f"D{d:02d}" for d in range(1, 11)],
                        Message("groups_popularity"))


def build_grouping(spec: GroupSpec, items: pd.DataFrame, interactions: pd.DataFrame,
                   popularity: np.ndarray) -> Grouping:
    """The grouping `spec` asks for over `items` (catalogue order).

    `interactions` are training interactions with `item_id` and `timestamp` (for item age),
    `popularity` the `(n_items,)` training counts (for deciles).
    """
    builders: dict[str, Any] = {
        "top_category": lambda: _top_categories(items, spec),
        "price_band": lambda: _price_bands(items, spec),
        "promo": lambda: _promo(items, spec),
        "new": lambda: _new_items(items, interactions, spec),
        "popularity": lambda: _popularity(popularity, spec),
    }
    if spec.by in builders:
        return builders[spec.by]()
    if spec.by == BRAND and BRAND not in items:
        raise DataError(Message("no_brand_column"))
    if spec.by not in items.columns:
        known = ", ".join([*NAMED_GROUPINGS, *[c for c in items.columns if c != ITEM_ID]])
        raise ConfigError(Message("unknown_grouping", by=spec.by, known=known))
    return _values(items, spec)


def grouping_for_run(run: Any, spec: GroupSpec) -> Grouping:
    """`build_grouping` over a loaded run's catalogue, training interactions and popularity."""
    return build_grouping(spec, run.items, run.histories, run.item_popularity)
