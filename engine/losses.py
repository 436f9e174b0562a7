"""The joint training loss L = alpha * L_d + beta * L_r, as pure tensor functions.

L_r (relevance) is the event-weighted softmax cross-entropy of the held-out item over the
catalogue: full softmax for catalogues that fit, sampled softmax with logQ correction above.
L_d (diversity) compares the predicted category mass q_u(c) = sum_{i in c} p_u(i) with a
target t_u = (1 - gamma) * h_u + gamma * g through KL(t_u || q_u), or rewards spread through
-H(q_u). Nothing here knows about models or data; every function takes and returns tensors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-8


def weighted_mean(values: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean of `values` (B,) weighted by `weights` (B,); plain mean when weights is None."""
    if weights is None:
        return values.mean()
    return (values * weights).sum() / weights.sum().clamp_min(EPS)


def relevance_loss(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Full-softmax L_r: -weighted mean of log p_u(i+).

    logits (B, n_items) scores s(u, i); targets (B,) item indices; weights (B,) event weights.
    """
    nll = F.cross_entropy(logits.float(), targets, reduction="none")  # (B,)
    return weighted_mean(nll, weights)


def multinomial_relevance_loss(logits: torch.Tensor, target_weights: torch.Tensor) -> torch.Tensor:
    """Multi-target L_r: mean over users of -sum_i w_ui log p_u(i) / sum_i w_ui.

    logits (B, n_items); target_weights (B, n_items) event weights of each user's items
    (zero elsewhere). With one target per row this equals `relevance_loss`.
    """
    log_p = logits.float().log_softmax(dim=-1)  # (B, n_items)
    per_user = -(log_p * target_weights).sum(-1) / target_weights.sum(-1).clamp_min(EPS)
    return per_user.mean()


def logq_correct(logits: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """Subtract the log sampling probability so sampled softmax estimates the full one.

    Frequently sampled (popular) items would otherwise be over-penalised as negatives
    (Yi et al., RecSys 2019). logits (B, S); log_q broadcastable to (B, S).
    """
    return logits - log_q


def sampled_logits(
    pos_logits: torch.Tensor,
    neg_logits: torch.Tensor,
    pos_log_q: torch.Tensor,
    neg_log_q: torch.Tensor,
    accidental_hits: torch.Tensor | None = None,
) -> torch.Tensor:
    """(B, 1 + S) logQ-corrected logits with the positive in column 0.

    pos_logits (B,), neg_logits (B, S) for S shared sampled items, pos_log_q (B,), neg_log_q (S,);
    accidental_hits (B, S) bool marks negatives equal to the row's positive (masked out).
    """
    pos = logq_correct(pos_logits, pos_log_q).unsqueeze(1)  # (B, 1)
    neg = logq_correct(neg_logits, neg_log_q.unsqueeze(0))  # (B, S)
    if accidental_hits is not None:
        neg = neg.masked_fill(accidental_hits, torch.finfo(neg.dtype).min)
    return torch.cat([pos, neg], dim=1)  # (B, 1 + S)


def sampled_relevance_loss(
    corrected_logits: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Sampled-softmax L_r over logits from `sampled_logits` (positive in column 0)."""
    targets = torch.zeros(corrected_logits.shape[0], dtype=torch.long,
                          device=corrected_logits.device)
    return relevance_loss(corrected_logits, targets, weights)


def category_mass(probs: torch.Tensor, item_categories: torch.Tensor) -> torch.Tensor:
    """q_u(c) = sum over items of p_u(i) * M[i, c]: (B, n_items) @ (n_items, C) -> (B, C).

    M is row-stochastic, so an item with several categories splits its mass evenly.
    """
    return probs.float() @ item_categories.float()


def diversity_target(
    history_dist: torch.Tensor, prior: torch.Tensor, gamma: float
) -> torch.Tensor:
    """t_u = (1 - gamma) * h_u + gamma * g: (B, C) history mix pulled toward the prior (C,)."""
    return (1.0 - gamma) * history_dist + gamma * prior.unsqueeze(0)


def kl_diversity_loss(
    target: torch.Tensor, mass: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """L_d = weighted mean over users of KL(t_u || q_u) = sum_c t log(t / q); 0 log 0 = 0."""
    target = target.float()
    log_ratio = torch.log(target.clamp_min(EPS)) - torch.log(mass.float().clamp_min(EPS))
    kl = torch.where(target > 0, target * log_ratio, torch.zeros_like(target)).sum(dim=1)  # (B,)
    return weighted_mean(kl, weights)


def entropy_diversity_loss(
    mass: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """L_d = -H(q_u) = sum_c q log q, weighted mean over users (lower = more spread)."""
    mass = mass.float()
    neg_entropy = torch.where(
        mass > 0, mass * torch.log(mass.clamp_min(EPS)), torch.zeros_like(mass)
    ).sum(dim=1)  # (B,)
    return weighted_mean(neg_entropy, weights)


def joint_loss(
    diversity: torch.Tensor, relevance: torch.Tensor, alpha: float, beta: float
) -> torch.Tensor:
    """L = alpha * L_d + beta * L_r."""
    return alpha * diversity + beta * relevance
