"""Ranking over the items that can be shown, not the whole catalogue.

A shopper served through the candidate index (`engine.serving.retrieve`) has a finite score
for about a thousand items and -inf for every other one, which the pipeline already reads as
"not available". Those items can never be chosen, counted or pinned, so the pipeline runs on
the columns that have a finite score in some row (plus every pinned item, whose notices say
why it was left out) and maps the positions back: the same lists, with per-request work in
proportion to the candidates rather than to a million-item catalogue.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from engine.rerank.plan import RankPlan

NARROW_SHARE = 0.25  # narrow when at most this share of the catalogue can be shown


def narrow_columns(plan: RankPlan, batch: Any,  # a pipeline.ShopperBatch
                   ) -> np.ndarray | None:
    """Sorted catalogue positions worth ranking (finite in some row, or pinned), or None when
    they are more than NARROW_SHARE of the catalogue (ranking everything is as cheap)."""
    finite = np.isfinite(np.asarray(batch.scores)).any(axis=0)
    columns = np.flatnonzero(finite)
    if not len(columns) or len(columns) > NARROW_SHARE * plan.n_items:
        return None
    pinned = np.array([pin.item for pin in plan.pins], dtype=np.int64)
    columns = np.union1d(columns, pinned[(pinned >= 0) & (pinned < plan.n_items)])
    return None if len(columns) == plan.n_items else columns


def narrowed(plan: RankPlan, batch: Any,  # a pipeline.ShopperBatch
             columns: np.ndarray) -> tuple[RankPlan, Any]:
    """The plan and batch restricted to `columns` (their per-item arrays sliced, pins
    renumbered)."""
    slot = {int(item): i for i, item in enumerate(columns)}
    per_item = {f.name: value[columns] for f in fields(plan)  # every array field is per item
                if isinstance(value := getattr(plan, f.name), np.ndarray)}
    plan = replace(
        plan, n_items=len(columns), **per_item,
        **{rules: [replace(rule, mask=rule.mask[columns]) for rule in getattr(plan, rules)]
           for rules in ("filters", "boosts", "at_least")},
        caps=[replace(cap, codes=cap.codes[columns]) for cap in plan.caps],
        pins=[replace(pin, item=slot[pin.item]) for pin in plan.pins if pin.item in slot])
    batch = replace(batch, scores=np.asarray(batch.scores)[:, columns],
                    seen=None if batch.seen is None else _seen_columns(batch.seen, columns))
    return plan, batch


def _seen_columns(seen: sp.spmatrix, columns: np.ndarray) -> sp.csr_matrix:
    """`seen[:, columns]` in time proportional to what was seen (scipy's column slicing
    walks every column of the catalogue)."""
    seen = sp.coo_matrix(seen)
    at = np.searchsorted(columns, seen.col)
    hit = at < len(columns)
    hit[hit] = columns[at[hit]] == seen.col[hit]
    return sp.csr_matrix((seen.data[hit], (seen.row[hit], at[hit])),
                         shape=(seen.shape[0], len(columns)))


def widened(lists: Any, columns: np.ndarray) -> Any:  # pipeline.PolicyLists
    """Lists over narrowed columns with catalogue positions again (-1 pads stay)."""
    def back(positions: np.ndarray | None) -> np.ndarray | None:
        if positions is None:
            return None
        return np.where(positions >= 0, columns[np.clip(positions, 0, None)], -1)

    return replace(lists, items=back(lists.items), candidates=back(lists.candidates))
