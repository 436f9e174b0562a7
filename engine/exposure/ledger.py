"""The exposure ledger: who gets seen across a population of shoppers, group by group.

For recommendation lists `topk (U, K)`, slot r (1-based) carries exposure weight
1/log2(r + 1) — the same discount NDCG uses, i.e. the chance a shopper looks at the slot
falls with its rank. A group's **exposure share** is its items' summed weight over all lists
divided by the total weight; its **slot share** counts every slot as 1. Both sum to 1 over the
groups. Beside them: the group's share of catalogue items and of held-out interactions
(what shoppers bought next), so a merchandiser sees exposure against supply and demand.
`gini` and `top10_share` summarise concentration over groups and over items.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.exposure.groups import Grouping
from engine.exposure.pool import slot_weights
from engine.metrics._lists import as_topk, check_items
from engine.metrics.exposure import gini

TOP_SHARE = 0.1  # the top-10% share: exposure taken by the most exposed tenth


def item_exposure(topk: np.ndarray, n_items: int, discounted: bool = True) -> np.ndarray:
    """(n_items,) summed slot weights (or slot counts) each item receives over all lists."""
    lists = as_topk(topk, None)
    check_items(lists, n_items, "the catalogue")
    weights = np.broadcast_to(slot_weights(lists.shape[1]) if discounted else
                              np.ones(lists.shape[1]), lists.shape)
    valid = lists >= 0
    return np.bincount(lists[valid], weights=weights[valid], minlength=n_items)


def top_share(values: np.ndarray, fraction: float = TOP_SHARE) -> float:
    """Share of the total held by the largest ceil(fraction · n) holders (at least one)."""
    x = np.sort(np.asarray(values, dtype=np.float64))[::-1]
    total = x.sum()
    if len(x) == 0 or total <= 0:
        return 0.0
    return float(x[:max(1, math.ceil(fraction * len(x)))].sum() / total)


def group_shares(grouping: Grouping, per_item: np.ndarray) -> np.ndarray:
    """(G,) share of an item-level amount (exposure, counts) taken by each group."""
    mass = np.asarray(grouping.membership.T @ np.asarray(per_item, dtype=np.float64)).ravel()
    total = mass.sum()
    return mass / total if total > 0 else np.zeros(grouping.n_groups)


@dataclass
class Ledger:
    """One row per group plus concentration summaries; `to_dict` is the JSON form."""

    table: pd.DataFrame  # group, exposure_share, slot_share, catalogue_share, purchase_share
    summary: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"groups": self.table.to_dict(orient="records"), "summary": self.summary,
                **self.meta}

    def share(self, label: str, column: str = "exposure_share") -> float:
        row = self.table.loc[self.table["group"] == label, column]
        return float(row.iloc[0]) if len(row) else 0.0


def exposure_ledger(topk: np.ndarray, grouping: Grouping, truth_items: np.ndarray | None = None,
                    meta: dict[str, Any] | None = None) -> Ledger:
    """The ledger of lists `topk (U, K)` over `grouping`; `truth_items` are the held-out items
    of the same shoppers (one entry per interaction), for the purchase share."""
    n_items = grouping.membership.shape[0]
    exposure = item_exposure(topk, n_items)
    slots = item_exposure(topk, n_items, discounted=False)
    bought = np.bincount(np.asarray(truth_items, dtype=np.int64), minlength=n_items) \
        if truth_items is not None and len(truth_items) else np.zeros(n_items)
    table = pd.DataFrame({
        "group": grouping.labels,
        "exposure_share": group_shares(grouping, exposure),
        "slot_share": group_shares(grouping, slots),
        "catalogue_share": grouping.catalogue_share(),
        "purchase_share": group_shares(grouping, bought),
    }).sort_values(["exposure_share", "group"], ascending=[False, True], kind="stable")
    group_exposure = table["exposure_share"].to_numpy()
    summary = {"group_gini": float(gini(group_exposure)),
               "group_top10_share": top_share(group_exposure),
               "item_gini": float(gini(exposure)), "item_top10_share": top_share(exposure),
               "n_groups": grouping.n_groups, "n_lists": int(len(topk)),
               "k": int(np.asarray(topk).shape[1])}
    info = {"by": grouping.spec.by, "note": grouping.note, **(meta or {})}
    return Ledger(table.reset_index(drop=True), summary, info)


def format_table(ledger: Ledger, max_rows: int = 30) -> str:
    """A plain-text table of the ledger (percentages), for the terminal."""
    shown = ledger.table.head(max_rows)
    width = max([len("group"), *(len(str(g)) for g in shown["group"])])
    width = min(width, 48)
    lines = [f"{'group':<{width}}  exposure   slots  catalogue  purchases"]
    for row in shown.itertuples(index=False):
        lines.append(f"{str(row.group)[:width]:<{width}}  {row.exposure_share:7.2%}  "
                     f"{row.slot_share:6.2%}  {row.catalogue_share:8.2%}  "
                     f"{row.purchase_share:8.2%}")
    if len(ledger.table) > max_rows:
        lines.append(f"... {len(ledger.table) - max_rows} more groups (all in the JSON)")
    s = ledger.summary
    lines.append(f"Gini over groups {s['group_gini']:.3f}, top-10% of groups hold "
                 f"{s['group_top10_share']:.1%}; over items Gini {s['item_gini']:.3f}, "
                 f"top-10% hold {s['item_top10_share']:.1%} ({s['n_lists']} lists of "
                 f"{s['k']})")
    return "\n".join(lines)
