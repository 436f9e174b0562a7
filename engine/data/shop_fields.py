"""Small parsers shared by the shop-export readers: HTML to text, prices, dates, shoppers.

Shop exports carry product descriptions as HTML, prices with currencies ("15.00 USD"),
dates with offsets ("2024-03-01 10:15:00 -0500") and customers as e-mail addresses. Each
helper turns one of those into what the Prism contract expects, column-wise.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from engine.core.keys import keyed_shopper_id, shopper_key
from engine.data.html_text import html_column, html_to_text  # noqa: F401 - for the readers
from engine.data.numbers import parse_amounts

AVAILABLE = "in_stock"
UNAVAILABLE = "out_of_stock"


def split_price(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Merchant Center prices ("15.00 USD", "15,90 EUR") as (price text, currency code).

    The text is kept as written: cleaning reads its decimal mark, thousands separators and
    currency (`engine.data.numbers`), and counts what it cannot read unambiguously.
    """
    text = values.fillna("").astype(str).str.strip()
    return text, parse_amounts(text)[1]


def cheapest(prices: pd.Series, groups: pd.Series) -> pd.Series:
    """Per group, the price text (as written) of its lowest price: "15,90 EUR" beats
    "19,90 EUR". A group none of whose prices reads as a number keeps its first non-empty
    text, so cleaning counts it."""
    text = prices.fillna("").astype(str).str.strip()
    frame = pd.DataFrame({"group": groups.to_numpy(), "text": text.to_numpy(),
                          "number": parse_amounts(text)[0].to_numpy()})
    frame = frame[frame["text"] != ""]
    read = frame.dropna(subset=["number"])
    best = read.loc[read.groupby("group", sort=False)["number"].idxmin()]
    chosen = dict(zip(best["group"], best["text"], strict=True))
    for group, first in frame.groupby("group", sort=False)["text"].first().items():
        chosen.setdefault(group, first)
    return pd.Series(chosen, dtype=object)


def parse_dates(values: pd.Series) -> pd.Series:
    """Shop export dates (ISO, "2024-03-01 10:15:00 -0500", "9/6/2016 6:29:00") as unix seconds.

    Unparseable values become "" so event cleaning drops and counts them.
    """
    text = values.fillna("").astype(str).str.strip()
    stamps = pd.to_datetime(text, format="mixed", utc=True, errors="coerce")
    seconds = (stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    return seconds.map(lambda s: "" if pd.isna(s) else str(int(s)))


def shopper_ids(emails: pd.Series, fallback: pd.Series, prefix: str) -> pd.Series:
    """A stable pseudonymous id per shopper: a keyed hash (HMAC-SHA256 with the Prism home's
    own key, `engine.core.keys`) of the e-mail, never the address and never computable from
    it without the key.

    Rows without an e-mail use `prefix:` + the fallback (a customer id or an order number).
    """
    email = emails.fillna("").astype(str).str.strip().str.lower()
    key = shopper_key() if email.ne("").any() else b""
    hashed = email.map(lambda e: keyed_shopper_id(e, key) if e else "")
    other = prefix + ":" + fallback.fillna("").astype(str).str.strip()
    return hashed.where(hashed != "", other)


def availability_from_stock(quantity: pd.Series, tracked: pd.Series | None = None) -> pd.Series:
    """`in_stock` when the quantity is positive or stock is not tracked, else `out_of_stock`."""
    numbers = pd.to_numeric(quantity, errors="coerce")
    in_stock = numbers.fillna(0).to_numpy() > 0
    if tracked is not None:
        in_stock |= tracked.fillna("").astype(str).str.strip().eq("").to_numpy()
    return pd.Series(np.where(in_stock, AVAILABLE, UNAVAILABLE), index=quantity.index)


def blank_to_na(frame: pd.DataFrame) -> pd.DataFrame:
    """Empty strings as missing, so `groupby().first()` takes the first non-empty value."""
    return frame.replace("", np.nan)


def fill_down(frame: pd.DataFrame, columns: tuple[str, ...], key: pd.Series) -> pd.DataFrame:
    """Order fields written on an order's first row only, copied onto its other rows."""
    frame = frame.copy()
    for column in columns:
        if column in frame.columns:
            filled = blank_to_na(frame[[column]])[column]
            frame[column] = filled.groupby(key).transform("first").fillna("")
    return frame


def drop_by_reason(frame: pd.DataFrame, reasons: pd.Series) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rows whose reason is "" kept; the others dropped and counted per reason."""
    dropped = reasons[reasons != ""]
    counts = {str(r): int(n) for r, n in dropped.value_counts(sort=False).items()}
    return frame[reasons == ""], counts


_DASHES = re.compile(r"-{2,}")


def handle_from_title(title: str) -> str:
    """A Shopify-style handle: "Trail Shoe (Men's)" -> "trail-shoe-men-s"; letters, their
    marks (the vowel signs of Bengali or Hindi) and digits are kept in every script."""
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else "-"
                   for c in str(title).strip().lower())
    return _DASHES.sub("-", kept).strip("-")
