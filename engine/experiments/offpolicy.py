"""Off-policy estimates: a candidate policy's clicks per list from randomised logs.

With exploration on, every shown item carries its propensity π0(item at position). Under a
position-based click model (a click at position j happens with probability θ_j · r(shopper,
item)) the item-position estimator (Li, Kim, Zitouni, "Offline evaluation of ranking policies
with click models", KDD 2018)

    IPS = (1/n) Σ_lists Σ_j click_j · 1[candidate shows the same item at j] / π0(item at j)

is unbiased for the candidate's clicks per list whenever every item the candidate shows could
have been shown there (the candidate's top k lies in the logging pool). The self-normalised
form divides each position's sum by the sum of its weights (whose mean is 1), which trades a
small bias for a much smaller variance. Both come with a 95% normal interval (for the
self-normalised one by the delta method).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.metrics.stats import Interval

Z95 = 1.959963984540054


@dataclass(frozen=True)
class OffPolicyEstimate:
    ips: Interval
    snips: Interval
    lists: int
    matched_slots: float  # share of logged slots where the candidate shows the logged item

    def to_dict(self) -> dict:
        return {"ips": self.ips.to_dict(), "snips": self.snips.to_dict(), "lists": self.lists,
                "matched_slots": round(self.matched_slots, 4)}


def _normal(mean: float, sd: float, n: int) -> Interval:
    half = Z95 * sd / np.sqrt(n) if n > 1 else np.inf
    return Interval(float(mean), float(mean - half), float(mean + half), 0.95)


def estimate(clicks: np.ndarray, propensities: np.ndarray, matches: np.ndarray
             ) -> OffPolicyEstimate:
    """From (n_lists, k) arrays: clicks per slot (0/1), the logged propensity of each slot
    and whether the candidate puts the same item at that slot."""
    clicks = np.asarray(clicks, dtype=np.float64)
    weights = np.asarray(matches, dtype=np.float64) / np.asarray(propensities, dtype=np.float64)
    n = clicks.shape[0]
    per_list = (clicks * weights).sum(axis=1)
    ips = _normal(per_list.mean(), per_list.std(ddof=1) if n > 1 else np.inf, n)
    total = weights.sum(axis=0)
    safe = np.where(total > 0, total, 1.0)
    by_position = (clicks * weights).sum(axis=0) / safe  # V_j
    mean_weight = safe / n
    influence = ((clicks - by_position[None, :]) * weights / mean_weight[None, :]).sum(axis=1)
    snips = _normal(by_position.sum(), influence.std(ddof=1) if n > 1 else np.inf, n)
    return OffPolicyEstimate(ips=ips, snips=snips, lists=n,
                             matched_slots=float(np.asarray(matches).mean()) if n else 0.0)


def slot_matches(shown: list[list[str]], candidate: list[list[str]]) -> np.ndarray:
    """(n_lists, k) whether the candidate's list has the shown item at the same position."""
    k = max((len(row) for row in shown), default=0)
    out = np.zeros((len(shown), k), dtype=bool)
    for n, (logged, wanted) in enumerate(zip(shown, candidate, strict=True)):
        for j, item in enumerate(logged):
            out[n, j] = j < len(wanted) and wanted[j] == item
    return out


def from_logs(store, name: str, candidate: Callable[[Any], Sequence[str]]  # noqa: ANN001
              ) -> tuple[OffPolicyEstimate, int]:
    """The estimate for `candidate(served)` — the candidate policy's list for the shopper of
    a served list (an engine.experiments.store.ServedArm) as it would have been when that
    list was served — from experiment `name`'s randomised lists in `store` (an
    ExperimentStore); also how many lists were left out because they carry no propensities
    (served without exploration)."""
    lists = [served for served in store.served(name) if served.user_id is not None]
    logged = [served for served in lists if served.propensities is not None]
    if not logged:
        from engine.experiments.store import ExperimentError

        raise ExperimentError(f"experiment {name!r} has no randomised lists; start one with "
                              "an exploration temperature to estimate other policies")
    k = max((len(served.items) for served in logged), default=0)
    clicks, propensity = np.zeros((len(logged), k)), np.ones((len(logged), k))
    where = {served.request_id: n for n, served in enumerate(logged)}
    for row in store.list_events(name):
        n = where.get(row["list_id"])
        if n is not None and row["event"] == "click":
            clicks[n, logged[n].items.index(row["item_id"])] = 1.0
    for n, served in enumerate(logged):
        propensity[n, :len(served.propensities)] = served.propensities
    matches = slot_matches([list(s.items) for s in logged],
                           [list(candidate(s)) for s in logged])
    return estimate(clicks, propensity, matches), len(lists) - len(logged)
