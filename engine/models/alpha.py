"""The diversity weight alpha a two-tower answers for: one value, or a trained range."""

from __future__ import annotations

from engine.core.errors import RequestError

ALPHA_TOLERANCE = 1e-9  # alphas this close to a range end count as inside it


def checked_alpha(alpha: float, trained: float, span: tuple[float, float] | None) -> float:
    """`alpha` clipped into the range a loss-conditioned model was trained on (`span`), or
    `trained` itself for a fixed-alpha model; RequestError for any other alpha."""
    alpha = float(alpha)
    if span is None:
        if abs(alpha - trained) <= ALPHA_TOLERANCE:
            return trained
        raise RequestError(
            f"alpha {alpha:g}: this model was trained at alpha {trained:g} only; train a "
            "model over a range (prism train --alpha 0:1) to choose alpha when serving.")
    low, high = span
    if not low - ALPHA_TOLERANCE <= alpha <= high + ALPHA_TOLERANCE:
        raise RequestError(f"alpha {alpha:g} is outside the range this model was trained "
                           f"on ({low:g} to {high:g}); choose a value in it.")
    return min(max(alpha, low), high)
