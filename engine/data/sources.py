"""Recognise shop exports by their headers and read a source into raw Prism tables.

A source is a folder or a list of files. A folder in a layout Prism reads already (generic,
RecBole, MovieLens) goes through those importers; otherwise every table file is read and
recognised by its header (`detect_table`): a Merchant Center feed, Shopify or WooCommerce
products and orders, or generic items/events tables. One items table and one events table
make a source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine.core.columns import EVENT_REQUIRED, ITEM_REQUIRED
from engine.core.errors import DataError
from engine.data import merchant, shopify, woocommerce
from engine.data.importers import RawTables, detect_format, read_raw
from engine.data.readers import (
    detect_encoding,
    find_table,
    read_csv_text,
    read_parquet_table,
)
from engine.data.reconcile import TableCount

ITEM_KINDS = ("merchant_center", "shopify_products", "woocommerce_products", "items")
EVENT_KINDS = ("shopify_orders", "woocommerce_orders", "events")
KIND_LABELS = {
    "merchant_center": "Google Merchant Center feed", "shopify_products": "Shopify products",
    "woocommerce_products": "WooCommerce products", "items": "items table",
    "shopify_orders": "Shopify orders", "woocommerce_orders": "WooCommerce orders (Import "
    "Export Suite)", "events": "events table",
}
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".xml")
ENCODINGS = ("auto", "utf-8", "gb18030", "gbk")


def detect_table(columns: list[str]) -> str | None:
    """Which kind of table a header is (see `KIND_LABELS`), or None when unknown."""
    names = [str(c).strip() for c in columns]
    checks = (("shopify_products", shopify.looks_like_products),
              ("shopify_orders", shopify.looks_like_orders),
              ("woocommerce_products", woocommerce.looks_like_products),
              ("woocommerce_orders", woocommerce.looks_like_orders),
              ("merchant_center", merchant.looks_like_feed))
    for kind, check in checks:
        if check(names):
            return kind
    if set(EVENT_REQUIRED) <= set(names):
        return "events"
    if set(ITEM_REQUIRED) <= set(names):
        return "items"
    return None


@dataclass
class Table:
    """One file read as text, with what it was recognised as."""

    path: Path
    frame: pd.DataFrame
    kind: str | None
    encoding: str


@dataclass
class Source:
    """Raw tables ready for the column map and cleaning, and how they were read."""

    raw: RawTables
    fmt: str
    encoding: str
    tables: list[Table] = field(default_factory=list)
    label: str = ""


def _sniff_sep(path: Path, encoding: str) -> str:
    if path.suffix.lower() in (".tsv", ".txt"):
        return "\t"
    with path.open("r", encoding="utf-8-sig" if encoding == "utf-8" else encoding,
                   errors="replace") as handle:
        header = handle.readline()
    return "\t" if header.count("\t") > header.count(",") else ","


def read_any_table(path: Path, encoding: str = "auto") -> Table:
    """A CSV/TSV/Parquet/XML file as a string table, recognised by its header."""
    if encoding not in ENCODINGS:
        raise DataError(f"unknown encoding {encoding!r}; use one of {', '.join(ENCODINGS)}")
    suffix = path.suffix.lower()
    if suffix == ".xml":
        frame, used = merchant.read_feed_xml(path, encoding)
        return Table(path, frame, "merchant_center", used)
    if suffix in (".parquet", ".pq"):
        frame = read_parquet_table(path).astype("string").fillna("").astype(str)
        return Table(path, frame, detect_table(list(frame.columns)), "parquet")
    if not path.is_file() or path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty; export the table again with a header row")
    used = detect_encoding(path) if encoding == "auto" else encoding
    frame = read_csv_text(path, sep=_sniff_sep(path, used), encoding=used)
    return Table(path, frame, detect_table(list(frame.columns)), used)


def _table_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise DataError(f"{path}: no such file or folder; check the path")
        if path.is_dir():
            files += sorted(p for p in path.iterdir()
                            if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES)
        else:
            files.append(path)
    if not files:
        raise DataError(f"{', '.join(map(str, paths))}: no table files (.csv, .tsv, .parquet, "
                        ".xml) found; export the products and orders first")
    return files


def _pick(tables: list[Table], kinds: tuple[str, ...], role: str) -> Table:
    found = [t for t in tables if t.kind in kinds]
    if len(found) > 1:
        names = ", ".join(f"{t.path.name} ({KIND_LABELS[t.kind or '']})" for t in found)
        raise DataError(f"several {role} tables ({names}); give one {role} table per import")
    if found:
        return found[0]
    shown = "; ".join(f"{t.path.name}: {KIND_LABELS.get(t.kind or '', 'not recognised')} "
                      f"(columns {', '.join(map(str, t.frame.columns[:6]))})" for t in tables)
    raise DataError(f"no {role} table found ({shown}). Expected a product table (Merchant "
                    "Center feed, Shopify or WooCommerce products, or items with item_id, "
                    "title) and an orders/events table (Shopify or WooCommerce orders, or "
                    "events with user_id, item_id); rename the columns or pass --map")


# rows a shop-export reader folds into another row (not lost: merged into their product)
FOLDED = {"shopify_products": "variant and image rows folded into their product",
          "woocommerce_products": "variations folded into their product"}


def items_from(table: Table, count: TableCount) -> pd.DataFrame:
    source = str(table.path)
    if table.kind == "merchant_center":
        items = merchant.feed_items(table.frame, source)
    elif table.kind == "shopify_products":
        items = shopify.products_items(table.frame, source)
    elif table.kind == "woocommerce_products":
        items = woocommerce.products_items(table.frame, source)
    else:
        items = table.frame
    count.drop(FOLDED.get(table.kind or "", "rows folded"), count.remaining - len(items))
    return items


def events_from(table: Table, items_table: Table, count: TableCount) -> pd.DataFrame:
    source = str(table.path)
    if table.kind == "shopify_orders":
        lookup = (shopify.product_lookup(items_table.frame)
                  if items_table.kind == "shopify_products" else ({}, {}))
        return shopify.orders_events(table.frame, source, lookup)
    if table.kind == "woocommerce_orders":
        lookup = (woocommerce.product_lookup(items_table.frame)
                  if items_table.kind == "woocommerce_products" else ({}, {}))
        events = woocommerce.orders_events(table.frame, source, lookup)
        count.read = len(events)  # one line item per event: the rows read are the line items
        return events
    return table.frame


def _format_name(items: Table, events: Table) -> str:
    kinds = {items.kind, events.kind}
    for shop in ("shopify", "woocommerce"):
        if any(str(k).startswith(shop) for k in kinds):
            return shop
    return "merchant-center" if items.kind == "merchant_center" else "generic"


def read_tables(tables: list[Table], label: str) -> Source:
    """Assemble recognised tables (one items, one events) into raw Prism tables."""
    items_table = _pick(tables, ITEM_KINDS, "items")
    events_table = _pick([t for t in tables if t is not items_table], EVENT_KINDS, "events")
    item_count = TableCount("items", items_table.path.name, read=len(items_table.frame))
    event_count = TableCount("events", events_table.path.name, read=len(events_table.frame))
    raw = RawTables(items_from(items_table, item_count),
                    events_from(events_table, items_table, event_count),
                    str(items_table.path), str(events_table.path),
                    _format_name(items_table, events_table), item_count, event_count)
    encodings = sorted({items_table.encoding, events_table.encoding})
    return Source(raw, raw.fmt, "+".join(encodings), tables, label)


def _layout_encoding(folder: Path, layout: str, encoding: str) -> str:
    """The encoding a Prism-layout folder was read with, for the report."""
    if layout != "generic":
        return "as the format specifies"
    path = find_table(folder, "items")
    if path is None:
        return encoding
    if path.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    return detect_encoding(path) if encoding == "auto" else encoding


def _prism_layout(folder: Path) -> str | None:
    try:
        return detect_format(folder)
    except DataError:
        return None


def read_source(paths: list[str | Path], fmt: str = "auto", encoding: str = "auto") -> Source:
    """Read a folder or files (any supported layout or shop export) into a `Source`."""
    resolved = [Path(p).expanduser() for p in paths]
    if not resolved:
        raise DataError("no source given; pass a folder or the exported files")
    single = resolved[0] if len(resolved) == 1 and resolved[0].is_dir() else None
    layout = fmt if fmt in ("generic", "recbole", "movielens") else None
    if single is not None and fmt == "auto":
        layout = _prism_layout(single)
    if layout is not None and single is not None:
        raw = read_raw(single, layout, encoding=encoding if layout == "generic" else "utf-8")
        return Source(raw, raw.fmt, _layout_encoding(single, layout, encoding),
                      label=str(single))
    tables = [read_any_table(path, encoding) for path in _table_files(resolved)]
    return read_tables(tables, ", ".join(map(str, resolved)))
