"""What the one ranking pipeline reads: a plan of per-item arrays for one catalogue.

A policy compiles to a plan (`engine.policy.compile`), and so does a plain request
(`engine.serving.ranking.request_plan`) and an evaluation or sweep setting
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


@dataclass(frozen=True)
class Diversify:
    """The diversify step of a plain request (a policy's DiversifyStage reads the same)."""

    method: str
    weight: float
    target_mix: float = DEFAULT_TARGET_MIX
    label: str = ""
    alpha: float | None = None


@dataclass(frozen=True, kw_only=True)
class RankPlan:
    """Per-item arrays (`n_items` long) the pipeline applies, and what did not resolve."""

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


def required_slots(rule: Rule, k: int) -> int:
    """Slots an at-least rule needs in a list of k: ceil(share·k) or the quota floor."""
    return int(-rule.value) if rule.value < 0 else int(math.ceil(rule.value * k - 1e-9))


def quota_rules(quotas: dict[int, tuple[int | None, int | None]], names: list[str],
                item_categories: np.ndarray) -> tuple[list[Rule], list[CapRule]]:
    """Category (floor, cap) pairs by column as at-least rules and one cap rule on each item's
    main category."""
    primary = item_categories.argmax(axis=1).astype(np.int64)
    limits = np.full(len(names), NO_LIMIT, dtype=np.int64)
    floors = []
    for position, (low, high) in quotas.items():
        if high is not None:
            limits[position] = high
        if low:
            floors.append(Rule(label=Message("label_quota", name=names[position], low=low),
                               mask=item_categories[:, position] > 0, value=-float(low)))
    return floors, [CapRule(label=Message("label_quota_caps"), codes=primary, limits=limits)]


def rows_normalised(matrix: np.ndarray, how: str) -> np.ndarray:
    """Rows scaled to sum 1 ("sum") or length 1 ("norm"); all-zero rows stay zero."""
    values = np.asarray(matrix, dtype=np.float64)
    size = values.sum(axis=1, keepdims=True) if how == "sum" else \
        np.linalg.norm(values, axis=1, keepdims=True)
    return np.divide(values, size, out=np.zeros_like(values), where=size > 0)


def plan_arrays(item_categories: np.ndarray, vectors: np.ndarray | None,
                dtype: type = np.float32) -> dict[str, np.ndarray | None]:
    """The category and similarity rows the pipeline reads: `item_categories` (sum 1),
    `unit_vectors` (the re-rankers' similarity vectors, length 1; None without vectors) and
    `unit_categories` (length 1, the similarity when there are no vectors); similarity rows
    in `dtype` (float32 is enough to rank; the array entry points keep float64)."""
    return {"item_categories": rows_normalised(item_categories, "sum"),
            "unit_vectors": None if vectors is None else
            rows_normalised(vectors, "norm").astype(dtype),
            "unit_categories": rows_normalised(item_categories, "norm").astype(dtype)}


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
