"""Shoppers' identities never reach a data set: identifying columns are dropped at import.

Every import, whatever its format, passes its raw tables through `protect` before cleaning:
- a column named like an e-mail, phone, person's name, postal address or IP address
  (`IDENTIFYING`, English and Chinese names), or whose values are mostly e-mail addresses, is
  dropped, unless the column map uses it for a Prism column;
- shopper ids that are e-mail addresses (a mapping of `email` to `user_id`) are replaced by
  keyed ids (HMAC-SHA256 with the Prism home's key, `engine.core.keys`), the same ids the
  shop-export readers make from e-mails.
What was dropped or replaced is returned per table, for the reconciliation and `import.json`.
The e-mail values themselves are never logged or reported.
"""

from __future__ import annotations

import re

import pandas as pd

from engine.core.columns import (
    EVENT_OPTIONAL,
    EVENT_REQUIRED,
    ITEM_OPTIONAL,
    ITEM_REQUIRED,
    USER_ID,
)
from engine.core.keys import keyed_shopper_id, shopper_key
from engine.core.messages import Message

# what a column name says it holds (names lower-cased, spaces and dashes as "_")
IDENTIFYING = {
    "e-mail": re.compile(r"(^|_)e_?mail(s)?(_|$)|邮箱|电子邮件"),
    "phone": re.compile(r"(^|_)(phone|telephone|tel|mobile|cell|fax)(_|$)|phone|电话|手机"),
    "name": re.compile(r"(^|_)(first|last|full|given|family|middle|sur|nick|display)_?name(_|$)"
                       r"|^(customer|billing|shipping|contact|recipient|buyer|user|account|"
                       r"client|member|shopper|person)_name$|姓名|收货人|联系人|收件人"),
    "address": re.compile(r"address|street|(^|_)(zip|zipcode|postcode|postal_code|post_code|"
                          r"postalcode)(_|$)|地址|邮编"),
    "IP address": re.compile(r"(^|_)(ip|ip_address|browser_ip|ipv4|ipv6)(_|$)"),
}
EVENT_ONLY = {"name": re.compile(r"^(name|名字)$")}  # in items, `name` is the product's
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HASHED = "e-mail addresses replaced by keyed ids"
DROPPED = "dropped: "
KIND_CODES = {"e-mail": "identifying_email", "phone": "identifying_phone",
              "name": "identifying_name", "address": "identifying_address",
              "IP address": "identifying_ip"}


def identifying_words(what: str) -> Message | str:
    """What `protect` did to an identifying column ("dropped: <what>" or HASHED), as a coded
    message whose English is those words; anything else as it is."""
    if what == HASHED:
        return Message("identifying_hashed")
    if what.startswith(DROPPED):
        kind = what[len(DROPPED):]
        return Message("identifying_dropped",
                       kind=Message(KIND_CODES[kind]) if kind in KIND_CODES else kind)
    return what


def _key(name: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _kind_by_name(column: object, table: str) -> str | None:
    key = _key(column)
    rules = [*IDENTIFYING.items(), *(EVENT_ONLY.items() if table == "events" else ())]
    return next((kind for kind, rule in rules if rule.search(key)), None)


def _emails(values: pd.Series) -> pd.Series:
    text = values.astype("string").fillna("").str.strip()
    return text.str.match(EMAIL.pattern)


def _mostly_emails(values: pd.Series) -> bool:
    text = values.astype("string").fillna("").str.strip()
    filled = text[text != ""]
    return bool(len(filled)) and bool(_emails(filled).mean() >= 0.5)


def _identifying(frame: pd.DataFrame, table: str, used: set[str]) -> dict[str, str]:
    """{column: what it identifies} for the columns to drop from one raw table."""
    found = {}
    for column in frame.columns:
        if str(column) in used:
            continue
        kind = _kind_by_name(column, table)
        if (kind is None and not pd.api.types.is_numeric_dtype(frame[column])
                and _mostly_emails(frame[column])):
            kind = "e-mail"
        if kind is not None:
            found[str(column)] = kind
    return found


def _hash_emails(frame: pd.DataFrame, column: str) -> tuple[pd.DataFrame, int]:
    if column not in frame.columns:
        return frame, 0
    is_email = _emails(frame[column])
    if not is_email.any():
        return frame, 0
    key = shopper_key()
    values = frame[column].astype("string").fillna("").str.strip()
    keyed = values.where(~is_email, values.str.lower().map(lambda e: keyed_shopper_id(e, key)))
    return frame.assign(**{column: keyed.astype(object)}), int(is_email.sum())


def protect(items: pd.DataFrame, events: pd.DataFrame, column_map: dict[str, str]
            ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, str]]]:
    """(items, events) without identifying columns, e-mail shopper ids keyed, and per table
    {column: "dropped: <what>" or HASHED}."""
    done: dict[str, dict[str, str]] = {"items": {}, "events": {}}
    targets = {"items": ITEM_REQUIRED + ITEM_OPTIONAL, "events": EVENT_REQUIRED + EVENT_OPTIONAL}
    tables = {"items": items, "events": events}
    for table, frame in tables.items():
        used = {column_map.get(t, t) for t in targets[table]}
        found = _identifying(frame, table, used)
        tables[table] = frame.drop(columns=list(found))
        done[table].update({column: f"{DROPPED}{kind}" for column, kind in found.items()})
    user_column = column_map.get(USER_ID, USER_ID)
    tables["events"], n_hashed = _hash_emails(tables["events"], user_column)
    if n_hashed:
        done["events"][user_column] = HASHED
    return tables["items"], tables["events"], done
