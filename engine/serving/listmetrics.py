"""Numbers about one shown list and about the run's shoppers, for the studio's panels.

`list_metrics` gives a single list's category entropy, category coverage, dissimilarity
(ILD over the model's item vectors) and, when the shopper's held-out items are known,
precision — computed by the `engine.metrics` functions on catalogue positions.
`top_categories` names each training shopper's main category (the segment filter).
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


def _topk(catalogue: Catalogue, item_ids: Sequence[str], k: int) -> np.ndarray:
    row = np.full((1, k), -1, dtype=np.int64)  # (1, k), -1 pads a short list
    found = positions(catalogue, list(item_ids)[:k])
    row[0, : len(found)] = found
    return row


def list_metrics(catalogue: Catalogue, item_ids: Sequence[str],
                 truth_ids: Sequence[str] | None, k: int) -> dict[str, float | None]:
    """`entropy`, `coverage`, `ild` (None without item vectors or with one item) and
    `precision` (None without held-out items) of the first k items of one list."""
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


def top_categories(catalogue: Catalogue) -> pd.Series:
    """Per training shopper (indexed by user_id, model order), the category most of their
    history falls in ("" for an empty history); ties go to the first category."""
    names = catalogue.category_names
    labels = ["" if len(items) == 0 else
              names[int(catalogue.item_categories[items].sum(axis=0).argmax())]
              for items in catalogue.user_items]
    return pd.Series(labels, index=catalogue.user_index.astype(str))
