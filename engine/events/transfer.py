"""Events in and out of the event store as CSV or Parquet files, every row accounted for.

`import_events(path, store)` reads `user_id, item_id, event, timestamp` (and optionally
`list_id`) and stores each row it can read unambiguously; a row it cannot (no shopper or item,
an event type other than view/click/cart/purchase, a timestamp that is not ISO 8601 or seconds
since the epoch, an id longer than the limit) is dropped and counted by reason, never guessed:
the `TableCount` it returns balances read = kept + dropped. `export_events(store, path)` writes
every stored event (timestamps as ISO 8601 UTC) and returns how many.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from engine.core.columns import EVENT_TYPES
from engine.core.errors import DataError
from engine.core.files import staged_file
from engine.core.limits import MAX_ID_CHARS
from engine.core.messages import Message, render
from engine.data.reconcile import TableCount
from engine.events.store import EVENT_COLUMNS, EventStore

REQUIRED = ("user_id", "item_id", "event", "timestamp")
FORMATS = (".csv", ".parquet")
CHUNK = 10_000


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"{path.name}: events files are .csv or .parquet, not {suffix or 'none'!r}")
    return suffix


def read_events_file(path: str | Path) -> pd.DataFrame:
    """The file as text columns (DataError naming missing columns or an unreadable file)."""
    path = Path(path)
    try:
        if _format(path) == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        else:
            frame = pd.read_parquet(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read {path.name}: {exc}") from exc
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(render("{name} lacks the {n:column|columns} {missing}; an events file "
                               "has {required} (and optionally list_id)", name=path.name,
                               n=len(missing), missing=", ".join(missing),
                               required=", ".join(REQUIRED)))
    return frame


def _seconds(values: pd.Series) -> pd.Series:
    """Seconds since the epoch from numbers or ISO 8601 text (zone-less = UTC); NaN when a
    value is neither."""
    numeric = pd.to_numeric(values, errors="coerce")
    text = values.where(numeric.isna())
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    from_text = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    return numeric.astype(float).where(numeric.notna(), from_text)


def clean_events(frame: pd.DataFrame, count: TableCount) -> pd.DataFrame:
    """The rows that can be stored as they are; every other row is counted on `count`."""
    out = pd.DataFrame({c: frame[c] for c in REQUIRED})
    out["list_id"] = frame["list_id"] if "list_id" in frame.columns else None
    for column in ("user_id", "item_id", "event", "list_id"):
        out[column] = out[column].astype("string").str.strip().replace("", pd.NA)
    checks: list[tuple[str, Callable[[pd.DataFrame], pd.Series]]] = [
        ("no shopper or item id", lambda f: f["user_id"].isna() | f["item_id"].isna()),
        (Message("drop_long_ids", n=MAX_ID_CHARS),
         lambda f: (f["user_id"].str.len() > MAX_ID_CHARS) | (f["item_id"].str.len()
                                                             > MAX_ID_CHARS)),
        ("event type not view/click/cart/purchase",
         lambda f: ~f["event"].str.lower().isin(EVENT_TYPES).fillna(False)),
        ("unreadable timestamps", lambda f: ~np.isfinite(_seconds(f["timestamp"]))),
    ]
    for reason, bad in checks:
        mask = bad(out).fillna(False).astype(bool)
        count.drop(reason, int(mask.sum()))
        out = out[~mask]
    out["event"] = out["event"].str.lower()
    out["timestamp"] = _seconds(out["timestamp"])
    return out


def import_events(path: str | Path, store: EventStore,
                  progress: Callable[[int, int], None] | None = None) -> TableCount:
    """Store the readable rows of an events file; the count says what happened to each row."""
    path = Path(path)
    frame = read_events_file(path)
    count = TableCount("events", path.name, read=len(frame))
    rows = clean_events(frame, count)
    records = [{c: (None if pd.isna(v) else v) for c, v in zip(EVENT_COLUMNS, row, strict=True)}
               for row in rows[list(EVENT_COLUMNS)].itertuples(index=False)]
    stored = 0
    for start in range(0, len(records), CHUNK):
        stored += store.add_events(records[start:start + CHUNK])
        if progress is not None:
            progress(stored, len(records))
    return count.settle(stored)


def export_events(store: EventStore, path: str | Path,
                  progress: Callable[[int], None] | None = None) -> int:
    """Write every stored event to `path` (.csv or .parquet); returns the rows written."""
    path = Path(path)
    suffix = _format(path)
    chunks = []
    for chunk in store.iter_events():
        chunks.append(pd.DataFrame(chunk, columns=list(EVENT_COLUMNS)))
        if progress is not None:
            progress(sum(len(c) for c in chunks))
    frame = pd.concat(chunks, ignore_index=True) if chunks else \
        pd.DataFrame(columns=list(EVENT_COLUMNS))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"].astype(float), unit="s",
                                        utc=True).map(lambda t: t.isoformat())
    with staged_file(path) as staging:  # a reader never sees half a file
        if suffix == ".csv":
            frame.to_csv(staging, index=False)
        else:
            frame.to_parquet(staging, index=False)
    return len(frame)


def events_after(store: EventStore, after: int,
                 progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """The stored events after id `after` as a table (id and EVENT_COLUMNS), oldest first;
    `progress` hears the count read so far after each chunk."""
    chunks = []
    for chunk in store.iter_events(after=after):
        chunks.append(pd.DataFrame(chunk, columns=["id", *EVENT_COLUMNS]))
        if progress is not None:
            progress(sum(len(c) for c in chunks))
    return pd.concat(chunks, ignore_index=True) if chunks else \
        pd.DataFrame(columns=["id", *EVENT_COLUMNS])
