"""`prism data inspect`'s report: sizes, events per type, categories and the cleaning report."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.core.columns import CATEGORY, EVENT, MULTI_CATEGORY_SEP, UNKNOWN_CATEGORY
from engine.data.depth import depth_advice
from engine.data.schema import category_counts_by_depth
from engine.metrics.diversity import counted_category_names

if TYPE_CHECKING:  # pandas-heavy imports stay inside the handlers so `prism --help` is fast
    from engine.data import Dataset

MAX_DEPTH_SHOWN = 6
MAX_NAMES_SHOWN = 30


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain aligned text table; numbers right-aligned with thousands separators."""
    cells = [[f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v) for v in r]
             for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(r[i], int | float) for r in rows)
               for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in cells)])


def _category_section(dataset: Dataset) -> list[str]:
    categories = dataset.items[CATEGORY]
    counts = category_counts_by_depth(categories, MAX_DEPTH_SHOWN)
    lines = ["", "Categories per depth (distinct paths with at least that many levels)",
             format_table(["depth", "categories", "items"], counts)]
    n_unknown = int((categories.str.strip() == "").sum())
    n_multi = int(categories.str.contains(MULTI_CATEGORY_SEP.strip(), regex=False).sum())
    matrix, all_names = dataset.category_matrix()
    names = counted_category_names(matrix, all_names)  # "unknown" is not a category
    lines.append(f"items without a category: {n_unknown:,} (counted as {UNKNOWN_CATEGORY!r}); "
                 f"items with several categories: {n_multi:,}")
    lines.append(f"diversity depth {dataset.config.category_depth}: {len(names)} categories "
                 f"over {matrix.shape[0]:,} items")
    if len(names) <= MAX_NAMES_SHOWN:
        lines.append(textwrap.fill(", ".join(names), width=100, initial_indent="  ",
                                   subsequent_indent="  "))

    advice = depth_advice(dataset)
    if advice:
        lines.append(textwrap.fill(f"note: {advice}", width=100, subsequent_indent="  "))
    return lines


def inspect_text(dataset: Dataset) -> str:
    """Everything `prism data inspect` prints, as one string."""
    events = dataset.events
    n_with_events = int(dataset.items["item_id"].isin(events["item_id"]).sum())
    sizes = [("users", dataset.n_users), ("items", dataset.n_items), ("events", len(events)),
             ("items without events", dataset.n_items - n_with_events),
             ("items without a description", int((dataset.items["description"] == "").sum()))]
    per_type = events[EVENT].value_counts().reindex(["view", "click", "cart", "purchase"])
    type_rows = [(kind, int(n)) for kind, n in per_type.dropna().items()]
    lines = [f"Dataset {dataset.name} (format: {dataset.fmt})", format_table(["", "count"], sizes),
             "", "Events per type", format_table(["event", "count"], type_rows)]
    lines += _category_section(dataset)
    lines += ["", "Cleaning report", format_table(["rule", "count", "action"],
                                                  dataset.report.rows())]
    lines += reconciliation_lines(dataset)
    return "\n".join(lines)


def reconciliation_lines(dataset: Dataset) -> list[str]:
    """Rows read = rows kept + rows dropped per reason, one line per table."""
    if not dataset.reconciliation:
        return []
    lines = ["", "Rows read, kept and dropped"]
    for count in dataset.reconciliation:
        mark = "" if count.balanced else "  (does not add up: please report this)"
        lines.append(f"  {count.line()}{mark}")
    return lines
