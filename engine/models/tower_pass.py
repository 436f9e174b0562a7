"""One shopper's pass through the two-tower's user tower, kept for the explanation of its list.

Serving scores a shopper and then explains the list it made from the same pass: the user
tower's attention weights, each history slot's value and the user vector
(`UserTower.attention`). Scoring one shopper goes through `user_vectors`, which keeps that
pass for the calling thread; `shopper_pass` hands it to the explanation when it is for the
same network, history, shopper and alpha, and runs the pass again otherwise. A request is
scored and explained on one thread, so the explanation reads exactly the weights the served
score pooled with, and the attention is computed once per request instead of twice.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine.models.network import PAD

_LAST = threading.local()  # this thread's latest single-shopper pass


@dataclass(frozen=True)
class TowerPass:
    """The parts of one shopper's attention pass that explain their list."""

    net: weakref.ref  # the network that made it
    slots: np.ndarray  # (L,) history item positions the pass read, PAD on the left
    user: int  # the shopper's model index, -1 for none
    alpha: float | None  # the loss weight it was made at (conditioned models)
    weights: torch.Tensor  # (L,) attention weight of each slot
    values: torch.Tensor  # (L, d) each slot as the user vector receives it
    user_vec: torch.Tensor  # (d,) the user vector (before the scoring transform)

    def matches(self, net: Any, slots: np.ndarray, user: int, alpha: float | None) -> bool:
        return (self.net() is net and self.user == user and self.alpha == alpha
                and np.array_equal(self.slots, slots))


def trimmed(padded: np.ndarray) -> np.ndarray:
    """A right-aligned (B, L) history block without its leading all-padding columns (one
    column at least): padded slots carry no attention weight."""
    present = padded != PAD
    if not present.any():
        return padded[:, -1:]
    return padded[:, int(present.any(axis=0).argmax()):]


def _attend(net: Any, hist: torch.Tensor, who: torch.Tensor, item_vecs: torch.Tensor,
            alpha: torch.Tensor | None, alpha_value: float | None) -> TowerPass:
    weights, values, user_vecs = net.user_tower.attention(hist, item_vecs, who, alpha)
    return TowerPass(weakref.ref(net), hist[0].cpu().numpy().copy(), int(who[0]), alpha_value,
                     weights[0], values[0], user_vecs[0])


def user_vectors(net: Any, hist: torch.Tensor, who: torch.Tensor, item_vecs: torch.Tensor,
                 alpha: torch.Tensor | None, alpha_value: float | None,
                 keep: bool) -> torch.Tensor:
    """`net.user_vectors` of a (B, L) history block; with `keep` (one shopper) through the
    same attention pass, which this thread keeps for the list's explanation."""
    if not keep or len(hist) != 1:
        return net.user_vectors(hist, who, item_vecs, alpha)
    found = _attend(net, hist, who, item_vecs, alpha, alpha_value)
    _LAST.value = found
    return found.user_vec[None, :]


def shopper_pass(net: Any, padded: np.ndarray, user: int, item_vecs: torch.Tensor,
                 alpha_value: float | None) -> TowerPass:
    """The attention pass for one shopper's padded (1, L) history: the one that scored them
    on this thread when it matches, else a new one (made the way scoring makes it)."""
    slots = trimmed(padded)
    last = getattr(_LAST, "value", None)
    if last is not None and last.matches(net, slots[0], user, alpha_value):
        return last
    device = item_vecs.device
    alpha = None if alpha_value is None else torch.full((1,), alpha_value, device=device)
    return _attend(net, torch.as_tensor(slots, device=device),
                   torch.as_tensor(np.array([user], dtype=np.int64), device=device),
                   item_vecs, alpha, alpha_value)
