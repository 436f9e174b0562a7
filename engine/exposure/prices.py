"""Exposure prices: one dual variable per targeted group, fitted once, added at serve time.

Meeting population targets is a constrained problem over all shoppers' lists:

    max  Σ_u Σ_r w_r · rel_u(L_u[r])   s.t.  floor_g ≤ E_g(L) ≤ ceiling_g  for targeted g,

with E_g the group's exposure share and w_r = 1/log2(r + 1). Its Lagrangian separates by
shopper: for prices p_g = μ_g − λ_g (μ ≥ 0 on floors, λ ≥ 0 on ceilings) each shopper's best
list is simply the top-k by rel + Σ_g m_ig · p_g (m_ig the item's membership). So we fit the
prices on a sample of shoppers by projected gradient steps on the dual, as P-MMF (Xu et al.,
2023) does for provider fairness: score with the current prices, measure each target's
violation, move the price by it, project μ and λ back onto ≥ 0. A request is then served with
no other shopper in sight: add the prices of the candidates' groups, O(candidates).

Relevance is the score min-max scaled over each shopper's candidate pool (`pool.py`), so a
price is in units of a shopper's candidate range and means the same for every shopper.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from engine.core.errors import ConfigError
from engine.core.messages import Message
from engine.exposure.groups import Grouping, GroupSpec
from engine.exposure.pool import Pool, slot_weights, top_k
from engine.exposure.targets import TargetSet, resolve
from engine.rerank.scaling import min_max

PRICE_LIMIT = 2.0  # beyond ±2 candidate ranges a price cannot move an item any further
DEFAULT_STEP = 2.0
DEFAULT_ITERATIONS = 400
SMALL_BOUND = 0.01
DEFAULT_TOLERANCE = 0.001  # stop once every target is met to a tenth of a point on the sample
Selector = Callable[[np.ndarray], np.ndarray]  # item bonus (n_items,) -> lists (U, k)


class ExposurePrices(BaseModel):
    """Fitted prices, JSON-able, so a policy version can carry them and serving rebuild them."""

    model_config = ConfigDict(extra="forbid")

    group: GroupSpec
    share: Literal["exposure", "slots"] = "exposure"
    prices: dict[str, float]
    k: int = Field(10, ge=1)
    n_candidates: int = Field(200, ge=1)
    scale: Literal["minmax_over_candidates"] = "minmax_over_candidates"
    targets: TargetSet
    fitted_on: int = Field(0, ge=0, description="shoppers in the fitting sample")

    def item_bonus(self, grouping: Grouping) -> np.ndarray:
        """(n_items,) the price each item carries (sum over its groups, membership-weighted)."""
        if grouping.spec.by != self.group.by:
            raise ConfigError(Message("prices_other_grouping", fitted=self.group.by,
                                      asked=grouping.spec.by))
        return grouping.item_bonus(self.prices)


def apply_prices(relevance: np.ndarray, candidates: np.ndarray,
                 item_bonus: np.ndarray) -> np.ndarray:
    """Serve-time step: candidate relevance (min-max over the candidates) plus their prices.

    `relevance (N,)` and `candidates (N,)` catalogue positions of one request; O(N).
    """
    scaled = min_max(np.asarray(relevance, dtype=np.float64), fill=-np.inf)
    return scaled + item_bonus[np.asarray(candidates, dtype=np.int64)]


@dataclass
class PriceFit:
    """Outcome of `fit_prices`: the prices, shares before/after on the sample, the trace."""

    prices: ExposurePrices
    before: dict[str, float]
    after: dict[str, float]
    violation: float  # largest remaining violation on the fitting sample (share units)
    iterations: int
    seconds: float
    trace: list[float] = field(default_factory=list)  # max violation per iteration
    unreachable: dict[str, float] = field(default_factory=dict)  # floors above the pools' reach


@dataclass(frozen=True)
class _Problem:
    labels: list[str]  # targeted groups
    member: np.ndarray  # (n_items, T) membership in targeted groups
    floors: np.ndarray  # (T,)
    ceilings: np.ndarray  # (T,)
    weights: np.ndarray  # (k,) slot weights
    reach: np.ndarray | None = None  # (T,) most share each group can get from these pools


def reachable_shares(pool: Pool, member: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(T,) upper bound on each group's share: every shopper puts all of the group's
    candidates (up to k) first. A floor above it cannot be met from these candidate pools."""
    k = len(weights)
    cumulative = np.r_[0.0, np.cumsum(weights)]
    valid = pool.items >= 0
    n_lists = (np.minimum(valid.sum(axis=1), k)).astype(int)
    total = cumulative[n_lists].sum()
    reach = np.empty(member.shape[1])
    for t in range(member.shape[1]):
        count = ((member[np.maximum(pool.items, 0), t] > 0) & valid).sum(axis=1)
        reach[t] = cumulative[np.minimum(count, n_lists)].sum() / max(total, 1e-12)
    return reach


def _reachable(problem: _Problem, pool: Pool) -> _Problem:
    """The problem without the floors the candidate pools cannot supply (set to 0 here:
    `fit_prices` gives those groups the largest price instead)."""
    reach = reachable_shares(pool, problem.member, problem.weights)
    floors = np.where(problem.floors > reach + 1e-12, 0.0, problem.floors)
    return _Problem(problem.labels, problem.member, floors, problem.ceilings, problem.weights,
                    reach)


def target_problem(grouping: Grouping, targets: TargetSet, k: int) -> _Problem:
    bounds = {g: b for g, b in resolve(targets, grouping).items() if b[0] > 0 or b[1] < 1}
    if not bounds:
        raise ConfigError(Message("targets_bind_nothing"))
    labels = sorted(bounds, key=grouping.position)
    columns = [grouping.position(g) for g in labels]
    member = grouping.membership[:, columns].toarray()
    weights = slot_weights(k) if targets.share == "exposure" else np.ones(k)
    return _Problem(labels, member, np.array([bounds[g][0] for g in labels]),
                    np.array([bounds[g][1] for g in labels]), weights)


def targeted_shares(lists: np.ndarray, problem: _Problem) -> np.ndarray:
    """(T,) exposure (or slot) shares of the targeted groups in `lists (U, k)`."""
    valid = lists >= 0
    weights = np.broadcast_to(problem.weights[: lists.shape[1]], lists.shape) * valid
    mass = np.einsum("uk,ukt->t", weights, problem.member[np.maximum(lists, 0)])
    return mass / max(weights.sum(), 1e-12)


def per_list_shares(lists: np.ndarray, problem: _Problem) -> np.ndarray:
    """(U, T) each list's own exposure (or slot) share of the targeted groups."""
    valid = lists >= 0
    weights = np.broadcast_to(problem.weights[: lists.shape[1]], lists.shape) * valid
    mass = np.einsum("uk,ukt->ut", weights, problem.member[np.maximum(lists, 0)])
    return mass / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)


def _with_margin(problem: _Problem, lists: np.ndarray) -> _Problem:
    """The bounds moved inside by one standard error of each group's share over the sample's
    lists: prices fitted to the very edge of a bound on one sample of shoppers leave about half
    the groups outside it for other shoppers (a group under its cap on the sample gets no
    price, then takes the exposure the capped groups lose and ends further over it)."""
    shares = per_list_shares(lists, problem)
    error = shares.std(axis=0) / np.sqrt(max(len(lists), 1))
    floors = np.where(problem.floors > 0, problem.floors + error, 0.0)
    if problem.reach is not None:
        floors = np.minimum(floors, problem.reach)
    ceilings = np.where(problem.ceilings < 1, np.maximum(problem.ceilings - error, 0.0), 1.0)
    return _Problem(problem.labels, problem.member, floors, ceilings, problem.weights,
                    problem.reach)


def _violation(shares: np.ndarray, problem: _Problem) -> np.ndarray:
    """(T,) how far each share is outside its bounds (0 when inside)."""
    return np.maximum(problem.floors - shares, 0) + np.maximum(shares - problem.ceilings, 0)


def fit_prices(pool: Pool, grouping: Grouping, targets: TargetSet, *, k: int = 10,
               iterations: int = DEFAULT_ITERATIONS, step: float = DEFAULT_STEP,
               tolerance: float = DEFAULT_TOLERANCE, select: Selector | None = None,
               on_iteration: Callable[[int, float], None] | None = None) -> PriceFit:
    """Fit one price per targeted group on the shoppers of `pool`.

    Each iteration ranks every sampled shopper with the current prices (`select`, default the
    plain top-k of relevance + price), then takes a projected step: μ ← max(0, μ + η·(floor −
    E)), λ ← max(0, λ + η·(E − ceiling)), p = μ − λ, with η = step/√(1 + t/20) (larger for
    bounds under 1%, in proportion). The iterate
    with the smallest largest violation is kept (subgradient steps oscillate around the
    optimum); fitting stops early once every target is within `tolerance` (and within
    a tenth of a floor smaller than that).
    """
    if iterations < 1 or step <= 0:
        raise ConfigError(f"iterations must be >= 1 and step > 0, got {iterations}, {step}")
    started = time.perf_counter()
    wanted = target_problem(grouping, targets, k)
    problem = _reachable(wanted, pool)
    choose = select or (lambda bonus: top_k(pool, k, bonus))
    # an unreachable floor: its items go first wherever they are candidates; the other
    # prices are fitted around that
    fixed = wanted.floors > problem.reach + 1e-12
    plain = choose(np.zeros(problem.member.shape[0]))
    before = targeted_shares(plain, problem)
    (_, price, shares), trace = _descend(_with_margin(problem, plain), choose, fixed,
                                         iterations, step, tolerance, on_iteration)
    worst = float(_violation(shares, problem).max())  # against the bounds as asked
    book = ExposurePrices(group=grouping.spec, share=targets.share, k=k,
                          n_candidates=int(pool.items.shape[1]), targets=targets,
                          prices={g: round(float(p), 6) for g, p in zip(problem.labels, price,
                                                                        strict=True)},
                          fitted_on=int(len(pool.users)))
    unreachable = {g: float(r) for g, r, f in zip(problem.labels, problem.reach, wanted.floors,
                                                  strict=True) if f > r + 1e-12}
    return PriceFit(book, dict(zip(problem.labels, map(float, before), strict=True)),
                    dict(zip(problem.labels, map(float, shares), strict=True)), worst,
                    len(trace), time.perf_counter() - started, trace, unreachable)


def _descend(problem: _Problem, choose: Selector, fixed: np.ndarray, iterations: int,
             step: float, tolerance: float,
             on_iteration: Callable[[int, float], None] | None,
             ) -> tuple[tuple[float, np.ndarray, np.ndarray], list[float]]:
    """The projected dual steps; returns the best (violation, prices, shares) and the trace."""
    floor_dual = np.where(fixed, PRICE_LIMIT, 0.0)
    ceiling_dual = np.zeros(len(problem.labels))
    price = floor_dual.copy()
    # bounds under 1% take proportionally larger steps, so a 0.01% floor moves as fast,
    # relative to its size, as a 1% one
    bound = np.where(problem.floors > 0, problem.floors, problem.ceilings)
    boost = SMALL_BOUND / np.clip(bound, SMALL_BOUND / 100, SMALL_BOUND)
    enough = np.minimum(tolerance, 0.1 * problem.floors + (problem.floors <= 0))
    best: tuple[float, np.ndarray, np.ndarray] = (np.inf, price, np.zeros(len(price)))
    trace: list[float] = []
    for t in range(iterations):
        shares = targeted_shares(choose(problem.member @ price), problem)
        violation = _violation(shares, problem)
        trace.append(float(violation.max()))
        if trace[-1] < best[0] - 1e-12:
            best = (trace[-1], price.copy(), shares)
        if on_iteration is not None:
            on_iteration(t, trace[-1])
        if (violation <= enough).all():
            break  # within `tolerance`, and within a tenth of any small floor
        eta = step / np.sqrt(1.0 + t / 20.0) * boost
        floor_dual = np.maximum(floor_dual + eta * (problem.floors - shares), 0.0)
        ceiling_dual = np.maximum(ceiling_dual + eta * (shares - problem.ceilings), 0.0)
        floor_dual = np.where(fixed, PRICE_LIMIT, np.minimum(floor_dual, PRICE_LIMIT))
        ceiling_dual = np.minimum(ceiling_dual, PRICE_LIMIT)
        price = floor_dual - ceiling_dual
    return best, trace


def target_report(lists: np.ndarray, grouping: Grouping, targets: TargetSet,
                  k: int) -> list[dict[str, Any]]:
    """Per targeted group: floor, ceiling, achieved share, and whether it is met (exactly)."""
    problem = target_problem(grouping, targets, k)
    shares = targeted_shares(lists, problem)
    return [{"group": g, "min": float(lo), "max": float(hi), "share": float(s),
             "violation": float(v)}
            for g, lo, hi, s, v in zip(problem.labels, problem.floors, problem.ceilings, shares,
                                       _violation(shares, problem), strict=True)]


CLOSE_ENOUGH = 0.01  # a miss within one percentage point is reported as close


def target_summary(report: list[dict[str, Any]]) -> dict[str, Any]:
    """What `target_report` says in short, as the CLI and the studio both tell it: how many
    targets are met exactly and within 1 pp, the largest miss, and each missed target (its
    share, which bound it misses and that bound), largest miss first."""
    missed = sorted((r for r in report if r["violation"] > 0), key=lambda r: -r["violation"])
    return {"n": len(report), "met": len(report) - len(missed),
            "close": sum(1 for r in report if r["violation"] <= CLOSE_ENOUGH),
            "worst": max((r["violation"] for r in report), default=0.0),
            "missed": [{"group": r["group"], "share": r["share"],
                        "bound": "min" if r["share"] < r["min"] else "max",
                        "target": r["min"] if r["share"] < r["min"] else r["max"]}
                       for r in missed]}
