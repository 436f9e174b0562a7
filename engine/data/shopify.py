"""Shopify exports: the products CSV and the orders CSV, as Shopify's admin writes them.

Products (Shopify Help Center, "Using CSV files to import and export products"): one row per
variant or image, grouped by `Handle`; the first row of a product carries `Title`,
`Body (HTML)`, `Vendor`, `Product Category`, `Type`, `Tags`; every variant row carries
`Variant SKU`, `Variant Price`, `Variant Compare At Price`, `Variant Inventory Qty`.
An item is a product (its handle); its price is the cheapest variant; a compare-at price above
the price marks a promotion; availability is `in_stock` when a variant has stock (or stock
is not tracked), `backorder` when a variant sells at zero stock (inventory policy
`continue`); image-only rows say nothing about stock. `Status` is kept as `status`
(`unpublished` for an active product with `Published` FALSE).

Orders ("Exporting orders"): one row per line item; `Name` (#1001) is the order, `Email`
and `Created at` sit on its first row, `Lineitem sku` / `Lineitem name` / `Lineitem quantity`
on every row. Each line becomes a purchase event by the shopper (their e-mail, hashed).
Orders that were cancelled (`Cancelled at` set), voided or refunded (`Financial Status`) are
no purchases: their lines are dropped and counted per reason. Without a products export the
items come from the order lines: one per product title (the part of `Lineitem name` before
" - Variant"), with its vendor, lowest line price and the variants seen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.core.columns import (
    BRAND,
    CATEGORY,
    DESCRIPTION,
    EVENT,
    ITEM_ID,
    PRICE,
    PROMO,
    TIMESTAMP,
    TITLE,
    USER_ID,
)
from engine.data.numbers import parse_amounts
from engine.data.readers import require_columns
from engine.data.shop_fields import (
    availability_from_stock,
    blank_to_na,
    drop_by_reason,
    fill_down,
    handle_from_title,
    html_column,
    parse_dates,
    shopper_ids,
)

PRODUCT_MARKERS = ("Handle", "Title", "Body (HTML)")
ORDER_MARKERS = ("Name", "Created at", "Lineitem name")


def looks_like_products(columns: list[str]) -> bool:
    return set(PRODUCT_MARKERS) <= set(columns)


def looks_like_orders(columns: list[str]) -> bool:
    return set(ORDER_MARKERS) <= set(columns)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series("", index=frame.index)


def products_items(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """One raw Prism item per product handle."""
    require_columns(frame, PRODUCT_MARKERS, source)
    rows = frame[frame["Handle"].str.strip() != ""].copy()
    prices = parse_amounts(_column(rows, "Variant Price"))[0]
    compare = parse_amounts(_column(rows, "Variant Compare At Price"))[0]
    rows["_price"] = prices
    rows["_promo"] = (compare > prices).fillna(False)
    rows["_stock"] = _variant_stock(rows)
    first = blank_to_na(rows).groupby("Handle", sort=False).first()
    per_product = rows.groupby("Handle", sort=False)
    category = first.get("Product Category", pd.Series(index=first.index, dtype=object))
    fallback_type = first.get("Type", pd.Series(index=first.index, dtype=object))
    items = pd.DataFrame({
        ITEM_ID: first.index.astype(str),
        TITLE: first["Title"].fillna("").astype(str).to_numpy(),
        DESCRIPTION: html_column(first["Body (HTML)"]).to_numpy(),
        CATEGORY: category.fillna(fallback_type).fillna("").astype(str).to_numpy(),
        BRAND: first.get("Vendor", pd.Series(index=first.index)).fillna("").astype(str)
        .to_numpy(),
        PRICE: per_product["_price"].min().map(lambda p: "" if pd.isna(p) else f"{p:.2f}")
        .to_numpy(),
        PROMO: per_product["_promo"].any().map({True: "1", False: "0"}).to_numpy(),
        "availability": per_product["_stock"].agg(_best_stock).to_numpy(),
    })
    if "Tags" in first.columns:
        items["tags"] = first["Tags"].fillna("").astype(str).to_numpy()
    if "Status" in first.columns or "Published" in first.columns:
        items["status"] = _status(first)
    return items


def _variant_stock(rows: pd.DataFrame) -> pd.Series:
    """Per variant row: in_stock, backorder (sold at zero stock: inventory policy
    `continue`) or out_of_stock; "" on image-only rows, which say nothing about stock."""
    stock = availability_from_stock(_column(rows, "Variant Inventory Qty"),
                                    _column(rows, "Variant Inventory Tracker"))
    sells_anyway = _column(rows, "Variant Inventory Policy").fillna("").astype(str)\
        .str.strip().str.lower() == "continue"
    stock = stock.where(~(sells_anyway & (stock == "out_of_stock")), "backorder")
    variant = pd.Series(False, index=rows.index)
    for column in ("Variant SKU", "Variant Price", "Option1 Value"):
        variant |= _column(rows, column).fillna("").astype(str).str.strip() != ""
    return stock.where(variant, "")


def _best_stock(stock: pd.Series) -> str:
    """A product is as available as its most available variant ("" without variant rows)."""
    for value in ("in_stock", "backorder", "out_of_stock"):
        if (stock == value).any():
            return value
    return ""


def _status(first: pd.DataFrame) -> np.ndarray:
    """`Status` (active, draft, archived); an active product not published on the online
    store (`Published` FALSE) is `unpublished`."""
    status = first.get("Status", pd.Series("", index=first.index)).fillna("").astype(str)
    published = first.get("Published", pd.Series("", index=first.index)).fillna("")\
        .astype(str).str.strip().str.lower()
    hidden = (published == "false") & status.str.strip().str.lower().isin(["", "active"])
    return status.where(~hidden, "unpublished").to_numpy()


def product_lookup(frame: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """{variant SKU: handle} and {title: handle}, to find the product of an order line."""
    rows = frame[frame["Handle"].str.strip() != ""]
    sku = _column(rows, "Variant SKU").str.strip()
    by_sku = dict(zip(sku[sku != ""], rows.loc[sku != "", "Handle"], strict=True))
    titled = rows[rows["Title"].str.strip() != ""]
    by_title = dict(zip(titled["Title"].str.strip(), titled["Handle"], strict=True))
    return by_sku, by_title


def _line_item_ids(orders: pd.DataFrame, by_sku: dict[str, str],
                   by_title: dict[str, str]) -> pd.Series:
    """The product handle of each order line: by SKU, else by name ("Title - Variant")."""
    sku = _column(orders, "Lineitem sku").fillna("").astype(str).str.strip()
    name = orders["Lineitem name"].fillna("").astype(str).str.strip()
    base = name.str.rsplit(" - ", n=1).str[0]
    found = sku.map(by_sku)
    found = found.fillna(name.map(by_title)).fillna(base.map(by_title))
    return found.fillna(sku.where(sku != "", name))


ORDER_FIELDS = ("Email", "Created at", "Financial Status", "Cancelled at")
# Financial Status values of orders that are no purchase (partially_refunded stays: it sold)
NOT_PURCHASES = {"voided": "voided orders", "refunded": "refunded orders"}


def order_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Order lines with the order's fields (written on its first row) on every row."""
    return fill_down(frame, ORDER_FIELDS, frame["Name"])


def not_purchased(orders: pd.DataFrame) -> pd.Series:
    """Per order line, why it is not a purchase ("cancelled orders", ...) or ""."""
    status = _column(orders, "Financial Status").fillna("").astype(str).str.strip().str.lower()
    reason = status.map(NOT_PURCHASES).fillna("")
    cancelled = _column(orders, "Cancelled at").fillna("").astype(str).str.strip() != ""
    return reason.where(~cancelled, "cancelled orders")


def orders_events(frame: pd.DataFrame, source: str,
                  lookup: tuple[dict[str, str], dict[str, str]],
                  ) -> tuple[pd.DataFrame, dict[str, int]]:
    """One purchase event per order line; cancelled, voided and refunded orders are dropped
    and counted per reason."""
    require_columns(frame, ORDER_MARKERS, source)
    orders, dropped = drop_by_reason(*_with_reasons(frame))
    events = pd.DataFrame({
        USER_ID: shopper_ids(_column(orders, "Email"), orders["Name"], "order"),
        ITEM_ID: _line_item_ids(orders, *lookup),
        TIMESTAMP: parse_dates(orders["Created at"]),
        EVENT: "purchase",
        "quantity": _column(orders, "Lineitem quantity"),
    })
    return events, dropped


def _with_reasons(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    orders = order_rows(frame)
    return orders, not_purchased(orders)


def _product_names(orders: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(product title, variant) of each line. Shopify names a line "Title - Variant" ("Trail
    Shoe - 42"), or just "Title" for a product without variants."""
    name = orders["Lineitem name"].fillna("").astype(str).str.strip()
    parts = name.str.rsplit(" - ", n=1)
    base = parts.str[0]
    variant = parts.str[1].fillna("")
    return base.where(variant != "", name), variant


def line_item_lookup(orders: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """Without a products export: {SKU: handle}, {line name: handle}, handles made from the
    product titles, so every variant of a product is one item."""
    base, _ = _product_names(orders)
    handles = base.map(handle_from_title)
    sku = _column(orders, "Lineitem sku").fillna("").astype(str).str.strip()
    names = orders["Lineitem name"].fillna("").astype(str).str.strip()
    by_sku = dict(zip(sku[sku != ""], handles[sku != ""], strict=True))
    return by_sku, dict(zip(names, handles, strict=True))


def orders_items(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Without a products export: one item per product named on the order lines (title,
    vendor, lowest line price, the variants seen), from every line, kept or not."""
    require_columns(frame, ORDER_MARKERS, source)
    orders = order_rows(frame)
    base, variant = _product_names(orders)
    lines = pd.DataFrame({
        ITEM_ID: base.map(handle_from_title), TITLE: base,
        BRAND: _column(orders, "Vendor").fillna("").astype(str).str.strip(),
        "_price": parse_amounts(_column(orders, "Lineitem price"))[0],
        "_variant": variant,
    })
    lines = lines[lines[ITEM_ID] != ""]
    grouped = lines.groupby(ITEM_ID, sort=False)
    first = grouped.first()
    return pd.DataFrame({
        ITEM_ID: first.index.astype(str), TITLE: first[TITLE].to_numpy(),
        BRAND: first[BRAND].fillna("").to_numpy(),
        PRICE: grouped["_price"].min().map(lambda p: "" if pd.isna(p) else f"{p:.2f}")
        .to_numpy(),
        "variants": grouped["_variant"].agg(
            lambda v: ", ".join(dict.fromkeys(x for x in v if x))).to_numpy(),
    })
