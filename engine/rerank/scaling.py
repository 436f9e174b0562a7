"""Min–max scaling of relevance scores: the one definition every ranking path shares.

Re-rankers mix relevance with a diversity term on a fixed [0, 1] scale, so raw model scores
(dot products, EASE weights, popularity counts) are scaled first. Plain requests, policies,
the constrained greedy pass and exposure pricing all call `min_max`, so a request ranks the
same whether or not it goes through a policy.
"""

from __future__ import annotations

import numpy as np

CONSTANT_SPAN = 1e-12  # a spread at or below this counts as constant input


def min_max(values: np.ndarray, mask: np.ndarray | None = None, *,
            fill: float = 0.0) -> np.ndarray:
    """`values` scaled to [0, 1] along the last axis, each row on its own.

    The low and high ends come from the finite entries (only those inside `mask`, when given);
    entries outside the mask are scaled with the same ends. Non-finite entries, and rows with
    no usable entry, become `fill` (0.0 unless asked; pools that pad with -inf pass -inf).
    Floating input keeps its dtype; other input becomes float64.

    Constant input (every usable entry equal, or a single one) scales to 1.0, not 0.0: each
    item is as relevant as the best one. Orderings do not depend on the choice (every
    candidate shifts alike), but thresholds do: a relevance floor of 0.5 keeps a shopper's
    single candidate, or a row of tied popularity scores, instead of emptying the list, and
    the relevance reported with each item says "as good as the best" rather than "worst".
    """
    x = np.asarray(values)
    x = x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)
    finite = np.isfinite(x)
    usable = finite if mask is None else finite & np.broadcast_to(mask, x.shape)
    low = np.where(usable, x, np.inf).min(axis=-1, keepdims=True, initial=np.inf)
    high = np.where(usable, x, -np.inf).max(axis=-1, keepdims=True, initial=-np.inf)
    span = high - low  # -inf for a row with no usable entry
    with np.errstate(invalid="ignore"):  # inf - inf in entries that become `fill`
        scaled = np.divide(x - low, span, out=np.ones_like(x), where=span > CONSTANT_SPAN)
    return np.where(finite & (span >= 0), scaled, fill).astype(x.dtype, copy=False)
