"""Warm-started fine-tuning of a fitted two-tower on new interactions (`prism refresh`).

A refresh does not refit. It takes the served model, grows its user table for shoppers it
never saw (their rows start at zero: exactly how the model already scores an unseen shopper
from their history alone) and trains, for a few epochs, only the embedding rows of the
shoppers and items the new events touch. The examples are the new interactions plus a replay
sample of old ones, so the touched rows keep their place among everything the model learned
before. Every other weight (the towers, the text and category projections, the rows of
shoppers and items without new events) is left exactly as it was: a shopper with no new events
is ranked as before, except where an item that could be shown to them has moved.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from engine.core.device import resolve_device
from engine.core.errors import RunError
from engine.metrics.diversity import category_prior
from engine.models.base import ITEM_IDX, USER_IDX, BaseModel, TrainData
from engine.models.examples import UserExamples, make_examples, pad_histories
from engine.models.trainer import Trainer, seed_everything


@dataclass(frozen=True)
class FineTune:
    """How hard a refresh trains: `epochs` over the new interactions plus `replay` old ones
    sampled per new one."""

    epochs: int = 3
    replay: float = 1.0
    seed: int = 0


@dataclass
class FineTuned:
    """What a fine-tuning did: examples per epoch (new and replayed), the rows it could
    change, the epoch logs and the seconds it took."""

    new_examples: int
    replayed: int
    users: int  # shoppers whose row trained (new shoppers included)
    new_users: int
    items: int  # items whose row trained
    logs: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0

    def record(self) -> dict[str, Any]:
        return {"new_examples": self.new_examples, "replayed": self.replayed,
                "users": self.users, "new_users": self.new_users, "items": self.items,
                "epochs": len(self.logs), "seconds": round(self.seconds, 3)}


def check_refreshable(model: BaseModel) -> None:
    """RunError unless `model` can be fine-tuned in place (a fitted two-tower, not private)."""
    if not model.trains_in_epochs or getattr(model, "net_", None) is None:
        raise RunError(f"model {model.name!r} has no embeddings to fine-tune, so it cannot be "
                       "refreshed; retrain it on the new events with `prism train`.")
    if getattr(model, "privacy_", None):
        raise RunError("this run was trained with differential privacy; fine-tuning it on new "
                       "events without noise would void its guarantee. Retrain it with "
                       "`prism train --dp-epsilon ...` instead.")


class _Rows:
    """The training examples of chosen rows only (what the Trainer iterates over)."""

    def __init__(self, examples: Any, rows: np.ndarray) -> None:
        self.examples, self.rows, self.items = examples, rows, examples.items

    def __len__(self) -> int:
        return len(self.rows)

    def batch(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        return self.examples.batch(self.rows[rows])


class _RowTrainer(Trainer):
    """The Trainer, with every frozen embedding row put back after each step (AdamW's decay
    and momentum would otherwise move rows that have no new events)."""

    frozen: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = ()

    def _step(self, loss: torch.Tensor) -> None:
        super()._step(loss)
        with torch.no_grad():
            for weight, rows, saved in self.frozen:
                weight[rows] = saved


def _grow_users(net: nn.Module, old_ids: Sequence[str], new_ids: Sequence[str]) -> np.ndarray:
    """Re-index the user table to `new_ids` (new shoppers' rows start at zero); returns each
    new row's old row, -1 for a new shopper."""
    old_rows = pd.Index(list(old_ids)).get_indexer(list(new_ids))
    table = net.user_tower.user_emb
    if table is None:
        return old_rows
    old = table.weight.data
    grown = old.new_zeros(len(new_ids), old.shape[1])
    known = old_rows >= 0
    grown[torch.as_tensor(np.flatnonzero(known))] = old[torch.as_tensor(old_rows[known])]
    net.user_tower.user_emb = nn.Embedding.from_pretrained(grown, freeze=False,
                                                           sparse=table.sparse)
    return old_rows


def _example_rows(examples: Any, fresh: np.ndarray, changed_users: np.ndarray,
                  replay: float, rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
    """(rows to train on, how many are new, how many replayed): the new interactions (or the
    changed shoppers, for one example per shopper) and a random sample of the others."""
    new = changed_users[examples.users] if isinstance(examples, UserExamples) else fresh
    fresh_rows, old_rows = np.flatnonzero(new), np.flatnonzero(~new)
    n_replay = min(len(old_rows), int(round(replay * len(fresh_rows))))
    replayed = np.sort(rng.choice(old_rows, n_replay, replace=False)) if n_replay else old_rows[:0]
    return np.concatenate([fresh_rows, replayed]), len(fresh_rows), n_replay


def _freeze(net: nn.Module, changed_users: np.ndarray, changed_items: np.ndarray,
            device: torch.device) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Only the user and item ID tables train; returns (table, rows kept, their values)."""
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    frozen = []
    for table, changed in ((net.user_tower.user_emb, changed_users),
                           (net.item_tower.id_emb, changed_items)):
        if table is None:
            continue
        table.weight.requires_grad_(True)
        rows = torch.as_tensor(np.flatnonzero(~changed), device=device)
        frozen.append((table.weight, rows, table.weight.detach()[rows].clone()))
    return frozen


def fine_tune(model: BaseModel, data: TrainData, old_user_ids: Sequence[str],
              fresh: np.ndarray, settings: FineTune = FineTune(),
              callbacks: Sequence[Any] = ()) -> FineTuned:
    """Fine-tune `model` in place on `data` (every interaction; `fresh` marks the new ones)
    whose users were `old_user_ids` in the model; sets its histories to `data`'s."""
    check_refreshable(model)
    net = model.net_
    if net.n_items != data.n_items or model.train_histories_.shape[0] != len(old_user_ids):
        raise RunError(f"the run's model knows {net.n_items} items and "
                       f"{model.train_histories_.shape[0]} shoppers but its tables list "
                       f"{data.n_items} and {len(old_user_ids)}; the run is inconsistent, "
                       "retrain it with `prism train`.")
    started = time.perf_counter()
    config = model.train_config.replace(epochs=settings.epochs, patience=settings.epochs,
                                        seed=settings.seed)
    seed_everything(settings.seed)
    old_rows = _grow_users(net, old_user_ids, data.user_ids)
    users, items = data.train[USER_IDX].to_numpy(), data.train[ITEM_IDX].to_numpy()
    changed_users = np.zeros(data.n_users, dtype=bool)
    changed_users[users[fresh]] = True
    changed_items = np.zeros(data.n_items, dtype=bool)
    changed_items[items[fresh]] = True
    examples = make_examples(users, items, data.train["weight"].to_numpy(), config.history_len,
                             config.example_history, data.n_items)
    rows, n_new, n_replay = _example_rows(examples, fresh, changed_users, settings.replay,
                                          np.random.default_rng(settings.seed))
    device = resolve_device(config.device, "TrainConfig.device")
    net.to(device)
    frozen = _freeze(net, changed_users, changed_items, device)
    logs: list[dict[str, float]] = []
    if frozen and n_new:
        trainer = _RowTrainer(net, config, _Rows(examples, rows), data.user_category_dist(),
                              category_prior(data.item_categories,
                                             config.diversity_prior).astype(np.float32),
                              None, device)
        trainer.frozen = frozen
        logs = trainer.fit(callbacks)
    for parameter in net.parameters():
        parameter.requires_grad_(True)
    net.to("cpu")
    model.train_histories_ = pad_histories(data.histories(), config.history_len)
    model._finish()
    return FineTuned(new_examples=n_new, replayed=n_replay, users=int(changed_users.sum()),
                     new_users=int((old_rows < 0).sum()), items=int(changed_items.sum()),
                     logs=logs, seconds=time.perf_counter() - started)
