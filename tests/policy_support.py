"""A hand-made serving Catalogue for policy tests: items, brands, categories, vectors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from engine.core.columns import BRAND, CATEGORY, DIV_CATEGORY, ITEM_ID, PRICE, PROMO, TITLE
from engine.serving.catalogue import Catalogue, item_columns


def make_catalogue(brands: list[str], categories: list[str], prices: list[float] | None = None,
                   promo: list[bool] | None = None, vectors: np.ndarray | None = None,
                   extra: dict[str, list] | None = None) -> Catalogue:
    """One item per entry of `brands`; `categories` are single-level names."""
    n = len(brands)
    names = sorted(set(categories))
    item_categories = np.zeros((n, len(names)), dtype=np.float32)
    item_categories[np.arange(n), [names.index(c) for c in categories]] = 1.0
    items = pd.DataFrame({ITEM_ID: [f"i{j}" for j in range(n)],
                          TITLE: [f"item {j}" for j in range(n)],
                          CATEGORY: categories, BRAND: brands,
                          PRICE: prices if prices is not None else [np.nan] * n,
                          PROMO: promo if promo is not None else [False] * n,
                          DIV_CATEGORY: categories, **(extra or {})})
    empty = np.empty(0, dtype=np.int64)
    return Catalogue(
        items=items, item_index=pd.Index(items[ITEM_ID]), item_categories=item_categories,
        category_names=names, item_vectors=vectors,
        promo=np.asarray(promo if promo is not None else [False] * n, dtype=np.float64),
        user_index=pd.Index([]), user_items=[],
        item_users=sp.csr_matrix((n, 0), dtype=np.float32),
        events=pd.DataFrame({"item_idx": empty, "timestamp": empty, "weight": empty}),
        event_users=empty, columns=item_columns(items, item_categories, names))
