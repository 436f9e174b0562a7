"""Flat order-lines tables: one row per product line of an order, as ERPs, tills and
marketplaces export them (the UCI "Online Retail" layout: InvoiceNo, StockCode, Description,
Quantity, InvoiceDate, UnitPrice, CustomerID, Country).

The columns are found by name (any of the usual names, or the Prism names a `--map` gave
them before recognition). The lines are split into items (one per product: its most frequent
description and unit price) and purchase events (one per order and product, the quantity as
the weight). Lines that are no purchase are dropped and counted per reason: cancellations
and credit notes (an order number starting with "C", a status saying so), returns (a negative
quantity), postage, fees, discounts, vouchers and other non-product lines (by product code
and description), lines without a customer or with a quantity that cannot be read. Integer
ids written as floats ("17850.0") lose the ".0".
"""

from __future__ import annotations

import re

import pandas as pd

from engine.core.columns import EVENT, ITEM_ID, PRICE, TIMESTAMP, TITLE, USER_ID, WEIGHT
from engine.core.errors import DataError
from engine.core.messages import Message
from engine.data.cleaning import clean_ids
from engine.data.numbers import OK, parse_amounts
from engine.data.shop_fields import drop_by_reason, parse_dates

# role: names it goes by (lower case, without spaces, "_" or "-"), the Prism name first
ROLES = {
    "order": ("order_id", "invoiceno", "invoice", "invoicenumber", "orderid", "ordernumber",
              "orderno", "order", "receiptno", "transactionid", "belegnr"),
    "product": ("item_id", "stockcode", "sku", "productid", "productcode", "itemcode",
                "articleno", "article", "artikelnr"),
    "description": ("title", "description", "productname", "itemname", "itemdescription",
                    "name", "product"),
    "quantity": ("weight", "quantity", "qty", "units", "menge"),
    "date": ("timestamp", "invoicedate", "orderdate", "date", "createdat", "datetime"),
    "price": ("price", "unitprice", "priceeach", "itemprice"),
    "customer": ("user_id", "customerid", "customer", "clientid", "customerno", "userid",
                 "kundennr"),
    "status": ("status", "orderstatus"),
    "country": ("country",),
}
REQUIRED = ("order", "product", "description", "quantity", "customer")
# product codes and descriptions of lines that are no product (UCI Online Retail's own and
# the usual ones of other shops)
SERVICE_CODES = frozenset({"POST", "DOT", "M", "D", "C2", "C3", "BANK CHARGES", "AMAZONFEE",
                           "CRUK", "S", "B", "PADS", "ADJUST", "ADJUST2", "TEST001", "TEST002",
                           "SHIPPING", "FEE", "DISCOUNT"})
_SERVICE_TEXT = re.compile(
    r"^(?:postage|dotcom postage|carriage|manual|discount|samples?|bank charges?|amazon fee|"
    r"cruk commission|adjust bad debt|shipping|delivery|handling fee|service fee)$"
    r"|postage|gift ?voucher|shipping (?:cost|charge|fee)|versandkosten|frais de port",
    re.IGNORECASE)
_ENDED_STATUS = re.compile(r"cancel|void|refund|return|storn", re.IGNORECASE)
CANCELLED = "cancellations and credit notes"
RETURNS = "returns (negative quantity)"
SERVICE = "postage, fees, discounts and vouchers"
NO_CUSTOMER = "lines without a customer"
NO_QUANTITY = "quantity zero or unreadable"
REPEATED = "repeated lines of a product in one order (quantities added)"
IN_ANOTHER_FILE = "lines repeated in another file"
REPEAT_MARK = "_in_another_file"


def _key(name: object) -> str:
    return re.sub(r"[\s_\-]+", "", str(name).strip().lower())


def roles(columns: list[str]) -> dict[str, str]:
    """{role: column} for the columns found (the first name of each role that is present)."""
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(_key(column), str(column))
    found = {}
    for role, names in ROLES.items():
        column = next((by_key[_key(n)] for n in names if _key(n) in by_key), None)
        if column is not None and column not in found.values():
            found[role] = column
    return found


def looks_like_order_lines(columns: list[str]) -> bool:
    return all(role in roles(columns) for role in REQUIRED)


def _reasons(lines: pd.DataFrame, found: dict[str, str]) -> pd.Series:
    """Per line, why it is no purchase ("" for a purchase); the first reason that applies."""
    order = lines["_order"]
    ended = order.str.upper().str.startswith("C") & order.str[1:].str.isdigit()
    if "status" in found:
        ended |= lines[found["status"]].fillna("").astype(str).str.contains(_ENDED_STATUS)
    service = lines["_product"].str.upper().isin(SERVICE_CODES) | lines["_title"].str.contains(
        _SERVICE_TEXT)
    quantity = lines["_quantity"]
    again = lines[REPEAT_MARK] if REPEAT_MARK in lines else pd.Series(False, index=lines.index)
    checks = [(again, IN_ANOTHER_FILE), (ended, CANCELLED), (quantity < 0, RETURNS),
              (service, SERVICE), (lines["_customer"] == "", NO_CUSTOMER),
              ((lines["_status"] != OK) | (quantity == 0), NO_QUANTITY)]
    reason = pd.Series("", index=lines.index, dtype=object)
    for mask, name in reversed(checks):  # the first check wins
        reason = reason.mask(mask.fillna(False).astype(bool), name)
    return reason


def _mode(values: pd.Series) -> str:
    given = values[values != ""]
    return str(given.mode().iloc[0]) if len(given) else ""


def join_files(frames: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """Order-lines files of one shop (exported day by day or month by month) as one table,
    in file-name order; a line identical to one of an earlier file (overlapping exports) is
    marked, and dropped and counted as repeated. Files with other columns are refused."""
    ordered = sorted(frames, key=lambda named: named[0])
    columns = list(ordered[0][1].columns)
    for name, frame in ordered[1:]:
        if sorted(map(str, frame.columns)) != sorted(map(str, columns)):
            raise DataError(Message("order_lines_layout", file=name, first=ordered[0][0]))
    joined = pd.concat([frame[columns].assign(_file=position)
                        for position, (_, frame) in enumerate(ordered)], ignore_index=True)
    first_file = joined.groupby(columns, sort=False, dropna=False)["_file"].transform("min")
    joined[REPEAT_MARK] = joined["_file"] != first_file
    return joined.drop(columns=["_file"])


def _lines(frame: pd.DataFrame, found: dict[str, str]) -> pd.DataFrame:
    """The lines with their ids normalised and their quantities read, in `_` columns."""
    lines = frame.copy()
    for role in ("order", "product", "customer"):
        lines[f"_{role}"] = clean_ids(lines[found[role]])  # the import's rule, per column
    lines["_title"] = lines[found["description"]].fillna("").astype(str).str.strip()
    lines["_price"] = (lines[found["price"]].fillna("").astype(str).str.strip()
                       if "price" in found else "")
    lines["_quantity"], _, lines["_status"] = parse_amounts(lines[found["quantity"]])
    return lines


def _items(kept: pd.DataFrame) -> pd.DataFrame:
    """One item per product: its most frequent description and unit price (as written)."""
    per_product = kept.groupby("_product", sort=False)
    return pd.DataFrame({ITEM_ID: list(per_product.groups),
                         TITLE: per_product["_title"].agg(_mode).to_numpy(),
                         PRICE: per_product["_price"].agg(_mode).to_numpy()})


def _events(kept: pd.DataFrame, found: dict[str, str]) -> pd.DataFrame:
    """One purchase per order and product: the quantities added, the first line's date."""
    named = {WEIGHT: ("_quantity", "sum")}
    for role, column in (("date", TIMESTAMP), ("country", "country")):
        if role in found:
            named[column] = (found[role], "first")
    events = kept.groupby(["_order", "_product", "_customer"], sort=False).agg(**named)
    events = events.reset_index().rename(columns={"_order": "order_id", "_product": ITEM_ID,
                                                  "_customer": USER_ID})
    if TIMESTAMP in events:
        events[TIMESTAMP] = parse_dates(events[TIMESTAMP]).to_numpy()
    events[EVENT] = "purchase"
    first = [USER_ID, ITEM_ID, *([TIMESTAMP] if TIMESTAMP in events else []), EVENT, WEIGHT]
    return events[first + [c for c in events.columns if c not in first]]


def split_lines(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """(raw items, raw purchase events, {reason: lines dropped}) of an order-lines table."""
    found = roles(list(frame.columns))
    lines = _lines(frame, found)
    kept, counted = drop_by_reason(lines, _reasons(lines, found))
    events = _events(kept, found)
    dropped = {r: counted.get(r, 0) for r in (IN_ANOTHER_FILE, CANCELLED, RETURNS, SERVICE,
                                              NO_CUSTOMER, NO_QUANTITY)}
    dropped[REPEATED] = len(kept) - len(events)
    return _items(kept), events, {k: v for k, v in dropped.items() if v}
