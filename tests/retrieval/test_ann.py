"""Tests for engine.retrieval.ann: exact search against brute-force numpy, FAISS recall
when installed."""

from __future__ import annotations

import builtins

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.errors import ConfigError, RequestError
from engine.retrieval import ann
from engine.retrieval.ann import ExactIndex, build_index, recall_at_n


def brute_force(items: np.ndarray, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    scores = queries.astype(np.float64) @ items.astype(np.float64).T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :n]
    return np.take_along_axis(scores, order, axis=1), order


def clustered(n_items: int, n_queries: int, dim: int = 16, n_clusters: int = 20,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around random centres: the shape ANN indexes are built for."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    items = centres[rng.integers(0, n_clusters, n_items)] + 0.3 * rng.normal(size=(n_items, dim))
    queries = centres[rng.integers(0, n_clusters, n_queries)] + 0.3 * rng.normal(
        size=(n_queries, dim))
    unit = lambda x: (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)  # noqa: E731
    return unit(items), unit(queries)


def test_exact_matches_hand_computed_example() -> None:
    items = np.array([[1, 0], [0, 1], [1, 1], [-1, 0]], dtype=np.float32)
    scores, indices = ExactIndex(items, device="cpu").search(np.array([[2.0, 1.0]]), 3)
    assert indices.tolist() == [[2, 0, 1]]
    np.testing.assert_allclose(scores, [[3.0, 2.0, 1.0]], atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(n_items=st.integers(1, 60), n_queries=st.integers(1, 9), n=st.integers(1, 70),
       item_block=st.integers(1, 17), query_block=st.integers(1, 4), seed=st.integers(0, 99))
def test_exact_blocks_agree_with_brute_force(n_items: int, n_queries: int, n: int,
                                             item_block: int, query_block: int,
                                             seed: int) -> None:
    rng = np.random.default_rng(seed)
    items = rng.normal(size=(n_items, 5)).astype(np.float32)
    queries = rng.normal(size=(n_queries, 5)).astype(np.float32)
    index = ExactIndex(items, device="cpu", item_block=item_block, query_block=query_block)
    scores, indices = index.search(queries, n)
    want_scores, _ = brute_force(items, queries, n)
    width = min(n, n_items)
    assert scores.shape == indices.shape == (n_queries, n)
    np.testing.assert_allclose(scores[:, :width], want_scores, rtol=1e-5, atol=1e-5)
    # each returned index carries the score it claims (ties may pick either item)
    got = np.take_along_axis(queries @ items.T, indices[:, :width], axis=1)
    np.testing.assert_allclose(got, scores[:, :width], rtol=1e-5, atol=1e-5)
    assert (indices[:, width:] == -1).all() and np.isneginf(scores[:, width:]).all()
    assert all(len(set(row)) == width for row in indices[:, :width].tolist())


def test_recall_at_n_counts_overlap_and_ignores_pads() -> None:
    found = np.array([[1, 2, 3], [4, -1, -1]])
    truth = np.array([[3, 2, 9], [4, 5, 6]])
    assert recall_at_n(found, truth) == pytest.approx(3 / 6)


def test_bad_inputs_raise_clear_errors() -> None:
    index = ExactIndex(np.eye(3, dtype=np.float32), device="cpu")
    with pytest.raises(RequestError, match="3 columns"):
        index.search(np.ones((1, 2)), 1)
    with pytest.raises(RequestError, match="positive integer"):
        index.search(np.ones((1, 3)), 0)
    with pytest.raises(RequestError, match="NaN"):
        index.search(np.array([[np.nan, 0, 0]]), 1)
    with pytest.raises(ConfigError, match="ann kind"):
        build_index(np.eye(3), kind="hnsw")


def test_auto_uses_exact_below_threshold_or_without_faiss() -> None:
    assert isinstance(build_index(np.eye(4, dtype=np.float32)), ExactIndex)


def test_faiss_kind_without_faiss_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_faiss(name: str, *args, **kwargs):
        if name == "faiss":
            raise ImportError("No module named 'faiss'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_faiss)
    monkeypatch.setattr(ann, "faiss_available", lambda: False)
    with pytest.raises(ConfigError, match=r"pip install prism-studio\[ann\]"):
        build_index(np.eye(4, dtype=np.float32), kind="faiss")
    big = np.zeros((ann.AUTO_FAISS_MIN_ITEMS, 2), dtype=np.float32)
    assert isinstance(build_index(big, kind="auto", device="cpu"), ExactIndex)


def test_faiss_tuned_recall_reaches_target_on_clustered_data() -> None:
    pytest.importorskip("faiss", reason="faiss-cpu not installed (pip install prism-studio[ann])")
    items, queries = clustered(6000, 200)
    index = build_index(items, kind="faiss", device="cpu", tune_queries=queries[:100],
                        tune_n=50, target_recall=0.95)
    _, truth = ExactIndex(items, device="cpu").search(queries[100:], 50)
    _, found = index.search(queries[100:], 50)
    assert recall_at_n(found, truth) >= 0.9  # held-out queries: close to the tuned 0.95
    assert index.nprobe < index.n_lists  # tuning stopped before scanning everything


def test_faiss_full_probe_is_exact() -> None:
    pytest.importorskip("faiss", reason="faiss-cpu not installed (pip install prism-studio[ann])")
    items, queries = clustered(2000, 20, seed=1)
    index = ann.FaissIndex(items, n_lists=10, nprobe=10)
    scores, found = index.search(queries, 20)
    want_scores, _ = brute_force(items, queries, 20)
    np.testing.assert_allclose(scores, want_scores, rtol=1e-4, atol=1e-4)
    with pytest.raises(ConfigError, match="n_lists"):
        ann.FaissIndex(items, n_lists=5000)
