"""Recognise shop exports by their headers and read a source into raw Prism tables.

A source is a folder or a list of files. A folder in a layout Prism reads already (generic,
RecBole, MovieLens) goes through those importers; otherwise every table file is read and
recognised by its header (`detect_table`): a Merchant Center feed, Shopify or WooCommerce
products and orders, or generic items/events tables. One items table and the events make a
source: several order exports of one shop are joined, and Shopify orders alone bring their
own items (see `engine.data.order_exports`).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from engine.core.columns import EVENT_REQUIRED, ITEM_REQUIRED
from engine.core.errors import DataError
from engine.core.messages import Listing, Message
from engine.data import merchant, order_exports, order_lines, shopify, woocommerce
from engine.data.encodings import check_given
from engine.data.importers import RawTables, detect_format, read_raw
from engine.data.readers import (
    codec,
    detect_together,
    detect_with_evidence,
    find_table,
    read_csv_text,
    read_parquet_table,
)
from engine.data.reconcile import TableCount

ITEM_KINDS = ("merchant_center", "shopify_products", "woocommerce_products", "items")
EVENT_KINDS = ("shopify_orders", "woocommerce_orders", "order_lines", "events")
KIND_LABELS = {kind: Message(f"table_kind_{kind}") for kind in (  # "Shopify orders", …
    "merchant_center", "shopify_products", "woocommerce_products", "items", "shopify_orders",
    "woocommerce_orders", "events", "order_lines")}
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".xml")
ENCODINGS = ("auto", "utf-8", "utf-16", "cp1252", "latin-1", "cp1250", "cp1251", "cp1254",
             "gb18030", "gbk", "big5", "shift_jis", "euc_kr")


def detect_table(columns: list[str]) -> str | None:
    """Which kind of table a header is (see `KIND_LABELS`), or None when unknown."""
    names = [str(c).strip() for c in columns]
    checks = (("shopify_products", shopify.looks_like_products),
              ("shopify_orders", shopify.looks_like_orders),
              ("woocommerce_products", woocommerce.looks_like_products),
              ("woocommerce_orders", woocommerce.looks_like_orders),
              ("merchant_center", merchant.looks_like_feed),
              ("order_lines", order_lines.looks_like_order_lines))
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
    evidence: str = ""  # why this encoding (see `engine.data.encodings`)


@dataclass
class Source:
    """Raw tables ready for the column map and cleaning, and how they were read."""

    raw: RawTables
    fmt: str
    encoding: str
    tables: list[Table] = field(default_factory=list)
    label: str = ""
    item_aliases: dict[str, str] = field(default_factory=dict)  # variant id -> product id
    evidence: dict[str, str] = field(default_factory=dict)  # file name: why its encoding


def _sniff_sep(path: Path, encoding: str) -> str:
    """Tab for .tsv/.txt; else whichever of comma, semicolon or tab the header holds most."""
    if path.suffix.lower() in (".tsv", ".txt"):
        return "\t"
    with path.open("r", encoding=codec(encoding), errors="replace") as handle:
        header = handle.readline()
    return max((",", ";", "\t"), key=header.count)  # ties: the comma (the first)


def _check_encoding_name(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DataError(Message("unknown_encoding_of", encoding=encoding,
                                known=", ".join(ENCODINGS))) from None


def _encoding(path: Path, encoding: str) -> tuple[str, str]:
    """(encoding, evidence): detected for "auto", else the one given."""
    if encoding != "auto":
        return encoding, check_given(Path(path.name), path.read_bytes(), encoding)
    detected = detect_with_evidence(path)
    return detected.encoding, detected.evidence


def read_any_table(path: Path, encoding: str = "auto",
                   known: tuple[str, str] | None = None) -> Table:
    """A CSV/TSV/Parquet/XML file as a string table, recognised by its header; `known`:
    its (encoding, evidence) when already detected."""
    if encoding != "auto":
        _check_encoding_name(encoding)
    suffix = path.suffix.lower()
    if suffix == ".xml":
        frame, used = merchant.read_feed_xml(path, encoding)
        evidence = _encoding(path, encoding)[1] if path.stat().st_size else ""
        return Table(path, frame, "merchant_center", used, evidence)
    if suffix in (".parquet", ".pq"):
        frame = read_parquet_table(path).astype("string").fillna("").astype(str)
        return Table(path, frame, detect_table(list(frame.columns)), "parquet")
    if not path.is_file() or path.stat().st_size == 0:
        raise DataError(Message("file_empty_header", path=str(path)))
    used, evidence = known or _encoding(path, encoding)
    frame = read_csv_text(path, sep=_sniff_sep(path, used), encoding=used)
    return Table(path, frame, detect_table(list(frame.columns)), used, evidence)


def _table_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise DataError(Message("no_such_path", path=str(path)))
        if path.is_dir():
            files += sorted(p for p in path.iterdir()
                            if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES)
        elif path.suffix.lower() not in TABLE_SUFFIXES:
            raise DataError(Message("not_a_table_file", file=path.name,
                                    suffixes=", ".join(TABLE_SUFFIXES)))
        else:
            files.append(path)
    if not files:
        raise DataError(Message("no_table_files", paths=", ".join(map(str, paths))))
    return files


def _unrecognised(table: Table) -> str:
    """Why a table was not recognised: its columns when it is a table at all (two or more
    columns); a file that is not a table keeps its content to itself."""
    if len(table.frame.columns) < 2:
        return Message("not_recognised_table")
    return Message("not_recognised_columns", columns=", ".join(map(str, table.frame.columns[:6])))


def _found(tables: list[Table]) -> str:
    """"orders_export.csv (Shopify orders); notes.csv (not recognised: columns a, b)"."""
    return Listing([Message("file_kind", file=t.path.name, kind=KIND_LABELS[t.kind]) if t.kind
                    else Message("file_kind", file=t.path.name, kind=_unrecognised(t))
                    for t in tables], "; ")


def _pick_items(tables: list[Table]) -> Table | None:
    found = [t for t in tables if t.kind in ITEM_KINDS]
    if len(found) > 1:
        names = Listing([Message("file_kind", file=t.path.name, kind=KIND_LABELS[t.kind or ""])
                         for t in found])
        raise DataError(Message("several_items_tables", names=names))
    return found[0] if found else None


class UnrecognisedTables(DataError):
    """No items or no events table among the files: `tables` (as read, before any column
    map), `found` (what each file was recognised as) and `missing` ("items" or "events")
    let the studio ask for the missing file or offer a mapping."""

    def __init__(self, message: str, tables: list[Table], missing: str = "") -> None:
        super().__init__(message)
        self.tables, self.found, self.label = tables, _found(tables), ""
        self.missing = missing


def _missing(role: str, tables: list[Table]) -> UnrecognisedTables:
    """What was found, and what to add, when the items or the events table is missing."""
    if role == "events":
        return UnrecognisedTables(
            f"no orders or events table: found only {_found(tables)}. Add the shop's orders "
            "export (Shopify or WooCommerce orders) or an events table with user_id, item_id "
            "to the same import, or name the columns of an order-lines table with --map "
            "(order_id, item_id, title, weight, user_id)", tables, "events")
    return UnrecognisedTables(
        f"no items table: found only {_found(tables)}. Add the products export (Merchant "
        "Center feed, Shopify or WooCommerce products) or an items table with item_id, "
        "title; rename the columns or pass --map", tables, "items")


# rows a shop-export reader folds into another row (not lost: merged into their product)
FOLDED = {"shopify_products": "variant and image rows folded into their product",
          "woocommerce_products": "variations folded into their product",
          "merchant_center": "variants grouped into their product (item_group_id)",
          "shopify_orders": "order lines of a product already listed",
          "woocommerce_orders": "order lines of a product already listed"}


def items_from(table: Table, count: TableCount) -> tuple[pd.DataFrame, dict[str, str]]:
    """Raw items of a products table, and {variant id: product id} for grouped variants."""
    source, aliases = str(table.path), {}
    if table.kind == "merchant_center":
        items, aliases = merchant.group_variants(merchant.feed_items(table.frame, source))
    elif table.kind == "shopify_products":
        items = shopify.products_items(table.frame, source)
    elif table.kind == "woocommerce_products":
        items = woocommerce.products_items(table.frame, source)
    else:
        items = table.frame
    count.drop(FOLDED.get(table.kind or "", "rows folded"), count.remaining - len(items))
    return items, aliases


def _format_name(items: Table | None, events: Table) -> str:
    kinds = {None if items is None else items.kind, events.kind}
    if events.kind == "order_lines":
        return "order-lines"
    for shop in ("shopify", "woocommerce"):
        if any(str(k).startswith(shop) for k in kinds):
            return shop
    return "merchant-center" if items is not None and items.kind == "merchant_center" \
        else "generic"


def _item_side(items_table: Table | None, orders: Table, tables: list[Table], names: str,
               ) -> tuple[pd.DataFrame, str, dict[str, str], TableCount]:
    """(raw items, their source, variant aliases, their row count); `names`: the order files
    the items come from when there is no items table."""
    if items_table is None and orders.kind == "order_lines":
        built, _, dropped = order_lines.split_lines(orders.frame)
        count = TableCount("items", Message("count_source_order_lines", names=names),
                           read=len(orders.frame))
        for reason, rows in dropped.items():
            if reason != order_lines.REPEATED:
                count.drop(reason, rows)
        count.drop("lines of a product already listed", count.remaining - len(built))
        return built, f"{orders.path} (items from the order lines)", {}, count
    if items_table is None:
        built = order_exports.items_from_orders(orders)
        if built is None:
            raise _missing("items", tables)
        count = TableCount("items", Message("count_source_order_lines", names=names),
                           read=order_exports.rows_read(orders))
        count.drop(FOLDED[orders.kind or ""], count.remaining - len(built))
        return built, f"{orders.path} (items from the order lines)", {}, count
    count = TableCount("items", items_table.path.name, read=len(items_table.frame))
    items, aliases = items_from(items_table, count)
    return items, str(items_table.path), aliases, count


def _events_side(orders: Table, items_table: Table | None, count: TableCount) -> pd.DataFrame:
    """Raw events of the (joined) orders or events table; dropped lines recorded on `count`."""
    if orders.kind in order_exports.ORDER_KEYS:
        return order_exports.events_from_orders(orders, items_table, count)
    if orders.kind == "order_lines":
        _, events, dropped = order_lines.split_lines(orders.frame)
        for reason, rows in dropped.items():
            count.drop(reason, rows)
        return events
    return orders.frame


def read_tables(tables: list[Table], label: str) -> Source:
    """Assemble recognised tables into raw Prism tables: one items table (or, for Shopify
    and WooCommerce orders alone, the items named by the order lines) and the events
    (several order exports joined)."""
    items_table = _pick_items(tables)
    events_tables = [t for t in tables if t.kind in EVENT_KINDS]
    if not events_tables:
        raise _missing("events", tables)
    names = " + ".join(t.path.name for t in events_tables)
    event_count = TableCount("events", names,
                             read=sum(order_exports.rows_read(t) for t in events_tables))
    if len(events_tables) > 1 and all(t.kind == "order_lines" for t in events_tables):
        frame = order_lines.join_files([(t.path.name, t.frame) for t in events_tables])
        orders = replace(events_tables[0], frame=frame)
    else:
        orders = order_exports.join_orders(events_tables, KIND_LABELS, event_count)
    items, items_source, aliases, item_count = _item_side(items_table, orders, tables, names)
    events = _events_side(orders, items_table, event_count)
    raw = RawTables(items, events, items_source, " + ".join(str(t.path) for t in events_tables),
                    _format_name(items_table, orders), item_count, event_count)
    used = [t for t in (items_table, *events_tables) if t is not None]
    encodings = sorted({t.encoding for t in used})
    evidence = {t.path.name: Message("encoding_evidence", encoding=t.encoding,
                                     evidence=t.evidence) for t in used if t.evidence}
    return Source(raw, raw.fmt, "+".join(encodings), tables, label, item_aliases=aliases,
                  evidence=evidence)


def _layout_encoding(folder: Path, layout: str, encoding: str) -> tuple[str, dict[str, str]]:
    """The encoding a Prism-layout folder was read with and its evidence, for the report."""
    if layout != "generic":
        return Message("encoding_by_format"), {}
    paths = [p for p in (find_table(folder, "items"), find_table(folder, "events"))
             if p is not None and p.suffix.lower() not in (".parquet", ".pq")]
    if not paths:
        return "parquet", {}
    together = detect_together(paths) if encoding == "auto" else {}
    found = {p.name: together.get(str(p)) or _encoding(p, encoding) for p in paths}
    used = "+".join(sorted({e for e, _ in found.values()}))
    return used, {name: Message("encoding_evidence", encoding=e, evidence=why)
                  for name, (e, why) in found.items()}


def premap(tables: list[Table], column_map: dict[str, str] | None) -> list[Table]:
    """The tables with a column map ({Prism name: column}) applied *before* recognition, each
    recognised again: a flat table named anyhow becomes what its mapped names say."""
    renames = {source: target for target, source in (column_map or {}).items()
               if source and source != target}
    if not renames:
        return tables
    missing = [s for s in renames if not any(s in t.frame.columns for t in tables)]
    if missing:
        columns = sorted({str(c) for t in tables for c in t.frame.columns})
        raise DataError(Message("map_no_column", target=renames[missing[0]], source=missing[0],
                                found=", ".join(columns)))
    mapped = []
    for table in tables:
        here = {s: t for s, t in renames.items() if s in table.frame.columns}
        if not here:
            mapped.append(table)
            continue
        frame = table.frame.drop(columns=[t for t in here.values() if t in table.frame.columns
                                          and t not in here]).rename(columns=here)
        mapped.append(replace(table, frame=frame, kind=detect_table(list(frame.columns))
                              if table.kind != "merchant_center" else table.kind))
    return mapped


def _prism_layout(folder: Path) -> str | None:
    try:
        return detect_format(folder)
    except DataError:
        return None


def read_source(paths: list[str | Path], fmt: str = "auto", encoding: str = "auto",
                column_map: dict[str, str] | None = None) -> Source:
    """Read a folder or files (any supported layout or shop export) into a `Source`.

    `column_map` ({Prism name: column}) renames the files' columns before they are recognised
    (a Prism-layout folder is mapped later, when it is cleaned).
    """
    resolved = [Path(p).expanduser() for p in paths]
    if not resolved:
        raise DataError(Message("no_source"))
    single = resolved[0] if len(resolved) == 1 and resolved[0].is_dir() else None
    layout = fmt if fmt in ("generic", "recbole", "movielens") else None
    if single is not None and fmt == "auto":
        layout = _prism_layout(single)
    if layout is not None and single is not None:
        raw = read_raw(single, layout, encoding=encoding if layout == "generic" else "utf-8")
        used, evidence = _layout_encoding(single, layout, encoding)
        return Source(raw, raw.fmt, used, label=str(single), evidence=evidence)
    files = _table_files(resolved)
    known = detect_together(files) if encoding == "auto" else {}
    tables = [read_any_table(path, encoding, known.get(str(path))) for path in files]
    return assemble(tables, ", ".join(map(str, resolved)), column_map)


def assemble(tables: list[Table], label: str,
             column_map: dict[str, str] | None = None) -> Source:
    """Tables read already, mapped ({Prism name: column}), recognised and assembled; when
    no items or events table is found the error keeps the tables as read, for a new map."""
    try:
        return read_tables(premap(tables, column_map), label)
    except UnrecognisedTables as exc:
        exc.tables, exc.label = tables, label
        raise
