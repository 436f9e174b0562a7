"""One shopper's pass through the two-tower's user tower, kept for the explanation of its list.

Serving scores a shopper and then explains the list it made from the same pass: the user
tower's attention weights, each history slot's value and the user vector
(`UserTower.attention`). Scoring one shopper goes through `user_vectors`, which keeps that
pass for the calling thread; `shopper_pass` hands it to the explanation when it is for the
same network, history, shopper and alpha, and runs the pass again otherwise. A request is
scored and explained on one thread, so the explanation reads exactly the weights the served
score pooled with, and the attention is computed once per request instead of twice.

The kept pass is a copy in host arrays, never torch tensors. It outlives its request in the
thread's local storage, which is freed when the thread ends — for a server's worker thread
that can be while the interpreter shuts down. Freeing a torch tensor lets go of the
interpreter's lock and takes it back; a thread that asks for it back during shutdown is ended
by `pthread_exit`, whose unwinding through torch's non-throwing destructor calls
`std::terminate` ("terminate called without an active exception"): the process would abort
after its work was done.
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
    weights: np.ndarray  # (L,) attention weight of each slot
    values: np.ndarray  # (L, d) each slot as the user vector receives it
    user_vec: np.ndarray  # (d,) the user vector (before the scoring transform)

    def matches(self, net: Any, slots: np.ndarray, user: int, alpha: float | None) -> bool:
        return (self.net() is net and self.user == user and self.alpha == alpha
                and np.array_equal(self.slots, slots))

    def tensors(self, device: torch.device,
                dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The weights, values and user vector as tensors for the network's arithmetic."""
        def tensor(part: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(part, device=device).to(dtype)

        return tensor(self.weights), tensor(self.values), tensor(self.user_vec)


def _host(tensor: torch.Tensor) -> np.ndarray:
    """A float32 host copy that shares no memory with `tensor`."""
    return tensor.detach().float().cpu().numpy().copy()


def trimmed(padded: np.ndarray) -> np.ndarray:
    """A right-aligned (B, L) history block without its leading all-padding columns (one
    column at least): padded slots carry no attention weight."""
    present = padded != PAD
    if not present.any():
        return padded[:, -1:]
    return padded[:, int(present.any(axis=0).argmax()):]


def _attend(net: Any, hist: torch.Tensor, who: torch.Tensor, item_vecs: torch.Tensor,
            alpha: torch.Tensor | None,
            alpha_value: float | None) -> tuple[TowerPass, torch.Tensor]:
    """The pass of the first row, and the (B, d) user vectors it made."""
    weights, values, user_vecs = net.user_tower.attention(hist, item_vecs, who, alpha)
    return TowerPass(weakref.ref(net), hist[0].cpu().numpy().copy(), int(who[0]), alpha_value,
                     _host(weights[0]), _host(values[0]), _host(user_vecs[0])), user_vecs


def user_vectors(net: Any, hist: torch.Tensor, who: torch.Tensor, item_vecs: torch.Tensor,
                 alpha: torch.Tensor | None, alpha_value: float | None,
                 keep: bool) -> torch.Tensor:
    """`net.user_vectors` of a (B, L) history block; with `keep` (one shopper) through the
    same attention pass, which this thread keeps for the list's explanation."""
    if not keep or len(hist) != 1:
        return net.user_vectors(hist, who, item_vecs, alpha)
    _LAST.value, user_vecs = _attend(net, hist, who, item_vecs, alpha, alpha_value)
    return user_vecs


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
                   item_vecs, alpha, alpha_value)[0]
