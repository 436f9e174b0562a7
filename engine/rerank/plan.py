"""What the one ranking pipeline reads: a plan of per-item arrays for one catalogue.

A policy compiles to a plan (`engine.policy.compile`), and so does a plain request
(`engine.serving.ranking.compile_request`) and an evaluation or sweep setting
(`diversify_plan`): method, weight, quotas and target mix become one diversify step.
`engine.rerank.pipeline` applies a plan to model scores, for one shopper or a batch.

Matches are boolean masks over the catalogue, caps integer group codes with limits, pins item
positions; quota floors are at-least rules and quota caps one cap rule on each item's main
category.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.core.messages import Message
from engine.rerank.targets import DEFAULT_TARGET_MIX

NO_LIMIT = np.iinfo(np.int32).max
NORMALISED_TOL = 1e-6  # a row sum or length this close to 1 is taken as normalised


@dataclass(frozen=True)
class Rule:
    """A stage reduced to a mask over the catalogue and one number (strength, share, count)."""

    label: str
    mask: np.ndarray  # (n_items,) bool
    value: float = 0.0


@dataclass(frozen=True)
class CapRule:
    """At most limits[code] items per group; code -1 (no value) is never capped."""

    label: str
    codes: np.ndarray  # (n_items,) int64
    limits: np.ndarray  # (n_groups,) int64


@dataclass(frozen=True)
class PinRule:
    label: str
    item: int
    slot: int  # 1-based
    segment: np.ndarray | None  # (C,) bool over category names; None = every shopper

    def for_shoppers(self, top_category: np.ndarray) -> np.ndarray:
        """(B,) whether the pin is for each shopper (history's top category, -1 for none)."""
        if self.segment is None:
            return np.ones(len(top_category), dtype=bool)
        return (top_category >= 0) & self.segment[np.clip(top_category, 0, None)]


@dataclass(frozen=True)
class Diversify:
    """The diversify step of a plain request (a policy's DiversifyStage reads the same)."""

    method: str
    weight: float
    target_mix: float = DEFAULT_TARGET_MIX


@dataclass(frozen=True, kw_only=True)
class RankPlan:
    """Per-item arrays the pipeline applies (every array field is `n_items` long: narrowing
    slices them all, `engine.rerank.narrow`), and what did not resolve."""

    n_items: int
    n_candidates: int  # model top-N the steps choose from
    static_allowed: np.ndarray  # (n_items,) items every filter lets through
    filters: list[Rule]  # mask = passes this filter
    exclude_seen: bool
    boosts: list[Rule]  # value = signed strength
    boost_vector: np.ndarray  # (n_items,) sum of the boosts
    floor: Any | None  # min_relevance / quantile / label (a policy's FloorStage)
    diversify: Any | None  # method / weight / target_mix / label (Diversify, DiversifyStage)
    at_least: list[Rule]  # promotions (value = share of k) and quota floors (value = -count)
    caps: list[CapRule]
    pins: list[PinRule]
    item_categories: np.ndarray  # (n_items, C) row-stochastic, for calibrated targets
    unit_vectors: np.ndarray | None  # (n_items, d) unit rows: cosine similarity
    unit_categories: np.ndarray  # (n_items, C) unit rows: similarity without vectors
    notices: list[str] = field(default_factory=list)
    exposure_bonus: np.ndarray | None = None  # (n_items,) fitted exposure prices per item
    has_steps: bool = True  # False: the model's own top-k

    @property
    def similarity_rows(self) -> np.ndarray:
        """(n_items, d) the unit rows every re-ranker measures similarity with: the model's
        vectors, else the category rows."""
        return self.unit_categories if self.unit_vectors is None else self.unit_vectors


def required_slots(rule: Rule, k: int) -> int:
    """Slots an at-least rule needs in a list of k: ceil(share·k) or the quota floor."""
    return int(-rule.value) if rule.value < 0 else int(math.ceil(rule.value * k - 1e-9))


def quota_rules(quotas: dict[int, tuple[int | None, int | None]], names: list[str],
                item_categories: np.ndarray) -> tuple[list[Rule], list[CapRule]]:
    """Category (floor, cap) pairs by column as at-least rules and, when a cap is set, one cap
    rule on each item's main category."""
    primary = item_categories.argmax(axis=1).astype(np.int64)
    limits = np.full(len(names), NO_LIMIT, dtype=np.int64)
    floors = []
    for position, (low, high) in quotas.items():
        if high is not None:
            limits[position] = high
        if low:
            floors.append(Rule(label=Message("label_quota", name=names[position], low=low),
                               mask=item_categories[:, position] > 0, value=-float(low)))
    capped = bool((limits < NO_LIMIT).any())  # floors alone move items; no cap rule to name
    return floors, [CapRule(label=Message("label_quota_caps"), codes=primary,
                            limits=limits)] if capped else []


def _row_sizes(values: np.ndarray, how: str) -> np.ndarray:
    return values.sum(axis=1, keepdims=True, dtype=np.float64) if how == "sum" else \
        np.linalg.norm(values, axis=1, keepdims=True).astype(np.float64)


def is_normalised(matrix: np.ndarray, how: str) -> bool:
    """Whether every row already sums to 1 ("sum") or has length 1 ("norm"), or is all zero,
    within float32 rounding."""
    size = _row_sizes(np.asarray(matrix), how)
    return bool(np.all((size == 0) | (np.abs(size - 1.0) <= NORMALISED_TOL)))


def rows_normalised(matrix: np.ndarray, how: str, dtype: type = np.float64) -> np.ndarray:
    """Rows scaled to sum 1 ("sum") or length 1 ("norm"), in `dtype`; all-zero rows stay
    zero. A table of `dtype` whose rows already are comes back as it is (not copied)."""
    values = np.asarray(matrix)
    if values.dtype == dtype and is_normalised(values, how):
        return values
    values = values.astype(np.float64)
    size = _row_sizes(values, how)
    scaled = np.divide(values, size, out=np.zeros_like(values), where=size > 0)
    return scaled.astype(dtype, copy=False)


def plan_arrays(item_categories: np.ndarray, vectors: np.ndarray | None,
                dtype: type = np.float32) -> dict[str, np.ndarray | None]:
    """The category and similarity rows the pipeline reads: `item_categories` (sum 1),
    `unit_vectors` (the re-rankers' similarity vectors, length 1; None without vectors) and
    `unit_categories` (length 1, the similarity when there are no vectors); similarity rows
    in `dtype` (float32 is enough to rank; the array entry points keep float64). Tables that
    are normalised already are shared, not copied: at a million items each copy is hundreds
    of MB (one-category items: the category rows serve as all three)."""
    categories = np.asarray(item_categories)
    shared = categories.dtype in (np.float32, np.float64) and is_normalised(categories, "sum")
    return {"item_categories": categories if shared else rows_normalised(categories, "sum"),
            "unit_vectors": None if vectors is None else rows_normalised(vectors, "norm", dtype),
            "unit_categories": rows_normalised(categories, "norm", dtype)}


def diversify_plan(diversify: Diversify, n_candidates: int, arrays: dict[str, Any], *,
                   category_names: list[str], quotas: dict[int, tuple[int | None, int | None]]
                   | None = None, allowed: np.ndarray | None = None,
                   boosts: np.ndarray | None = None) -> RankPlan:
    """A plan with one diversify step (and the request's quotas, category filter and boosts):
    what a plain request, an evaluation and a sweep rank with. `arrays`: `plan_arrays`."""
    categories = arrays["item_categories"]
    n_items = len(categories)
    at_least, caps = quota_rules(quotas, category_names, categories) if quotas else ([], [])
    return RankPlan(n_items=n_items, n_candidates=n_candidates,
                    static_allowed=np.ones(n_items, dtype=bool) if allowed is None else allowed,
                    filters=[], exclude_seen=False, boosts=[],
                    boost_vector=np.zeros(n_items) if boosts is None else boosts, floor=None,
                    diversify=diversify, at_least=at_least, caps=caps, pins=[], **arrays)
