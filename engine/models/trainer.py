"""Training loop for the two-tower network: AdamW on L = alpha * L_d + beta * L_r.

The examples (engine/models/examples.py) are one per training interaction or one per shopper.
Early stopping watches validation NDCG@K and restores the best weights.
Progress reaches the outside world only through callbacks, so a dashboard can draw bars and
curves, or cancel by raising `StopTraining`, without the engine knowing about it.
"""

from __future__ import annotations

import contextlib
import copy
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from engine.models import losses
from engine.models.callbacks import notify_batch, notify_epoch
from engine.models.examples import TrainingExamples, UserExamples
from engine.models.network import PAD, TwoTowerNet


class StopTraining(Exception):  # noqa: N818 - a signal, not an error
    """Raise from a callback to end training now; the best weights so far are kept."""


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch so a fit is repeatable on the same machine."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


AUTO_DIVERSITY_TOP = 50  # the top region "auto" gives L_d under the full softmax


def resolve_diversity_top(value: int | str, sampled: bool) -> int:
    """TrainConfig.diversity_top as an item count: "auto" is AUTO_DIVERSITY_TOP under the full
    softmax and 0 (the whole catalogue, importance-sampled) under sampled softmax."""
    if value == "auto":
        return 0 if sampled else AUTO_DIVERSITY_TOP
    return int(value)


def resolve_diversity_loss(value: str, top: int) -> str:
    """TrainConfig.diversity_loss as a loss name: "auto" is the expected category coverage of
    a list drawn from a top region (list-level, it stops pushing once a category is likely in
    the list) and KL to the shopper's target on the whole catalogue's mass."""
    if value == "auto":
        return "coverage" if top > 0 else "kl"
    return value


class Trainer:
    """Mini-batch AdamW with early stopping on a validation score (higher is better)."""

    def __init__(self, net: TwoTowerNet, config: TrainConfig, examples: TrainingExamples,
                 user_category_dist: np.ndarray, category_prior: np.ndarray,
                 validate: Callable[[], float] | None, device: torch.device):
        self.net, self.config, self.examples = net, config, examples
        self.validate, self.device = validate, device
        self.user_dist = torch.tensor(user_category_dist, dtype=torch.float32, device=device)
        self.prior = torch.as_tensor(category_prior, dtype=torch.float32, device=device)
        counts = np.bincount(examples.items, minlength=net.n_items) + 1.0
        self.log_q = torch.as_tensor(np.log(counts / counts.sum()), dtype=torch.float32,
                                     device=device)  # (n_items,) sampling log-probabilities
        self.sampled = net.n_items > config.sampled_softmax_threshold
        self.category_index: losses.CategoryIndex | None = None  # built on first use
        self.diversity_top = resolve_diversity_top(config.diversity_top, self.sampled)
        self.diversity_loss = resolve_diversity_loss(config.diversity_loss, self.diversity_top)
        if self.sampled and self.diversity_top > 0:
            raise ConfigError(
                f"TrainConfig.diversity_top: the top region needs the full softmax, but the "
                f"catalogue has {net.n_items:,} items (> sampled_softmax_threshold "
                f"{config.sampled_softmax_threshold:,}); set diversity_top=0.")
        if self.sampled and isinstance(examples, UserExamples):
            raise ConfigError(
                f"TrainConfig.example_history: 'user' needs the full softmax, but the catalogue "
                f"has {net.n_items:,} items (> sampled_softmax_threshold "
                f"{config.sampled_softmax_threshold:,}); use past or rest.")
        self.generator = torch.Generator(device=device).manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        sparse = self._sparse_embeddings()
        taken = {id(p) for p in sparse}
        self.optimizer = torch.optim.AdamW([p for p in net.parameters() if id(p) not in taken],
                                           lr=config.lr, weight_decay=config.weight_decay)
        # Row-sparse Adam for the ID tables under sampled softmax: a step touches only the
        # rows in the batch instead of the whole (n_items, d) table (docs/benchmarks/large.md).
        self.sparse_optimizer = torch.optim.SparseAdam(sparse, lr=config.lr) if sparse else None
        self.metric = f"val_ndcg@{config.eval_k}"
        self.steps_done = 0

    allow_sparse_embeddings = True  # DistributedTrainer keeps dense gradients for all-reduce

    def _sparse_embeddings(self) -> list[torch.nn.Parameter]:
        """ID / user embedding weights switched to sparse gradients (sampled softmax only)."""
        if not (self.sampled and self.allow_sparse_embeddings):
            return []
        tables = [self.net.item_tower.id_emb, self.net.user_tower.user_emb]
        for table in tables:
            if table is not None:
                table.sparse = True
        return [table.weight for table in tables if table is not None]

    def _step(self, loss: torch.Tensor) -> None:
        """Backward and one optimizer step (dense AdamW, plus SparseAdam for ID tables)."""
        self.optimizer.zero_grad(set_to_none=True)
        if self.sparse_optimizer is not None:
            self.sparse_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.sparse_optimizer is not None:
            self.sparse_optimizer.step()
        self.steps_done += 1
        self._set_lr()

    def _set_lr(self) -> None:
        """Cosine decay from lr to lr / 20 over all of `epochs` (lr_schedule=cosine).

        A high rate early and a low one late reaches the constant rate's best validation
        score in fewer epochs (docs/benchmarks/quality.md).
        """
        if self.config.lr_schedule != "cosine":
            return
        batches = (len(self.examples) + self.config.batch_size - 1) // self.config.batch_size
        progress = min(1.0, self.steps_done / max(1, batches * self.config.epochs))
        scale = 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * progress))
        for optimizer in (self.optimizer, self.sparse_optimizer):
            for group in optimizer.param_groups if optimizer is not None else ():
                group["lr"] = self.config.lr * scale

    def fit(self, callbacks: Sequence[Any] = ()) -> list[dict[str, float]]:
        """Train until `epochs`, patience runs out or a callback raises StopTraining.

        Returns the per-epoch logs; the network ends with its best validation weights.
        """
        history: list[dict[str, float]] = []
        best, best_state, waited = -np.inf, copy.deepcopy(self.net.state_dict()), 0
        try:
            for epoch in range(1, self.config.epochs + 1):
                started = time.perf_counter()
                logs = self._train_epoch(callbacks)
                # Without validation data every epoch counts as the best so far.
                score = float(epoch) if self.validate is None else float(self.validate())
                if self.validate is not None:
                    logs[self.metric] = score
                logs.update(epoch=epoch, seconds=time.perf_counter() - started)
                if score > best:
                    best, best_state, waited = score, copy.deepcopy(self.net.state_dict()), 0
                else:
                    waited += 1
                logs["best"] = float(best)
                history.append(logs)
                notify_epoch(callbacks, epoch, logs)
                if waited >= self.config.patience:
                    break
        except StopTraining:
            pass
        finally:
            self.net.load_state_dict(best_state)
        return history

    def _train_epoch(self, callbacks: Sequence[Any]) -> dict[str, float]:
        self.net.train()
        order = self.rng.permutation(len(self.examples))
        size = self.config.batch_size
        total = (len(order) + size - 1) // size
        sums = np.zeros(3)
        for step, begin in enumerate(range(0, len(order), size), start=1):
            batch = self._to_device(self.examples.batch(order[begin:begin + size]))
            loss, relevance, diversity = self.batch_loss(batch)
            self._step(loss)
            sums += [loss.item(), relevance.item(), diversity.item()]
            notify_batch(callbacks, step, total)
        means = sums / max(total, 1)
        return {"L": float(means[0]), "L_r": float(means[1]), "L_d": float(means[2])}

    def _to_device(self, batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        tensors = {key: torch.from_numpy(np.ascontiguousarray(value))
                   for key, value in batch.items()}
        if self.device.type == "cuda":
            return {key: t.pin_memory().to(self.device, non_blocking=True)
                    for key, t in tensors.items()}
        return tensors

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _id_keep(self) -> torch.Tensor | None:
        rate = self.net.config.id_dropout
        if rate <= 0 or not self.net.config.use_id:
            return None
        draw = torch.rand(self.net.n_items, generator=self.generator, device=self.device)
        return (draw >= rate).float()  # (n_items,)

    def batch_loss(self, batch: dict[str, torch.Tensor]
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(L, L_r, L_d) for one batch; the full or sampled softmax by catalogue size.

        Per-example losses are joined by `losses.joint_loss` with the batch's event weights;
        a loss-conditioned network draws each example's own alpha, and L_d is computed only
        for the examples whose alpha is above 0 (`_weighted_rows`)."""
        alpha = self._draw_alphas(len(batch["users"]))
        net_alpha = alpha if isinstance(alpha, torch.Tensor) else None
        if not self.sampled:
            with self._autocast():
                logits, _ = self.net(batch["history"], batch["users"], self._id_keep(),
                                     net_alpha)
            return self.full_softmax_losses(logits, batch, alpha, self._weighted_rows(alpha))
        with self._autocast():
            sample = self._sampled_logits(batch, net_alpha)
            relevance = losses.sampled_relevance_per_example(sample.corrected)
        rows = self._weighted_rows(alpha)
        return self._joined(relevance, lambda: self._diversity(
            self._log_mass(None, sample, rows), batch, rows), batch, alpha, rows)

    def full_softmax_losses(self, logits: torch.Tensor, batch: dict[str, torch.Tensor],
                            alpha: float | torch.Tensor, rows: torch.Tensor | None = None
                            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(L, L_r, L_d) of a batch from its full-catalogue logits (B, n_items); L_d of the
        example `rows` only when given (the others' alpha is 0)."""
        with self._autocast():
            if "target_weights" in batch:
                relevance = losses.multinomial_relevance_per_example(logits,
                                                                     batch["target_weights"])
            else:
                relevance = losses.relevance_per_example(logits, batch["targets"])
        return self._joined(relevance, lambda: self._diversity(
            self._log_mass(logits, None, rows), batch, rows), batch, alpha, rows)

    def _joined(self, relevance: torch.Tensor, diversity_of: Callable[[], torch.Tensor],
                batch: dict[str, torch.Tensor], alpha: float | torch.Tensor,
                rows: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(L, L_r, L_d) from per-example L_r (B,) and `diversity_of()`, L_d of `rows` (every
        row when None); the logged L_d is the weighted mean over the rows it was computed for."""
        weights = batch.get("weights")
        diversity = torch.zeros_like(relevance)
        shown = diversity.sum()  # 0 when no row weighs L_d
        weighed = isinstance(alpha, torch.Tensor) or self.config.alpha > 0
        if weighed and (rows is None or len(rows)):
            part = diversity_of()
            diversity = part if rows is None else diversity.index_copy(0, rows, part.float())
            kept = weights if weights is None or rows is None else weights[rows]
            shown = losses.weighted_mean(part, kept)
        loss = losses.joint_loss(diversity, relevance, alpha, self.config.beta, weights)
        return loss, losses.weighted_mean(relevance, weights), shown

    def _weighted_rows(self, alpha: float | torch.Tensor) -> torch.Tensor | None:
        """The examples whose L_d has a weight (alpha > 0) of a loss-conditioned batch, or
        None (every example: a fixed alpha). Half of a conditioned model's examples sit at
        alpha = 0 (`losses.draw_alphas`), where alpha·L_d adds nothing to the loss or its
        gradient, so their L_d is never computed."""
        if not isinstance(alpha, torch.Tensor):
            return None
        return torch.nonzero(alpha > 0).reshape(-1)

    def _draw_alphas(self, n: int) -> float | torch.Tensor:
        """The fixed alpha, or (n,) alphas of a conditioned model (`losses.draw_alphas`)."""
        span = self.config.alpha_range
        if span is None:
            return self.config.alpha
        return losses.draw_alphas(n, *span, self.generator, self.device)  # (n,)

    def _log_mass(self, logits: torch.Tensor | None, sample: SampledBatch | None,
                  rows: torch.Tensor | None = None) -> torch.Tensor:
        """(B, C) log predicted category mass: exact under the full softmax (whole catalogue or
        each user's top region) or importance-sampled under sampled softmax, of its `rows` (every
        row when None)."""
        cats = self.net.item_categories
        if sample is not None:
            pick = (lambda t: t) if rows is None else (lambda t: t[rows])
            return losses.sampled_log_category_mass(
                pick(sample.pos_logits), pick(sample.neg_logits), self.log_q[sample.negatives],
                cats[pick(sample.targets)], cats[sample.negatives], pick(sample.hits))
        if self.category_index is None:
            self.category_index = losses.category_index(cats)
        if self.diversity_top > 0:
            return losses.log_top_region_mass(logits, self.category_index,
                                              self.diversity_top, rows)
        return losses.log_category_mass(logits if rows is None else logits[rows],
                                        self.category_index)

    def _diversity(self, log_mass: torch.Tensor, batch: dict[str, torch.Tensor],
                   rows: torch.Tensor | None = None) -> torch.Tensor:
        """(B,) L_d of each example (of `rows` when given) from the log category mass."""
        if self.diversity_loss == "entropy":
            return losses.neg_entropy_per_example(log_mass)
        if self.diversity_loss == "coverage":
            return losses.expected_coverage_per_example(log_mass, self.config.eval_k)
        users = batch["users"] if rows is None else batch["users"][rows]
        target = losses.diversity_target(self.user_dist[users], self.prior, self.config.gamma)
        return losses.kl_per_example(target, log_mass)

    def _sampled_logits(self, batch: dict[str, torch.Tensor],
                        alpha: torch.Tensor | None = None) -> SampledBatch:
        """The positive's and shared negatives' logits, and their logQ-corrected (B, 1 + S)."""
        history, targets = batch["history"], batch["targets"]
        negatives = torch.multinomial(self.log_q.exp(), self.config.num_negatives,
                                      replacement=True, generator=self.generator)  # (S,)
        needed = torch.cat([history[history != PAD], targets, negatives])
        items, inverse = torch.unique(needed, return_inverse=True)
        keep = self._id_keep()
        vecs = self.net.item_vectors(items, None if keep is None else keep[items])  # (U, d)
        local = torch.full_like(history, PAD)
        n_hist = int((history != PAD).sum())
        local[history != PAD] = inverse[:n_hist]
        users = self.net.user_vectors(local, batch["users"], vecs, alpha)  # (B, d)
        users = self.net.scoring_users(users, alpha)
        vecs = self.net.scoring_items(vecs, items)
        pos_vecs = vecs[inverse[n_hist:n_hist + len(targets)]]  # (B, d)
        neg_vecs = vecs[inverse[n_hist + len(targets):]]  # (S, d)
        tau = self.net.config.temperature
        pos_logits, neg_logits = (users * pos_vecs).sum(-1) / tau, users @ neg_vecs.T / tau
        hits = negatives.unsqueeze(0) == targets.unsqueeze(1)  # (B, S)
        corrected = losses.sampled_logits(pos_logits, neg_logits, self.log_q[targets],
                                          self.log_q[negatives], accidental_hits=hits)
        return SampledBatch(targets, negatives, pos_logits, neg_logits, hits, corrected)


class SampledBatch(NamedTuple):
    """One batch under sampled softmax: the positives, the shared negatives and their logits."""

    targets: torch.Tensor  # (B,) item indices
    negatives: torch.Tensor  # (S,) sampled item indices
    pos_logits: torch.Tensor  # (B,) s(u, i+)
    neg_logits: torch.Tensor  # (B, S) s(u, j)
    hits: torch.Tensor  # (B, S) negatives equal to the row's positive
    corrected: torch.Tensor  # (B, 1 + S) logQ-corrected, positive in column 0
