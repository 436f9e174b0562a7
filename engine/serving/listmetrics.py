"""Numbers about one shown list and about the run's shoppers, for the studio's panels.

`list_metrics` gives a single list's category entropy, category coverage, vector
dissimilarity (ILD over the model's item vectors) and, when the shopper's held-out items are
known, precision — computed by the `engine.metrics` functions on catalogue positions, named by
their keys in `engine.metrics.registry`. `top_categories` names each training shopper's main
category (the segment filter). Items without a category count toward no category.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from engine import metrics
from engine.serving.catalogue import Catalogue


def positions(catalogue: Catalogue, item_ids: Sequence[str]) -> np.ndarray:
    """Catalogue positions of item ids (-1 for ids the catalogue does not hold)."""
    return catalogue.item_index.get_indexer([str(i) for i in item_ids]).astype(np.int64)


def list_metrics(catalogue: Catalogue, item_ids: Sequence[str],
                 truth_ids: Sequence[str] | None, k: int) -> dict[str, float | None]:
    """`category_entropy`, `category_coverage`, `ild_vec` (None without item vectors or with
    one item) and `precision` (None without held-out items) of the first k items of one list.

    Only the listed items' rows are read (the metrics run on them alone), so a slider step
    costs the same on a million-item catalogue as on a small one."""
    found = positions(catalogue, list(item_ids)[:k])
    topk = np.full((1, k), -1, dtype=np.int64)  # (1, k), -1 pads a short list
    topk[0, : len(found)] = found
    shown = found[found >= 0]
    local = np.full_like(topk, -1)  # the list over `shown`, in the same order
    local[0, : len(shown)] = np.arange(len(shown))
    counted = metrics.counted_categories(catalogue.item_categories[shown],
                                         catalogue.category_names)
    out: dict[str, float | None] = {
        "category_entropy": float(metrics.category_entropy_at_k(local, counted, k)[0]),
        "category_coverage": float(metrics.category_coverage_at_k(local, counted, k)[0]),
        "ild_vec": None,
        "precision": None,
    }
    if catalogue.item_vectors is not None and len(shown) > 1:
        out["ild_vec"] = float(metrics.ild_at_k(local, catalogue.item_vectors[shown], k)[0])
    if truth_ids:
        truth = positions(catalogue, truth_ids)
        out["precision"] = float(metrics.precision_at_k(topk, [truth[truth >= 0]], k)[0])
    return out


def top_categories(catalogue: Catalogue) -> pd.Series:
    """Per training shopper (indexed by user_id, model order), the category most of their
    history falls in ("" for an empty history or one of items without a category); ties go
    to the first category."""
    names = catalogue.category_names
    counted = metrics.counted_categories(catalogue.item_categories, names)
    labels = []
    for items in catalogue.user_items:
        mass = counted[items].sum(axis=0)
        labels.append(names[int(mass.argmax())] if len(items) and mass.max() > 0 else "")
    return pd.Series(labels, index=catalogue.user_index.astype(str))
