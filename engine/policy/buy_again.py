"""The buy-again stage: a shopper's due past purchases back at the top of the served list.

Every other stage works on items the shopper has not bought; this one runs after them, on the
finished list. It takes the shopper's repeatable past purchases (`engine.models.repeat`, from
the run's purchase table through `Catalogue.repurchases`) whose due score is above `min_due`
and that the policy's filters and availability let through, most due first; up to `slots` of
them take the top of the list and the policy's own list follows without duplicates, k items
in all. Mode "none" does nothing; "fixed" and "learned" use the stage's numbers (learned ones
were chosen on validation: docs/buy-again.md). A buy-again row's relevance and score are its
due score.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.messages import Explanation, Message
from engine.models.repeat import last_purchases
from engine.policy.schema import BuyAgainStage
from engine.serving.catalogue import Catalogue
from engine.serving.results import json_rows, list_columns

DAY = 86_400.0


def due_items(stage: BuyAgainStage | None, catalogue: Catalogue, user_id: str | None,
              allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The items the stage brings back for a shopper (at most `slots`) and their due scores."""
    empty = np.zeros(0, dtype=np.int64), np.zeros(0)
    found = catalogue.repurchases
    if stage is None or stage.mode == "none" or stage.slots == 0 or user_id is None or \
            found is None:
        return empty
    items, due = found.due(str(user_id), catalogue.n_items)
    keep = (due > stage.min_due) & allowed[items]
    return items[keep][:stage.slots], due[keep][:stage.slots]


def _row(catalogue: Catalogue, item: int, due: float, label: str,
         bought: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    """The served row of a due purchase: relevance and score its due score, no variety."""
    found = catalogue.repurchases
    items, last = last_purchases(*bought)
    since = (found.now - int(last[items == item][0])) / DAY
    reason = Message("buy_again", days=since, interval=found.model.interval[item] / DAY, due=due)
    due_column = np.array([due])
    row = json_rows(list_columns(catalogue, np.array([item]), due_column, np.zeros(1),
                                 due_column, [Explanation([reason])]))[0]
    return {**row, "attribution": [label]}


def with_buy_again(stage: BuyAgainStage | None, catalogue: Catalogue, user_id: str | None,
                   rows: list[dict[str, Any]], allowed: np.ndarray,
                   k: int) -> list[dict[str, Any]]:
    """The served rows with the stage's due purchases at the top (ranks renumbered)."""
    items, due = due_items(stage, catalogue, user_id, allowed)
    if not len(items):
        return rows
    label = stage.label or "buy again"
    bought = catalogue.repurchases.bought[str(user_id)]
    added = [_row(catalogue, int(i), float(d), label, bought) for i, d in zip(items, due,
                                                                             strict=True)]
    shown = {row["item_id"] for row in added}
    merged = (added + [row for row in rows if row["item_id"] not in shown])[:k]
    return [{**row, "rank": rank} for rank, row in enumerate(merged, start=1)]
