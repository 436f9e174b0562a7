"""The joint training loss L = alpha * L_d + beta * L_r, as pure tensor functions.

L_r (relevance) is the event-weighted softmax cross-entropy of the held-out item over the
catalogue: full softmax for catalogues that fit, sampled softmax with logQ correction above.
L_d (diversity) compares the predicted category mass q_u(c) = sum_{i in c} p_u(i) with a
target t_u = (1 - gamma) * h_u + gamma * g through KL(t_u || q_u), or rewards spread through
-H(q_u) or the expected category coverage of a k-item list. Category mass is computed in log
space (a logsumexp over each category's items), so collapsed categories keep a gradient.
Nothing here knows about models or data; every function takes and returns tensors.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

EPS = 1e-8


def weighted_mean(values: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean of `values` (B,) weighted by `weights` (B,); plain mean when weights is None."""
    if weights is None:
        return values.mean()
    return (values * weights).sum() / weights.sum().clamp_min(EPS)


def relevance_per_example(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(B,) -log p_u(i+): logits (B, n_items) scores s(u, i); targets (B,) item indices."""
    return F.cross_entropy(logits.float(), targets, reduction="none")


def relevance_loss(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Full-softmax L_r: -weighted mean of log p_u(i+).

    logits (B, n_items) scores s(u, i); targets (B,) item indices; weights (B,) event weights.
    """
    return weighted_mean(relevance_per_example(logits, targets), weights)


def multinomial_relevance_per_example(logits: torch.Tensor,
                                      target_weights: torch.Tensor) -> torch.Tensor:
    """(B,) -sum_i w_ui log p_u(i) / sum_i w_ui for each user of the batch."""
    log_p = logits.float().log_softmax(dim=-1)  # (B, n_items)
    return -(log_p * target_weights).sum(-1) / target_weights.sum(-1).clamp_min(EPS)


def multinomial_relevance_loss(logits: torch.Tensor, target_weights: torch.Tensor) -> torch.Tensor:
    """Multi-target L_r: mean over users of -sum_i w_ui log p_u(i) / sum_i w_ui.

    logits (B, n_items); target_weights (B, n_items) event weights of each user's items
    (zero elsewhere). With one target per row this equals `relevance_loss`.
    """
    return multinomial_relevance_per_example(logits, target_weights).mean()


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


def sampled_relevance_per_example(corrected_logits: torch.Tensor) -> torch.Tensor:
    """(B,) sampled-softmax -log p_u(i+) over logits from `sampled_logits` (positive first)."""
    targets = torch.zeros(corrected_logits.shape[0], dtype=torch.long,
                          device=corrected_logits.device)
    return relevance_per_example(corrected_logits, targets)


def sampled_relevance_loss(
    corrected_logits: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Sampled-softmax L_r over logits from `sampled_logits` (positive in column 0)."""
    return weighted_mean(sampled_relevance_per_example(corrected_logits), weights)


def _finite(values: torch.Tensor) -> torch.Tensor:
    """-inf (an empty category's log mass) replaced by 0, so products never give NaN."""
    return torch.where(torch.isfinite(values), values, torch.zeros_like(values))


def category_mass(probs: torch.Tensor, item_categories: torch.Tensor) -> torch.Tensor:
    """q_u(c) = sum over items of p_u(i) * M[i, c]: (B, n_items) @ (n_items, C) -> (B, C).

    M is row-stochastic, so an item with several categories splits its mass evenly. For the
    loss use `log_category_mass`: this probability form underflows for collapsed categories.
    """
    return probs.float() @ item_categories.float()


class CategoryIndex(NamedTuple):
    """The non-zeros of the (n_items, C) category matrix M as flat (item, category, log M) lists.

    Built once per catalogue so that log category mass is a segment logsumexp over each
    category's items instead of a log of a sum of probabilities.
    """

    items: torch.Tensor  # (nnz,) item index of each membership
    categories: torch.Tensor  # (nnz,) category index of each membership
    log_weights: torch.Tensor  # (nnz,) log M[i, c] (an item's share in the category)
    n_categories: int
    log_matrix: torch.Tensor  # (n_items, C) log M, -inf outside an item's categories
    one_each: bool  # every item in exactly one category: membership j is item j


def category_index(item_categories: torch.Tensor) -> CategoryIndex:
    """`CategoryIndex` of a (n_items, C) row-stochastic category matrix."""
    items, cats = torch.nonzero(item_categories > 0, as_tuple=True)
    log_w = item_categories[items, cats].float().log()
    one_each = len(items) == len(item_categories) and bool(
        (items == torch.arange(len(items), device=items.device)).all())
    return CategoryIndex(items, cats, log_w, int(item_categories.shape[1]),
                         item_categories.float().log(), one_each)


def masked_logsumexp(values: torch.Tensor, dim: int) -> torch.Tensor:
    """logsumexp over `dim` that is -inf for all -inf slices, without NaN gradients."""
    peak = values.detach().amax(dim=dim, keepdim=True)
    finite = torch.isfinite(peak)
    shift = torch.where(finite, peak, torch.zeros_like(peak))
    sums = (values - shift).exp().sum(dim=dim, keepdim=True)
    out = torch.where(finite, torch.where(finite, sums, 1.0).log() + shift, peak)
    return out.squeeze(dim)


def _segment_logsumexp(values: torch.Tensor, segments: torch.Tensor,
                       n_segments: int) -> torch.Tensor:
    """(B, n_segments) logsumexp of `values` (B, K) grouped by `segments` (K,), or (B, K)
    for a grouping of each row's own.

    Each segment is shifted by its own (detached) maximum, so a segment whose terms are all
    far below the row's maximum keeps a finite log and a non-zero gradient; empty segments
    are -inf.
    """
    index = segments.expand_as(values)
    low = torch.full((values.shape[0], n_segments), float("-inf"), device=values.device,
                     dtype=values.dtype)
    peak = low.scatter_reduce(1, index, values.detach(), reduce="amax")  # (B, n_segments)
    finite = torch.isfinite(peak)
    shift = torch.where(finite, peak, torch.zeros_like(peak))
    terms = (values - shift.gather(1, index)).exp()  # (B, K), the largest of a segment is 1
    sums = torch.zeros_like(peak).scatter_add(1, index, terms)
    return torch.where(finite, torch.where(finite, sums, 1.0).log() + shift, peak)


def log_category_mass(logits: torch.Tensor, index: CategoryIndex) -> torch.Tensor:
    """log q_u(c) = logsumexp_{i in c}(s_ui + log M[i, c]) - logsumexp_i s_ui: (B, C).

    logits (B, n_items). Exact in log space: a category whose mass is 1e-12 (or 1e-40, below
    float32's range as a probability) still gets the gradient that pushes it back up.
    """
    logits = logits.float()
    gathered = logits[:, index.items] + index.log_weights  # (B, nnz)
    per_category = _segment_logsumexp(gathered, index.categories, index.n_categories)
    return per_category - logits.logsumexp(dim=-1, keepdim=True)


def sampled_log_category_partition(
    pos_logits: torch.Tensor,
    neg_logits: torch.Tensor,
    neg_log_q: torch.Tensor,
    pos_categories: torch.Tensor,
    neg_categories: torch.Tensor,
    accidental_hits: torch.Tensor | None = None,
) -> torch.Tensor:
    """log of an unbiased estimate of Z_c = sum_{i in c} exp(s_ui) M[i, c]: (B, C).

    The positive counts exactly (exp(s_u,pos) M[pos, c]); the rest of the catalogue through
    the S shared negatives drawn with probability Q: exp(s_uj) M[j, c] / (S Q_j), negatives
    equal to the positive left out (so the positive counts once). The target's category
    always has its positive's term. pos_logits (B,), neg_logits (B, S), neg_log_q (S,),
    pos_categories (B, C), neg_categories (S, C), accidental_hits (B, S) bool.
    """
    n_samples = neg_logits.shape[1]
    neg = neg_logits.float() - neg_log_q.unsqueeze(0) - math.log(n_samples)  # (B, S)
    if accidental_hits is not None:
        neg = neg.masked_fill(accidental_hits, float("-inf"))
    log_pos = pos_logits.float().unsqueeze(1) + pos_categories.float().log()  # (B, C)
    log_neg = neg.unsqueeze(2) + neg_categories.float().log().unsqueeze(0)  # (B, S, C)
    return masked_logsumexp(torch.cat([log_pos.unsqueeze(1), log_neg], 1), dim=1)  # (B, C)


def sampled_log_category_mass(*args: torch.Tensor) -> torch.Tensor:
    """Sampled log q_u(c) = log Z_c - log sum_c Z_c from `sampled_log_category_partition`.

    A ratio of unbiased estimates: consistent, biased by O(1/S). Measured on a 2,000-item
    catalogue with Pareto popularity as Q (8 categories, 200 draws): mean |bias| per category
    .0076 / .0032 / .0012 at S = 64 / 256 / 1,024 — no larger than the softmax over the
    logQ-corrected candidates, which weighs the positive by 1 / Q instead of exactly once.
    """
    log_z_c = sampled_log_category_partition(*args)
    return log_z_c - masked_logsumexp(log_z_c, dim=-1).unsqueeze(1)


def category_best_items(scores: torch.Tensor, index: CategoryIndex) -> torch.Tensor:
    """(B, C) the item holding each category's best score, -1 for a category without items.

    scores (B, n_items), without gradient: the caller gathers the logits of these items, so
    the gradient reaches each category's best item alone (not a scatter-max's backward over
    every membership (B, nnz)).
    """
    flat = scores if index.one_each else scores[:, index.items]  # (B, nnz)
    cats = index.categories.expand_as(flat)
    low = torch.full((len(scores), index.n_categories), float("-inf"), device=scores.device,
                     dtype=flat.dtype)
    peak = low.scatter_reduce(1, cats, flat, reduce="amax")  # (B, C)
    slots = torch.arange(flat.shape[1], device=scores.device).expand_as(flat)
    at_peak = torch.where(flat == peak.gather(1, cats), slots, -1)  # (B, nnz)
    slot = torch.full_like(peak, -1, dtype=torch.long).scatter_reduce(
        1, cats, at_peak, reduce="amax")  # (B, C) a membership holding the best score
    return torch.where(slot < 0, -1, index.items[slot.clamp_min(0)])


def log_top_region_mass(logits: torch.Tensor, index: CategoryIndex, top: int,
                        rows: torch.Tensor | None = None) -> torch.Tensor:
    """log category mass of the softmax restricted to each user's top region: (B, C).

    The region is the user's `top` best items plus each category's best item (so a category
    missing from the top still has an item whose logit the gradient can lift in). The list a
    shopper sees comes from there; the whole catalogue's mass is dominated by its long tail.
    A category's mass is its share of the top items plus its own best item when that is
    outside the top. logits (n, n_items); `rows` (B,) the rows to compute (every row when
    None). The region is chosen on detached scores and its logits read by one gather, so the
    backward pass fills one gradient of the logits' size, not one per selection step.
    """
    scores = (logits.detach() if rows is None else logits.detach()[rows]).float()
    _, items = scores.topk(min(top, scores.shape[1]), dim=-1)  # (B, M)
    best_items = category_best_items(scores, index)  # (B, C)
    region = torch.cat([items, best_items.clamp_min(0)], dim=1)  # (B, M + C)
    picked = (logits.gather(1, region) if rows is None
              else logits[rows.unsqueeze(1), region]).float()
    values, best = picked[:, :items.shape[1]], picked[:, items.shape[1]:]
    best = best.masked_fill((best_items < 0) | (best >= values[:, -1:]),
                            float("-inf"))  # no item, or already in the top M
    norm = masked_logsumexp(torch.cat([values, best], dim=1), dim=-1).unsqueeze(1)  # (B, 1)
    if index.one_each:  # each top item adds to its one category: a segment logsumexp
        in_top = _segment_logsumexp(values - norm, index.categories[items],
                                    index.n_categories)  # (B, C)
    else:
        log_cats = index.log_matrix[items]  # (B, M, C) log M[i, c] of the top items
        in_top = masked_logsumexp((values - norm).unsqueeze(2) + log_cats, dim=1)  # (B, C)
    return masked_logsumexp(torch.stack([in_top, best - norm], dim=2), dim=2)


def expected_coverage_per_example(log_mass: torch.Tensor, k: int) -> torch.Tensor:
    """(B,) -E[distinct categories in k draws from q_u] / k = -sum_c (1 - (1 - q_c)^k) / k."""
    miss = torch.log1p(-log_mass.float().exp().clamp_max(1 - 1e-6)) * k  # (B, C) log (1-q)^k
    return -(1.0 - miss.exp()).sum(dim=1) / k  # (B,)


def expected_coverage_loss(log_mass: torch.Tensor, k: int,
                           weights: torch.Tensor | None = None) -> torch.Tensor:
    """L_d = -E[distinct categories in k draws from q_u] / k = -sum_c (1 - (1 - q_c)^k) / k.

    A list-level spread term: it rewards each category's chance of appearing at least once in
    a list of k, saturating once a category is likely in (unlike KL, which keeps pushing mass).
    """
    return weighted_mean(expected_coverage_per_example(log_mass, k), weights)


def diversity_target(
    history_dist: torch.Tensor, prior: torch.Tensor, gamma: float
) -> torch.Tensor:
    """t_u = (1 - gamma) * h_u + gamma * g: (B, C) history mix pulled toward the prior (C,)."""
    return (1.0 - gamma) * history_dist + gamma * prior.unsqueeze(0)


def kl_per_example(target: torch.Tensor, log_mass: torch.Tensor) -> torch.Tensor:
    """(B,) KL(t_u || q_u) = sum_c t (log t - log q); 0 log 0 = 0 (see `kl_diversity_loss`)."""
    target = target.float()
    present = (target > 0) & torch.isfinite(log_mass)
    log_ratio = torch.log(target.clamp_min(EPS)) - _finite(log_mass.float())
    return torch.where(present, target * log_ratio, torch.zeros_like(target)).sum(dim=1)


def kl_diversity_loss(
    target: torch.Tensor, log_mass: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """L_d = weighted mean over users of KL(t_u || q_u) = sum_c t (log t - log q); 0 log 0 = 0.

    log_mass (B, C) is log q_u from `log_category_mass` (never a clamped log of a probability,
    whose gradient vanishes exactly where a category has collapsed).
    A category absent from a sampled estimate (log q = -inf: no positive or negative in it)
    has no term.
    """
    return weighted_mean(kl_per_example(target, log_mass), weights)


def neg_entropy_per_example(log_mass: torch.Tensor) -> torch.Tensor:
    """(B,) -H(q_u) = sum_c q log q from log q (B, C)."""
    log_mass = log_mass.float()
    mass = log_mass.exp()
    return torch.where(mass > 0, mass * _finite(log_mass), torch.zeros_like(mass)).sum(dim=1)


def entropy_diversity_loss(
    log_mass: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """L_d = -H(q_u) = sum_c q log q from log q (B, C), weighted mean over users."""
    return weighted_mean(neg_entropy_per_example(log_mass), weights)


def joint_loss(
    diversity: torch.Tensor, relevance: torch.Tensor, alpha: float | torch.Tensor, beta: float,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """L = alpha * L_d + beta * L_r.

    With scalar losses and weights this is the plain sum. With per-example losses (B,), an
    alpha per example (B,) (a loss-conditioned model samples one for each example) and event
    weights (B,), it is the weighted mean over examples of alpha_b * L_d,b + beta * L_r,b.
    """
    combined = alpha * diversity + beta * relevance
    return combined if combined.dim() == 0 else weighted_mean(combined, weights)


# Share of a loss-conditioned model's examples drawn at the low end of its alpha range.
ALPHA_LOW_END_SHARE = 0.5


def draw_alphas(n: int, low: float, high: float, generator: torch.Generator,
                device: torch.device | str = "cpu") -> torch.Tensor:
    """(n,) diversity weights for one batch of a loss-conditioned model: each example is at the
    range's low end with probability ALPHA_LOW_END_SHARE, else uniform over [low, high].

    Why not uniform: the item vectors are shared by every alpha and learn from the batch's
    mean loss, so under uniform draws they settle where a model trained at the middle alpha
    would, and the user tower alone cannot bring the low end back to a relevance-only model:
    on ML-100K (3 training seeds) uniform draws scored NDCG@10 0.2697 at alpha = 0 against
    0.2902 for the model trained at 0 alone, with entropy@10 almost flat over alpha. Half the
    examples at the low end keep the item vectors near the most accurate model, where the
    goal is strictest (its NDCG), and the uniform half teaches the user tower every other
    alpha; ends-heavy draws such as Beta(0.5, 0.5) or a quarter at each end kept the low end
    below the fixed model's. What lets a high alpha still spread the lists is the item
    side's own diversity direction, which only examples with alpha > 0 train (the score's
    alpha·u·d_i term; engine/models/network.py, docs/benchmarks/frontier.md, "One model for
    every α", entropy@10 row).
    """
    draw = torch.rand(n, generator=generator, device=device)
    at_low = torch.rand(n, generator=generator, device=device) < ALPHA_LOW_END_SHARE
    return torch.where(at_low, torch.full_like(draw, low), low + (high - low) * draw)
