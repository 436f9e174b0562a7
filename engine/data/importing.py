"""`prism data import`: a source → column map → cleaned dataset in `$PRISM_HOME/data/NAME`.

The dataset is written as the generic Parquet layout plus `import.json` (format, encoding,
masked source, cleaning report) into a temporary folder beside the target and renamed into
place, so a failed import leaves nothing half-written and an older dataset of the same name
stays until the new one is complete.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd

from engine.core import paths
from engine.core.columns import (
    EVENT_OPTIONAL,
    EVENT_REQUIRED,
    ITEM_ID,
    ITEM_OPTIONAL,
    ITEM_REQUIRED,
)
from engine.core.config import DataConfig
from engine.core.errors import DataError
from engine.core.files import is_swap_name, swap_folder, write_bytes_atomic, write_json_atomic
from engine.core.messages import Message
from engine.core.names import is_name, name_problem
from engine.data.depth import depth_advice
from engine.data.importers import RawTables
from engine.data.io import write_tables
from engine.data.loading import build_dataset
from engine.data.privacy import protect
from engine.data.schema import Dataset, apply_column_map, check_column_map
from engine.data.sources import Source
from engine.data.sql import SQL_FORMAT, mask_url, read_sql_tables

ITEM_TARGETS = ITEM_REQUIRED + ITEM_OPTIONAL
EVENT_TARGETS = EVENT_REQUIRED + EVENT_OPTIONAL
# what shops call the Prism columns (lower-case, spaces and dashes as underscores)
SYNONYMS = {
    "item_id": ("item_id", "product_id", "sku", "id", "item", "handle", "asin", "商品id",
                "商品编号"),
    "title": ("title", "name", "product_name", "item_name", "product_title", "标题", "商品名称",
              "名称"),
    "description": ("description", "desc", "body", "body_html", "details", "描述", "商品描述"),
    "category": ("category", "categories", "product_type", "type", "department", "类目",
                 "分类", "类别"),
    "brand": ("brand", "vendor", "manufacturer", "品牌"),
    "price": ("price", "regular_price", "unit_price", "价格", "售价"),
    "promo": ("promo", "on_sale", "promotion", "促销"),
    "user_id": ("user_id", "customer_id", "customer", "user", "email", "shopper_id", "用户id",
                "用户", "客户"),
    "timestamp": ("timestamp", "time", "date", "created_at", "order_date", "event_time",
                  "时间", "日期", "下单时间"),
    "event": ("event", "event_type", "action", "type", "行为"),
    "weight": ("weight", "quantity", "rating", "数量"),
}


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def propose_column_map(raw: RawTables, table: str | None = None) -> dict[str, str]:
    """A {target: source column} map guessed from the headers (identity where names match).

    `table` ("items" or "events") proposes for that table only; None merges both.
    """
    proposal: dict[str, str] = {}
    tables = {"items": (ITEM_TARGETS, raw.items), "events": (EVENT_TARGETS, raw.events)}
    for name, (targets, frame) in tables.items():
        if table not in (None, name):
            continue
        by_key = {_key(c): str(c) for c in frame.columns}
        taken: set[str] = set()
        for target in targets:
            for alias in SYNONYMS.get(target, (target,)):
                column = by_key.get(_key(alias))
                if column is not None and column not in taken:
                    proposal[target] = column
                    taken.add(column)
                    break
    return proposal


def effective_map(column_map: dict[str, str]) -> dict[str, str]:
    """Only the entries that rename a column (identity entries are no-ops)."""
    return {t: s for t, s in column_map.items() if s and s != t}


def map_source(source: Source, items_map: dict[str, str],
               events_map: dict[str, str]) -> Source:
    """`source` with each table's columns renamed by its own {target: source column} map."""
    items = apply_column_map({"items": source.raw.items},
                             check_column_map(effective_map(items_map)))["items"]
    events = apply_column_map({"events": source.raw.events},
                              check_column_map(effective_map(events_map)))["events"]
    return replace(source, raw=replace(source.raw, items=items, events=events))


def sql_source(url: str, items_query: str, events_query: str) -> Source:
    """Items and events from two SQL queries; the source label never shows the password."""
    items, events = read_sql_tables(url, items_query, events_query)
    masked = mask_url(url)
    raw = RawTables(items, events, f"{masked} (items query)", f"{masked} (events query)",
                    SQL_FORMAT)
    return Source(raw, SQL_FORMAT, "database", label=masked)


def with_item_aliases(events: pd.DataFrame, aliases: dict[str, str],
                      column_map: dict[str, str]) -> pd.DataFrame:
    """Events naming a variant id (a Merchant Center `id`) count for its product."""
    column = column_map.get(ITEM_ID, ITEM_ID)
    if not aliases or column not in events.columns:
        return events
    ids = events[column].astype(str).str.strip()
    return events.assign(**{column: ids.map(aliases).fillna(ids)})


def pending_map(source: Source, column_map: dict[str, str] | None) -> dict[str, str]:
    """The renaming entries of `column_map` still to apply (those applied before recognition,
    whose columns carry the Prism names already, are left out)."""
    columns = set(source.raw.items.columns) | set(source.raw.events.columns)
    return {t: s for t, s in effective_map(column_map or {}).items()
            if s in columns or t not in columns}


def clean_source(source: Source, name: str, column_map: dict[str, str] | None = None,
                 config: DataConfig | None = None) -> Dataset:
    """The cleaned dataset (and its report) before anything is written; identifying columns
    are dropped and e-mail shopper ids keyed first (`engine.data.privacy`)."""
    pending = pending_map(source, column_map)
    items, events, identifying = protect(source.raw.items, source.raw.events, pending)
    events = with_item_aliases(events, source.item_aliases, pending)
    dataset = build_dataset(items, events, name=name, config=config, column_map=pending,
                            sources=(source.raw.items_source, source.raw.events_source),
                            fmt=source.fmt,
                            counts=(source.raw.items_count, source.raw.events_count))
    for count in dataset.reconciliation:
        count.identifying = dict(identifying.get(count.table, {}))
    return dataset


def check_name(name: str) -> str:
    """A dataset name usable as a folder: the one name rule, and not a name writers use for
    the folders they are writing or replacing."""
    name = str(name).strip()
    if not is_name(name):
        raise DataError(name_problem(name, "dataset"))
    if is_swap_name(name):
        raise DataError(Message("dataset_name", name=name))
    return name


def import_meta(dataset: Dataset, source: Source, column_map: dict[str, str]) -> dict:
    """What `import.json` records: never a password (the SQL label is already masked)."""
    return {"name": dataset.name, "format": source.fmt, "encoding": source.encoding,
            "encoding_evidence": source.evidence,
            "source": source.label, "items_source": source.raw.items_source,
            "events_source": source.raw.events_source, "column_map": column_map,
            "n_items": dataset.n_items, "n_events": len(dataset.events),
            "n_users": dataset.n_users, "report": asdict(dataset.report),
            "reconciliation": [count.as_dict() for count in dataset.reconciliation],
            "category_depth": dataset.config.category_depth,
            "category_advice": depth_advice(dataset),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def write_dataset(dataset: Dataset, meta: dict, home: Path | None = None,
                  progress: bool = False) -> Path:
    """Write `data/NAME` atomically: staged beside it (hidden), then swapped in by renames."""
    root = (home / "data") if home is not None else paths.data_dir()
    root.mkdir(parents=True, exist_ok=True)
    target = root / check_name(dataset.name)

    def fill(staging: Path) -> None:
        write_tables(dataset.items, dataset.events, staging, fmt="parquet", progress=progress)
        write_json_atomic(staging / "import.json", meta, ensure_ascii=False)

    return swap_folder(target, fill, hidden=True)


def import_source(source: Source, name: str, column_map: dict[str, str] | None = None,
                  config: DataConfig | None = None, home: Path | None = None,
                  progress: bool = False) -> tuple[Dataset, Path]:
    """Clean `source` and write it as dataset `name`; returns the dataset and its folder."""
    check_name(name)
    column_map = dict(column_map or {})
    dataset = clean_source(source, name, column_map, config)
    if dataset.events.empty:
        raise DataError(Message("no_events_after_cleaning", source=source.label))
    path = write_dataset(dataset, import_meta(dataset, source, effective_map(column_map)),
                         home, progress)
    return dataset, path


def preview_rows(frame: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The first rows of a raw table, for showing before anything is mapped or written."""
    return frame.head(n).reset_index(drop=True)


def stage_uploads(files: list[tuple[str, bytes]], folder: Path, max_bytes: int) -> list[Path]:
    """Save uploaded (name, bytes) files into `folder`, refusing empty or oversized ones."""
    if not files:
        raise DataError(Message("no_uploads"))
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, data in files:
        safe = Path(name).name or "upload.csv"
        if len(data) > max_bytes:
            raise DataError(Message("upload_too_big", file=safe, mb=len(data) / 2**20,
                                    limit=max_bytes / 2**20))
        if not data.strip():
            raise DataError(Message("empty_upload", file=safe))
        path = folder / safe
        write_bytes_atomic(path, data)
        saved.append(path)
    return saved
