"""Metrics: hand-computed tiny cases for every metric, and a naive loop reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.core.errors import ConfigError, DataError
from engine.metrics import (
    arp_at_k,
    catalog_coverage,
    category_coverage_at_k,
    category_entropy_at_k,
    compute_metrics,
    gini_index,
    hit_at_k,
    ild_at_k,
    ild_category_at_k,
    long_tail_items,
    miscalibration_at_k,
    mrr_at_k,
    ndcg_at_k,
    novelty_at_k,
    precision_at_k,
    recall_at_k,
    tail_share_at_k,
)

TOPK = np.array([[0, 1, 2, 3], [4, 5, -1, -1]])
TRUTH = [np.array([1, 3, 9]), np.array([7])]
# items 0, 1 → category 0; 2 → 1; 3 → spread over 1 and 2; 4, 5 → 2
CATS = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0.5, 0.5], [0, 0, 1], [0, 0, 1.0]])
L2 = math.log2


def test_relevance_metrics_by_hand() -> None:
    # user 0 hits at ranks 2 and 4 out of 3 held-out items; user 1 misses
    dcg = 1 / L2(3) + 1 / L2(5)
    idcg = 1 + 1 / L2(3) + 1 / L2(4)
    np.testing.assert_allclose(ndcg_at_k(TOPK, TRUTH, 4), [dcg / idcg, 0], atol=1e-12)
    np.testing.assert_allclose(precision_at_k(TOPK, TRUTH, 4), [0.5, 0], atol=1e-12)
    np.testing.assert_allclose(recall_at_k(TOPK, TRUTH, 4), [2 / 3, 0], atol=1e-12)
    np.testing.assert_allclose(hit_at_k(TOPK, TRUTH, 4), [1, 0], atol=1e-12)
    np.testing.assert_allclose(mrr_at_k(TOPK, TRUTH, 4), [0.5, 0], atol=1e-12)


def test_relevance_metrics_truncate_to_k() -> None:
    # at k = 2 only the hit at rank 2 counts; IDCG covers min(|T|, K) = 2 slots
    np.testing.assert_allclose(ndcg_at_k(TOPK, TRUTH, 2)[0], (1 / L2(3)) / (1 + 1 / L2(3)),
                               atol=1e-12)
    np.testing.assert_allclose(precision_at_k(TOPK, TRUTH, 2)[0], 0.5, atol=1e-12)
    np.testing.assert_allclose(recall_at_k(TOPK, TRUTH, 2)[0], 1 / 3, atol=1e-12)


def test_ndcg_is_one_for_a_perfect_list_and_padding_never_hits() -> None:
    topk = np.array([[7, 8, -1]])
    np.testing.assert_allclose(ndcg_at_k(topk, [np.array([8, 7])]), [1.0], atol=1e-12)
    assert hit_at_k(np.array([[-1, -1]]), [np.array([0])])[0] == 0


def test_category_coverage_and_entropy_by_hand() -> None:
    # user 0 mass = [2, 1.5, 0.5] over 4 items; user 1 is all category 2
    np.testing.assert_allclose(category_coverage_at_k(TOPK, CATS), [3, 1], atol=1e-12)
    share = np.array([0.5, 0.375, 0.125])
    entropy = -(share * np.log(share)).sum()
    np.testing.assert_allclose(category_entropy_at_k(TOPK, CATS), [entropy, 0], atol=1e-12)
    np.testing.assert_allclose(category_entropy_at_k(TOPK, CATS, normalize=True),
                               [entropy / math.log(4), 0], atol=1e-12)


def test_ild_category_by_hand() -> None:
    # pairs of user 0: (0,1) same, four pairs disjoint, (2,3) cosine 1/√2
    expected = (0 + 4 * 1 + (1 - 1 / math.sqrt(2))) / 6
    np.testing.assert_allclose(ild_category_at_k(TOPK, CATS), [expected, 0], atol=1e-12)


def test_ild_vectors_by_hand() -> None:
    vectors = np.array([[1.0, 0], [0, 1], [2, 2]])
    expected = (1 + 2 * (1 - 1 / math.sqrt(2))) / 3
    np.testing.assert_allclose(ild_at_k(np.array([[0, 1, 2], [0, -1, -1]]), vectors),
                               [expected, 0], atol=1e-12)


def test_catalog_coverage_and_gini_by_hand() -> None:
    assert catalog_coverage(TOPK, 10) == pytest.approx(0.6)
    # counts [2, 1, 1, 0] sorted [0, 1, 1, 2]: Σ(2i − n − 1)x = −1 + 1 + 6 = 6 over n·Σx = 16
    assert gini_index(np.array([[0, 1], [0, 2]]), 4) == pytest.approx(6 / 16)
    assert gini_index(np.array([[0, 1], [2, 3]]), 4) == pytest.approx(0.0)
    assert gini_index(np.array([[0], [0], [0]]), 3) > gini_index(np.array([[0], [1], [1]]), 3)


def test_popularity_metrics_by_hand() -> None:
    pop = np.array([6, 2, 0, 0])  # total 8; unseen items count as seen once
    topk = np.array([[0, 1], [2, -1]])
    np.testing.assert_allclose(novelty_at_k(topk, pop), [(-L2(6 / 8) - L2(2 / 8)) / 2, 3],
                               atol=1e-12)
    np.testing.assert_allclose(arp_at_k(topk, pop), [4, 0], atol=1e-12)


def test_long_tail_by_hand() -> None:
    pop = np.array([5, 1, 9, 0, 3, 3, 2, 0, 0, 1])  # head = the 2 most popular: items 2, 0
    assert np.flatnonzero(~long_tail_items(pop)).tolist() == [0, 2]
    np.testing.assert_allclose(tail_share_at_k(np.array([[0, 2, 4, 5]]), pop), [0.5], atol=1e-12)
    assert np.flatnonzero(~long_tail_items(np.ones(5))).tolist() == [0]  # ties: lower index


def test_miscalibration_by_hand() -> None:
    p = np.array([[0.5, 0.5, 0.0]])
    # list [2, 3]: q = [0, .75, .25], q̃ = .99 q + .01 p = [.005, .7475, .2475]
    expected = 0.5 * math.log(0.5 / 0.005) + 0.5 * math.log(0.5 / 0.7475)
    np.testing.assert_allclose(miscalibration_at_k(np.array([[2, 3]]), CATS, p), [expected],
                               atol=1e-12)
    assert miscalibration_at_k(np.array([[0, 1]]), CATS, [[1, 0, 0]])[0] == pytest.approx(0)


def _naive(topk, truth, k, cats, pop, vectors, dist):
    """Plain loops, one user and one item at a time."""
    rows = []
    shares = np.maximum(pop, 1) / pop.sum()
    tail = long_tail_items(pop)
    for items, held in zip(topk, truth, strict=True):
        items = [int(i) for i in items[:k] if i >= 0]
        held = set(held.tolist())
        hits = [i in held for i in items]
        dcg = sum(1 / math.log2(r + 2) for r, h in enumerate(hits) if h)
        idcg = sum(1 / math.log2(r + 2) for r in range(min(len(held), k)))
        first = next((r for r, h in enumerate(hits) if h), None)
        mass = sum((cats[i] for i in items), np.zeros(cats.shape[1]))
        share = mass / mass.sum()
        pairs = [(a, b) for x, a in enumerate(items) for b in items[x + 1:]]

        def cos(u, v):
            return u @ v / (np.linalg.norm(u) * np.linalg.norm(v))
        p = dist[len(rows)] / dist[len(rows)].sum()
        q_mix = 0.99 * share + 0.01 * p
        rows.append([
            dcg / idcg if idcg else 0, sum(hits) / max(len(held), 1), sum(hits) / k,
            float(any(hits)), 0 if first is None else 1 / (first + 1),
            sum(m > 1e-12 for m in mass), -sum(s * math.log(s) for s in share if s > 0),
            np.mean([1 - cos(cats[a], cats[b]) for a, b in pairs]),
            np.mean([1 - cos(vectors[a], vectors[b]) for a, b in pairs]),
            np.mean([-math.log2(shares[i]) for i in items]), np.mean([pop[i] for i in items]),
            np.mean([tail[i] for i in items]),
            sum(pc * math.log(pc / qc) for pc, qc in zip(p, q_mix, strict=True) if pc > 0),
        ])
    return np.array(rows)


def test_vectorised_metrics_match_naive_loops() -> None:
    rng = np.random.default_rng(7)
    n_users, n_items, k = 30, 40, 5
    topk = np.stack([rng.permutation(n_items)[:k] for _ in range(n_users)])
    truth = [rng.choice(n_items, size=rng.integers(1, 6), replace=False) for _ in range(n_users)]
    cats = rng.dirichlet(np.ones(6) * 0.3, size=n_items)
    pop = rng.integers(0, 50, size=n_items).astype(float)
    vectors = rng.normal(size=(n_items, 8))
    dist = rng.random((n_users, 6))
    fast = np.column_stack([
        ndcg_at_k(topk, truth, k), recall_at_k(topk, truth, k), precision_at_k(topk, truth, k),
        hit_at_k(topk, truth, k), mrr_at_k(topk, truth, k), category_coverage_at_k(topk, cats),
        category_entropy_at_k(topk, cats), ild_category_at_k(topk, cats),
        ild_at_k(topk, vectors), novelty_at_k(topk, pop), arp_at_k(topk, pop),
        tail_share_at_k(topk, pop), miscalibration_at_k(topk, cats, dist),
    ])
    np.testing.assert_allclose(fast, _naive(topk, truth, k, cats, pop, vectors, dist), atol=1e-9)
    counts = np.bincount(topk.ravel(), minlength=n_items)
    assert catalog_coverage(topk, n_items) == pytest.approx((counts > 0).mean())
    xs = np.sort(counts)
    naive_gini = sum(abs(a - b) for a in xs for b in xs) / (2 * n_items * xs.sum())
    assert gini_index(topk, n_items) == pytest.approx(naive_gini)


def test_compute_metrics_keys_and_means() -> None:
    pop = np.array([5, 4, 3, 2, 1, 1.0])
    out = compute_metrics(TOPK, TRUTH, k=4, item_categories=CATS, item_popularity=pop,
                          item_vectors=np.eye(6), user_category_dist=np.ones((2, 3)))
    expected = ["ndcg@4", "recall@4", "precision@4", "hit@4", "mrr@4", "category_coverage@4",
                "category_entropy@4", "ild@4", "catalog_coverage@4", "gini@4", "novelty@4",
                "arp@4", "tail_share@4", "miscalibration@4", "ild_vec@4"]
    assert list(out) == expected
    assert out["recall@4"] == pytest.approx((2 / 3 + 0) / 2)  # both users have truth
    assert out["category_coverage@4"] == pytest.approx(2.0)
    no_vec = compute_metrics(TOPK, [np.array([1]), np.array([])], k=4, item_categories=CATS,
                             item_popularity=pop)
    assert "ild_vec@4" not in no_vec
    assert no_vec["hit@4"] == 1.0  # the user without held-out items is left out
    assert np.isfinite(no_vec["miscalibration@4"])


def test_bad_input_is_named() -> None:
    with pytest.raises(ConfigError, match="k must be a whole number >= 1"):
        ndcg_at_k(TOPK, TRUTH, 0)
    with pytest.raises(DataError, match="truth has 1 users but topk has 2 rows"):
        ndcg_at_k(TOPK, TRUTH[:1])
    with pytest.raises(DataError, match="2-D"):
        ndcg_at_k(np.array([1, 2]), TRUTH)
    with pytest.raises(DataError, match="item_categories has only 6 rows"):
        category_coverage_at_k(np.array([[9]]), CATS)
    with pytest.raises(DataError, match="item_popularity has 2 items"):
        compute_metrics(TOPK, TRUTH, k=4, item_categories=CATS, item_popularity=np.ones(2))
    with pytest.raises(DataError, match="no user has a held-out item"):
        compute_metrics(TOPK, [np.array([]), np.array([])], k=4, item_categories=CATS,
                        item_popularity=np.ones(6))
    with pytest.raises(DataError, match="row 0 has no category mass"):
        miscalibration_at_k(TOPK, CATS, np.zeros((2, 3)))


def test_compute_metrics_intervals_bracket_each_shopper_mean() -> None:
    rng = np.random.default_rng(3)
    n_users, n_items = 60, 6
    topk = np.array([rng.permutation(n_items)[:4] for _ in range(n_users)])
    truth = [np.array([rng.integers(n_items)]) for _ in range(n_users)]
    pop = np.array([5, 4, 3, 2, 1, 1.0])
    out = compute_metrics(topk, truth, k=4, item_categories=CATS, item_popularity=pop,
                          intervals=300)
    plain = compute_metrics(topk, truth, k=4, item_categories=CATS, item_popularity=pop)
    assert [key for key in out if not key.endswith((" low", " high"))] == list(plain)
    for name in ("ndcg@4", "hit@4", "category_entropy@4"):
        assert out[f"{name} low"] < out[name] < out[f"{name} high"]
        assert out[name] == pytest.approx(plain[name], abs=1e-12)
    assert "catalog_coverage@4 low" not in out  # one number for the whole catalogue
    same = compute_metrics(np.tile(topk[:1], (n_users, 1)), [truth[0]] * n_users, k=4,
                           item_categories=CATS, item_popularity=pop, intervals=300)
    assert same["ndcg@4 low"] == pytest.approx(same["ndcg@4"], abs=1e-12)  # no spread
    assert same["ndcg@4 high"] == pytest.approx(same["ndcg@4"], abs=1e-12)
