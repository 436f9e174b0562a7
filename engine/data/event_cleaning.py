"""Cleaning rules for the events table (see `cleaning.py` for the report and the item rules).

Timestamps may be unix seconds (milliseconds are recognised by their size) or ISO-8601; a
table without timestamps keeps its row order as time. Rows that cannot be used are dropped
and counted; when more than half of a file fails a rule, the file itself is wrong and a
`DataError` says so instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.core.columns import EVENT, EVENT_TYPES, ITEM_ID, TIMESTAMP, USER_ID, WEIGHT
from engine.core.config import DataConfig
from engine.core.errors import DataError
from engine.core.ids import ids_in
from engine.core.messages import Message, shown_ids
from engine.data.cleaning import MAX_BAD_SHARE, CleaningReport, _drop_missing_ids
from engine.data.numbers import AMBIGUOUS, parse_amounts

DEFAULT_EVENT = "purchase"
MILLISECONDS_ABOVE = 1e11  # unix seconds reach 1e11 only in the year 5138


def _examples(values: pd.Series, n: int = 3) -> str:
    return ", ".join(repr(v) for v in pd.unique(values.astype(str))[:n])


def _check_share(bad: pd.Series, total: int, what: str, source: str, fix: str,
                 examples: pd.Series) -> None:
    """Raise when the bad rows are most of the file (or all of it)."""
    n_bad = int(bad.sum())
    if n_bad and (n_bad == total or n_bad > MAX_BAD_SHARE * total):
        raise DataError(Message("bad_events_share", source=str(source), n_bad=n_bad,
                                total=total, what=what, examples=_examples(examples), fix=fix))


def _epoch_seconds(stamps: pd.Series) -> pd.Series:
    """UTC datetimes (any resolution) as float unix seconds, NaN where missing."""
    seconds = (stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return seconds.astype(float)


MAX_UNIX_SECONDS = 9.2e9  # about the year 2262, the limit of pandas datetimes


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Unix seconds as float (NaN where the value does not parse)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return _epoch_seconds(pd.to_datetime(values, utc=True))
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype(float)
    else:
        text = values.astype("string").str.strip()
        numbers = pd.to_numeric(text, errors="coerce").astype(float)
        # only date-like text: pandas would also accept words such as "today" or "now"
        rest = numbers.isna() & text.str.match(r"\d{4}-").fillna(False)
        if rest.any():
            dates = pd.to_datetime(text[rest], format="ISO8601", utc=True, errors="coerce")
            numbers[rest] = _epoch_seconds(dates)
    if numbers.notna().any() and numbers.abs().median() > MILLISECONDS_ABOVE:
        numbers = numbers / 1000.0
    # inf, and seconds beyond what int64 nanosecond times can hold, are not real times
    numbers = numbers.where(numbers.abs() < MAX_UNIX_SECONDS)
    return np.floor(numbers)


def _clean_timestamps(events: pd.DataFrame, report: CleaningReport,
                      source: str) -> pd.DataFrame:
    if TIMESTAMP not in events:
        events[TIMESTAMP] = np.arange(len(events), dtype=np.int64)  # row order is time order
        return events
    seconds = parse_timestamps(events[TIMESTAMP])
    bad = seconds.isna()
    _check_share(bad, len(events), Message("what_bad_timestamps"), source,
                 Message("fix_bad_timestamps"), events[TIMESTAMP][bad])
    report.unparseable_timestamps += int(bad.sum())
    events = events[~bad].copy()
    events[TIMESTAMP] = seconds[~bad].astype(np.int64)
    return events


def _clean_event_types(events: pd.DataFrame, config: DataConfig, source: str) -> pd.DataFrame:
    if EVENT not in events:
        events[EVENT] = DEFAULT_EVENT
    kinds = events[EVENT].fillna("").astype(str).str.strip().str.lower()
    kinds = kinds.mask(kinds == "", DEFAULT_EVENT)
    unknown = sorted(set(pd.unique(kinds)) - set(EVENT_TYPES))
    if unknown:
        shown, more = shown_ids(unknown, 5)
        raise DataError(Message("unknown_event_types", source=str(source), unknown=shown,
                                more=more, n=len(unknown), known=", ".join(EVENT_TYPES)))
    events[EVENT] = kinds
    if WEIGHT in events:
        weights, _, status = parse_amounts(events[WEIGHT], config.decimal_mark)
        if (status == AMBIGUOUS).any():
            raise DataError(Message("weight_two_ways", source=str(source),
                                    examples=_examples(events[WEIGHT][status == AMBIGUOUS])))
        if weights.isna().any() or (weights <= 0).any():
            bad = events[WEIGHT][weights.isna() | (weights <= 0)]
            raise DataError(Message("weight_not_positive", source=str(source),
                                    examples=_examples(bad)))
        events[WEIGHT] = weights.astype(float)
    else:
        weight_of = {kind: float(config.event_weights.get(kind, 1.0)) for kind in EVENT_TYPES}
        events[WEIGHT] = events[EVENT].map(weight_of).astype(float)
    return events


def _drop_unknown_items(events: pd.DataFrame, item_ids: pd.Series, report: CleaningReport,
                        source: str) -> pd.DataFrame:
    unknown = pd.Series(~ids_in(events[ITEM_ID], item_ids), index=events.index)
    _check_share(unknown, len(events), Message("what_unknown_items"), source,
                 Message("fix_unknown_items"), events[ITEM_ID][unknown])
    report.unknown_item_events += int(unknown.sum())
    return events[~unknown]


def _min_count_filter(events: pd.DataFrame, config: DataConfig,
                      report: CleaningReport) -> pd.DataFrame:
    """Drop users/items with too few events, repeating until every survivor qualifies."""
    if config.min_user_events <= 1 and config.min_item_events <= 1:
        return events
    before = len(events)
    users, items = set(), set()
    while True:
        user_counts = events[USER_ID].map(events[USER_ID].value_counts())
        item_counts = events[ITEM_ID].map(events[ITEM_ID].value_counts())
        low_user = user_counts < config.min_user_events
        low_item = item_counts < config.min_item_events
        if not (low_user.any() or low_item.any()):
            break
        users.update(events.loc[low_user, USER_ID])
        items.update(events.loc[low_item, ITEM_ID])
        events = events[~(low_user | low_item)]
    report.filtered_users += len(users - set(events[USER_ID]))
    report.filtered_items += len(items - set(events[ITEM_ID]))
    report.filtered_events += before - len(events)
    return events


def clean_events(raw: pd.DataFrame, item_ids: pd.Series, config: DataConfig,
                 report: CleaningReport, source: str = "events") -> pd.DataFrame:
    """Normalise events to the contract (sorted by user, time), counting every fix."""
    events = _drop_missing_ids(raw, (USER_ID, ITEM_ID), report)
    events = _clean_timestamps(events, report, source)
    events = _clean_event_types(events, config, source)
    before = len(events)
    events = events.drop_duplicates(subset=[USER_ID, ITEM_ID, TIMESTAMP, EVENT])
    report.duplicate_events += before - len(events)
    events = _drop_unknown_items(events, item_ids, report, source)
    events = _min_count_filter(events, config, report)
    if events.empty:
        raise DataError(Message("no_events_left", source=str(source)))
    first = [USER_ID, ITEM_ID, TIMESTAMP, EVENT, WEIGHT]
    extras = [c for c in events.columns if c not in first]
    events = events[first + extras].sort_values([USER_ID, TIMESTAMP], kind="stable")
    return events.reset_index(drop=True)
