"""Top-N selection over dense score blocks: the one place that hides seen items and picks.

Every model and the evaluation protocol select through these helpers, so ties, hidden items
and block sizes behave the same everywhere.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

SCORE_BLOCK_BYTES = 256 * 2**20


def top_n(scores: np.ndarray, seen: sp.csr_matrix | None, n: int) -> np.ndarray:
    """(B, n) item indices by descending score, seen items skipped, -1 where none is left.

    `scores` is modified in place (seen items set to -inf) to avoid a copy of the block.
    """
    return top_n_with_scores(scores, seen, n)[0]


def top_n_with_scores(scores: np.ndarray, seen: sp.csr_matrix | None,
                      n: int) -> tuple[np.ndarray, np.ndarray]:
    """`top_n` plus the (B, n) scores of the picked items (-inf where the index is -1).

    The seen mask is written into `scores` in place; the selection is `torch.topk` on the same
    memory (multi-threaded, no negated copy of the block).
    """
    import torch

    if seen is not None and seen.nnz:
        coo = seen.tocoo()
        scores[coo.row, coo.col] = -np.inf
    values, top = torch.from_numpy(scores).topk(min(n, scores.shape[1]), dim=1, sorted=False)
    return order_top_n(top.numpy(), values.numpy())


def order_top_n(top: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row of a top-n selection: descending score, equal scores by ascending item
    index (torch.topk leaves their order open; which of several items tied at the cut-off get
    in is still its choice); -1 replaces items whose score is -inf (hidden ones)."""
    order = np.lexsort((top, -values), axis=-1)
    top = np.take_along_axis(top, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    top[np.isneginf(values)] = -1
    return top, values


def batch_size_for(n_items: int) -> int:
    """Users per batch so one float32 score block stays within SCORE_BLOCK_BYTES."""
    return max(1, SCORE_BLOCK_BYTES // (4 * max(n_items, 1)))
