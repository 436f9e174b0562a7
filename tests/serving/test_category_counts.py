"""The category tree's counts, aggregated per distinct category text, equal counting item by
item."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from engine.serving.itemmap import category_counts

CATEGORIES = ["A > B > C > D", "A > B", None, "", "X | Y > Z", "A > B > C", "A", "A > B",
              "Q > R > S", "A > B > C > E", "X", "A > B"]


def _item_by_item(values: list[str | None]) -> Counter:
    counts: Counter = Counter()
    for value in values:
        path = (value or "").split(" | ")[0] or "unknown"
        levels = path.split(" > ")[:3]
        counts[tuple(levels + ["(all)"] * (3 - len(levels)))] += 1
    return counts


def test_counts_per_path_equal_counting_each_item() -> None:
    counts = category_counts(pd.DataFrame({"category": CATEGORIES}), "category")
    assert list(counts.columns) == ["level 1", "level 2", "level 3", "items"]
    got = {tuple(row[:3]): row[3] for row in counts.itertuples(index=False)}
    assert got == dict(_item_by_item(CATEGORIES))
    assert counts["items"].tolist() == sorted(counts["items"], reverse=True)  # most first
    assert counts.iloc[0].tolist() == ["A", "B", "(all)", 3]
