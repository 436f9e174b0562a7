"""Reading an uploaded cold-start CSV with a message that says exactly what to fix (no `st.*`)."""

from __future__ import annotations

import io

import pandas as pd

from engine.core.columns import BRAND, CATEGORY, DESCRIPTION, ITEM_ID, PRICE, PROMO, TITLE

REQUIRED = (ITEM_ID, TITLE)
OPTIONAL = (DESCRIPTION, CATEGORY, BRAND, PRICE, PROMO)


def read_upload(data: bytes, name: str) -> pd.DataFrame:
    """Parse an uploaded CSV and check its columns; ValueError says what to fix."""
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype={ITEM_ID: str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{name} is not a readable CSV file ({exc}).") from exc
    missing = [column for column in REQUIRED if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {', '.join(missing)}. Found: "
                         f"{', '.join(map(str, frame.columns)) or 'none'}. Expected "
                         f"{', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}.")
    if frame.empty:
        raise ValueError(f"{name} has a header but no rows.")
    return frame
