"""Importers: the layouts shops and researchers actually have, read into raw Prism tables.

- generic: `items.{csv,tsv,parquet}` + `events.{csv,tsv,parquet}` (the Prism contract);
- recbole: RecBole atomic files `*.inter` + `*.item` with typed headers (`item_id:token`);
  a `token_seq` category field (`class`, `genre`, ...) becomes multi-label categories;
- movielens: `u.data` + `u.item` (ML-100K) or `ratings.dat` + `movies.dat` (ML-1M/10M).
Each returns raw tables with Prism column names; cleaning happens afterwards.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engine.core.columns import (
    BRAND,
    CATEGORY,
    DESCRIPTION,
    ITEM_ID,
    MULTI_CATEGORY_SEP,
    PRICE,
    TIMESTAMP,
    TITLE,
    USER_ID,
)
from engine.core.errors import DataError
from engine.core.messages import Message
from engine.data.readers import detect_together, find_table, read_csv_text, read_table
from engine.data.reconcile import TableCount

FORMATS = ("generic", "recbole", "movielens")
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)
# RecBole field names that mean a Prism column (first match wins)
RECBOLE_ALIASES = {
    TITLE: ("title", "movie_title", "item_name", "name"),
    CATEGORY: ("category", "categories", "class", "genre", "genres"),
    DESCRIPTION: ("description", "desc"),
    BRAND: ("brand",),
    PRICE: ("price",),
    TIMESTAMP: ("timestamp", "time"),
}


@dataclass
class RawTables:
    """Raw items and events with Prism column names, plus where they came from.

    `items_count`/`events_count` hold the rows a shop-export reader read and dropped before
    cleaning (None: the table is the file's rows as they are).
    """

    items: pd.DataFrame
    events: pd.DataFrame
    items_source: str
    events_source: str
    fmt: str
    items_count: TableCount | None = field(default=None)
    events_count: TableCount | None = field(default=None)


def detect_format(folder: Path) -> str:
    """Which importer understands `folder`, from the files it holds."""
    if find_table(folder, "items") and find_table(folder, "events"):
        return "generic"
    if any(folder.glob("*.inter")):
        return "recbole"
    names = {p.name for p in folder.iterdir()}
    if {"u.data", "u.item"} <= names or {"ratings.dat", "movies.dat"} <= names:
        return "movielens"
    shown = ", ".join(sorted(names)[:8]) or Message("found_nothing")
    raise DataError(Message("unknown_layout", path=str(folder), shown=shown))


def read_generic(folder: Path, encoding: str = "auto") -> RawTables:
    items_path, events_path = find_table(folder, "items"), find_table(folder, "events")
    for stem, path in (("items", items_path), ("events", events_path)):
        if path is None:
            raise DataError(Message("generic_needs_both", path=str(folder), stem=stem))
    assert items_path is not None and events_path is not None
    known = detect_together([items_path, events_path]) if encoding == "auto" else {}
    items_encoding = known.get(str(items_path), (encoding, ""))[0]
    events_encoding = known.get(str(events_path), (encoding, ""))[0]
    return RawTables(read_table(items_path, items_encoding),
                     read_table(events_path, events_encoding),
                     str(items_path), str(events_path), "generic")


def _read_atomic(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """A RecBole atomic file: tab-separated, header fields `name:type`."""
    frame = read_csv_text(path, sep="\t")
    types: dict[str, str] = {}
    renamed = {}
    for column in frame.columns:
        name, _, kind = str(column).partition(":")
        renamed[column] = name
        types[name] = kind or "token"
    return frame.rename(columns=renamed), types


def _apply_aliases(frame: pd.DataFrame, targets: tuple[str, ...]) -> pd.DataFrame:
    for target in targets:
        if target in frame.columns:
            continue
        source = next((a for a in RECBOLE_ALIASES[target] if a in frame.columns), None)
        if source is not None:
            frame = frame.rename(columns={source: target})
    return frame


def _pick_atomic(folder: Path, suffix: str) -> Path | None:
    candidates = sorted(folder.glob(f"*{suffix}"))
    preferred = folder / f"{folder.name}{suffix}"
    if preferred in candidates:
        return preferred
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise DataError(Message("several_atomic", path=str(folder), suffix=suffix, names=names,
                                name=folder.name))
    return candidates[0] if candidates else None


def read_recbole(folder: Path) -> RawTables:
    inter_path, item_path = _pick_atomic(folder, ".inter"), _pick_atomic(folder, ".item")
    if inter_path is None or item_path is None:
        missing = ".inter" if inter_path is None else ".item"
        raise DataError(Message("recbole_missing", path=str(folder), missing=missing))
    events, _ = _read_atomic(inter_path)
    items, types = _read_atomic(item_path)
    events = _apply_aliases(events, (TIMESTAMP,))
    original = {target: next((a for a in RECBOLE_ALIASES[target] if a in items.columns), None)
                for target in (CATEGORY,)}
    items = _apply_aliases(items, (TITLE, CATEGORY, DESCRIPTION, BRAND, PRICE))
    category_field = original[CATEGORY]
    if category_field and types.get(category_field, "").endswith("_seq"):
        # token_seq: space-separated labels, each its own one-level path
        items[CATEGORY] = items[CATEGORY].str.split().str.join(MULTI_CATEGORY_SEP)
    return RawTables(items, events, str(item_path), str(inter_path), "recbole")


def _read_double_colon(path: Path, names: list[str]) -> pd.DataFrame:
    """`::`-separated MovieLens .dat files (latin-1), parsed with the fast C reader."""
    text = path.read_bytes().decode("latin-1").replace("::", "\t")
    return pd.read_csv(io.StringIO(text), sep="\t", names=names, dtype=str,
                       keep_default_na=False, quoting=3)


def _read_ml100k(folder: Path) -> RawTables:
    events = read_csv_text(folder / "u.data", sep="\t",
                           names=[USER_ID, ITEM_ID, "rating", TIMESTAMP])
    flags = list(ML100K_GENRES)
    items = read_csv_text(folder / "u.item", sep="|", encoding="latin-1",
                          names=[ITEM_ID, TITLE, "release_date", "video_release_date",
                                 "imdb_url", *flags])
    marks = items[flags].to_numpy() == "1"
    genres = np.array(flags, dtype=object)
    items[CATEGORY] = [MULTI_CATEGORY_SEP.join(genres[row]) for row in marks]
    items = items.drop(columns=flags + ["video_release_date"])
    return RawTables(items, events, str(folder / "u.item"), str(folder / "u.data"), "movielens")


def read_movielens(folder: Path) -> RawTables:
    if (folder / "u.data").is_file():
        return _read_ml100k(folder)
    events = _read_double_colon(folder / "ratings.dat", [USER_ID, ITEM_ID, "rating", TIMESTAMP])
    items = _read_double_colon(folder / "movies.dat", [ITEM_ID, TITLE, CATEGORY])
    items[CATEGORY] = items[CATEGORY].str.split("|", regex=False).str.join(MULTI_CATEGORY_SEP)
    return RawTables(items, events, str(folder / "movies.dat"), str(folder / "ratings.dat"),
                     "movielens")


READERS = {"generic": read_generic, "recbole": read_recbole, "movielens": read_movielens}


def read_raw(path: str | Path, fmt: str = "auto", encoding: str = "auto") -> RawTables:
    """Read the folder at `path` with the importer for `fmt` ("auto" detects it).

    `encoding` applies to generic-layout text tables ("auto": detected, `encodings.py`).
    """
    folder = Path(path).expanduser()
    if not folder.exists():
        raise DataError(Message("no_such_path", path=str(folder)))
    if folder.is_file():
        folder = folder.parent
    if fmt == "auto":
        fmt = detect_format(folder)
    if fmt not in READERS:
        raise DataError(f"unknown format {fmt!r}; use one of auto, {', '.join(FORMATS)}")
    if fmt == "generic":
        return read_generic(folder, encoding)
    return READERS[fmt](folder)
