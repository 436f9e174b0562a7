"""Cleaning rules for raw items and events. Nothing is dropped silently.

Every rule counts what it changed in a `CleaningReport`, shown by `prism data inspect`.
Survivable mess (a duplicate event, an absurd price, HTML in a description) is fixed and counted;
input that cannot be right (conflicting duplicate items, a file whose timestamps or item ids
mostly fail) raises `DataError` saying what, where and what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from engine.core.columns import (
    BRAND,
    CATEGORY,
    CATEGORY_SEP,
    DESCRIPTION,
    ITEM_ID,
    PRICE,
    PROMO,
    TITLE,
    UNKNOWN_CATEGORY,
)
from engine.core.config import DataConfig
from engine.core.errors import DataError
from engine.core.messages import Message, shown_ids
from engine.data.html_text import strip_html
from engine.data.numbers import AMBIGUOUS, BAD, parse_amounts

# Above this share of bad rows the file, not the rows, is wrong (e.g. events of another shop).
MAX_BAD_SHARE = 0.5
ITEM_TEXT_COLUMNS = (TITLE, DESCRIPTION, CATEGORY, BRAND)
# tag fragments a scraper leaves in a title: "<br>", "</b>", a stray "/>" (with its ".")
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z][^<>]*>|/>\s*\.?|<\s*/?\s*>")
_WORD = re.compile(r"[^\W_]", re.UNICODE)
TITLE_FROM_DESCRIPTION_CHARS = 80
TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f", ""}


@dataclass
class CleaningReport:
    """How many rows/cells each cleaning rule touched."""

    missing_ids: int = 0  # item or event rows without an id: dropped
    duplicate_items: int = 0  # repeated item ids with the same title: first row kept
    empty_titles: int = 0  # replaced by the item id
    markup_titles: int = 0  # markup leftovers ("Shop />.") removed or title from description
    markup_titles_dropped: int = 0  # markup-only titles without a description: items dropped
    shared_category_root: int = 0  # items whose labels lose a root level every item shares
    html_removed: int = 0  # text cells with HTML tags, comments or entities: plain text kept
    bad_prices: int = 0  # negative, absurd or non-numeric prices: set to unknown
    ambiguous_numbers: int = 0  # prices like 1,299 that read two ways: set to unknown
    unparseable_timestamps: int = 0  # events dropped
    duplicate_events: int = 0  # same user, item, timestamp, event: dropped
    unknown_item_events: int = 0  # events whose item is not in the catalogue: dropped
    filtered_users: int = 0  # users under the min-count filter: their events dropped
    filtered_items: int = 0  # items under the min-count filter: their events dropped
    filtered_events: int = 0  # events removed by the min-count filter

    def rows(self) -> list[tuple[str, int, str]]:
        """(rule, count, action) for display."""
        return [(f.name.replace("_", " "), getattr(self, f.name), _ACTIONS[f.name])
                for f in fields(self)]

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


_ACTIONS = {
    "missing_ids": "rows dropped",
    "duplicate_items": "first row kept",
    "empty_titles": "title set to the item id",
    "markup_titles": "markup removed; title from the description when nothing was left",
    "markup_titles_dropped": "items dropped (no title, no description)",
    "shared_category_root": "root level left out of category labels",
    "html_removed": "tags, comments and entities removed",
    "bad_prices": "price set to unknown",
    "ambiguous_numbers": "price set to unknown; --decimal-mark decides them",
    "unparseable_timestamps": "events dropped",
    "duplicate_events": "events dropped",
    "unknown_item_events": "events dropped",
    "filtered_users": "users removed (min count)",
    "filtered_items": "items without events (min count)",
    "filtered_events": "events dropped (min count)",
}


def clean_ids(values: pd.Series) -> pd.Series:
    """Ids as stripped strings ("" when missing); whole floats (ints with gaps, from Parquet,
    or a column of "17850.0" text) lose their ".0". The rule is per column, never per value:
    when any given id is not whole (17850.5), every id is kept as written, since "17850.0"
    beside it may be a real id, not an int written as a float."""
    if pd.api.types.is_float_dtype(values):
        given = values.dropna()
        if ((given.abs() < 2**53) & (given % 1 == 0)).all():  # exactly representable ints
            values = values.astype("Int64")
    text = values.astype("string").fillna("").astype(str).str.strip()
    given = text[text != ""]
    if len(given) and given.str.fullmatch(r"-?\d+\.0+").all():  # "17850.0": ints as floats
        text = text.str.replace(r"\.0+$", "", regex=True)
    return text


def strip_item_html(items: pd.DataFrame, report: CleaningReport) -> None:
    """The text columns (title, description, category, brand) as plain text, in place: a
    missing column or cell is "", markup is removed (`strip_html`) and counted."""
    for column in ITEM_TEXT_COLUMNS:
        text = items[column] if column in items else pd.Series("", index=items.index)
        text = text.astype(object).where(text.notna(), "")  # a numeric column never holds ""
        items[column], changed = strip_html(text.astype(str))
        report.html_removed += changed


def _drop_missing_ids(frame: pd.DataFrame, columns: tuple[str, ...],
                      report: CleaningReport) -> pd.DataFrame:
    frame = frame.copy()
    missing = np.zeros(len(frame), dtype=bool)
    for column in columns:
        frame[column] = clean_ids(frame[column])
        missing |= (frame[column] == "").to_numpy()
    report.missing_ids += int(missing.sum())
    return frame[~missing]


def _first_sentence(text: str, limit: int = TITLE_FROM_DESCRIPTION_CHARS) -> str:
    """The description's first sentence, cut at a word boundary to at most `limit` chars."""
    sentence = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0].rstrip(". ")
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _category_levels(paths: pd.Series) -> set[str]:
    levels = paths.fillna("").astype(str).str.split(r" \| | > ", regex=True).explode()
    return set(levels.str.strip().dropna()) - {""}


def repair_markup_titles(items: pd.DataFrame, report: CleaningReport) -> pd.DataFrame:
    """Strip markup leftovers from titles; a title that was only markup (or only a category
    name plus markup, like "Industrial & Scientific />.") takes its description's first
    sentence, or the item is dropped when it has no description. Both are counted."""
    titles = items[TITLE]
    has_markup = titles.str.contains(_MARKUP, regex=True)
    if not has_markup.any():
        return items
    items = items.copy()
    stripped = titles[has_markup].str.replace(_MARKUP, " ", regex=True).str.split().str.join(" ")
    stripped = stripped.str.strip(" .,;:-")
    levels = _category_levels(items[CATEGORY])
    hollow = ~stripped.str.contains(_WORD, regex=True) | stripped.isin(levels)
    description = items.loc[stripped.index, DESCRIPTION].map(_first_sentence)
    repaired = stripped.where(~hollow, description)
    drop = repaired.index[hollow & (description == "")]
    items.loc[repaired.index, TITLE] = repaired
    report.markup_titles += int(has_markup.sum()) - len(drop)
    report.markup_titles_dropped += len(drop)
    return items.drop(index=drop)


def shared_root(names: list[str]) -> str | None:
    """The first path level every category label starts with, when each has a level below."""
    parts = [name.split(CATEGORY_SEP, 1) for name in names if name != UNKNOWN_CATEGORY]
    if not parts or any(len(p) < 2 for p in parts) or len({p[0] for p in parts}) != 1:
        return None
    return parts[0][0]


def drop_shared_root(names: list[str]) -> list[str]:
    """Labels without a root shared by all ("Shop > Tools" → "Tools"); unchanged otherwise.

    A root every item has tells nothing apart, and repeating it crowds every label in the UI.
    Dropping a common prefix keeps the labels' sorted order.
    """
    root = shared_root(names)
    if root is None:
        return list(names)
    return [name if name == UNKNOWN_CATEGORY else name.split(CATEGORY_SEP, 1)[1]
            for name in names]


def count_shared_root(paths: pd.Series, report: CleaningReport) -> None:
    """Count the items whose labels will lose a shared root (the paths are kept whole): every
    given path has two levels or more and the same first one, i.e. starts with the first
    path's root and a separator (one string test per item, no split lists)."""
    text = paths.fillna("").astype(str)
    given = text[text != ""]
    if not len(given):
        return
    root = given.iloc[0].split(CATEGORY_SEP, 1)[0] + CATEGORY_SEP
    if bool(given.str.startswith(root).all()):
        report.shared_category_root += len(given)


def parse_promo(values: pd.Series, source: object) -> pd.Series:
    """Promo flags from yes/no words (1/0, true/false, yes/no, y/n, t/f, any case; empty is
    no; a number column's 1 and 0, 1.0 and 0.0 too); DataError naming `source` and an example of
    any other value."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        values = values.map(lambda v: "" if pd.isna(v) else f"{v:g}")  # 1.0 reads as "1"
    text = values.fillna("").astype(str).str.strip().str.lower()
    bad = ~text.isin(TRUE_WORDS | FALSE_WORDS)
    if bad.any():
        raise DataError(Message("promo_not_flag", source=source,
                                example=text[bad].iloc[0]))
    return text.isin(TRUE_WORDS)


def _clean_prices(values: pd.Series, config: DataConfig,
                  report: CleaningReport) -> tuple[pd.Series, pd.Series]:
    """Prices as numbers (decimal commas, thousands separators, currencies read) and the
    currency each names ("" when none)."""
    numbers, currency, status = parse_amounts(values, config.decimal_mark)
    ambiguous = status == AMBIGUOUS
    bad = (status == BAD) | (numbers < 0) | (numbers > config.max_price)
    report.ambiguous_numbers += int(ambiguous.sum())
    report.bad_prices += int(bad.sum())
    return numbers.mask(bad | ambiguous), currency


def _dedupe_items(items: pd.DataFrame, source: str, report: CleaningReport) -> pd.DataFrame:
    before = len(items)
    items = items.drop_duplicates()
    dup = items[ITEM_ID].duplicated(keep=False)
    if dup.any():
        titles = items[dup].groupby(ITEM_ID, sort=True)[TITLE].nunique()
        conflicting = titles[titles > 1].index.tolist()
        if conflicting:
            shown, more = shown_ids(conflicting, 5)
            raise DataError(Message("duplicate_ids", source=str(source), shown=shown, more=more,
                                        n=len(conflicting)))
        items = items.drop_duplicates(subset=[ITEM_ID])
    report.duplicate_items += before - len(items)
    return items


def clean_items(raw: pd.DataFrame, config: DataConfig, report: CleaningReport,
                source: str = "items") -> pd.DataFrame:
    """Normalise the catalogue to the items contract, counting every fix in `report`."""
    items = _drop_missing_ids(raw, (ITEM_ID,), report)
    strip_item_html(items, report)
    items = _dedupe_items(items, source, report)
    items = repair_markup_titles(items, report)
    count_shared_root(items[CATEGORY], report)
    empty = items[TITLE] == ""
    report.empty_titles += int(empty.sum())
    items.loc[empty, TITLE] = items.loc[empty, ITEM_ID]
    price = items[PRICE] if PRICE in items else pd.Series(np.nan, index=items.index)
    items[PRICE], currency = _clean_prices(price, config, report)
    if "currency" not in items and currency.ne("").any():
        items["currency"] = currency
    promo = items[PROMO] if PROMO in items else pd.Series("", index=items.index)
    items[PROMO] = parse_promo(promo, source)
    first = [ITEM_ID, TITLE, DESCRIPTION, CATEGORY, BRAND, PRICE, PROMO]
    extras = [c for c in items.columns if c not in first]
    return items[first + extras].reset_index(drop=True)
