"""Differentially private training of the two-tower network: DP-SGD over shoppers (Opacus).

The unit of privacy is the shopper. Each training example is one shopper's whole training
history (`UserExamples`: the history is the input, every item they chose the target), so a
shopper's events reach the weights only through that shopper's one example. Each step:
- Poisson sampling picks every shopper independently with rate q = batch_size / shoppers
  (Opacus's `UniformWithReplacementSampler`);
- each sampled shopper's gradient of the loss over every trained parameter is computed on its
  own (torch.func: `vmap` of `grad`; the item tower runs over the whole catalogue for every
  shopper, which Opacus's per-layer hooks cannot follow);
- Opacus's `DPOptimizer` clips each shopper's gradient to norm `dp_clip`, adds Gaussian noise
  of standard deviation noise_multiplier × dp_clip and averages; the noise multiplier is the
  smallest that keeps the PRV accountant's epsilon at `dp_epsilon` for the planned steps.
The weights are those of the last step: no validation-based choice of an epoch touches them
(patience does not apply). What is and is not protected: docs/privacy.md.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.core.errors import ConfigError
from engine.models.callbacks import notify_batch, notify_epoch
from engine.models.examples import UserExamples
from engine.models.network import PAD
from engine.models.trainer import StopTraining, Trainer

ACCOUNTANT = "prv"  # Opacus's privacy-loss-random-variable accountant (tight for DP-SGD)
DELTA_EXPONENT = 1.1  # default delta = 1 / shoppers^1.1
SAMPLE_CHUNK = 64  # shoppers per vmap pass (bounds the per-shopper activations in memory)


def default_delta(n_shoppers: int) -> float:
    """1 / n^1.1: below 1 / n, the chance of one whole shopper's data leaking outright."""
    return float(max(n_shoppers, 2) ** -DELTA_EXPONENT)


def plan(n_shoppers: int, batch_size: int, epochs: int, epsilon: float,
         delta: float | None) -> dict[str, Any]:
    """Sampling rate, steps and the noise multiplier that meet (epsilon, delta)."""
    from opacus.accountants.utils import get_noise_multiplier

    rate = min(1.0, batch_size / max(n_shoppers, 1))
    steps_per_epoch = max(1, int(1 / rate))
    steps = steps_per_epoch * epochs
    delta = default_delta(n_shoppers) if delta is None else float(delta)
    with warnings.catch_warnings():  # the RDP bracket's note on its order range
        warnings.simplefilter("ignore", UserWarning)
        try:
            noise = get_noise_multiplier(target_epsilon=float(epsilon), target_delta=delta,
                                         sample_rate=rate, steps=steps, accountant=ACCOUNTANT)
        except ValueError as exc:  # no noise level reaches a budget this small
            raise ConfigError(f"dp_epsilon {epsilon:g}: no noise level meets this budget for "
                              f"{n_shoppers:,} shoppers over {steps:,} steps ({exc}); allow a "
                              "larger epsilon or train fewer epochs") from None
    return {"epsilon": float(epsilon), "delta": delta, "noise_multiplier": float(noise),
            "sample_rate": rate, "steps": steps, "steps_per_epoch": steps_per_epoch,
            "epochs": epochs, "shoppers": int(n_shoppers), "unit": "shopper",
            "accountant": ACCOUNTANT}


class PrivateTrainer(Trainer):
    """DP-SGD over shoppers; `privacy` records the guarantee the fit met."""

    allow_sparse_embeddings = False  # per-shopper gradients are dense

    def __init__(self, net: nn.Module, config: Any, examples: Any, *args: Any, **kwargs: Any):
        from engine.models import distributed

        if distributed.is_initialized():
            raise ConfigError("private training (dp_epsilon) runs in one process; drop --nproc")
        if not isinstance(examples, UserExamples):
            raise ConfigError("private training needs one example per shopper: set "
                              "example_history='user' (private_settings does)")
        super().__init__(net, config, examples, *args, **kwargs)
        if net.user_tower.user_emb is not None:
            raise ConfigError("use_user_embedding: a per-shopper embedding is one shopper's own "
                              "parameter; private training needs use_user_embedding=false")
        if self.sampled:
            raise ConfigError(
                f"dp_epsilon: private training needs the full softmax, but the catalogue has "
                f"{net.n_items:,} items (> sampled_softmax_threshold "
                f"{config.sampled_softmax_threshold:,}); raise the threshold or train without "
                "--dp-epsilon.")
        from opacus.optimizers import DPOptimizer

        self.privacy = plan(len(examples), config.batch_size, config.epochs, config.dp_epsilon,
                            config.dp_delta)
        self.privacy["clip"] = float(config.dp_clip)
        self.noise_generator = torch.Generator(device=self.device).manual_seed(config.seed + 1)
        self.sample_generator = torch.Generator().manual_seed(config.seed + 2)
        self.optimizer = DPOptimizer(
            self.optimizer, noise_multiplier=self.privacy["noise_multiplier"],
            max_grad_norm=config.dp_clip,
            expected_batch_size=max(1, round(self.privacy["sample_rate"] * len(examples))),
            generator=self.noise_generator)

    def fit(self, callbacks: Sequence[Any] = ()) -> list[dict[str, float]]:
        """`privacy["steps"]` noisy steps in epochs of 1 / q steps; the last weights stay."""
        from opacus.accountants import create_accountant

        accountant = create_accountant(ACCOUNTANT)
        history: list[dict[str, float]] = []
        try:
            for epoch in range(1, self.config.epochs + 1):
                started = time.perf_counter()
                logs = self._private_epoch(callbacks, accountant)
                if self.validate is not None:
                    logs[self.metric] = float(self.validate())
                logs.update(epoch=epoch, seconds=time.perf_counter() - started)
                history.append(logs)
                notify_epoch(callbacks, epoch, logs)
        except StopTraining:
            pass
        steps = int(sum(entry[-1] for entry in accountant.history))  # (noise, rate, steps)
        spent = accountant.get_epsilon(self.privacy["delta"]) if steps else 0.0
        self.privacy.update(steps_done=steps, epsilon_spent=float(spent))
        return history

    def _private_epoch(self, callbacks: Sequence[Any], accountant: Any) -> dict[str, float]:
        from opacus.utils.uniform_sampler import UniformWithReplacementSampler

        self.net.train()
        sampler = UniformWithReplacementSampler(
            num_samples=len(self.examples), sample_rate=self.privacy["sample_rate"],
            generator=self.sample_generator,
            steps=self.privacy["steps_per_epoch"])
        sums, total = np.zeros(3), len(sampler)
        for step, rows in enumerate(sampler, start=1):
            rows = np.asarray(rows, dtype=np.int64)
            sums += self._private_step(rows)
            accountant.step(noise_multiplier=self.privacy["noise_multiplier"],
                            sample_rate=self.privacy["sample_rate"])
            notify_batch(callbacks, step, total)
        means = sums / max(total, 1)
        return {"L": float(means[0]), "L_r": float(means[1]), "L_d": float(means[2])}

    def _private_step(self, rows: np.ndarray) -> np.ndarray:
        """One DP-SGD step on the sampled shoppers; their (sum L, L_r, L_d) / batch size."""
        params = dict(self.net.named_parameters())
        self.optimizer.zero_grad(set_to_none=True)
        totals = np.zeros(3)
        for param in params.values():
            param.grad_sample = [param.new_zeros((0, *param.shape))]
        for begin in range(0, len(rows), SAMPLE_CHUNK):
            grads, sums = self._per_shopper(rows[begin:begin + SAMPLE_CHUNK])
            for name, param in params.items():
                param.grad_sample.append(grads[name])
            totals += sums
        self.optimizer.step()
        self.steps_done += 1
        self._set_lr()
        return totals / max(self.optimizer.expected_batch_size, 1)

    def _per_shopper(self, rows: np.ndarray) -> tuple[dict[str, torch.Tensor], np.ndarray]:
        """Each shopper's gradient of their own loss over every parameter, and loss sums.

        Two passes of torch.func: (1) per shopper, the gradient over the user tower and over
        the catalogue's item vectors (their scores and their history slots); (2) those item
        vector gradients pulled back through the item tower, all shoppers at once (vmap of
        the item tower's vjp), so the catalogue is encoded once per chunk, not per shopper.
        """
        from torch.func import functional_call, grad, vjp, vmap

        net, batch = self.net, self._to_device(self.examples.batch(rows))
        alpha, keep = self._draw_alphas(len(rows)), self._id_keep()
        tower = {name: p.detach() for name, p in net.item_tower.named_parameters()}
        vecs, pull = vjp(lambda weights: functional_call(net.item_tower, weights, (
            net.text_embeddings, net.item_categories, None, keep)), tower)  # (n_items, d)
        catalogue = vecs.detach()
        history = batch["history"]  # (B, L) item indices, PAD on the left
        present = history != PAD
        slots = torch.arange(history.shape[1], device=self.device).expand_as(history)
        local = torch.where(present, slots, PAD)  # each shopper's slots index their own rows
        users = {name: p.detach() for name, p in net.user_tower.named_parameters()}
        per_alpha = alpha if isinstance(alpha, torch.Tensor) else None
        # a conditioned network's item diversity directions d: score u·v + alpha·u·d
        offset = None if net.item_offset is None else net.item_offset.weight.detach()

        def loss_of(weights, own, catalogue, offset, slot, user, target, one_alpha):
            one = None if one_alpha is None else one_alpha.reshape(1)
            vec = functional_call(net.user_tower, weights, (slot[None], own, user[None], one))
            logits = vec @ catalogue.T  # (1, n_items)
            if offset is not None:
                logits = logits + one * (vec @ offset.T)
            parts = torch.stack(self.full_softmax_losses(
                logits / net.config.temperature,
                {"target_weights": target[None], "users": user[None]},
                alpha if one is None else one))
            return parts[0], parts.detach()

        dims = (None, 0, None, None, 0, 0, 0, None if per_alpha is None else 0)
        argnums = (0, 1, 2) if offset is None else (0, 1, 2, 3)
        found, parts = vmap(
            grad(loss_of, argnums=argnums, has_aux=True), in_dims=dims,
            randomness="different")(users, catalogue[history.clamp_min(0)], catalogue, offset,
                                    local, batch["users"], batch["target_weights"], per_alpha)
        user_grads, own_grads, item_grads = found[:3]
        # a history slot's gradient belongs to its item's row (B, n_items, d)
        item_grads = item_grads.contiguous()
        flat = item_grads.view(-1, item_grads.shape[-1])
        offsets = torch.arange(len(rows), device=self.device)[:, None] * net.n_items
        flat.index_add_(0, (history.clamp_min(0) + offsets)[present], own_grads[present])
        (tower_grads,) = vmap(pull)(item_grads)
        grads = {f"item_tower.{k}": v for k, v in tower_grads.items()}
        grads.update({f"user_tower.{k}": v for k, v in user_grads.items()})
        if offset is not None:
            grads["item_offset.weight"] = found[3]
        return grads, parts.sum(0).double().cpu().numpy()


def trainer_for(config: Any) -> type[Trainer]:
    """PrivateTrainer (DP-SGD) when dp_epsilon is set, else the plain or distributed one."""
    if config.dp_epsilon is None:
        from engine.models import distributed

        return distributed.trainer_class()
    return PrivateTrainer


def private_settings(epsilon: float, delta: float | None = None) -> dict[str, Any]:
    """TrainConfig changes for private training at (epsilon, delta): one example per shopper."""
    if not (isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0):
        raise ConfigError(f"epsilon {epsilon!r}: the privacy budget must be a number > 0 "
                          "(e.g. 1, 4 or 8; smaller is more private); leave it out to train "
                          "without differential privacy")
    if delta is not None and not 0 < delta < 1:
        raise ConfigError(f"delta {delta!r}: must be between 0 and 1 (e.g. 1e-5); leave it "
                          "out for 1 / shoppers^1.1")
    return {"dp_epsilon": float(epsilon), "dp_delta": None if delta is None else float(delta),
            "example_history": "user"}
