"""Graded item similarity for models without item vectors (EASE, ItemKNN, most-popular).

Category rows alone make similarity all-or-nothing (two items share a category or not), so a
re-ranker's diversity term jumps straight to one item per category: the diversity weight
changes nothing between its first step and 1. Blending in a behavioural signal gives graded
similarity: cos(i, j) = s·cos_category + (1 − s)·cos_behaviour, where the behaviour part is
the cosine of the items' shopper co-occurrence (truncated SVD of the item–user matrix) and,
when given, of their text-encoder vectors. Unit rows are returned; their dot products are
that blend, so they drop in wherever `item_vectors` are expected.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from engine.rerank.plan import rows_normalised

CATEGORY_SHARE = 0.5  # s: the category part of the blended cosine
BEHAVIOUR_DIM = 64  # SVD components kept of the item–user co-occurrence
SEED = 0


def cooccurrence_vectors(interactions: sp.spmatrix, dim: int = BEHAVIOUR_DIM) -> np.ndarray:
    """(n_items, ≤dim) unit rows whose cosines approximate those of the items' binary
    shopper columns: items bought by the same shoppers are close."""
    from sklearn.decomposition import TruncatedSVD

    items = sp.csr_matrix(interactions, dtype=np.float64).T.tocsr()  # (n_items, n_users)
    items.data[:] = 1.0
    items = sp.diags(1.0 / np.maximum(np.sqrt(items.getnnz(axis=1)), 1.0)) @ items
    n_comp = min(dim, min(items.shape) - 1)
    if n_comp < 1:
        return np.zeros((items.shape[0], 1))
    svd = TruncatedSVD(n_components=n_comp, algorithm="randomized", n_iter=7,
                       random_state=SEED)
    return rows_normalised(svd.fit_transform(items), "norm")


def graded_item_vectors(item_categories: np.ndarray, interactions: sp.spmatrix | None = None,
                        text_embeddings: np.ndarray | None = None,
                        category_share: float = CATEGORY_SHARE) -> np.ndarray:
    """(n_items, d) unit rows: category rows blended with co-occurrence and text vectors.

    Each part is scaled so its share of the cosine is `category_share` for categories and the
    rest split evenly over the behavioural parts given; an item without interactions keeps the
    other parts (its rows are renormalised), so every row has length 1.
    """
    categories = rows_normalised(np.asarray(item_categories, dtype=np.float64), "norm")
    parts = [] if interactions is None else [cooccurrence_vectors(interactions)]
    if text_embeddings is not None:
        parts.append(rows_normalised(np.asarray(text_embeddings, dtype=np.float64), "norm"))
    if not parts:
        return categories
    behaviour_share = (1.0 - category_share) / len(parts)
    blocks = [np.sqrt(category_share) * categories]
    blocks += [np.sqrt(behaviour_share) * part for part in parts]
    return rows_normalised(np.hstack(blocks), "norm")
