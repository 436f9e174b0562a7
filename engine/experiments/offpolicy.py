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

The doubly robust estimate (Dudík, Langford and Li, "Doubly robust policy evaluation and
learning", ICML 2011, here per item and position) adds a reward model: a position-based click
model q(j, item) = θ_j · r_item fitted on the logs (one examination rate per position, one
attraction per item, shrunk towards the mean for items shown rarely). Per list,

    DR = Σ_j q(j, candidate's item at j) + Σ_j 1[match] / π0 · (click_j − q(j, logged item))

the direct method's prediction for the candidate's whole list, corrected by IPS on the
model's errors where the candidate agrees with the log. It stays unbiased when the
propensities are right, whatever the model, and its variance shrinks as the model gets better.
The model is cross-fitted (fitted on one half of the lists, applied to the other, and back), so
a list's own clicks never enter its prediction; the interval is normal over lists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.metrics.stats import Interval

Z95 = 1.959963984540054


PRIOR_SHOWS = 5.0  # an item's attraction counts this many expected clicks of the mean


@dataclass(frozen=True)
class OffPolicyEstimate:
    ips: Interval
    snips: Interval
    lists: int
    matched_slots: float  # share of logged slots where the candidate shows the logged item
    dr: Interval | None = None  # doubly robust, when the items are known

    def to_dict(self) -> dict:
        out = {"ips": self.ips.to_dict(), "snips": self.snips.to_dict(), "lists": self.lists,
               "matched_slots": round(self.matched_slots, 4)}
        return out if self.dr is None else {**out, "dr": self.dr.to_dict()}


@dataclass(frozen=True)
class ClickModel:
    """q(j, item) = θ_j · r_item: a position-based click model fitted on logged lists."""

    theta: np.ndarray  # (k,) clicks at position j per unit of attraction
    attraction: np.ndarray  # (n_items,) relative attraction; 1 (the mean) for an unseen item

    @classmethod
    def fit(cls, clicks: np.ndarray, shown: np.ndarray, n_items: int,
            rounds: int = 5) -> ClickModel:
        """Alternate θ (given r) and r (given θ, shrunk to 1 by PRIOR_SHOWS) a few rounds;
        `shown` holds item codes 0..n_items-1, -1 for an empty slot."""
        filled = shown >= 0
        items, hits = shown[filled], clicks[filled]
        attraction = np.ones(n_items)
        theta = np.zeros(shown.shape[1])
        for _ in range(rounds):
            offered = np.where(filled, attraction[np.maximum(shown, 0)], 0.0).sum(axis=0)
            theta = np.divide(np.where(filled, clicks, 0.0).sum(axis=0), offered,
                              out=np.zeros_like(offered), where=offered > 0)
            exposure = np.bincount(items, weights=np.broadcast_to(theta, shown.shape)[filled],
                                   minlength=n_items)
            mean = hits.sum() / max(exposure.sum(), 1e-12)
            attraction = (np.bincount(items, weights=hits, minlength=n_items)
                          + PRIOR_SHOWS * mean) / (exposure + PRIOR_SHOWS)
            attraction = attraction / max(mean, 1e-12)
        return cls(theta, attraction)

    def predict(self, items: np.ndarray) -> np.ndarray:
        """(n, k) click probabilities of `items` (codes, -1: nothing) at each position."""
        k = min(items.shape[1], len(self.theta))
        out = np.zeros(items.shape)
        codes = items[:, :k]
        known = np.where(codes >= 0, self.attraction[np.maximum(codes, 0)], 0.0)
        out[:, :k] = np.clip(self.theta[None, :k] * known, 0.0, 1.0)
        return out


def _codes(shown: Sequence[Sequence[Any]], candidate: Sequence[Sequence[Any]], k: int
           ) -> tuple[np.ndarray, np.ndarray, int]:
    """Both lists as (n, k) item codes (-1 where a list is shorter), and the item count.
    Integer arrays are codes already (catalogue positions, -1 for an empty slot)."""
    arrays = [np.asarray(lists) for lists in (shown, candidate)]
    if all(a.dtype.kind in "iu" and a.ndim == 2 and a.shape[1] == k for a in arrays):
        return arrays[0], arrays[1], int(max(a.max(initial=-1) for a in arrays)) + 1
    vocabulary: dict[Any, int] = {}
    out = []
    for lists in (shown, candidate):
        codes = np.full((len(lists), k), -1, dtype=np.int64)
        for n, row in enumerate(lists):
            for j, item in enumerate(list(row)[:k]):
                codes[n, j] = vocabulary.setdefault(item, len(vocabulary))
        out.append(codes)
    return out[0], out[1], len(vocabulary)


def doubly_robust(clicks: np.ndarray, propensities: np.ndarray,
                  shown: Sequence[Sequence[Any]], candidate: Sequence[Sequence[Any]]
                  ) -> Interval:
    """The doubly robust clicks per list of `candidate` (n_lists lists of item ids) from logged
    `shown` lists, their (n_lists, k) clicks and propensities; cross-fitted on two halves."""
    clicks = np.asarray(clicks, dtype=np.float64)
    n, k = clicks.shape
    logged, wanted, n_items = _codes(shown, candidate, k)
    weights = (logged == wanted) & (logged >= 0)
    weights = weights / np.asarray(propensities, dtype=np.float64)
    values = np.zeros(n)
    half = np.arange(n) % 2 == 0
    for part in (half, ~half):
        model = ClickModel.fit(clicks[~part], logged[~part], n_items)
        direct = model.predict(wanted[part]).sum(axis=1)
        errors = clicks[part] - model.predict(logged[part])
        values[part] = direct + (weights[part] * errors).sum(axis=1)
    return _normal(values.mean(), values.std(ddof=1) if n > 1 else np.inf, n)


def _normal(mean: float, sd: float, n: int) -> Interval:
    half = Z95 * sd / np.sqrt(n) if n > 1 else np.inf
    return Interval(float(mean), float(mean - half), float(mean + half), 0.95)


def estimate(clicks: np.ndarray, propensities: np.ndarray, matches: np.ndarray,
             shown: Sequence[Sequence[Any]] | None = None,
             candidate: Sequence[Sequence[Any]] | None = None) -> OffPolicyEstimate:
    """From (n_lists, k) arrays: clicks per slot (0/1), the logged propensity of each slot
    and whether the candidate puts the same item at that slot; with the `shown` and
    `candidate` lists' items, also the doubly robust estimate."""
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
    dr = None if shown is None or candidate is None or n < 2 else doubly_robust(
        clicks, propensities, shown, candidate)
    return OffPolicyEstimate(ips=ips, snips=snips, lists=n,
                             matched_slots=float(np.asarray(matches).mean()) if n else 0.0,
                             dr=dr)


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
    shown = [list(s.items) for s in logged]
    wanted = [list(candidate(s)) for s in logged]
    return (estimate(clicks, propensity, slot_matches(shown, wanted), shown, wanted),
            len(lists) - len(logged))
