"""Per-list numbers the Explorer shows, computed by the engine's metric functions (no `st.*`).

The definitions live in `engine.metrics`; this module only maps item ids to catalogue
positions and says, next to each number, what it means.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine import metrics

DEFINITIONS = {
    "entropy": "Category entropy@K = −Σ_c p(c) ln p(c) over the list's categories (nats); "
               "higher = a more even mix.",
    "coverage": "Category coverage@K = number of distinct categories in the list.",
    "precision": "Precision@K = |list ∩ held-out items| / K, against the shopper's held-out "
                 "(validation + test) purchases.",
    "ild": "ILD@K = mean over pairs of 1 − cosine of item vectors; higher = less similar items.",
}


def positions(catalogue: Any, item_ids: Sequence[str]) -> np.ndarray:
    """Catalogue positions of item ids (-1 for ids the catalogue does not hold)."""
    return catalogue.item_index.get_indexer([str(i) for i in item_ids]).astype(np.int64)


def _topk(catalogue: Any, item_ids: Sequence[str], k: int) -> np.ndarray:
    row = np.full((1, k), -1, dtype=np.int64)
    found = positions(catalogue, list(item_ids)[:k])
    row[0, : len(found)] = found
    return row


def list_metrics(catalogue: Any, item_ids: Sequence[str], truth_ids: Sequence[str] | None,
                 k: int) -> dict[str, float | None]:
    """Entropy, coverage, ILD and (when held-out items are known) precision of one list."""
    topk = _topk(catalogue, item_ids, k)
    out: dict[str, float | None] = {
        "entropy": float(metrics.category_entropy_at_k(topk, catalogue.item_categories, k)[0]),
        "coverage": float(metrics.category_coverage_at_k(topk, catalogue.item_categories, k)[0]),
        "ild": None,
        "precision": None,
    }
    if catalogue.item_vectors is not None and (topk >= 0).sum() > 1:
        out["ild"] = float(metrics.ild_at_k(topk, catalogue.item_vectors, k)[0])
    if truth_ids:
        truth = positions(catalogue, truth_ids)
        out["precision"] = float(metrics.precision_at_k(topk, [truth[truth >= 0]], k)[0])
    return out


def heldout_by_user(split: Any) -> dict[str, list[str]]:
    """user_id → held-out item ids (validation + test) from an engine `Split`."""
    frame = pd.concat([split.valid, split.test], ignore_index=True)
    if frame.empty:
        return {}
    grouped = frame.groupby("user_id", sort=False)["item_id"]
    return {str(user): [str(i) for i in items] for user, items in grouped}


def top_category(catalogue: Any) -> list[str]:
    """Per training user (model order), the category they interacted with most."""
    names = catalogue.category_names
    out = []
    for items in catalogue.user_items:
        if len(items) == 0:
            out.append("")
            continue
        out.append(names[int(catalogue.item_categories[items].sum(axis=0).argmax())])
    return out
