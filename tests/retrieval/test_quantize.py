"""Tests for engine.retrieval.quantize: storage sizes, error bounds, and rankings close to fp32."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.core.errors import ConfigError, RequestError
from engine.retrieval.quantize import quantize, topk_overlap


def unit_rows(n: int, d: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_int8_hand_example() -> None:
    table = quantize(np.array([[1.27, -0.635, 0.0], [0.0, 0.0, 0.0]]), "int8")
    assert table.values.tolist() == [[127, -64, 0], [0, 0, 0]]  # -63.5 rounds half to even
    np.testing.assert_allclose(table.scale, [0.01, 1.0], atol=1e-6)
    np.testing.assert_allclose(table.scores(np.array([[1.0, 1.0, 1.0]])), [[1.27 - 0.64, 0.0]],
                               atol=1e-6)


def test_nbytes_shrink_as_promised() -> None:
    items = unit_rows(1000, 64)
    fp32, fp16, int8 = (quantize(items, d).nbytes for d in ("fp32", "fp16", "int8"))
    assert (fp32, fp16, int8) == (256_000, 128_000, 64_000 + 4_000)


finite = st.floats(-100, 100, allow_nan=False, width=32)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 9)), elements=finite))
def test_int8_error_within_half_a_step(items: np.ndarray) -> None:
    table = quantize(items, "int8")
    step = np.abs(items).max(axis=1) / 127
    error = np.abs(table.dequantize() - items)
    assert (error <= step[:, None] / 2 + 1e-6 * (1 + np.abs(items))).all()


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 9)), elements=finite))
def test_fp16_relative_error_bound(items: np.ndarray) -> None:
    error = np.abs(quantize(items, "fp16").dequantize() - items)
    assert (error <= 2.0**-11 * np.abs(items) + 2.0**-24).all()


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "int8"])
def test_scores_match_dequantised_table_and_blocks(dtype: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.retrieval.quantize as module

    monkeypatch.setattr(module, "SCORE_BLOCK", 7)  # several blocks on a tiny table
    items, users = unit_rows(50, 8), unit_rows(5, 8, seed=1)
    table = quantize(items, dtype)
    np.testing.assert_allclose(table.scores(users), users @ table.dequantize().T, atol=1e-5)


@pytest.mark.parametrize(("dtype", "min_overlap"), [("fp16", 0.99), ("int8", 0.9)])
def test_top10_overlap_with_fp32_is_high(dtype: str, min_overlap: float) -> None:
    items, users = unit_rows(5000, 64), unit_rows(200, 64, seed=1)
    exact = users @ items.T
    assert topk_overlap(exact, quantize(items, dtype).scores(users), 10) >= min_overlap


def test_bad_inputs() -> None:
    with pytest.raises(ConfigError, match="dtype"):
        quantize(np.ones((2, 2)), "int4")
    with pytest.raises(RequestError, match="NaN"):
        quantize(np.array([[np.inf, 0.0]]), "int8")
    with pytest.raises(RequestError, match="fp16 range"):
        quantize(np.array([[1e6]]), "fp16")
    with pytest.raises(RequestError, match=r"\(B, 2\)"):
        quantize(np.ones((2, 2)), "int8").scores(np.ones((1, 3)))
