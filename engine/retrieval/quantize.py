"""Compact item tables for serving: fp16, or int8 with one scale per row.

Scoring is a dot product of user vectors with every item row. fp16 halves the table and int8
quarters it; both are widened to float32 one block of items at a time, so the full-precision
table never exists in memory again. For int8 the per-row scale multiplies the score after the
integer-valued matmul (score_i = scale_i · ⟨u, q_i⟩), which is the same number as scoring the
dequantised row but with one multiply per score instead of one per weight.

Error bounds (per element): int8 |v − scale·q| ≤ scale / 2 with scale = max|v_row| / 127;
fp16 |v − v̂| ≤ 2⁻¹¹·|v| for values in fp16's normal range (|v| ≥ 6.1e-5), else ≤ 2⁻²⁵.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.errors import ConfigError, RequestError

DTYPES = ("fp32", "fp16", "int8")
INT8_MAX = 127
SCORE_BLOCK = 65_536  # items widened to float32 at a time


@dataclass(frozen=True)
class QuantizedTable:
    """An (n_items, d) item table stored as `dtype`; `scale` (n_items,) only for int8."""

    dtype: str
    values: np.ndarray
    scale: np.ndarray | None = None

    @property
    def n_items(self) -> int:
        return int(self.values.shape[0])

    @property
    def dim(self) -> int:
        return int(self.values.shape[1])

    @property
    def nbytes(self) -> int:
        """Bytes held by the table (values plus scales)."""
        return int(self.values.nbytes + (0 if self.scale is None else self.scale.nbytes))

    def dequantize(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """(stop − start, d) float32 rows reconstructed from the stored form."""
        block = self.values[start:stop].astype(np.float32)
        if self.scale is not None:
            block *= self.scale[start:stop, None]
        return block

    def scores(self, user_vectors: np.ndarray) -> np.ndarray:
        """(B, n_items) float32 inner products of user vectors (B, d) with every item."""
        users = np.asarray(user_vectors, dtype=np.float32)
        if users.ndim != 2 or users.shape[1] != self.dim:
            raise RequestError(f"user_vectors must have shape (B, {self.dim}), "
                               f"got {users.shape}")
        out = np.empty((len(users), self.n_items), dtype=np.float32)
        for start in range(0, self.n_items, SCORE_BLOCK):
            stop = min(start + SCORE_BLOCK, self.n_items)
            block = self.values[start:stop].astype(np.float32)  # (b, d), integer-valued for int8
            np.matmul(users, block.T, out=out[:, start:stop])
            if self.scale is not None:
                out[:, start:stop] *= self.scale[start:stop]
        return out


def quantize(item_vectors: np.ndarray, dtype: str = "int8") -> QuantizedTable:
    """Store `item_vectors` (n_items, d) as fp32, fp16 or int8 with a per-row scale."""
    if dtype not in DTYPES:
        raise ConfigError(f"quantize dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    table = np.asarray(item_vectors, dtype=np.float32)
    if table.ndim != 2:
        raise RequestError(f"item_vectors must be a 2-D array (n_items, d), got {table.shape}")
    if not np.isfinite(table).all():
        raise RequestError("item_vectors holds NaN or infinite values; cannot quantise")
    if dtype == "fp32":
        return QuantizedTable("fp32", np.ascontiguousarray(table))
    if dtype == "fp16":
        if np.abs(table).max(initial=0.0) > np.finfo(np.float16).max:
            raise RequestError("item_vectors exceed the fp16 range (65504); use int8 or fp32")
        return QuantizedTable("fp16", table.astype(np.float16))
    peak = np.abs(table).max(axis=1) if table.shape[1] else np.zeros(len(table), np.float32)
    scale = np.where(peak > 0, peak / INT8_MAX, 1.0).astype(np.float32)  # (n_items,)
    values = np.clip(np.rint(table / scale[:, None]), -INT8_MAX, INT8_MAX).astype(np.int8)
    return QuantizedTable("int8", values, scale)


def topk_overlap(reference: np.ndarray, approx: np.ndarray, k: int) -> float:
    """Mean share of each row's top-k items (by `reference`) also in the top-k by `approx`."""
    if reference.shape != approx.shape:
        raise RequestError(f"score matrices differ in shape: {reference.shape} vs {approx.shape}")
    k = min(k, reference.shape[1])
    want = np.argpartition(-reference, k - 1, axis=1)[:, :k]
    got = np.argpartition(-approx, k - 1, axis=1)[:, :k]
    shared = [len(np.intersect1d(a, b)) for a, b in zip(want, got, strict=True)]
    return float(np.mean(shared) / k) if shared else 1.0
