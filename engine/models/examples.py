"""Training examples of the two-tower network: one per interaction, or one per shopper.

Each training interaction (u, i+) becomes one example: the input is u's history (the items
before i+ in time, or all of u's other items) cut to the last `history_len`, plus u's embedding;
the label is i+. Under `example_history=user` each shopper is one example whose target is the
whole weighted item set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.models.network import PAD


def pad_histories(histories: Sequence[np.ndarray], length: int) -> np.ndarray:
    """(B, length) right-aligned matrix of each history's last `length` items, PAD on the left."""
    out = np.full((len(histories), length), PAD, dtype=np.int64)
    for row, hist in enumerate(histories):
        tail = np.asarray(hist, dtype=np.int64)[-length:]
        if len(tail):
            out[row, length - len(tail):] = tail
    return out


class TrainingExamples:
    """One example per training interaction; histories are cut out of the user's sequence."""

    def __init__(self, users: np.ndarray, items: np.ndarray, weights: np.ndarray,
                 history_len: int, mode: str = "past"):
        self.users, self.items, self.weights = users, items, weights.astype(np.float32)
        self.history_len, self.mode = history_len, mode
        rows = np.arange(len(users))
        first = np.r_[True, users[1:] != users[:-1]] if len(users) else np.zeros(0, bool)
        self.start = np.maximum.accumulate(np.where(first, rows, 0))  # (N,) user's first row
        last = np.r_[users[1:] != users[:-1], True] if len(users) else np.zeros(0, bool)
        self.end = np.minimum.accumulate(np.where(last, rows, len(users))[::-1])[::-1] + 1

    def __len__(self) -> int:
        return len(self.users)

    def histories(self, rows: np.ndarray) -> np.ndarray:
        """(B, L) right-aligned input histories for example rows (B,)."""
        length = self.history_len
        if self.mode == "past":
            idx = rows[:, None] - length + np.arange(length)[None, :]  # (B, L)
            valid = idx >= self.start[rows][:, None]
            return np.where(valid, self.items[idx.clip(0)], PAD)
        idx = self.end[rows][:, None] - (length + 1) + np.arange(length + 1)[None, :]  # (B, L+1)
        valid = (idx >= self.start[rows][:, None]) & (idx != rows[:, None])
        window = np.where(valid, self.items[idx.clip(0)], PAD)
        order = np.argsort(valid, axis=1, kind="stable")  # PADs first, order kept
        return np.take_along_axis(window, order, axis=1)[:, 1:]

    def batch(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        return {"history": self.histories(rows), "users": self.users[rows],
                "targets": self.items[rows], "weights": self.weights[rows]}


class UserExamples:
    """One example per user (multinomial, as in Mult-DAE): all of the user's training items.

    The input is the user's last `history_len` items (the user tower's dropout hides some of
    them); the target is the user's whole weighted item set, so one softmax over the catalogue
    scores every item the user chose. Rows are users; needs the full softmax.
    """

    def __init__(self, users: np.ndarray, items: np.ndarray, weights: np.ndarray,
                 history_len: int, n_items: int):
        self.items, self.event_weights = items, weights.astype(np.float32)
        self.history_len, self.n_items = history_len, n_items
        first = np.r_[True, users[1:] != users[:-1]] if len(users) else np.zeros(0, bool)
        self.start = np.flatnonzero(first)  # (U,) first row of each user
        self.end = np.r_[self.start[1:], len(users)]  # (U,) one past the last row
        self.users = users[self.start]  # (U,) user index of each example
        self.weights = np.ones(len(self.users), np.float32)  # L_r is a plain mean over users

    def __len__(self) -> int:
        return len(self.users)

    def batch(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        histories = [self.items[self.start[r]:self.end[r]] for r in rows]
        lengths = self.end[rows] - self.start[rows]  # (B,)
        events = np.concatenate([np.arange(self.start[r], self.end[r]) for r in rows]) \
            if len(rows) else np.zeros(0, dtype=np.int64)  # event rows of the batch's users
        targets = np.zeros((len(rows), self.n_items), dtype=np.float32)  # (B, n_items)
        np.add.at(targets, (np.repeat(np.arange(len(rows)), lengths), self.items[events]),
                  self.event_weights[events])
        return {"history": pad_histories(histories, self.history_len),
                "users": self.users[rows], "target_weights": targets}


def make_examples(users: np.ndarray, items: np.ndarray, weights: np.ndarray,
                  history_len: int, mode: str, n_items: int
                  ) -> TrainingExamples | UserExamples:
    """Training examples for `TrainConfig.example_history` (past | rest | user)."""
    if mode == "user":
        return UserExamples(users, items, weights, history_len, n_items)
    return TrainingExamples(users, items, weights, history_len, mode)

