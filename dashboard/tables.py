"""Tables in the active language: every column header through the translation table.

`st.dataframe` shows a frame's own column names; the studio's frames keep the engine's
names (`relevance`, `exposure_share`, `ndcg@10`) so code and tests can address columns, and
this module gives each header its label in the active language through the column
configuration: a metric column by its registry name (`column_label`), any other column by
the catalogue's `column.<name>`. A column the catalogue does not name (a shop's own header
in an import preview) is data and keeps its name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from dashboard.i18n import t, translatable
from dashboard.measures import column_label
from dashboard.sample_box import NumberRange


def header(column: object) -> str:
    """`column`'s header in the active language (its own name when it is data)."""
    name = str(column)
    if translatable(f"column.{name}"):
        return t(f"column.{name}")
    return column_label(name)


def labelled(columns: Iterable[object], config: dict[str, Any] | None = None) -> dict[str, Any]:
    """A column configuration naming every column of a table (the given settings kept, a
    label the page gave a column included)."""
    config = dict(config or {})
    for column in columns:
        name = str(column)
        label = header(name)
        setting = config.get(name)
        if label != name and not (isinstance(setting, dict) and setting.get("label")):
            config[name] = {**(setting if isinstance(setting, dict) else {}), "label": label}
    return config


def show(container: Any, frame: pd.DataFrame, **options: Any) -> Any:
    """`container.dataframe(frame, ...)` with translated headers (`container`: `st`, a
    column or a sidebar); an empty cell stays blank (Streamlit would write "None")."""
    options.setdefault("placeholder", "")
    options["column_config"] = labelled(frame.columns, options.get("column_config"))
    return container.dataframe(frame, **options)


PAGE_ROWS = 200  # rows of a long table sent to the browser at a time


def pager(container: Any, n_rows: int, key: str, size: int = PAGE_ROWS) -> slice:
    """The rows of a long table to show: all of a one-page table, else the page picked in a
    number box, with a caption naming the rows shown."""
    if n_rows <= size:
        return slice(0, n_rows)
    pages = -(-n_rows // size)
    page = int(NumberRange(1, pages, t("tables.page", pages=f"{pages:,}")).box(
        container, f"{key}_page", 1, container, step=1))
    start = (page - 1) * size
    container.caption(t("tables.rows", first=f"{start + 1:,}",
                        last=f"{min(start + size, n_rows):,}", n=f"{n_rows:,}"))
    return slice(start, min(start + size, n_rows))


def show_paged(container: Any, frame: pd.DataFrame, key: str, size: int = PAGE_ROWS,
               **options: Any) -> Any:
    """`show` for a table that can be long (a group per brand of a marketplace): at most
    `size` rows go to the browser, the page picked in a number box above them; a table of
    one page shows as `show` does."""
    return show(container, frame.iloc[pager(container, len(frame), key, size)], key=key,
                **options)


def _cleaning_text(rule: str, part: str, english: str) -> str:
    """A cleaning rule's name or action in the active language (`cleaning.<rule>.<part>`,
    naming the studio's controls where the engine names CLI flags); a rule the catalogue does
    not know yet shows the engine's English words."""
    key = f"cleaning.{rule.replace(' ', '_')}.{part}"
    return t(key) if translatable(key) else english


def cleaning_frame(rows: Iterable[tuple[str, int, str]], columns: list[str]) -> pd.DataFrame:
    """The cleaning report's (rule, count, action) rows in the active language, under
    `columns` (the page's three headers)."""
    return pd.DataFrame([(_cleaning_text(rule, "rule", rule), count,
                          _cleaning_text(rule, "action", action))
                         for rule, count, action in rows], columns=columns)
