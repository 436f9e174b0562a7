"""An experiment's report from the stored lists and events: per arm, per metric, always-valid.

Per list (joined through the events' list_id): conversion (a purchase from the list), clicks,
revenue (prices of the items bought from it, when the catalogue has prices), category entropy
of the list (nats), and long-tail exposure (share of its slots on items outside the 20% with
the most interactions in the run's training data). Per batch of consecutive lists of an arm:
catalogue coverage (share of the catalogue those lists showed). Items a list holds that the run does
not know are counted and left out of the catalogue measures.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.columns import PRICE
from engine.experiments.assign import Experiment
from engine.experiments.compare import BATCH, compare
from engine.experiments.store import ExperimentStore, ServedArm
from engine.metrics.diversity import category_entropy_at_k

HEAD_SHARE = 0.2
METRIC_LABELS = {"conversion": "conversion", "clicks_per_list": "clicks per list",
                 "revenue_per_list": "revenue per list", "category_entropy": "category entropy",
                 "long_tail_exposure": "long-tail exposure", "coverage": "catalogue coverage"}


def _outcomes(lists: list[ServedArm], events: list[dict[str, Any]],
              prices: dict[str, float] | None) -> dict[str, np.ndarray]:
    where = {served.request_id: n for n, served in enumerate(lists)}
    clicks, bought = np.zeros(len(lists)), np.zeros(len(lists))
    revenue = np.zeros(len(lists))
    for row in events:
        n = where.get(row["list_id"])
        if n is None:
            continue
        if row["event"] == "click":
            clicks[n] += 1
        elif row["event"] == "purchase":
            bought[n] = 1
            if prices is not None:
                revenue[n] += prices.get(row["item_id"], 0.0)
    out = {"conversion": bought, "clicks_per_list": clicks}
    if prices is not None:
        out["revenue_per_list"] = revenue
    return out


def _positions(catalogue: Any, lists: list[ServedArm]) -> tuple[np.ndarray, int]:
    k = max((len(served.items) for served in lists), default=1)
    grid = np.full((len(lists), k), -1, dtype=np.int64)
    for n, served in enumerate(lists):
        grid[n, :len(served.items)] = catalogue.item_index.get_indexer(list(served.items))
    return grid, int((grid == -1).sum() - sum(k - len(s.items) for s in lists))


def _catalogue_measures(catalogue: Any, grid: np.ndarray, arm_of: np.ndarray,
                        n_arms: int) -> dict[str, Any]:
    entropy = category_entropy_at_k(grid, catalogue.item_categories)
    n_items = catalogue.n_items
    interactions = np.bincount(catalogue.events["item_idx"].to_numpy(), minlength=n_items)
    head = np.zeros(n_items, dtype=bool)
    head[np.argsort(-interactions, kind="stable")[:max(1, int(HEAD_SHARE * n_items))]] = True
    slots = (grid >= 0).sum(axis=1)
    tail = ((grid >= 0) & ~head[np.maximum(grid, 0)]).sum(axis=1)
    batches = []
    for arm in range(n_arms):
        rows = grid[arm_of == arm]
        whole = len(rows) // BATCH
        batches.append(np.array([np.unique(chunk[chunk >= 0]).size / catalogue.n_items
                                 for chunk in np.split(rows[:whole * BATCH], whole)])
                       if whole else np.zeros(0))
    return {"category_entropy": entropy,
            "long_tail_exposure": np.divide(tail, slots, out=np.zeros(len(slots)),
                                            where=slots > 0),
            "coverage": batches}


def _prices(catalogue: Any) -> dict[str, float] | None:
    items = catalogue.items
    if PRICE not in items.columns or items[PRICE].notna().sum() == 0:
        return None
    known = items[items[PRICE].notna()]
    return dict(zip(known["item_id"].astype(str), known[PRICE].astype(float), strict=True))


def experiment_report(store: ExperimentStore, name: str, catalogue: Any = None
                      ) -> dict[str, Any]:
    """The report of experiment `name`; with the run's `catalogue`, also revenue, entropy,
    long-tail exposure and coverage."""
    experiment: Experiment = store.get(name)
    lists = store.served(name)
    names = [arm.name for arm in experiment.arms]
    arm_of = np.array([names.index(served.arm) if served.arm in names else -1
                       for served in lists], dtype=np.int64)
    prices = _prices(catalogue) if catalogue is not None else None
    values: dict[str, Any] = _outcomes(lists, store.list_events(name), prices)
    unknown = 0
    if catalogue is not None and lists:
        grid, unknown = _positions(catalogue, lists)
        values.update(_catalogue_measures(catalogue, grid, arm_of, len(names)))
    units = {user: n for n, user in enumerate(dict.fromkeys(s.user_id for s in lists))}
    unit_of = np.array([units[served.user_id] for served in lists], dtype=np.int64)
    rows, verdict = compare(experiment, values, arm_of, unit_of)
    for row in rows:
        row["shoppers"] = len({s.user_id for s in lists if s.arm == row["arm"] and s.user_id})
    return {"experiment": experiment.to_json(), "lists": len(lists), "arms": rows,
            "verdict": {"decided": verdict.decided, "text": verdict.text, "arms": verdict.arms},
            "items_not_in_run": unknown, "coverage_batch": BATCH}
