"""Order exports of one shop: several files joined, and the catalogue from the order lines.

A shop's orders often come as several exports (Shopify splits large exports and merchants
export month by month, with overlaps). Exports of the same platform are joined; an order
found in more than one export is kept once (the last export's version by file name, unless
an earlier one says the order was cancelled or refunded: that is never undone), and its
repeated rows are counted. Without a products export, Shopify
and WooCommerce order lines name enough of each product (title, SKU, price) to build the
items.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Protocol

import pandas as pd

from engine.core.errors import DataError
from engine.core.messages import Listing, Message
from engine.data import shopify, woocommerce
from engine.data.reconcile import TableCount


class Table(Protocol):
    """What this module reads of `engine.data.sources.Table` (a dataclass)."""

    path: Path
    frame: pd.DataFrame
    kind: str | None
    encoding: str

ORDER_KEYS = {"shopify_orders": "Name", "woocommerce_orders": "order_id"}
REPEATED = "orders repeated in another export"


def _ended(table: Table) -> pd.Series:
    """Per row, whether its order was cancelled, voided, refunded or failed."""
    if table.kind == "shopify_orders":
        return shopify.not_purchased(shopify.order_rows(table.frame)) != ""
    return woocommerce.not_purchased(table.frame) != ""


def _chosen_versions(tables: list[Table], key: str) -> dict[str, tuple[int, bool]]:
    """{order: (table position, ended)}: the last export's version, unless an earlier one
    says the order ended (a cancellation or refund is never undone)."""
    chosen: dict[str, tuple[int, bool]] = {}
    for position, table in enumerate(tables):
        orders = table.frame[key].astype(str).str.strip()
        for order, ended in _ended(table).groupby(orders).any().items():
            previous = chosen.get(str(order))
            if previous is None or bool(ended) or not previous[1]:
                chosen[str(order)] = (position, bool(ended))
    return chosen


def rows_read(table: Table) -> int:
    """The rows an orders table counts in: its lines (a WooCommerce order row holds several)."""
    if table.kind == "woocommerce_orders":
        return int(woocommerce.line_items_per_order(table.frame).sum())
    return len(table.frame)


def join_orders(tables: list[Table], labels: dict[str, str], count: TableCount) -> Table:
    """One orders table from several exports of one platform, each order once.

    Exports are taken in name order; an order in several of them keeps the version of the
    last one, unless an earlier version says it was cancelled, voided, refunded or failed.
    The repeated lines are recorded on `count`.
    """
    if len(tables) == 1:
        return tables[0]
    kinds = {t.kind for t in tables}
    if len(kinds) > 1 or tables[0].kind not in ORDER_KEYS:
        names = Listing([Message("file_kind", file=t.path.name,
                                 kind=labels.get(t.kind or "", "not recognised"))
                         for t in tables])
        raise DataError(Message("several_events_tables", names=names))
    key = ORDER_KEYS[tables[0].kind or ""]
    ordered = sorted(tables, key=lambda t: t.path.name)
    chosen = _chosen_versions(ordered, key)
    frames = [t.frame[t.frame[key].astype(str).str.strip().map(
        lambda o, i=i: chosen[o][0] == i)] for i, t in enumerate(ordered)]
    joined = replace(ordered[0], frame=pd.concat(frames, ignore_index=True).fillna(""),
                     encoding="+".join(sorted({t.encoding for t in tables})))
    count.drop(REPEATED, sum(rows_read(t) for t in tables) - rows_read(joined))
    return joined


def events_from_orders(table: Table, items_table: Table | None,
                       count: TableCount) -> pd.DataFrame:
    """Purchase events of a Shopify or WooCommerce orders table; the lines of orders that
    were no purchase are recorded on `count` per reason."""
    source = str(table.path)
    platform, products = ((shopify, "shopify_products") if table.kind == "shopify_orders"
                          else (woocommerce, "woocommerce_products"))
    if items_table is None:
        lookup = platform.line_item_lookup(table.frame)
    elif items_table.kind == products:
        lookup = platform.product_lookup(items_table.frame)
    else:
        lookup = ({}, {})
    events, dropped = platform.orders_events(table.frame, source, lookup)
    for reason, rows in dropped.items():
        count.drop(reason, rows)
    return events


def items_from_orders(table: Table) -> pd.DataFrame | None:
    """Items built from the order lines, for the platforms whose lines name the product."""
    if table.kind == "shopify_orders":
        return shopify.orders_items(table.frame, str(table.path))
    if table.kind == "woocommerce_orders":
        return woocommerce.orders_items(table.frame, str(table.path))
    return None
