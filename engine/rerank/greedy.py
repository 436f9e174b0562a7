"""Greedy re-ranking cores, batched over users: (B, N) candidate arrays → (B, n_slots) picks.

Candidates arrive sorted by relevance (best first), so `argmax` breaking ties at the lowest
position means ties go to the more relevant candidate, then the lower index; with w = 0 the
result is exactly the relevance order. The code uses only operations that numpy arrays and
torch tensors share: `xp` is the namespace (numpy, or torch for the GPU batch path).

Each scorer gives, per step, the diversity term of every candidate; the loop adds the
relevance term (1 − w)·rel, blocks taken (and quota-breaking) candidates and takes the argmax.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from engine.metrics.diversity import CALIBRATION_MIX

DPP_JITTER = 1e-6  # added to the kernel diagonal so it is positive definite
DPP_EXHAUSTED = 1e-5  # a residual variance below this means no diversity gain is left
LOG_FLOOR = 1e-12


def namespace(array: Any) -> tuple[Any, dict[str, Any]]:
    """numpy for ndarrays, torch for tensors; with the keyword arguments that put a new array
    on the same device as `array`."""
    if isinstance(array, np.ndarray):
        return np, {}
    import torch

    return torch, {"device": array.device}


def similarity_rows(unit: Any, chosen: Any, rows: Any) -> Any:
    """(B, N) cosine of every candidate with each user's chosen candidate."""
    picked = unit[rows, chosen]  # (B, d)
    return (unit @ picked[:, :, None])[:, :, 0]


class Scorer:
    """Plain relevance order: the diversity term is always 0. Every method's scorer extends
    it; `like (B, N)` sets the backend, device and shape of the terms, `fallback` (B,) turns
    True once the method has no diversity signal left for a user."""

    def __init__(self, like: Any) -> None:
        self.xp, self.on = namespace(like)
        self.rows = self.xp.arange(like.shape[0], **self.on)
        self.fallback = self.xp.zeros(like.shape[0], dtype=bool, **self.on)
        self.zero = self.xp.zeros(like.shape, dtype=like.dtype, **self.on)

    def diversity(self, blocked: Any) -> Any:
        return self.zero

    def update(self, chosen: Any) -> None:
        return None


class MMRScorer(Scorer):
    """MMR: diversity term −w · max_{j∈S} cos(i, j) (0 for the first slot)."""

    def __init__(self, unit: Any, weight: float) -> None:
        super().__init__(unit[:, :, 0])
        self.unit, self.weight = unit, weight  # unit: (B, N, d) unit-length rows
        self.max_sim: Any = None

    def diversity(self, blocked: Any) -> Any:
        return self.zero if self.max_sim is None else -self.weight * self.max_sim

    def update(self, chosen: Any) -> None:
        sim = similarity_rows(self.unit, chosen, self.rows)
        self.max_sim = sim if self.max_sim is None else self.xp.maximum(self.max_sim, sim)


class DPPScorer(Scorer):
    """DPP fast greedy MAP (Chen, Zhang & Zhou 2018) with an incremental Cholesky.

    Kernel L = diag(e^{θ·rel}) S diag(e^{θ·rel}), θ = (1 − w) / (2w). Adding i to the set Y
    multiplies det L_Y by e^{2θ·rel_i} · d_i², where d_i² is i's residual variance under S
    alone, so w·log-gain = (1 − w)·rel_i + w·log d_i²: the relevance part plus this
    diversity term. Working with S keeps the numbers finite for any θ.
    """

    def __init__(self, unit: Any, weight: float, shifted: bool, n_slots: int) -> None:
        super().__init__(unit[:, :, 0])
        batch, n_cand = unit.shape[:2]
        self.unit, self.weight, self.shifted = unit, weight, shifted
        self.factors = self.xp.zeros((batch, n_slots, n_cand), dtype=unit.dtype,
                                     **self.on)  # Cholesky rows c_j, (B, k, N)
        self.d2 = self.zero + 1.0  # residual variances, diag(S) = 1
        self.slot = 0

    def diversity(self, blocked: Any) -> Any:
        xp = self.xp
        best_open = xp.amax(xp.where(blocked, -1.0, self.d2), axis=1)
        self.fallback = self.fallback | (best_open <= DPP_EXHAUSTED)
        gain = self.weight * xp.log(self.d2.clip(min=LOG_FLOOR))
        return xp.where(self.fallback[:, None], 0.0, gain)

    def update(self, chosen: Any) -> None:
        done = self.slot
        # (B, N) rows of S = (sim + jitter·I) / (1 + jitter); sim = (1 + cos)/2 for vectors
        row = similarity_rows(self.unit, chosen, self.rows)
        if self.shifted:
            row = (1.0 + row) / 2.0
        row[self.rows, chosen] += DPP_JITTER
        row = row / (1.0 + DPP_JITTER)
        c_chosen = self.factors[self.rows, :done, chosen]  # (B, t); none at the first slot
        row = row - (c_chosen[:, None, :] @ self.factors[:, :done, :])[:, 0, :]
        pivot = self.xp.sqrt(self.d2[self.rows, chosen].clip(min=DPP_EXHAUSTED))
        step = self.xp.where(self.fallback[:, None], 0.0, row / pivot[:, None])
        self.factors[:, done, :] = step
        self.d2 = self.d2 - step * step
        self.slot += 1


class CalibratedScorer(Scorer):
    """Calibrated (Steck 2018): diversity term −w · KL(p ‖ q̃(S ∪ {i})), q the list's mass.

    KL(p ‖ q̃) = Σ p ln p − Σ p ln q̃ with q̃ = (1 − mix)·q + mix·p; the first sum is fixed
    per user, the second is one matmul per step. Columns with p = 0 get +1 inside the log so
    they add exactly 0.
    """

    def __init__(self, categories: Any, target: Any, weight: float) -> None:
        super().__init__(categories[:, :, 0])
        xp = self.xp
        self.categories, self.weight = categories, weight  # (B, N, C), rows sum to 1
        positive = target > 0
        self.target = target[:, :, None]  # (B, C, 1)
        self.offset = (CALIBRATION_MIX * target + ~positive)[:, None, :]  # (B, 1, C)
        self.self_term = (target * xp.log(xp.where(positive, target, 1.0))).sum(axis=1)  # (B,)
        self.mass = xp.zeros((categories.shape[0], categories.shape[2]),  # (B, C), also
                             dtype=categories.dtype, **self.on)  # with no candidates
        self.slot = 0

    def diversity(self, blocked: Any) -> Any:
        scale = (1.0 - CALIBRATION_MIX) / (self.slot + 1)
        mixed = (self.mass[:, None, :] + self.categories) * scale + self.offset  # (B, N, C)
        cross = (self.xp.log(mixed) @ self.target)[:, :, 0]  # Σ_c p ln q̃, (B, N)
        return -self.weight * (self.self_term[:, None] - cross)

    def update(self, chosen: Any) -> None:
        self.mass = self.mass + self.categories[self.rows, chosen]
        self.slot += 1


class Rules(Protocol):
    """Constraints on the one greedy loop (caps, promotion shares and quota floors): `choose`
    takes each user's pick for a slot from the objective and counts it towards them."""

    def finished(self) -> bool: ...

    def choose(self, slot: int, objective: Any) -> Any: ...


def run_greedy(rel_part: Any, scorer: Scorer, n_slots: int, blocked: Any,
               rules: Rules | None = None) -> dict[str, Any]:
    """The one greedy loop of the engine: each slot takes, per user, the candidate with the
    best relevance part + diversity term that is not `blocked` (taken or invalid, updated in
    place) and that `rules` admit. Returns (B, slots) `order`, `diversity_part` and
    `fallback`; the loop stops early once `rules` say every list is finished."""
    rows = scorer.rows
    picks: dict[str, list[Any]] = {"order": [], "diversity_part": [], "fallback": []}
    for slot in range(n_slots):
        if rules is not None and rules.finished():
            break
        div = scorer.diversity(blocked)
        objective = rel_part + div
        objective[blocked] = -np.inf
        chosen = objective.argmax(axis=1) if rules is None else rules.choose(slot, objective)
        for key, value in (("order", chosen), ("diversity_part", div[rows, chosen]),
                           ("fallback", scorer.fallback)):
            picks[key].append(value)
        blocked[rows, chosen] = True
        scorer.update(chosen)
    return {key: scorer.xp.stack(values, 1) if values else rel_part[:, :0]
            for key, values in picks.items()}
