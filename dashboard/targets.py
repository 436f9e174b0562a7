"""Category targets as tables: the editor's frame, the CSV a merchandiser imports or exports.

Pure functions (no `st.*` widgets; messages come from `t()`). A target row is
`{"floor": int|None, "cap": int|None, "share": float|None}` per category; targets exist for
everyone and, optionally, per segment (shoppers grouped by their top category), where a
segment's own rows replace everyone's.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import pandas as pd

from dashboard.i18n import say_error, t, t_count
from engine.core.errors import ValueCheckError
from engine.rerank.quotas import check_bounds

EVERYONE = "Everyone"
COLUMNS = ["category", "floor", "cap", "share"]
LIMITS = {"floor": (0, 50), "cap": (0, 50), "share": (0.0, 1.0)}  # the editor's and the CSV's
CSV_COLUMNS = ["segment", *COLUMNS]
Rows = dict[str, dict[str, Any]]


def rows_to_frame(rows: Mapping[str, Mapping[str, Any]], category_names: list[str]) -> pd.DataFrame:
    """The editor's table: one row per category with a target (unknown categories left out)."""
    known = set(category_names)
    return pd.DataFrame(
        [{"category": name, "floor": row.get("floor"), "cap": row.get("cap"),
          "share": row.get("share")} for name, row in rows.items() if name in known],
        columns=COLUMNS,
    ).astype({"floor": "Int64", "cap": "Int64", "share": "Float64"})


def _cell(value: Any, kind: type) -> Any:
    return None if value is None or pd.isna(value) else kind(value)


def frame_to_rows(frame: pd.DataFrame) -> Rows:
    """Rows with a category and at least one bound; later duplicates of a category win."""
    rows: Rows = {}
    for row in frame.dropna(subset=["category"]).itertuples(index=False):
        values = {"floor": _cell(row.floor, int), "cap": _cell(row.cap, int),
                  "share": _cell(row.share, float)}
        if str(row.category).strip() and any(v is not None for v in values.values()):
            rows[str(row.category)] = values
    return rows


def row_problem(frame: pd.DataFrame) -> str | None:
    """What the first row the editor cannot apply needs (rows counted from 1 as shown), or
    None: a category and at least one value, each within its range, the floor not above the
    cap (the engine's own quota check). Nothing is clamped or dropped without saying so."""
    for number, row in enumerate(frame[COLUMNS].itertuples(index=False), start=1):
        values = {column: _cell(getattr(row, column), float) for column in LIMITS}
        has_category = not pd.isna(row.category) and bool(str(row.category).strip())
        if not has_category:
            if any(v is not None for v in values.values()):
                return t("targets.row_no_category", row=number)
            continue
        name = str(row.category)
        if all(v is None for v in values.values()):
            return t("targets.row_empty", row=number, category=name)
        for column, (low, high) in LIMITS.items():
            value = values[column]
            if value is not None and not low <= value <= high:
                return t("targets.row_out_of_range", row=number, category=name,
                         column=t(f"sidebar.{column}"), low=low, high=high, value=f"{value:g}")
        try:
            check_bounds(name, tuple(None if values[c] is None else int(values[c])
                                     for c in ("floor", "cap")))
        except ValueCheckError as exc:
            return t("targets.row_bounds", row=number, error=say_error(exc))
    return None


def to_csv(everyone: Rows, per_segment: Mapping[str, Rows]) -> str:
    """All targets as CSV: segment (Everyone or a segment name), category, floor, cap, share."""
    records = [{"segment": EVERYONE, "category": name, **row} for name, row in everyone.items()]
    for segment, rows in per_segment.items():
        records += [{"segment": segment, "category": name, **row} for name, row in rows.items()]
    return pd.DataFrame(records, columns=CSV_COLUMNS).to_csv(index=False)


def from_csv(data: bytes, category_names: list[str], segment_names: list[str],
             ) -> tuple[Rows, dict[str, Rows]]:
    """Parse an exported targets CSV; ValueError says which row or column to fix."""
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype={"segment": str, "category": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(t("targets.unreadable", error=exc)) from exc
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(t_count("targets.missing", len(missing), missing=", ".join(missing),
                           expected=", ".join(CSV_COLUMNS)))
    if "segment" not in frame.columns:
        frame["segment"] = EVERYONE
    frame["segment"] = frame["segment"].fillna(EVERYONE)
    _check_names(frame, "category", set(category_names))
    _check_names(frame, "segment", {EVERYONE, *segment_names})
    for column, (low, high) in LIMITS.items():
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = (frame[column].notna() & values.isna()) | (values < low) | (values > high)
        if bad.any():
            line = int(bad.to_numpy().nonzero()[0][0]) + 2  # header is line 1
            raise ValueError(t("targets.bad_number", line=line, column=column, low=low,
                               high=high))
        frame[column] = values
    everyone: Rows = {}
    per_segment: dict[str, Rows] = {}
    for segment, part in frame.groupby("segment", sort=False):
        rows = frame_to_rows(part[COLUMNS])
        if segment == EVERYONE:
            everyone = rows
        elif rows:
            per_segment[str(segment)] = rows
    return everyone, per_segment


def _check_names(frame: pd.DataFrame, column: str, known: set[str]) -> None:
    unknown = sorted(set(frame[column].dropna().astype(str)) - known)
    if unknown:
        raise ValueError(t_count("targets.unknown", len(unknown), n=len(unknown), column=column,
                           names=", ".join(map(repr, unknown[:5]))))


def describe(rows: Mapping[str, Mapping[str, Any]]) -> str:
    """One readable line per category: 'Lamps: floor 1 · cap 3 · share 0.20'."""
    lines = []
    for name, row in rows.items():
        parts = [t(f"targets.{key}", value=row[key]) for key in ("floor", "cap", "share")
                 if row.get(key) is not None]
        lines.append(f"{name}: {' · '.join(parts)}")
    return "; ".join(lines) or t("targets.none")
