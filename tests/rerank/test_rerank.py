"""Re-rankers: each method against a slow, obviously-correct reference, plus invariants."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.errors import RequestError
from engine.metrics import category_entropy_at_k
from engine.rerank import METHODS, rerank, rerank_batch
from engine.rerank.greedy import DPP_JITTER
from engine.rerank.scaling import min_max


def _scaled(rel: np.ndarray) -> np.ndarray:
    """The references scale relevance with the engine's one scaler (its own tests pin it,
    constant rows included), so a constant row means the same here as in serving."""
    return min_max(np.asarray(rel, dtype=np.float64))


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _greedy_reference(rel, k, objective, allowed=lambda chosen, i: True):
    """Slot by slot, the candidate with the best list objective; ties → relevance, index."""
    chosen: list[int] = []
    for _ in range(min(k, len(rel))):
        options = [i for i in range(len(rel)) if i not in chosen and allowed(chosen, i)]
        chosen.append(max(options, key=lambda i: (objective(chosen, i), rel[i], -i)))
    return chosen


def _mmr_reference(rel, k, w, vectors):
    r = _scaled(rel)

    def gain(chosen, i):
        div = max((_cos(vectors[i], vectors[j]) for j in chosen), default=0.0)
        return (1 - w) * r[i] - w * div
    return _greedy_reference(rel, k, gain)


def _dpp_kernel(rel, w, vectors):
    theta = (1 - w) / (2 * w)
    n = len(rel)
    sim = np.array([[(1 + _cos(vectors[a], vectors[b])) / 2 for b in range(n)] for a in range(n)])
    sim = (sim + DPP_JITTER * np.eye(n)) / (1 + DPP_JITTER)
    quality = np.exp(theta * _scaled(rel))
    return quality[:, None] * sim * quality[None, :]


def _logdet(kernel, items):
    return np.linalg.slogdet(kernel[np.ix_(items, items)])[1] if items else 0.0


def _dpp_reference(rel, k, w, vectors):
    kernel = _dpp_kernel(rel, w, vectors)
    return _greedy_reference(rel, k, lambda chosen, i: _logdet(kernel, chosen + [i]))


def _kl(p, q):
    return sum(pc * math.log(pc / (0.99 * qc + 0.01 * pc)) for pc, qc in zip(p, q, strict=True)
               if pc > 0)


def _calibrated_reference(rel, k, w, cats, target):
    r, p = _scaled(rel), target / target.sum()

    def list_objective(chosen, i):
        items = chosen + [i]
        q = sum(cats[j] for j in items) / len(items)
        return (1 - w) * sum(r[j] for j in items) - w * _kl(p, q)
    return _greedy_reference(rel, k, list_objective)


def _quota_feasible(labels, chosen, quotas, n_slots):
    """Can `chosen` be completed to n_slots items meeting every (floor, cap)? (one-hot)"""
    counts = Counter(labels[i] for i in chosen)
    left = Counter(labels[i] for i in range(len(labels)) if i not in chosen)
    remaining, need, room = n_slots - len(chosen), 0, 0
    for cat in set(labels.tolist()) | set(quotas):
        floor, cap = quotas.get(cat, (None, None))
        floor, cap = floor or 0, math.inf if cap is None else cap
        if counts[cat] > cap or floor - counts[cat] > left[cat]:
            return False
        need += max(0, floor - counts[cat])
        room += min(cap - counts[cat], left[cat])
    return need <= remaining <= room


def _quota_reference(rel, k, w, cats, quotas):
    labels, n_slots = cats.argmax(axis=1), min(k, len(rel))
    r = _scaled(rel)

    def gain(chosen, i):
        div = max((_cos(cats[i], cats[j]) for j in chosen), default=0.0)
        return (1 - w) * r[i] - w * div
    return _greedy_reference(rel, k, gain, lambda c, i: _quota_feasible(labels, c + [i], quotas,
                                                                        n_slots))


def _case(seed, n=30, d=12, n_cats=5):
    rng = np.random.default_rng(seed)
    return (rng.random(n), rng.normal(size=(n, d)),
            np.eye(n_cats)[rng.integers(0, n_cats, n)], rng.dirichlet(np.ones(n_cats)))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("w", [0.0, 0.3, 0.7, 1.0])
def test_mmr_matches_reference(seed: int, w: float) -> None:
    rel, vectors, _, _ = _case(seed)
    got = rerank("mmr", rel, 8, w, item_vectors=vectors).order
    assert got.tolist() == _mmr_reference(rel, 8, w, vectors)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("w", [0.3, 0.6, 1.0])
def test_dpp_matches_log_det_reference(seed: int, w: float) -> None:
    rel, vectors, _, _ = _case(seed)
    result = rerank("dpp", rel, 8, w, item_vectors=vectors)
    assert result.order.tolist() == _dpp_reference(rel, 8, w, vectors)
    # per slot: objective = w · (log det gain of L), split into (1 − w)·rel + w·log d²
    kernel, order = _dpp_kernel(rel, w, vectors), result.order.tolist()
    gains = [w * (_logdet(kernel, order[:t + 1]) - _logdet(kernel, order[:t]))
             for t in range(len(order))]
    np.testing.assert_allclose(result.objective, gains, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(result.relevance_part, (1 - w) * _scaled(rel)[order], atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("w", [0.0, 0.2, 0.5, 0.9])
def test_calibrated_matches_reference(seed: int, w: float) -> None:
    rel, _, cats, target = _case(seed)
    got = rerank("calibrated", rel, 8, w, item_categories=cats, target=target)
    assert got.order.tolist() == _calibrated_reference(rel, 8, w, cats, target)
    last_q = cats[got.order].mean(axis=0)
    assert got.diversity_part[-1] == pytest.approx(-w * _kl(target, last_q))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("w", [0.0, 0.5])
def test_quota_matches_reference(seed: int, w: float) -> None:
    rel, _, cats, _ = _case(seed)
    quotas = {0: (2, None), 1: (None, 1), 3: (1, 2)}
    got = rerank("quota", rel, 8, w, item_categories=cats, quotas=quotas).order
    assert got.tolist() == _quota_reference(rel, 8, w, cats, quotas)


def test_dpp_falls_back_to_relevance_when_the_kernel_is_spent() -> None:
    # three categories: after one item of each, no diversity gain is left
    cats = np.eye(3)[[0, 0, 1, 1, 2, 2, 0]]
    rel = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    result = rerank("dpp", rel, 6, 0.5, item_categories=cats)
    assert result.order.tolist() == [0, 2, 4, 1, 3, 5]
    assert result.fallback.tolist() == [False] * 3 + [True] * 3
    assert np.all(result.diversity_part[3:] == 0)


def test_parts_add_up_and_mmr_starts_with_the_best_item() -> None:
    rel, vectors, cats, target = _case(11)
    for method in METHODS:
        result = rerank(method, rel, 6, 0.4, item_vectors=vectors, item_categories=cats,
                        target=target)
        np.testing.assert_allclose(result.objective,
                                   result.relevance_part + result.diversity_part, atol=1e-12)
    mmr = rerank("mmr", rel, 6, 1.0, item_vectors=vectors)
    assert mmr.order[0] == rel.argmax() and mmr.diversity_part[0] == 0


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 25), k=st.integers(1, 30), w=st.floats(0, 1),
       method=st.sampled_from(METHODS), seed=st.integers(0, 10_000), ties=st.booleans())
def test_lists_are_unique_full_and_plain_at_weight_zero(n, k, w, method, seed, ties) -> None:
    rng = np.random.default_rng(seed)
    rel = rng.integers(0, 3, n).astype(float) if ties else rng.normal(size=n)
    arrays = {"item_vectors": rng.normal(size=(n, 4)),
              "item_categories": np.eye(4)[rng.integers(0, 4, n)], "target": np.ones(4)}
    order = rerank(method, rel, k, w, **arrays).order
    assert len(order) == min(k, n) and len(set(order.tolist())) == len(order)
    assert order.min() >= 0 and order.max() < n
    plain = rerank(method, rel, k, 0.0, **arrays).order
    assert plain.tolist() == np.argsort(-rel, kind="stable")[:k].tolist()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 20), k=st.integers(1, 12), w=st.floats(0, 1),
       seed=st.integers(0, 10_000), raw=st.dictionaries(
           st.integers(0, 3), st.tuples(st.none() | st.integers(0, 4),
                                        st.none() | st.integers(0, 6)), max_size=3))
def test_quotas_are_met_or_refused(n, k, w, seed, raw) -> None:
    rng = np.random.default_rng(seed)
    rel, labels = rng.normal(size=n), rng.integers(0, 4, n)
    quotas = {c: (f, cap) for c, (f, cap) in raw.items() if f is None or cap is None or f <= cap}
    n_slots = min(k, n)
    if not _quota_feasible(labels, [], quotas, n_slots):
        with pytest.raises(RequestError, match="quota"):
            rerank("quota", rel, k, w, item_categories=np.eye(4)[labels], quotas=quotas)
        return
    order = rerank("quota", rel, k, w, item_categories=np.eye(4)[labels], quotas=quotas).order
    counts = Counter(labels[order].tolist())
    assert len(order) == n_slots
    for cat, (floor, cap) in quotas.items():
        assert floor is None or counts[cat] >= floor
        assert cap is None or counts[cat] <= cap


@pytest.mark.parametrize("method", ["mmr", "dpp", "calibrated"])
def test_category_entropy_rises_with_weight(method: str) -> None:
    """The most relevant candidates crowd one category, so diversifying must spread them."""
    weights, entropies = [0.0, 0.25, 0.5, 0.75, 1.0], []
    for w in weights:
        per_seed = []
        for seed in range(5):
            rng = np.random.default_rng(seed)
            labels = rng.integers(0, 6, 60)
            rel = rng.random(60) + (labels == 0)
            cats = np.eye(6)[labels]
            vectors = cats + 0.1 * rng.normal(size=(60, 6))
            order = rerank(method, rel, 10, w, item_vectors=vectors, item_categories=cats,
                           target=np.ones(6)).order
            per_seed.append(category_entropy_at_k(order[None], cats)[0])
        entropies.append(np.mean(per_seed))
    assert all(b >= a - 1e-9 for a, b in zip(entropies, entropies[1:], strict=False))
    assert entropies[-1] > entropies[0] + 0.5


@pytest.mark.parametrize("method", ["none", "mmr", "dpp", "calibrated"])
@pytest.mark.parametrize("device", ["numpy", "cpu"])
def test_batch_matches_one_list_at_a_time(method: str, device: str) -> None:
    rng = np.random.default_rng(3)
    n_items, n_users, n_cand = 80, 6, 25
    vectors, cats = rng.normal(size=(n_items, 8)), np.eye(5)[rng.integers(0, 5, n_items)]
    candidates = np.stack([rng.permutation(n_items)[:n_cand] for _ in range(n_users)])
    rel, targets = rng.random((n_users, n_cand)), rng.dirichlet(np.ones(5), size=n_users)
    got = rerank_batch(method, rel, candidates, 7, 0.5, vectors, cats, targets, device=device)
    for b in range(n_users):
        one = rerank(method, rel[b], 7, 0.5, item_vectors=vectors[candidates[b]],
                     item_categories=cats[candidates[b]], target=targets[b])
        assert got[b].tolist() == candidates[b][one.order].tolist()


def test_batch_with_quotas_goes_user_by_user() -> None:
    rng = np.random.default_rng(4)
    cats = np.eye(3)[rng.integers(0, 3, 40)]
    candidates = np.stack([rng.permutation(40)[:20] for _ in range(3)])
    got = rerank_batch("quota", rng.random((3, 20)), candidates, 6, 0.2, None, cats,
                       quotas={2: (3, None)})
    assert got.shape == (3, 6)
    assert all((cats[row].argmax(axis=1) == 2).sum() >= 3 for row in got)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"k": 0}, "k must be a whole number >= 1"),
    ({"diversity_weight": 1.5}, r"diversity_weight must be in \[0, 1\]"),
    ({"diversity_weight": float("nan")}, "diversity_weight"),
    ({"method": "random"}, "unknown method 'random'; choose one of"),
    ({"item_vectors": np.ones((3, 2))}, r"item_vectors must have shape \(4, ...\)"),
    ({"relevance": np.array([1.0, np.nan, 0, 0])}, "relevance holds NaN"),
    ({"method": "calibrated", "target": None}, "needs a target"),
    ({"target": np.ones(5)}, r"target must have shape \(2,\): one weight per category"),
    ({"target": np.ones((1, 2))}, r"target must have shape \(2,\):.*got shape \(1, 2\)"),
    ({"target": np.zeros(2)}, "target has no category mass; give at least one category"),
    ({"item_vectors": np.zeros((4, 2))}, "item_vectors row 0 is all zeros"),
    ({"item_categories": -np.eye(2)[[0, 0, 1, 1]]}, "item_categories must hold finite, non-neg"),
    ({"item_categories": np.eye(2)[[0, 0, 1, 1]] * [[1], [0], [1], [1]]},
     "item_categories row 1 has no category mass"),
    ({"quotas": {0: (3, None)}}, r"quotas\[0\]: floor 3 but only \d+ candidates"),
    ({"quotas": {0: (2, None), 1: (2, None)}, "k": 3}, "floors add up to 4, more than .* k=3"),
    ({"quotas": {0: (None, 0), 1: (None, 1)}}, "caps leave only 1"),
    ({"quotas": {0: (2, 1)}}, "floor 2 is above cap 1"),
    ({"quotas": {7: (1, None)}}, "quotas names category 7"),
])
def test_bad_requests_are_named(kwargs: dict, message: str) -> None:
    args = {"method": "quota", "relevance": np.array([0.4, 0.3, 0.2, 0.1]), "k": 4,
            "diversity_weight": 0.5, "item_vectors": None,
            "item_categories": np.eye(2)[[0, 0, 1, 1]], "target": np.ones(2), "quotas": None}
    args.update(kwargs)
    with pytest.raises(RequestError, match=message):
        rerank(args.pop("method"), args.pop("relevance"), args.pop("k"),
               args.pop("diversity_weight"), **args)


def test_methods_say_what_they_need() -> None:
    with pytest.raises(RequestError, match="needs item_vectors or item_categories"):
        rerank("dpp", np.ones(3), 2, 0.5)
    with pytest.raises(RequestError, match="candidates must have the shape"):
        rerank_batch("none", np.ones((2, 3)), np.zeros((2, 4), int), 2, 0.0)
    with pytest.raises(RequestError, match=r"targets must have shape \(2, 2\):.*\(3, 2\)"):
        rerank_batch("calibrated", np.ones((2, 3)), np.zeros((2, 3), int), 2, 0.5,
                     item_categories=np.eye(2), targets=np.ones((3, 2)))
    assert rerank("none", np.array([]), 5, 0.3).order.size == 0


@pytest.mark.parametrize("method", ["none", "mmr", "dpp", "calibrated"])
def test_no_candidates_give_an_empty_list_with_every_method(method: str) -> None:
    cats = np.eye(3)[[0, 1, 2, 0]]
    one = rerank(method, np.zeros(0), 5, 0.5, item_categories=np.zeros((0, 3)),
                 target=np.ones(3))
    assert one.order.size == 0 and one.objective.size == 0
    batch = rerank_batch(method, np.zeros((2, 0)), np.zeros((2, 0), dtype=np.int64), 5, 0.5,
                         item_categories=cats, targets=np.ones((2, 3)))
    assert batch.shape[0] == 2 and (batch < 0).all()
