"""engine.rerank.scaling.min_max: the one relevance scaling the re-rankers and serving share."""

from __future__ import annotations

import numpy as np

from engine.rerank.scaling import min_max


def test_scales_each_row_to_the_unit_interval() -> None:
    scaled = min_max(np.array([[2.0, 4.0, 3.0], [10.0, 0.0, 5.0]]))
    np.testing.assert_allclose(scaled, [[0.0, 1.0, 0.5], [1.0, 0.0, 0.5]], atol=1e-12)


def test_constant_input_scales_to_ones() -> None:
    np.testing.assert_array_equal(min_max(np.full(4, 3.5)), np.ones(4))
    np.testing.assert_array_equal(min_max(np.array([[1.0, 1.0], [0.0, 2.0]])),
                                  [[1.0, 1.0], [0.0, 1.0]])  # each row on its own
    np.testing.assert_array_equal(min_max(np.array([7.0])), [1.0])


def test_mask_sets_the_ends_and_non_finite_entries_become_zero() -> None:
    values = np.array([0.0, 10.0, 20.0, -np.inf, np.nan])
    mask = np.array([False, True, True, True, True])
    np.testing.assert_allclose(min_max(values, mask), [-1.0, 0.0, 1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_array_equal(min_max(np.array([np.nan, np.inf])), [0.0, 0.0])


def test_keeps_float_dtype_and_empty_input() -> None:
    assert min_max(np.array([1.0, 2.0], dtype=np.float32)).dtype == np.float32
    assert min_max(np.array([1, 3])).dtype == np.float64
    assert min_max(np.zeros((2, 0))).shape == (2, 0)
