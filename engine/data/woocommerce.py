"""WooCommerce exports: the core product CSV and an orders CSV.

Products (WooCommerce "Product CSV Importer & Exporter", built in since 3.1): `ID`, `Type`,
`SKU`, `Name`, `Short description`, `Description`, `In stock?` (1, 0 or `backorder`),
`Sale price`, `Regular price`, `Categories` (paths with " > ", several joined by ", ", a comma
inside a name escaped as "\\,"), `Tags`, `Parent` (variations: "id:123" or the parent SKU) and,
from WooCommerce 9.6 with brands enabled, `Brands`. An item is a product; variations are
folded into their parent. The sale price, where set, is the price and marks a promotion.

Orders: WooCommerce core has no orders CSV; the documented format read here is the one of
the "Import Export Suite for WooCommerce" plugin (plugin-specific): `order_id`, `order_date`,
`customer_id` / `customer_user`, `customer_email` (or `billing_email`), and one column per
line item, `line_item_1`, `line_item_2`, ..., each "name:Hoodie|product_id:40|sku:hd-1|
quantity:2|total:90.00". Each line item becomes a purchase event; orders whose `status` is
cancelled, refunded or failed are dropped and counted per reason.

WooCommerce's own sample data (`sample-data/sample_products.csv`) is a product export too;
where a layout has no `ID` column the SKU is the item id. `Published` (1, 0, -1) is kept as
`status` (published, private, draft). A variable product has no price of its own: it costs
its cheapest variation; a grouped product costs its cheapest member.
"""

from __future__ import annotations

import re

import pandas as pd

from engine.core.columns import (
    BRAND,
    CATEGORY,
    DESCRIPTION,
    EVENT,
    ITEM_ID,
    MULTI_CATEGORY_SEP,
    PRICE,
    PROMO,
    TIMESTAMP,
    TITLE,
    USER_ID,
)
from engine.core.errors import DataError
from engine.core.messages import Message
from engine.data.numbers import parse_amounts
from engine.data.readers import require_columns
from engine.data.shop_fields import (
    cheapest,
    handle_from_title,
    html_column,
    parse_dates,
    shopper_ids,
)

PRODUCT_MARKERS = ("Type", "SKU", "Name")  # `ID` too in exports; the sample data has none
PRODUCT_STRONG = ("Regular price", "In stock?", "Categories")
ORDER_MARKERS = ("order_id", "order_date")
LINE_ITEM = re.compile(r"^line_item_\d+$")
_CATEGORY_SPLIT = re.compile(r"(?<!\\),\s*")
_STOCK = {"1": "in_stock", "0": "out_of_stock", "backorder": "backorder"}
_PUBLISHED = {"1": "published", "0": "private", "-1": "draft"}
# order statuses that are no purchase ("wc-" prefixed in some exports)
NOT_PURCHASES = {"cancelled": "cancelled orders", "refunded": "refunded orders",
                 "failed": "failed orders"}


def looks_like_products(columns: list[str]) -> bool:
    names = set(columns)
    return set(PRODUCT_MARKERS) <= names and any(c in names for c in PRODUCT_STRONG)


def looks_like_orders(columns: list[str]) -> bool:
    return set(ORDER_MARKERS) <= set(columns) and any(LINE_ITEM.match(str(c)) for c in columns)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series("", index=frame.index)


def category_paths(value: str) -> str:
    """"Clothing > Hoodies, Sale" -> "Clothing > Hoodies | Sale" (escaped commas kept)."""
    parts = [p.replace("\\,", ",").strip() for p in _CATEGORY_SPLIT.split(value)]
    return MULTI_CATEGORY_SEP.join(p for p in parts if p)


def _is_variation(frame: pd.DataFrame) -> pd.Series:
    return frame["Type"].fillna("").astype(str).str.contains("variation", regex=False)


def products_items(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """One raw Prism item per product (variations left out: their orders go to the parent)."""
    require_columns(frame, PRODUCT_MARKERS, source)
    rows = frame[~_is_variation(frame)]
    regular = _column(rows, "Regular price").str.strip()
    sale = _column(rows, "Sale price").str.strip()
    described = html_column(_column(rows, "Description"))
    short = html_column(_column(rows, "Short description"))
    stock = _column(rows, "In stock?").fillna("").astype(str).str.strip().str.lower()
    items = pd.DataFrame({
        ITEM_ID: _item_ids(rows),
        TITLE: rows["Name"],
        DESCRIPTION: described.where(described != "", short),
        CATEGORY: _column(rows, "Categories").fillna("").astype(str).map(category_paths),
        BRAND: _column(rows, "Brands").fillna("").astype(str).map(
            lambda v: _CATEGORY_SPLIT.split(v)[0].strip()),
        PRICE: sale.where(sale != "", regular),
        PROMO: (sale != "").map({True: "1", False: "0"}),
        "availability": stock.map(_STOCK).fillna(stock),
        "sku": rows["SKU"],
    })
    if "Tags" in rows.columns:
        items["tags"] = rows["Tags"]
    if "Published" in rows.columns:
        published = rows["Published"].fillna("").astype(str).str.strip()
        items["status"] = published.map(_PUBLISHED).fillna(published)
    items = items.reset_index(drop=True)
    items["availability"] = _variable_availability(frame, items)
    return _grouped_prices(frame, _variable_prices(frame, items))


def _item_ids(rows: pd.DataFrame) -> pd.Series:
    """The product's `ID`, else (no ID column, as in WooCommerce's sample data) its SKU."""
    ids = _column(rows, "ID").fillna("").astype(str).str.strip()
    return ids.where(ids != "", rows["SKU"].fillna("").astype(str).str.strip())


def _parents(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The variation rows and the item id of each one's parent ("id:44" or the parent SKU)."""
    variations = frame[_is_variation(frame)]
    parent = _column(variations, "Parent").fillna("").astype(str).str.strip()
    by_sku = dict(zip(frame["SKU"].fillna("").astype(str).str.strip(), _item_ids(frame),
                      strict=True))
    return variations, parent.map(lambda p: p[3:] if p.startswith("id:") else by_sku.get(p, p))


def _variable_prices(frame: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """A variable product without a price of its own costs its cheapest variation (sale price
    where set); it is on promotion when one of its variations is."""
    variations, parent = _parents(frame)
    if variations.empty:
        return items
    regular = _column(variations, "Regular price").fillna("").astype(str).str.strip()
    sale = _column(variations, "Sale price").fillna("").astype(str).str.strip()
    lowest = cheapest(sale.where(sale != "", regular), parent)
    on_sale = (sale != "").groupby(parent).any()
    unpriced = (items[PRICE].fillna("").astype(str).str.strip() == "") & \
        items[ITEM_ID].isin(lowest.index)
    items = items.copy()
    items.loc[unpriced, PRICE] = items.loc[unpriced, ITEM_ID].map(lowest)
    items.loc[unpriced, PROMO] = items.loc[unpriced, ITEM_ID].map(on_sale).map(
        {True: "1", False: "0"})
    return items


def _grouped_prices(frame: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """A grouped product (a set of other products, `Grouped products`: their SKUs or
    "id:NN") without a price of its own costs its cheapest member."""
    kinds = _column(frame, "Type").fillna("").astype(str)
    groups = frame[kinds.str.contains("grouped", regex=False)]
    if groups.empty:
        return items
    by_key = {**dict(zip(items["sku"].astype(str).str.strip(), items[PRICE], strict=True)),
              **{f"id:{i}": p for i, p in zip(items[ITEM_ID], items[PRICE], strict=True)}}
    members = _column(groups, "Grouped products").fillna("").astype(str).str.split(",")
    pairs = [(item, by_key.get(m.strip(), "")) for item, listed in
             zip(_item_ids(groups), members, strict=True) for m in listed if m.strip()]
    if not pairs:
        return items
    lowest = cheapest(pd.Series([p for _, p in pairs]), pd.Series([i for i, _ in pairs]))
    unpriced = (items[PRICE].fillna("").astype(str).str.strip() == "") & \
        items[ITEM_ID].isin(lowest.index)
    items = items.copy()
    items.loc[unpriced, PRICE] = items.loc[unpriced, ITEM_ID].map(lowest)
    return items


def _variable_availability(frame: pd.DataFrame, items: pd.DataFrame) -> pd.Series:
    """A variable product (no stock of its own) is in stock when one of its variations is."""
    variations, parent = _parents(frame)
    stock = _column(variations, "In stock?").fillna("").astype(str).str.strip().map(_STOCK)
    in_stock = set(parent[stock == "in_stock"])
    known = set(parent)
    fill = items[ITEM_ID].map(lambda i: "in_stock" if i in in_stock else
                              ("out_of_stock" if i in known else ""))
    return items["availability"].where(items["availability"] != "", fill)


def product_lookup(frame: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """{product or variation ID: item id} and {SKU: item id}; variations map to their parent."""
    ids = _column(frame, "ID").fillna("").astype(str).str.strip()
    skus = frame["SKU"].fillna("").astype(str).str.strip()
    item_of = _item_ids(frame)
    _, parent_item = _parents(frame)
    variation = _is_variation(frame) & (_column(frame, "Parent").fillna("").str.strip() != "")
    item_of = item_of.where(~variation, parent_item.reindex(frame.index))
    by_id = {i: item for i, item in zip(ids, item_of, strict=True) if i}
    by_sku = {s: item for s, item in zip(skus, item_of, strict=True) if s}
    return by_id, by_sku


def parse_line_item(value: str) -> dict[str, str]:
    """"name:Hoodie|product_id:40|quantity:2" -> {"name": "Hoodie", "product_id": "40", ...}."""
    fields: dict[str, str] = {}
    for part in str(value).split("|"):
        key, sep, rest = part.partition(":")
        if sep:
            fields.setdefault(key.strip(), rest.strip())
    return fields


def line_items_per_order(frame: pd.DataFrame) -> pd.Series:
    """How many line items each order row holds (its non-empty `line_item_N` cells)."""
    columns = [c for c in frame.columns if LINE_ITEM.match(str(c))]
    filled = frame[columns].fillna("").astype(str).apply(lambda c: c.str.strip() != "")
    return filled.sum(axis=1).astype(int)


def not_purchased(frame: pd.DataFrame) -> pd.Series:
    """Per order row, why it is no purchase ("cancelled orders", ...) or ""."""
    status = _column(frame, "status").fillna("").astype(str).str.strip().str.lower()
    return status.str.removeprefix("wc-").map(NOT_PURCHASES).fillna("")


LINE_FIELDS = ("name", "product_id", "sku", "quantity", "total")


def _line_items(frame: pd.DataFrame) -> pd.DataFrame:
    """Every line item of every order row (`position`: the row's index), column by column."""
    records = []
    for column in [c for c in frame.columns if LINE_ITEM.match(str(c))]:
        for position, value in frame[column].items():
            if str(value).strip():
                line = parse_line_item(value)
                records.append((position, *(line.get(k, "") for k in LINE_FIELDS)))
    return pd.DataFrame(records, columns=["position", *LINE_FIELDS])


def _product_names(lines: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(product, variation) of each line: WooCommerce names a variation "Hoodie - Blue, No"."""
    name = lines["name"].astype(str).str.strip()
    parts = name.str.rsplit(" - ", n=1)
    variant = parts.str[1].fillna("")
    return parts.str[0].where(variant != "", name), variant


def line_item_lookup(frame: pd.DataFrame) -> tuple[dict[str, str], ...]:
    """Without a products export: {product id}, {SKU} and {line name} to the item made from
    the product's name, so every variation of a product is one item."""
    lines = _line_items(frame)
    handles = _product_names(lines)[0].map(handle_from_title)
    lookups = []
    for field in ("product_id", "sku", "name"):
        keys = lines[field].astype(str).str.strip()
        lookups.append(dict(zip(keys[keys != ""], handles[keys != ""], strict=True)))
    return tuple(lookups)


def orders_items(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Without a products export: one item per product named on the line items (the lowest
    price paid per unit, the variations seen), from every order, kept or not."""
    require_columns(frame, ORDER_MARKERS, source)
    lines = _line_items(frame)
    base, variant = _product_names(lines)
    quantity = parse_amounts(lines["quantity"])[0].replace(0, float("nan"))
    unit = parse_amounts(lines["total"])[0] / quantity.fillna(1.0)
    table = pd.DataFrame({ITEM_ID: base.map(handle_from_title), TITLE: base,
                          "_unit": unit, "_variant": variant})
    grouped = table[table[ITEM_ID] != ""].groupby(ITEM_ID, sort=False)
    return pd.DataFrame({
        ITEM_ID: grouped[TITLE].first().index.astype(str),
        TITLE: grouped[TITLE].first().to_numpy(),
        PRICE: grouped["_unit"].min().map(lambda p: "" if pd.isna(p) else f"{p:.2f}").to_numpy(),
        "variants": grouped["_variant"].agg(
            lambda v: ", ".join(dict.fromkeys(x for x in v if x))).to_numpy(),
    })


def orders_events(frame: pd.DataFrame, source: str, lookup: tuple[dict[str, str], ...],
                  ) -> tuple[pd.DataFrame, dict[str, int]]:
    """One purchase event per line item of every order; the line items of cancelled, refunded
    and failed orders are dropped and counted per reason. `lookup`: {product id}, {SKU} and
    optionally {line name} to item id."""
    require_columns(frame, ORDER_MARKERS, source)
    reasons = not_purchased(frame)
    counts = line_items_per_order(frame)
    dropped = {str(r): int(n) for r, n in counts[reasons != ""].groupby(
        reasons[reasons != ""], sort=False).sum().items()}
    frame = frame[reasons == ""]
    by_id, by_sku, by_name = (*lookup, {})[:3]
    customer = _column(frame, "customer_id").where(
        _column(frame, "customer_id").str.strip().ne(""), _column(frame, "customer_user"))
    known = customer.fillna("").str.strip().replace("0", "")
    email = _column(frame, "customer_email").where(
        _column(frame, "customer_email").str.strip().ne(""), _column(frame, "billing_email"))
    users = ("customer:" + known).where(known != "", shopper_ids(email, frame["order_id"],
                                                                 "order"))
    stamps = parse_dates(frame["order_date"])
    lines = _line_items(frame)
    if lines.empty and not dropped:
        raise DataError(Message("orders_no_lines", source=str(source)))
    items = [by_id.get(pid) or by_sku.get(sku) or by_name.get(name) or sku or name
             for pid, sku, name in zip(lines["product_id"], lines["sku"], lines["name"],
                                       strict=True)]
    events = pd.DataFrame({USER_ID: users.loc[lines["position"]].to_numpy(), ITEM_ID: items,
                           TIMESTAMP: stamps.loc[lines["position"]].to_numpy(),
                           "quantity": lines["quantity"].to_numpy()})
    events.insert(3, EVENT, "purchase")
    return events, dropped
