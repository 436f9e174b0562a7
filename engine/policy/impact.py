"""The impact table of a preview: policy A against policy B on the same test shoppers.

For each metric: A's value, B's value, A − B and a paired bootstrap 95% interval over shoppers
(does it exclude zero?). Relevance (NDCG/recall/precision/hit), diversity (category coverage
and entropy, ILD), exposure (catalogue coverage, Gini, tail share, position-discounted share
by brand and by category), how many lists changed and the mean rank displacement, and for
pins and boosts "rule vs model": were the rule's items bought more or less often than what B
put in those slots?
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from engine.core.columns import BRAND
from engine.metrics import (
    category_coverage_at_k,
    category_entropy_at_k,
    counted_categories,
    ild_at_k,
    ild_category_at_k,
    stats,
    tail_share_at_k,
)
from engine.metrics._lists import hits_and_counts
from engine.metrics.exposure import exposure_shares, gini, group_exposure, total_group_exposure
from engine.metrics.relevance import relevance_from_hits

SHOWN_GROUPS = 8
NO_BRAND = "(no brand)"


def _per_user(inputs: Any, lists: np.ndarray, hits: np.ndarray, n_truth: np.ndarray,
              k: int) -> dict[str, np.ndarray]:
    cats = inputs.catalogue.item_categories
    counted = counted_categories(cats, inputs.catalogue.category_names)
    out = relevance_from_hits(hits.astype(np.float64), n_truth, k)
    out.update({f"category_coverage@{k}": category_coverage_at_k(lists, counted),
                f"category_entropy@{k}": category_entropy_at_k(lists, counted),
                f"ild@{k}": ild_category_at_k(lists, cats),
                f"tail_share@{k}": tail_share_at_k(lists, inputs.data.item_popularity)})
    if inputs.catalogue.item_vectors is not None:
        out[f"ild_vec@{k}"] = ild_at_k(lists, inputs.catalogue.item_vectors)
    return out


def _slot_counts(lists: np.ndarray, n_items: int) -> sp.csr_matrix:
    rows, slots = np.nonzero(lists >= 0)
    return sp.csr_matrix((np.ones(len(rows)), (rows, lists[rows, slots])),
                         shape=(len(lists), n_items))


def _groups(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    codes, names = pd.factorize(pd.Series(values).fillna("").astype(str).replace("", NO_BRAND))
    return codes.astype(np.int64), [str(n) for n in names]


def exposure_table(name: str, lists_a: np.ndarray, lists_b: np.ndarray, codes: np.ndarray,
                   names: list[str], weights: np.ndarray,
                   always: list[str] = ()) -> list[dict]:  # noqa: B006 - read only
    """Position-discounted exposure share per group: the most exposed under either policy,
    plus the groups a rule names (`always`). Each row has the difference A − B with its
    interval, and A's share with its own bootstrap interval (`a_low`, `a_high`, inside
    [0, 1]: a share is never negative, though a difference may be)."""
    share_a = exposure_shares(total_group_exposure(lists_a, codes, len(names))[None, :])
    share_b = exposure_shares(total_group_exposure(lists_b, codes, len(names))[None, :])
    shown = list(dict.fromkeys(
        [int(g) for g in np.argsort(-np.maximum(share_a, share_b), kind="stable")[:SHOWN_GROUPS]]
        + [names.index(g) for g in always if g in names]))
    samples_a = _share_samples(lists_a, codes, shown, weights)
    samples = samples_a - _share_samples(lists_b, codes, shown, weights)
    rows = []
    for j, group in enumerate(shown):
        a_low, a_high = stats.percentile_interval(samples_a[:, j])
        rows.append(stats.comparison(f"exposure share {name} {names[group]}", share_a[group],
                                     share_b[group], samples[:, j],
                                     {"group": names[group], "a_low": a_low,
                                      "a_high": a_high}))
    return rows


def _share_samples(lists: np.ndarray, codes: np.ndarray, groups: list[int],
                   weights: np.ndarray) -> np.ndarray:
    """(R, len(groups)) each resample's exposure share of the groups: per-shopper exposure of
    just those groups and of all groups, then one matrix product."""
    remap = np.full(codes.max(initial=0) + 2, -1, dtype=np.int64)
    remap[np.asarray(groups, dtype=np.int64)] = np.arange(len(groups))
    picked = group_exposure(lists, remap[np.where(codes >= 0, codes, -1)], len(groups))
    total = group_exposure(lists, np.where(codes >= 0, 0, -1), 1)
    sums = weights @ np.column_stack([total, picked])
    totals = sums[:, :1]
    return np.divide(sums[:, 1:], totals, out=np.zeros_like(sums[:, 1:]), where=totals > 0)


def displacement(lists_a: np.ndarray, lists_b: np.ndarray, k: int) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    """Per shopper: did the list change (any slot), and the mean |rank under A − rank under
    B| over A's items (an item B did not show counts as rank k + 1 under B)."""
    changed = (lists_a != lists_b).any(axis=1)
    match = (lists_a[:, :, None] == lists_b[:, None, :]) & (lists_a[:, :, None] >= 0)
    rank_b = np.where(match.any(axis=2), match.argmax(axis=2) + 1, k + 1)
    rank_a = np.arange(1, lists_a.shape[1] + 1)[None, :]
    valid = lists_a >= 0
    moved = np.where(valid, np.abs(rank_a - rank_b), 0).sum(axis=1)
    return changed, moved / np.maximum(valid.sum(axis=1), 1)


def _eligible(inputs: Any, policy: Any, pin: Any) -> np.ndarray:
    """(n,) shoppers a pin applies to: in its segment, item not bought, passes the filters."""
    unseen = np.asarray(inputs.seen[:, pin.item].todense()).ravel() == 0
    return unseen & bool(policy.static_allowed[pin.item]) & pin.for_shoppers(inputs.top_category)


def _bought_share(name: str, slots_a: np.ndarray, slots_b: np.ndarray, hits_a: np.ndarray,
                  hits_b: np.ndarray, weights: np.ndarray) -> dict:
    """How often the items in A's `slots_a` were bought against those in B's `slots_b`: a hit
    rate over slots, paired over shoppers."""
    return stats.paired_ratio(name, (hits_a & slots_a).sum(1), slots_a.sum(1),
                              (hits_b & slots_b).sum(1), slots_b.sum(1), weights)


def rule_vs_model(inputs: Any, a: Any, b: Any, weights: np.ndarray, hits_a: np.ndarray,
                  hits_b: np.ndarray) -> list[dict]:
    """Pins: the pinned item vs B's item in that slot. Boosts: items the boost brought into
    A's list vs the items of B's list they displaced. Hit rate over those slots."""
    rows = []
    for pin in a.policy.pins:
        slots = a.pinned & (a.items == pin.item)
        rows.append(_bought_share(f"{pin.label}: bought, pinned vs model", slots,
                                  slots & (b.items >= 0), hits_a, hits_b, weights) | {
                "rule": pin.label, "slot": pin.slot, "shoppers_pinned": int(slots.any(1).sum()),
                "pinned_at_slot": int((a.items[:, pin.slot - 1] == pin.item).sum()),
                "eligible": int(_eligible(inputs, a.policy, pin).sum())})
    same = a.items[:, :, None] == b.items[:, None, :]  # (n, k, k): A's slot holds B's item
    in_b, in_a = same.any(axis=2), same.any(axis=1)
    for rule in a.policy.boosts:
        entered = (a.items >= 0) & ~in_b & rule.mask[np.clip(a.items, 0, None)]
        left = (b.items >= 0) & ~in_a & ~rule.mask[np.clip(b.items, 0, None)]
        rows.append(_bought_share(f"{rule.label}: bought, boosted-in vs displaced", entered,
                                  left, hits_a, hits_b, weights) | {"rule": rule.label})
    return rows


def _boosted_brands(policy: Any) -> list[str]:
    """The brands a boost, bury or promotion of `policy` names."""
    return [brand for stage in policy.policy.stages if getattr(stage, "match", None)
            for brand in stage.match.brands or []]


def impact_report(inputs: Any, a: Any, b: Any, k: int,
                  n_resamples: int | None = None) -> dict[str, Any]:
    """The whole comparison as a JSON-able dict (see the module docstring)."""
    n_users = len(inputs.users)
    weights = stats.resample_counts(n_users, n_resamples or stats.DEFAULT_RESAMPLES)
    hits_a, n_truth = hits_and_counts(a.items, inputs.truth)
    hits_b, _ = hits_and_counts(b.items, inputs.truth)
    per_a = _per_user(inputs, a.items, hits_a, n_truth, k)
    per_b = _per_user(inputs, b.items, hits_b, n_truth, k)
    metrics = [stats.paired_mean(name, per_a[name], per_b[name], weights) for name in per_a]
    n_items = inputs.catalogue.n_items
    counts_a, counts_b = _slot_counts(a.items, n_items), _slot_counts(b.items, n_items)
    metrics.append(stats.paired_population(f"catalog_coverage@{k}", stats.coverage_rows,
                                           counts_a, counts_b, weights))
    metrics.append(stats.paired_population(f"gini@{k}", gini, counts_a, counts_b,
                                           weights))
    items = inputs.catalogue.items
    brand_codes, brand_names = _groups(items[BRAND].to_numpy() if BRAND in items else
                                       np.full(n_items, ""))
    label_codes, label_names = _groups(np.asarray(inputs.catalogue.columns.labels))
    changed, moved = displacement(a.items, b.items, k)
    return {
        "policy": a.policy.name, "against": b.policy.name, "k": k, "n_users": n_users,
        "n_resamples": len(weights), "interval": "paired bootstrap 95% over shoppers",
        "metrics": metrics,
        "exposure": {"brand": exposure_table("brand", a.items, b.items, brand_codes,
                                             brand_names, weights, _boosted_brands(a.policy)),
                     "category": exposure_table("category", a.items, b.items, label_codes,
                                                label_names, weights)},
        "lists_changed": {"share": float(changed.mean()), "n": int(changed.sum())},
        "mean_rank_displacement": stats.paired_mean(
            "mean rank displacement", moved, np.zeros_like(moved), weights),
        "rules": rule_vs_model(inputs, a, b, weights, hits_a, hits_b),
        "notices": {"a": dict(a.notices.most_common(10)), "b": dict(b.notices.most_common(10))},
    }
