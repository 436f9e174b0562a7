"""The cleaned dataset: items + events tables, their column map, and category helpers.

Categories are paths (`"Home > Kitchen > Knives"`); an item may have several paths joined by
`" | "` (multi-label, e.g. movie genres). Diversity works at one depth of the path: the label
of a path at depth d is its first d levels, or the whole path when it is shorter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.core.columns import (
    BRAND,
    CATEGORY,
    CATEGORY_SEP,
    DESCRIPTION,
    EVENT_OPTIONAL,
    EVENT_REQUIRED,
    ITEM_OPTIONAL,
    ITEM_REQUIRED,
    MULTI_CATEGORY_SEP,
    TITLE,
    UNKNOWN_CATEGORY,
)
from engine.core.config import DataConfig
from engine.core.errors import DataError
from engine.core.messages import render
from engine.data.cleaning import CleaningReport, drop_shared_root
from engine.data.reconcile import TableCount

KNOWN_COLUMNS = tuple(
    dict.fromkeys(ITEM_REQUIRED + ITEM_OPTIONAL + EVENT_REQUIRED + EVENT_OPTIONAL + ("order_id",))
)  # order_id: the order of a line in an order-lines table
TEXT_DESCRIPTION_CHARS = 400  # the encoder reads ~128 tokens; longer text only costs time


def parse_column_map(pairs: str | list[str] | None) -> dict[str, str]:
    """Parse `item_id=sku,title=name` (CLI form) into {target: source}, validating targets."""
    if not pairs:
        return {}
    if isinstance(pairs, str):
        pairs = [pairs]
    mapping: dict[str, str] = {}
    for chunk in (p for text in pairs for p in text.split(",")):
        target, sep, source = chunk.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise DataError(
                f"column map entry {chunk!r} is not of the form TARGET=SOURCE; "
                "write e.g. --map item_id=sku,title=name"
            )
        mapping[target.strip()] = source.strip()
    return check_column_map(mapping)


def check_column_map(column_map: dict[str, str] | None) -> dict[str, str]:
    """Reject targets Prism does not know, listing the valid ones."""
    column_map = dict(column_map or {})
    unknown = sorted(set(column_map) - set(KNOWN_COLUMNS))
    if unknown:
        raise DataError(
            render("column map: unknown target {n:column|columns} {unknown}; valid targets "
                   "are {known}", n=len(unknown), unknown=", ".join(map(repr, unknown)),
                   known=", ".join(KNOWN_COLUMNS))
        )
    return column_map


def apply_column_map(
    tables: dict[str, pd.DataFrame], column_map: dict[str, str]
) -> dict[str, pd.DataFrame]:
    """Rename source columns to Prism names in every table that has them.

    A source column found in no table is an error: the map was probably mistyped.
    """
    renamed = dict(tables)
    for target, source in column_map.items():
        found = False
        for key, frame in renamed.items():
            if source in frame.columns:
                found = True
                if target != source:
                    frame = frame.drop(columns=[target], errors="ignore")
                    renamed[key] = frame.rename(columns={source: target})
        if not found:
            columns = sorted({c for f in tables.values() for c in f.columns})
            raise DataError(
                f"column map {target}={source}: no column {source!r} in the data "
                f"(columns found: {', '.join(map(str, columns))}); fix the --map entry"
            )
    return renamed


def path_label(path: str, depth: int) -> str:
    """The category label of one path at `depth` (its deepest level if shorter)."""
    levels = _levels(path)
    if not levels:
        return UNKNOWN_CATEGORY
    return CATEGORY_SEP.join(levels[:depth])


def category_labels(categories: pd.Series, depth: int) -> pd.DataFrame:
    """One row per (item position, distinct label at `depth`): columns `row`, `label`."""
    paths = categories.fillna("").astype(str).str.split(MULTI_CATEGORY_SEP.strip(), regex=False)
    exploded = paths.explode()
    rows = np.asarray(exploded.index, dtype=np.int64)
    unique_paths = pd.unique(exploded.to_numpy(dtype=object))
    lookup = {p: path_label(p, depth) for p in unique_paths}
    labels = exploded.map(lookup).to_numpy(dtype=object)
    frame = pd.DataFrame({"row": rows, "label": labels})
    known = frame[frame["label"] != UNKNOWN_CATEGORY]
    has_known = np.zeros(len(categories), dtype=bool)
    has_known[known["row"].to_numpy()] = True
    # an item with one real path and one empty fragment keeps only the real path
    frame = frame[(frame["label"] != UNKNOWN_CATEGORY) | ~has_known[frame["row"].to_numpy()]]
    return frame.drop_duplicates().reset_index(drop=True)


def category_matrix(categories: pd.Series, depth: int) -> tuple[np.ndarray, list[str]]:
    """(n_items, C) float32 row-stochastic matrix of category labels, and the sorted labels."""
    categories = categories.reset_index(drop=True)
    labels = category_labels(categories, depth)
    codes, names = pd.factorize(labels["label"], sort=True)
    rows = labels["row"].to_numpy()
    per_row = np.bincount(rows, minlength=len(categories)).astype(np.float32)
    matrix = np.zeros((len(categories), len(names)), dtype=np.float32)
    matrix[rows, codes] = 1.0 / per_row[rows]
    return matrix, [str(name) for name in names]


def _levels(path: str) -> list[str]:
    return [level.strip() for level in path.split(CATEGORY_SEP.strip()) if level.strip()]


def category_counts_by_depth(categories: pd.Series, max_depth: int) -> list[tuple[int, int, int]]:
    """Per depth d: (d, distinct paths with at least d levels, items having such a path)."""
    paths = categories.fillna("").astype(str).str.split(MULTI_CATEGORY_SEP.strip(), regex=False)
    exploded = paths.explode()
    codes, unique_paths = pd.factorize(exploded.to_numpy(dtype=object))
    rows = np.asarray(exploded.index, dtype=np.int64)
    levels = [_levels(str(p)) for p in unique_paths]  # work per distinct path, not per item
    out = []
    for depth in range(1, max_depth + 1):
        deep = np.array([len(lv) >= depth for lv in levels], dtype=bool)
        if not deep.any():
            break
        names = {CATEGORY_SEP.join(lv[:depth]) for lv, ok in zip(levels, deep, strict=True) if ok}
        n_items = len(np.unique(rows[deep[codes]]))
        out.append((depth, len(names), n_items))
    return out


@dataclass
class Dataset:
    """A cleaned dataset: the catalogue, the events, what cleaning did, and the settings used."""

    name: str
    items: pd.DataFrame
    events: pd.DataFrame
    report: CleaningReport = field(default_factory=CleaningReport)
    config: DataConfig = field(default_factory=DataConfig)
    fmt: str = "generic"
    reconciliation: list[TableCount] = field(default_factory=list)  # rows read/kept/dropped

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_users(self) -> int:
        return int(self.events["user_id"].nunique())

    def category_matrix(self, depth: int | None = None) -> tuple[np.ndarray, list[str]]:
        """(n_items, n_categories) float32, rows sum to 1, plus the category names.

        `depth=None` uses `config.category_depth`; items without a category get "unknown".
        A root level shared by every label is left out of the names ("Shop > Tools" → "Tools").
        """
        matrix, names = category_matrix(self.items[CATEGORY], depth or self.config.category_depth)
        return matrix, drop_shared_root(names)

    def item_text(self) -> list[str]:
        """Per item `title. category path. brand. description` — what the text encoder reads."""
        description = self.items[DESCRIPTION].fillna("").astype(str)
        description = description.str.slice(0, TEXT_DESCRIPTION_CHARS)
        parts = [self.items[TITLE], self.items[CATEGORY], self.items[BRAND], description]
        columns = [p.fillna("").astype(str).str.strip().str.rstrip(".").to_numpy(dtype=object)
                   for p in parts]
        return [". ".join(x for x in row if x) for row in zip(*columns, strict=True)]
