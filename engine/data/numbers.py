"""Prices and quantities as shops write them: decimal commas, thousands separators, currencies.

`15,90 EUR`, `1.299,00 EUR`, `1,299.00 USD`, `€15`, `CHF 1'299.50` and `15.00` all read as
numbers, with the currency (ISO code, or the symbol's code) kept apart. Which of `.` and `,` is
the decimal mark is read from the value itself when it can be: both present (the last one is
the decimal mark), a separator repeated (`1.299.000`: thousands), or followed by other than
three digits (`15,9`, `15,90`: decimal). A value with one separator followed by exactly three
digits (`1,299`, `1.299`) reads two ways; unless the decimal mark is given (`--decimal-mark`)
it is counted as ambiguous and left unknown, never guessed.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

DECIMAL_MARKS = ("auto", ".", ",")
OK, EMPTY, AMBIGUOUS, BAD = "ok", "empty", "ambiguous", "bad"
# currency symbols (longest first, so "R$" is not read as "$") and their ISO codes
SYMBOLS = {"US$": "USD", "R$": "BRL", "zł": "PLN", "Kč": "CZK", "€": "EUR", "$": "USD",
           "£": "GBP", "¥": "JPY", "￥": "CNY", "₹": "INR", "₽": "RUB", "₺": "TRY", "₩": "KRW",
           "₫": "VND", "₴": "UAH", "₪": "ILS"}
_SYMBOL = "|".join(re.escape(s) for s in sorted(SYMBOLS, key=len, reverse=True))
_AMOUNT = re.compile(
    rf"^(?P<pre>[A-Z]{{3}}|{_SYMBOL})?\s*(?P<sign>[-−]?)\s*(?P<pre2>{_SYMBOL})?\s*"
    r"(?P<num>\d[\d.,'’\u00a0\u202f ]*\d(?:[.,]-+)?|\d(?:[.,]-+)?)"
    rf"\s*(?P<post>[A-Z]{{3}}|{_SYMBOL}|[A-Za-z]{{3}})?$")
_GROUP_SPACES = re.compile(r"['’\u00a0\u202f ]")


def _grouped(integer: str, separator: str) -> bool:
    """Whether `integer` is digits grouped by threes with `separator` ("1.299.000")."""
    groups = integer.split(separator)
    return (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
            and all(g.isdigit() for g in groups))


def _split(number: str, mark: str) -> tuple[float | None, str]:
    """`number` read with `mark` as the decimal mark (the other one groups thousands)."""
    other = "," if mark == "." else "."
    integer, _, fraction = number.rpartition(mark) if mark in number else (number, "", "")
    if mark in integer or (fraction and not fraction.isdigit()):
        return None, BAD
    if other in integer and not _grouped(integer, other):
        return None, BAD
    if integer == "" or not integer.replace(other, "").isdigit():
        return None, BAD
    text = integer.replace(other, "") + ("." + fraction if fraction else "")
    return float(text), OK


def read_number(number: str, decimal_mark: str = "auto") -> tuple[float | None, str]:
    """Digits with `.`/`,` separators (spaces and apostrophes already removed) as a float.

    `decimal_mark` ("." or ",") decides only the values that read two ways.
    """
    number = re.sub(r"[.,]-+$", "", number)  # "15,-": whole units
    dots, commas = number.count("."), number.count(",")
    if dots and commas:
        return _split(number, "." if number.rfind(".") > number.rfind(",") else ",")
    if not dots and not commas:
        return float(number), OK
    mark = "." if dots else ","
    if dots + commas > 1:  # repeated: thousands separators only
        return (float(number.replace(mark, "")), OK) if _grouped(number, mark) else (None, BAD)
    after = number.rpartition(mark)[2]
    if len(after) != 3:
        return _split(number, mark)
    if decimal_mark in (".", ","):
        return _split(number, decimal_mark)
    return None, AMBIGUOUS


def parse_amount(value: object, decimal_mark: str = "auto") -> tuple[float | None, str, str]:
    """(number, currency, status) of one price or quantity; status is ok/empty/ambiguous/bad."""
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    text = text.strip()
    if not text:
        return None, "", EMPTY
    found = _AMOUNT.match(text)
    if found is None:
        return None, "", BAD
    marks = [m for m in (found["pre"], found["pre2"], found["post"]) if m]
    if len(marks) > 1 and len({SYMBOLS.get(m, m.upper()) for m in marks}) > 1:
        return None, "", BAD  # two different currencies
    currency = SYMBOLS.get(marks[0], marks[0].upper()) if marks else ""
    number, status = read_number(_GROUP_SPACES.sub("", found["num"]), decimal_mark)
    if number is not None and found["sign"]:
        number = -number
    return number, currency, status


def parse_amounts(values: pd.Series, decimal_mark: str = "auto"
                  ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """`parse_amount` over a column: (float numbers, currency codes, statuses)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(float)
        status = pd.Series(np.where(numbers.isna(), EMPTY, OK), index=values.index)
        return numbers, pd.Series("", index=values.index), status
    parsed = [parse_amount(v, decimal_mark) for v in values.tolist()]
    numbers = pd.Series([np.nan if p[0] is None else p[0] for p in parsed], index=values.index,
                        dtype=float)
    currency = pd.Series([p[1] for p in parsed], index=values.index, dtype=object)
    status = pd.Series([p[2] for p in parsed], index=values.index, dtype=object)
    return numbers, currency, status
