"""Google Merchant Center product feeds (tab-separated or XML/RSS with the `g:` namespace).

Attributes read (Merchant Center product data specification): `id`, `title`, `description`,
`product_type` (the shop's own path, levels joined by " > ") or else
`google_product_category`, `brand`, `price` ("15.00 USD"), `sale_price`, `availability`
(`in_stock`, `out_of_stock`, `preorder`, `backorder`), `link`. Availability is kept as an
`availability` column so a policy can filter on it; the currency goes to `currency`.
A feed holds products only: the events come from another table (orders or events).
Variants of one product (a shirt in five sizes) share an `item_group_id`: they become one
item whose id is the group id, listing its variants' ids in a `variants` column; events
naming a variant id count for its product.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from engine.core.columns import BRAND, CATEGORY, DESCRIPTION, ITEM_ID, PRICE, PROMO, TITLE
from engine.core.errors import DataError
from engine.core.messages import Message
from engine.data.readers import detect_encoding
from engine.data.shop_fields import cheapest, split_price

G_NAMESPACE = "http://base.google.com/ns/1.0"
FEED_REQUIRED = ("id", "title", "price")
FEED_MARKERS = ("availability", "link", "image_link", "google_product_category", "condition")
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def feed_column(name: str) -> str:
    """A feed header as its attribute name: `g:Price ` -> `price`, `Image link` -> `image_link`."""
    text = str(name).strip().lower()
    text = text.removeprefix("g:")
    return text.replace(" ", "_")


def looks_like_feed(columns: list[str]) -> bool:
    """A Merchant Center table: id, title and price, plus one feed-only attribute."""
    names = {feed_column(c) for c in columns}
    return set(FEED_REQUIRED) <= names and any(m in names for m in FEED_MARKERS)


def _element_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag


def _is_feed_xml(root: ET.Element) -> bool:
    return any(el.tag.startswith(f"{{{G_NAMESPACE}}}") for el in root.iter())


def read_feed_xml(path: Path, encoding: str = "auto") -> tuple[pd.DataFrame, str]:
    """An RSS 2.0 or Atom feed: one row per `<item>`/`<entry>`, columns per attribute."""
    data = path.read_bytes()
    if not data.strip():
        raise DataError(Message("feed_empty", path=str(path)))
    used = detect_encoding(path, data) if encoding == "auto" else encoding
    try:
        text = data.decode(used)
    except (UnicodeDecodeError, LookupError) as exc:
        raise DataError(Message("feed_encoding", path=str(path), encoding=used.upper(),
                                error=str(exc))) from None
    try:
        root = ET.fromstring(_DECLARATION.sub("", text.lstrip("\ufeff"), count=1))
    except ET.ParseError as exc:
        line, column = exc.position
        raise DataError(Message("feed_not_xml", path=str(path), line=line,
                                column=column)) from None
    if not _is_feed_xml(root):
        raise DataError(Message("feed_not_merchant", path=str(path), namespace=G_NAMESPACE))
    rows = []
    for entry in (el for el in root.iter() if _element_name(el.tag) in ("item", "entry")):
        row: dict[str, str] = {}
        for child in entry:
            name = _element_name(child.tag)
            value = (child.text or "").strip() or child.attrib.get("href", "")
            row.setdefault(name, value)  # g:title and a plain RSS title: the first one wins
        rows.append(row)
    if not rows:
        raise DataError(Message("feed_no_items", path=str(path)))
    return pd.DataFrame(rows).fillna(""), used


def feed_items(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Feed rows as raw Prism items (price parsed, availability normalised, extras kept)."""
    feed = frame.rename(columns={c: feed_column(c) for c in frame.columns})
    feed = feed.loc[:, ~feed.columns.duplicated()]
    missing = [c for c in FEED_REQUIRED if c not in feed.columns]
    if missing:
        raise DataError(Message("feed_missing", source=str(source), missing=", ".join(missing),
                                n=len(missing)))
    amount, currency = split_price(feed["price"])
    if amount.str.strip().eq("").all():
        raise DataError(Message("feed_no_prices", source=str(source)))
    items = pd.DataFrame({ITEM_ID: feed["id"], TITLE: feed["title"],
                          DESCRIPTION: feed.get("description", ""), BRAND: feed.get("brand", ""),
                          PRICE: amount, "currency": currency})
    items[CATEGORY] = _feed_category(feed)
    if "sale_price" in feed.columns:
        sale, _ = split_price(feed["sale_price"])
        has_sale = sale.str.strip() != ""
        items.loc[has_sale, PRICE] = sale[has_sale]
        items[PROMO] = has_sale.map({True: "1", False: "0"})
    availability = feed.get("availability", pd.Series("", index=feed.index))
    items["availability"] = availability.astype(str).str.strip().str.lower().str.replace(
        " ", "_", regex=False)
    extras = [c for c in ("link", "image_link", "gtin", "mpn", "condition", "item_group_id")
              if c in feed.columns]
    return pd.concat([items, feed[extras]], axis=1)


# a product with variants is as available as its most available variant
_AVAILABILITY_RANK = {"in_stock": 0, "preorder": 1, "backorder": 2, "out_of_stock": 3}


def _common_title(titles: pd.Series) -> str:
    """The words every variant title starts with ("Tee - Blue - S", "Tee - Blue - M" -> "Tee -
    Blue"), trailing separators trimmed; the first title when they share no word."""
    words = [str(t).split() for t in titles]
    common: list[str] = []
    for column in zip(*words, strict=False):
        if len(set(column)) > 1:
            break
        common.append(column[0])
    text = " ".join(common).rstrip(" -,/|:")
    return text or str(titles.iloc[0])


def group_variants(items: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Variants sharing an `item_group_id` as one item (id: the group id), in feed order, and
    {variant id: group id} for the events. The product lists its variants' ids in `variants`
    and takes the lowest price, a promotion when a variant has one, and its most available
    variant's availability. Rows without a group id stay as they are."""
    group = items.get("item_group_id", pd.Series("", index=items.index)).fillna("").astype(str)
    group = group.str.strip()
    if (group == "").all():
        return items, {}
    rows = items.assign(_key=group.where(group != "", "\0" + items[ITEM_ID].astype(str)),
                        _rank=items["availability"].map(_AVAILABILITY_RANK).fillna(4))
    by_key = rows.groupby("_key", sort=False)
    first = by_key.first()
    keys = first.index.astype(str)
    products = first.reset_index(drop=True)
    variant_rows = group != ""
    products[ITEM_ID] = [key.removeprefix("\0") for key in keys]
    products[TITLE] = by_key[TITLE].agg(_common_title).to_numpy()
    products[PRICE] = cheapest(rows[PRICE], rows["_key"]).reindex(first.index).fillna("")\
        .to_numpy()
    if PROMO in rows.columns:
        products[PROMO] = by_key[PROMO].agg(lambda v: "1" if (v == "1").any() else "0")\
            .to_numpy()
    products["availability"] = rows.loc[by_key["_rank"].idxmin(), "availability"].to_numpy()
    listed = by_key[ITEM_ID].agg(lambda v: ", ".join(map(str, v))).to_numpy()
    products["variants"] = [ids if not key.startswith("\0") else ""
                            for key, ids in zip(keys, listed, strict=True)]
    mapping = dict(zip(items.loc[variant_rows, ITEM_ID].astype(str), group[variant_rows],
                       strict=True))
    return products.drop(columns=["_rank"]), mapping


def _feed_category(feed: pd.DataFrame) -> pd.Series:
    """`product_type` (the shop's own path) where given, else `google_product_category`."""
    empty = pd.Series("", index=feed.index)
    own = feed.get("product_type", empty).astype(str).str.strip()
    google = feed.get("google_product_category", empty).astype(str).str.strip()
    return own.where(own != "", google)
