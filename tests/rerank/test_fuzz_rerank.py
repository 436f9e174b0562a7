"""Fuzzing the re-rankers: any relevance (NaN, inf, ties), shape, weight or quota gives a valid
result or a RequestError with a message — never another exception, never a malformed list."""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.core.errors import RequestError
from engine.rerank import METHODS, rerank, rerank_batch

FUZZ = settings(max_examples=int(os.environ.get("PRISM_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

score = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, 1.0, np.nan, np.inf, -np.inf]))
bound = st.one_of(st.none(), st.integers(-1, 6), st.sampled_from([True, 2.5, "1"]))
weight = st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0, -0.1, 1.5, np.nan]))
k_value = st.one_of(st.integers(-1, 12), st.sampled_from([True, 3.0]))


@st.composite
def requests(draw: st.DrawFn) -> dict:
    n = draw(st.integers(0, 9))
    n_categories = draw(st.integers(1, 4))
    relevance = draw(arrays(np.float64, (n,), elements=score))
    vectors = draw(st.one_of(st.none(), arrays(np.float64, (n, 3), elements=score)))
    categories = draw(st.one_of(st.none(), arrays(
        np.float64, (n, n_categories), elements=st.sampled_from([0.0, 0.5, 1.0, -1.0]))))
    target = draw(st.one_of(st.none(), arrays(
        np.float64, (draw(st.sampled_from([n_categories, n_categories + 1])),),
        elements=st.sampled_from([0.0, 0.2, 1.0, np.nan]))))
    quotas = draw(st.one_of(st.none(), st.dictionaries(
        st.integers(-1, n_categories), st.tuples(bound, bound), max_size=3)))
    return {"method": draw(st.sampled_from([*METHODS, "random"])), "relevance": relevance,
            "k": draw(k_value), "diversity_weight": draw(weight), "item_vectors": vectors,
            "item_categories": categories, "target": target, "quotas": quotas}


def check_result(order: np.ndarray, n: int, k: int) -> None:
    assert len(order) == min(k, n)
    assert len(set(order.tolist())) == len(order)
    assert ((order >= 0) & (order < n)).all()


@FUZZ
@given(request=requests())
def test_rerank_valid_or_request_error(request: dict) -> None:
    n, k = len(request["relevance"]), request["k"]
    try:
        result = rerank(request.pop("method"), request.pop("relevance"), request.pop("k"),
                        request.pop("diversity_weight"), **request)
    except RequestError as exc:
        assert str(exc).strip()
        return
    check_result(result.order, n, k)
    assert np.isfinite(result.objective).all() or request["quotas"] is not None


@st.composite
def batch_requests(draw: st.DrawFn) -> dict:
    n_items, n_users = draw(st.integers(1, 8)), draw(st.integers(0, 4))
    n, n_categories = draw(st.integers(0, n_items)), draw(st.integers(1, 3))
    rows = [draw(st.permutations(range(n_items)))[:n] for _ in range(n_users)]
    candidates = np.array(rows, dtype=np.int64).reshape(n_users, n)
    if n_users and n and draw(st.booleans()):  # an index outside the catalogue
        candidates[0, 0] = draw(st.sampled_from([-1, n_items]))
    relevance = draw(arrays(np.float64, (n_users, n), elements=score))
    vectors = draw(st.one_of(st.none(), arrays(np.float64, (n_items, 2), elements=score)))
    categories = draw(st.one_of(st.none(), arrays(
        np.float64, (n_items, n_categories), elements=st.sampled_from([0.0, 1.0]))))
    targets = draw(st.one_of(st.none(), arrays(
        np.float64, (n_users, n_categories), elements=st.sampled_from([0.0, 1.0]))))
    return {"method": draw(st.sampled_from(METHODS)), "relevance": relevance,
            "candidates": candidates, "k": draw(k_value), "diversity_weight": draw(weight),
            "item_vectors": vectors, "item_categories": categories, "targets": targets}


@FUZZ
@given(request=batch_requests())
def test_rerank_batch_valid_or_request_error(request: dict) -> None:
    candidates, k = request["candidates"], request["k"]
    try:
        lists = rerank_batch(device="numpy", **request)
    except RequestError as exc:
        assert str(exc).strip()
        return
    assert lists.shape == (len(candidates), min(k, candidates.shape[1]))
    for row, chosen in zip(candidates, lists, strict=True):
        assert set(chosen.tolist()) <= set(row.tolist())
        assert len(set(chosen.tolist())) == len(chosen)
