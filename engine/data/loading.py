"""`load_dataset`: import → column map → validate → clean, in one call."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from engine.core.columns import EVENT_REQUIRED, ITEM_ID, ITEM_REQUIRED
from engine.core.config import DataConfig
from engine.data.cleaning import CleaningReport, clean_items
from engine.data.event_cleaning import clean_events
from engine.data.importers import RawTables, read_raw
from engine.data.readers import require_columns
from engine.data.schema import Dataset, apply_column_map, check_column_map


def build_dataset(
    items: pd.DataFrame,
    events: pd.DataFrame,
    name: str = "custom",
    config: DataConfig | None = None,
    column_map: dict[str, str] | None = None,
    sources: tuple[str, str] = ("items", "events"),
    fmt: str = "generic",
) -> Dataset:
    """Validate and clean in-memory raw tables into a `Dataset` (inputs are not modified)."""
    config = config or DataConfig()
    tables = apply_column_map({"items": items, "events": events}, check_column_map(column_map))
    items, events = tables["items"], tables["events"]
    require_columns(items, ITEM_REQUIRED, sources[0])
    require_columns(events, EVENT_REQUIRED, sources[1])
    report = CleaningReport()
    clean_item_table = clean_items(items, config, report, sources[0])
    clean_event_table = clean_events(events, clean_item_table[ITEM_ID], config, report,
                                     sources[1])
    return Dataset(name=name, items=clean_item_table, events=clean_event_table, report=report,
                   config=config, fmt=fmt)


def load_dataset(
    path: str | Path,
    fmt: str = "auto",
    column_map: dict[str, str] | None = None,
    config: DataConfig | None = None,
    progress: bool = False,
) -> Dataset:
    """Detect the format of the folder at `path`, read, validate and clean it.

    Raises `DataError` naming the file, the column and the fix when the input is unusable.
    """
    folder = Path(path).expanduser()
    folder = folder.parent if folder.is_file() else folder
    check_column_map(column_map)
    with tqdm(total=2, desc=f"loading {folder.name}", disable=not progress or None,
              leave=False) as bar:
        raw: RawTables = read_raw(folder, fmt)
        bar.update(1)
        dataset = build_dataset(raw.items, raw.events, name=folder.resolve().name,
                                config=config, column_map=column_map,
                                sources=(raw.items_source, raw.events_source), fmt=raw.fmt)
        bar.update(1)
    return dataset
