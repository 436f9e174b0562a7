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


def namespace(array: Any) -> Any:
    """numpy for ndarrays, torch for tensors."""
    if isinstance(array, np.ndarray):
        return np
    import torch

    return torch


def zeros(like: Any, shape: tuple[int, ...], boolean: bool = False) -> Any:
    """A zero array of `shape` on the same backend/device as `like`."""
    if isinstance(like, np.ndarray):
        return np.zeros(shape, dtype=bool if boolean else like.dtype)
    import torch

    return like.new_zeros(shape, dtype=torch.bool if boolean else None)


def arange_like(like: Any, n: int) -> Any:
    if isinstance(like, np.ndarray):
        return np.arange(n)
    import torch

    return torch.arange(n, device=like.device)


def clip_below(values: Any, floor: float) -> Any:
    """max(values, floor) elementwise; `np.clip(x, min=...)` needs numpy >= 2.1, so numpy
    arrays go through `np.maximum` and tensors through `clamp`."""
    if isinstance(values, np.ndarray):
        return np.maximum(values, floor)
    return values.clamp(min=floor)


def similarity_rows(unit: Any, chosen: Any, rows: Any) -> Any:
    """(B, N) cosine of every candidate with each user's chosen candidate."""
    picked = unit[rows, chosen]  # (B, d)
    return (unit @ picked[:, :, None])[:, :, 0]


class Scorer(Protocol):
    fallback: Any  # (B,) bool: True once the method has no diversity signal left

    def diversity(self, blocked: Any) -> Any: ...

    def update(self, chosen: Any) -> None: ...


class NoDiversity:
    """Plain relevance order: the diversity term is always 0."""

    def __init__(self, rel_part: Any) -> None:
        self.zero = rel_part * 0.0
        self.fallback = zeros(rel_part, (rel_part.shape[0],), boolean=True)

    def diversity(self, blocked: Any) -> Any:
        return self.zero

    def update(self, chosen: Any) -> None:
        return None


class MMRScorer:
    """MMR: diversity term −w · max_{j∈S} cos(i, j) (0 for the first slot)."""

    def __init__(self, unit: Any, weight: float) -> None:
        self.unit, self.weight = unit, weight  # unit: (B, N, d) unit-length rows
        self.rows = arange_like(unit, unit.shape[0])
        self.max_sim: Any = None
        self.fallback = zeros(unit, (unit.shape[0],), boolean=True)

    def diversity(self, blocked: Any) -> Any:
        if self.max_sim is None:
            return self.unit[:, :, 0] * 0.0
        return -self.weight * self.max_sim

    def update(self, chosen: Any) -> None:
        sim = similarity_rows(self.unit, chosen, self.rows)
        self.max_sim = sim if self.max_sim is None else namespace(sim).maximum(self.max_sim, sim)


class DPPScorer:
    """DPP fast greedy MAP (Chen, Zhang & Zhou 2018) with an incremental Cholesky.

    Kernel L = diag(e^{θ·rel}) S diag(e^{θ·rel}), θ = (1 − w) / (2w). Adding i to the set Y
    multiplies det L_Y by e^{2θ·rel_i} · d_i², where d_i² is i's residual variance under S
    alone, so w·log-gain = (1 − w)·rel_i + w·log d_i²: the relevance part plus this
    diversity term. Working with S keeps the numbers finite for any θ.
    """

    def __init__(self, unit: Any, weight: float, shifted: bool, n_slots: int) -> None:
        batch, n_cand = unit.shape[:2]
        self.unit, self.weight, self.shifted = unit, weight, shifted
        self.rows = arange_like(unit, batch)
        self.factors = zeros(unit, (batch, n_slots, n_cand))  # Cholesky rows c_j, (B, k, N)
        self.d2 = unit[:, :, 0] * 0.0 + 1.0  # residual variances, diag(S) = 1
        self.slot = 0
        self.fallback = zeros(unit, (batch,), boolean=True)

    def diversity(self, blocked: Any) -> Any:
        xp = namespace(self.d2)
        best_open = xp.where(blocked, -1.0, self.d2).max(axis=1)
        if not isinstance(best_open, np.ndarray):
            best_open = best_open.values
        self.fallback = self.fallback | (best_open <= DPP_EXHAUSTED)
        gain = self.weight * xp.log(clip_below(self.d2, LOG_FLOOR))
        return xp.where(self.fallback[:, None], 0.0, gain)

    def kernel_rows(self, chosen: Any) -> Any:
        """(B, N) rows of S = (sim + jitter·I) / (1 + jitter); sim = (1 + cos)/2 for vectors."""
        sim = similarity_rows(self.unit, chosen, self.rows)
        if self.shifted:
            sim = (1.0 + sim) / 2.0
        sim[self.rows, chosen] += DPP_JITTER
        return sim / (1.0 + DPP_JITTER)

    def update(self, chosen: Any) -> None:
        xp, done = namespace(self.d2), self.slot
        row = self.kernel_rows(chosen)
        if done:
            c_chosen = self.factors[self.rows, :done, chosen]  # (B, t)
            row = row - (c_chosen[:, None, :] @ self.factors[:, :done, :])[:, 0, :]
        pivot = xp.sqrt(clip_below(self.d2[self.rows, chosen], DPP_EXHAUSTED))
        step = xp.where(self.fallback[:, None], 0.0, row / pivot[:, None])
        self.factors[:, done, :] = step
        self.d2 = self.d2 - step * step
        self.slot += 1


class CalibratedScorer:
    """Calibrated (Steck 2018): diversity term −w · KL(p ‖ q̃(S ∪ {i})), q the list's mass.

    KL(p ‖ q̃) = Σ p ln p − Σ p ln q̃ with q̃ = (1 − mix)·q + mix·p; the first sum is fixed
    per user, the second is one matmul per step. Columns with p = 0 get +1 inside the log so
    they add exactly 0.
    """

    def __init__(self, categories: Any, target: Any, weight: float) -> None:
        xp = namespace(categories)
        self.categories, self.weight = categories, weight  # (B, N, C), rows sum to 1
        positive = target > 0
        self.target = target[:, :, None]  # (B, C, 1)
        self.offset = (CALIBRATION_MIX * target + ~positive)[:, None, :]  # (B, 1, C)
        self.self_term = (target * xp.log(xp.where(positive, target, 1.0))).sum(axis=1)  # (B,)
        self.mass = categories[:, 0, :] * 0.0  # (B, C)
        self.slot = 0
        self.fallback = zeros(categories, (categories.shape[0],), boolean=True)

    def diversity(self, blocked: Any) -> Any:
        xp = namespace(self.mass)
        scale = (1.0 - CALIBRATION_MIX) / (self.slot + 1)
        mixed = (self.mass[:, None, :] + self.categories) * scale + self.offset  # (B, N, C)
        cross = (xp.log(mixed) @ self.target)[:, :, 0]  # Σ_c p ln q̃, (B, N)
        return -self.weight * (self.self_term[:, None] - cross)

    def update(self, chosen: Any) -> None:
        rows = arange_like(self.mass, self.mass.shape[0])
        self.mass = self.mass + self.categories[rows, chosen]
        self.slot += 1


class Rules(Protocol):
    """Constraints on the one greedy loop (caps, promotion shares and quota floors)."""

    def finished(self) -> bool: ...

    def choose(self, slot: int, objective: Any) -> Any: ...

    def update(self, chosen: Any) -> None: ...


def run_greedy(rel_part: Any, scorer: Scorer, n_slots: int, rules: Rules | None = None,
               blocked: Any | None = None) -> dict[str, Any]:
    """The one greedy loop of the engine: each slot takes, per user, the candidate with the
    best relevance part + diversity term that is not `blocked` (taken or invalid) and that
    `rules` admit. Returns (B, slots) `order`, `relevance_part`, `diversity_part` and
    `fallback`; the loop stops early once `rules` say every list is finished."""
    xp, rows = namespace(rel_part), arange_like(rel_part, rel_part.shape[0])
    if blocked is None:
        blocked = zeros(rel_part, tuple(rel_part.shape), boolean=True)
    picks: dict[str, list[Any]] = {"order": [], "relevance_part": [], "diversity_part": [],
                                   "fallback": []}
    for slot in range(n_slots):
        if rules is not None and rules.finished():
            break
        div = scorer.diversity(blocked)
        objective = rel_part + div
        objective[blocked] = -np.inf
        chosen = objective.argmax(axis=1) if rules is None else rules.choose(slot, objective)
        for key, value in (("order", chosen), ("relevance_part", rel_part[rows, chosen]),
                           ("diversity_part", div[rows, chosen]), ("fallback", scorer.fallback)):
            picks[key].append(value)
        blocked[rows, chosen] = True
        scorer.update(chosen)
        if rules is not None:
            rules.update(chosen)
    return {key: xp.stack(values, 1) if values else rel_part[:, :0]
            for key, values in picks.items()}
