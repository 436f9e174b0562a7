"""Why each item is listed: history credit with recency, the category term, and a two-tower's
own reasons citing history titles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from engine.serving.catalogue import Catalogue, item_columns
from engine.serving.explain import explain, history_contributions, recency_weights
from engine.serving.recommender import Recommender

pytest_plugins = ["serving_runs"]


def _hand_catalogue() -> Catalogue:
    """Four items: two axes of a 2-d space, their diagonal, and the opposite of item 0."""
    vectors = np.array([[1, 0], [0, 1], [0.6, 0.8], [-1, 0]], dtype=np.float32)
    categories = np.eye(2, dtype=np.float32)[[0, 1, 1, 0]]
    items = pd.DataFrame({"item_id": list("abcd"), "title": ["A", "B", "C", "D"],
                          "div_category": ["X", "Y", "Y", "X"]})
    return Catalogue(items=items, item_index=pd.Index(list("abcd")), item_categories=categories,
                     category_names=["X", "Y"], item_vectors=vectors, promo=np.zeros(4),
                     user_index=pd.Index([]), user_items=[],
                     item_users=sp.csr_matrix((4, 0), dtype=np.float32),
                     events=pd.DataFrame(columns=["item_idx", "timestamp", "weight"]),
                     event_users=np.empty(0, dtype=np.int64),
                     columns=item_columns(items, categories, ["X", "Y"]))


def test_recency_weights_halve_every_five_steps() -> None:
    np.testing.assert_allclose(recency_weights(6), [0.5, 2 ** -0.8, 2 ** -0.6, 2 ** -0.4,
                                                    2 ** -0.2, 1.0], atol=1e-6)


def test_contributions_are_cosine_times_recency() -> None:
    catalogue = _hand_catalogue()
    distinct, contributions = history_contributions(catalogue, np.array([2]), np.array([0, 1]))
    assert distinct.tolist() == [0, 1]
    np.testing.assert_allclose(contributions, [[0.6 * 2 ** -0.2, 0.8]], rtol=1e-6, atol=1e-9)


def test_repeated_history_items_count_once_at_their_latest_position() -> None:
    distinct, contributions = history_contributions(_hand_catalogue(), np.array([2]),
                                                    np.array([1, 0, 1]))
    assert distinct.tolist() == [0, 1]
    np.testing.assert_allclose(contributions, [[0.6 * 2 ** -0.2, 0.8]], rtol=1e-6, atol=1e-9)


def test_explanation_names_the_history_and_the_category_term() -> None:
    texts = explain(_hand_catalogue(), np.array([2, 3]), np.array([1]), np.array([0.0, 0.25]))
    assert texts[0] == "similar to \"B\" (0.80); matches the shopper's interest in Y"
    # item 3 is opposite to nothing in the history (cosine 0 with B): only the category term
    assert texts[1] == "a category this shopper has not bought from: X (adds +0.25 variety)"


def test_explanations_carry_codes_and_an_item_without_a_category_says_so() -> None:
    """Each reason is a Message (code + values) the studio translates; an item in "unknown"
    is never "a category this shopper has not bought from"."""
    import pickle

    from engine.core.messages import Explanation, Message

    catalogue = _hand_catalogue()
    catalogue = Catalogue(**{**catalogue.__dict__, "category_names": ["X", "unknown"],
                             "columns": item_columns(catalogue.items, catalogue.item_categories,
                                                     ["X", "unknown"])})
    texts = explain(catalogue, np.array([2, 3]), np.array([0]), np.array([0.0, 0.0]))
    assert isinstance(texts[0], Explanation)
    assert [p.code for p in texts[0].parts if isinstance(p, Message)] == ["similar_to",
                                                                           "no_category"]
    assert texts[0].endswith("no category given for this item")
    assert "unknown" not in texts[0]
    assert texts[1] == "matches the shopper's interest in X"
    again = pickle.loads(pickle.dumps(texts[0]))
    assert again == texts[0] and [p.code for p in again.parts] == ["similar_to", "no_category"]


def test_twotower_explanations_cite_history_titles(twotower_service: Recommender) -> None:
    user = twotower_service.user_ids[0]
    titles = twotower_service.history(user)["title"].tolist()
    result = twotower_service.recommend(user_id=user, k=5, method="mmr", diversity_weight=0.5)
    first = result.table["explanation"].iloc[0]
    assert first.startswith("carried by \"")
    assert any(title[:20] in first for title in titles)
    history_categories = set(twotower_service.history(user)["category"])
    for category, text in zip(result.table["category"], result.table["explanation"],
                              strict=True):
        is_new = "a category this shopper has not bought from" in text
        assert is_new == (category not in history_categories)
