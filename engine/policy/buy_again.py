"""The buy-again stage: a shopper's due past purchases back at the top of the served list.

Every other stage works on items the shopper has not bought; this one runs after them, on the
finished list. It takes the shopper's repeatable past purchases (`engine.models.repeat`, from
the run's purchase table through `Catalogue.repurchases`) whose due score is above `min_due`
and that the policy's filters and availability let through, most due first; up to `slots` of
them take the top of the list and the policy's own list follows without duplicates, k items
in all (each item of the policy's list that moves down says "shifted to n by buy again").
Mode "none" does nothing; "fixed" and "learned" use the stage's numbers (learned ones
were chosen on validation: docs/buy-again.md). A buy-again row's relevance and score are its
due score.
"""

from __future__ import annotations

import numpy as np

from engine.core.columns import DAY, ITEM_ID
from engine.core.messages import Explanation, Message
from engine.models.repeat import last_purchases
from engine.policy.schema import BuyAgainStage
from engine.serving.catalogue import Catalogue
from engine.serving.results import Columns, list_columns, object_column


def with_buy_again(stage: BuyAgainStage | None, catalogue: Catalogue, user_id: str | None,
                   columns: Columns, allowed: np.ndarray, k: int) -> Columns:
    """The served columns with the stage's due purchases at the top (ranks renumbered): at
    most `slots` of those above `min_due` that `allowed` lets through, most due first, their
    relevance and score their due score, their variety none."""
    found = catalogue.repurchases
    if stage is None or stage.mode == "none" or stage.slots == 0 or user_id is None or \
            found is None:
        return columns
    items, due = found.due(str(user_id), catalogue.n_items)
    keep = (due > stage.min_due) & allowed[items]
    items, due = items[keep][:stage.slots], due[keep][:stage.slots]
    if not len(items):
        return columns
    bought, last = last_purchases(*found.bought[str(user_id)])
    since = (found.now - last[np.searchsorted(bought, items)]) / DAY
    reasons = [Explanation([Message("buy_again", days=float(days),
                                    interval=found.model.interval[item] / DAY, due=float(score))])
               for item, days, score in zip(items, since, due, strict=True)]
    label = stage.label or Message("label_buy_again")
    added = list_columns(catalogue, items, due, np.zeros(len(items)), due, reasons)
    added["attribution"] = object_column([[label] for _ in items])
    rest = ~np.isin(columns[ITEM_ID], added[ITEM_ID])
    ranks = len(items) + np.cumsum(rest)  # where each item of the policy's list goes
    columns = {**columns, "attribution": object_column([  # its moves end where it is shown
        [*notes, Message("shifted_by", slot=int(rank), by=label)] if kept and rank != was
        else notes for notes, kept, rank, was in zip(columns["attribution"], rest, ranks,
                                                     columns["rank"], strict=True)])}
    merged = {name: np.concatenate([added[name], values[rest]])[:k]
              for name, values in columns.items()}
    merged["rank"] = np.arange(1, len(merged["rank"]) + 1)
    return merged
