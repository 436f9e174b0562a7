"""The calibration target a calibrated re-rank aims at: the shopper's own category mix blended
with the catalogue's. Serving, policies and the evaluation protocol all read it from here."""

from __future__ import annotations

import numpy as np

DEFAULT_TARGET_MIX = 0.5  # gamma: share of the catalogue prior in a calibration target


def blend_target(history_dist: np.ndarray, prior: np.ndarray, target_mix: float) -> np.ndarray:
    """Calibration target t = (1 − γ)·h + γ·g, rows of `history_dist` (…, C), γ = target_mix.

    A short, concentrated history makes h a poor goal for a diverse list (calibrating to it
    narrows the list); mixing in the catalogue prior g is the target DESIGN.md sets for the
    joint loss. Rows with no history mass use g alone.
    """
    history = np.asarray(history_dist, dtype=np.float64)
    empty = history.sum(axis=-1, keepdims=True) <= 0
    history = np.where(empty, prior, history)
    return (1.0 - target_mix) * history + target_mix * prior
