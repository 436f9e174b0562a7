"""`load_dataset`: import → column map → validate → clean, in one call."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from engine.core.columns import EVENT_REQUIRED, ITEM_ID, ITEM_REQUIRED
from engine.core.config import DataConfig
from engine.data.cleaning import CleaningReport, clean_items
from engine.data.event_cleaning import clean_events
from engine.data.importers import RawTables, read_raw
from engine.data.readers import require_columns
from engine.data.reconcile import TableCount
from engine.data.schema import Dataset, apply_column_map, check_column_map

# the cleaning rules that drop rows, by table, with the reason the reconciliation names
ITEM_DROPS = {"missing_ids": "without an item id", "duplicate_items": "duplicate item rows",
              "markup_titles_dropped": "title only markup, no description"}
EVENT_DROPS = {"missing_ids": "without a shopper or item id",
               "unparseable_timestamps": "unreadable timestamps",
               "duplicate_events": "duplicate events",
               "unknown_item_events": "product not in the catalogue",
               "filtered_events": "under the minimum event counts"}


def _record_drops(count: TableCount, before: CleaningReport, after: CleaningReport,
                  reasons: dict[str, str]) -> None:
    for rule, reason in reasons.items():
        count.drop(reason, getattr(after, rule) - getattr(before, rule))


def _short(source: str) -> str:
    """A file's name (a database label stays whole)."""
    return source if "://" in source or "query" in source else Path(source).name


def build_dataset(
    items: pd.DataFrame,
    events: pd.DataFrame,
    name: str = "custom",
    config: DataConfig | None = None,
    column_map: dict[str, str] | None = None,
    sources: tuple[str, str] = ("items", "events"),
    fmt: str = "generic",
    counts: tuple[TableCount | None, TableCount | None] = (None, None),
) -> Dataset:
    """Validate and clean in-memory raw tables into a `Dataset` (inputs are not modified).

    `counts` carries what the shop-export readers read and dropped before cleaning; the
    dataset's `reconciliation` adds the cleaning drops and the rows kept, per table.
    """
    config = config or DataConfig()
    tables = apply_column_map({"items": items, "events": events}, check_column_map(column_map))
    items, events = tables["items"], tables["events"]
    require_columns(items, ITEM_REQUIRED, sources[0])
    require_columns(events, EVENT_REQUIRED, sources[1])
    # copies: a source is cleaned again on every change of its column map
    item_count = (counts[0].copy() if counts[0]
                  else TableCount("items", _short(sources[0]), len(items)))
    event_count = (counts[1].copy() if counts[1]
                   else TableCount("events", _short(sources[1]), len(events)))
    report = CleaningReport()
    clean_item_table = clean_items(items, config, report, sources[0])
    _record_drops(item_count, CleaningReport(), report, ITEM_DROPS)
    before = replace(report)
    clean_event_table = clean_events(events, clean_item_table[ITEM_ID], config, report,
                                     sources[1])
    _record_drops(event_count, before, report, EVENT_DROPS)
    reconciliation = [item_count.settle(len(clean_item_table)),
                      event_count.settle(len(clean_event_table))]
    return Dataset(name=name, items=clean_item_table, events=clean_event_table, report=report,
                   config=config, fmt=fmt, reconciliation=reconciliation)


def imported_config(folder: Path) -> DataConfig | None:
    """The category depth `prism data import --depth` (or the Import page) recorded."""
    try:
        meta = json.loads((folder / "import.json").read_text(encoding="utf-8"))
        depth = int(meta["category_depth"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return DataConfig(category_depth=depth) if depth >= 1 else None


def load_dataset(
    path: str | Path,
    fmt: str = "auto",
    column_map: dict[str, str] | None = None,
    config: DataConfig | None = None,
    progress: bool = False,
) -> Dataset:
    """Detect the format of the folder at `path`, read, validate and clean it.

    Raises `DataError` naming the file, the column and the fix when the input is unusable.
    Without a `config`, an imported dataset keeps the category depth it was imported with.
    """
    folder = Path(path).expanduser()
    folder = folder.parent if folder.is_file() else folder
    check_column_map(column_map)
    config = config or imported_config(folder)
    with tqdm(total=2, desc=f"loading {folder.name}", disable=not progress or None,
              leave=False) as bar:
        raw: RawTables = read_raw(folder, fmt)
        bar.update(1)
        dataset = build_dataset(raw.items, raw.events, name=folder.resolve().name,
                                config=config, column_map=column_map,
                                sources=(raw.items_source, raw.events_source), fmt=raw.fmt,
                                counts=(raw.items_count, raw.events_count))
        bar.update(1)
    return dataset
