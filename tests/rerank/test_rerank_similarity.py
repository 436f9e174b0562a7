"""Graded similarity for models without item vectors: the diversity slider moves smoothly."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from engine.evaluation.protocol import RerankSpec, rank_users, rerank_vectors
from engine.metrics import category_entropy_at_k
from engine.models.baselines import EASE
from engine.rerank.similarity import cooccurrence_vectors, graded_item_vectors
from engine.runs.data import prepare_data


def test_blend_is_the_weighted_cosine_of_its_parts() -> None:
    rng = np.random.default_rng(0)
    cats = np.eye(3)[rng.integers(0, 3, 12)]
    text = rng.normal(size=(12, 5))
    vectors = graded_item_vectors(cats, text_embeddings=text, category_share=0.3)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-12)
    unit = text / np.linalg.norm(text, axis=1, keepdims=True)
    expected = 0.3 * cats @ cats.T + 0.7 * unit @ unit.T
    np.testing.assert_allclose(vectors @ vectors.T, expected, atol=1e-12)


def test_cooccurrence_brings_items_bought_together_close() -> None:
    # shoppers 0-2 buy items 0 and 1; shoppers 3-5 buy items 2 and 3; item 4 nobody
    rows = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    cols = [0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3]
    matrix = sp.csr_matrix((np.ones(12), (rows, cols)), shape=(6, 5))
    vectors = cooccurrence_vectors(matrix)
    sims = vectors @ vectors.T
    assert sims[0, 1] == pytest.approx(1.0, abs=1e-9)
    assert abs(sims[0, 2]) < 1e-9
    assert np.allclose(vectors[4], 0)  # no interactions: no behavioural direction
    graded = graded_item_vectors(np.eye(2)[[0, 1, 0, 1, 0]], matrix)
    np.testing.assert_allclose(np.linalg.norm(graded, axis=1), 1.0, atol=1e-12)


@pytest.fixture(scope="module")
def ease_and_data():
    from engine.data import build_dataset, generate_shop

    items, events = generate_shop(n_items=300, n_users=200, seed=1)
    _, data = prepare_data(build_dataset(items, events, name="shop"), "leave-last-out")
    return EASE().fit(data), data


@pytest.mark.parametrize("method", ["dpp", "mmr"])
def test_ease_lists_change_step_by_step_with_the_weight(ease_and_data, method: str) -> None:
    """With category rows alone, DPP jumps to one item per category at the first step and
    stays there; graded similarity changes the lists at every step of the weight, and the
    lists' category entropy rises (up to its ceiling ln 10, ten different categories)."""
    model, data = ease_and_data
    assert model.item_vectors() is None and rerank_vectors(model, data).shape[0] == data.n_items
    users, _ = data.truth(data.test)
    weights = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    lists = [rank_users(model, data, users, k=10, rerank=RerankSpec(method, w))
             for w in weights]
    for before, after in zip(lists, lists[1:], strict=False):
        assert (before != after).any(axis=1).mean() > 0.05  # a step moves many shoppers' lists
    entropy = [category_entropy_at_k(top, data.item_categories).mean() for top in lists]
    assert all(b >= a - 1e-9 for a, b in zip(entropy, entropy[1:], strict=False)), entropy
    assert entropy[-1] > entropy[0] + 0.3


def test_plan_arrays_share_tables_that_are_normalised_already() -> None:
    """A million-item catalogue's one-category rows and unit item vectors are read as they
    are: no normalised copy of either is kept beside them."""
    from engine.rerank.plan import plan_arrays

    rng = np.random.default_rng(0)
    categories = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 50)]
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    arrays = plan_arrays(categories, vectors)
    assert arrays["item_categories"] is categories
    assert arrays["unit_categories"] is categories
    assert arrays["unit_vectors"] is vectors
    mixed = categories.copy()
    mixed[0] = [0.5, 0.5, 0.0, 0.0]
    scaled = plan_arrays(mixed, 3 * vectors)
    assert scaled["item_categories"] is mixed  # rows still sum to one
    np.testing.assert_allclose(scaled["unit_categories"][0], [2 ** -0.5] * 2 + [0, 0],
                               atol=1e-6)
    assert not np.shares_memory(scaled["unit_vectors"], vectors)
    np.testing.assert_allclose(scaled["unit_vectors"], vectors, atol=1e-6)
