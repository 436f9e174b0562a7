"""Evaluating buy again: a split that keeps repeat purchases, and NDCG with the item allowed back.

The usual splits collapse events to one row per (shopper, item), so a repeat purchase cannot
be held out. Here, per shopper with at least three purchase events: the last purchase is the
test target and the one before it the validation target, even when the item was bought
before; training keeps every event before the validation purchase. A list is scored against
its target: a repeat purchase is a hit when the buy-again stage brought the item back (the
plain list leaves every seen item out, so for it a repeat is always a miss).

The repeat model is fitted on purchases of the training period only; validation lists (which
choose the learned setting) are made at the validation purchase's time from the training
history, test lists at the test purchase's time from the training history plus the validation
item.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd

from engine.core.columns import ITEM_ID, TIMESTAMP, USER_ID
from engine.data.splits import Split, interactions
from engine.metrics import ndcg_at_k
from engine.models.repeat import (
    RepeatModel,
    buy_again_candidates,
    merge_buy_again,
    purchase_events,
)

SLOT_GRID = tuple(range(0, 6))
DUE_GRID = (0.0, 0.05, 0.1, 0.2, 0.3)


@dataclass
class RepeatSplit:
    """The split, plus each held-out shopper's purchases and target times."""

    split: Split
    purchases: pd.DataFrame  # user_id, item_id, timestamp of every purchase event
    cut: pd.DataFrame  # user_id, valid_time, test_time, valid_item, test_item


def repeat_split(events: pd.DataFrame) -> RepeatSplit:
    """Hold out each shopper's last two purchase events (see the module docstring)."""
    purchases = purchase_events(events)
    position = purchases.groupby(USER_ID, sort=False).cumcount(ascending=False)
    size = purchases.groupby(USER_ID, sort=False)[ITEM_ID].transform("size")
    eligible = size >= 3
    test = purchases[eligible & (position == 0)]
    valid = purchases[eligible & (position == 1)]
    cut = valid.rename(columns={TIMESTAMP: "valid_time", ITEM_ID: "valid_item"}).merge(
        test.rename(columns={TIMESTAMP: "test_time", ITEM_ID: "test_item"}), on=USER_ID)
    limit = events[USER_ID].astype(str).map(cut.set_index(USER_ID)["valid_time"])
    before = events[limit.isna() | (events[TIMESTAMP] < limit)]
    train = interactions(before)
    held = [frame.assign(weight=1.0, count=1)[[USER_ID, ITEM_ID, TIMESTAMP, "weight", "count"]]
            for frame in (valid, test)]
    return RepeatSplit(Split(train=train, valid=held[0], test=held[1]),
                       purchases.reset_index(drop=True), cut.reset_index(drop=True))


@dataclass(frozen=True)
class Shoppers:
    """Held-out shoppers as model indices, with their base lists and buy-again candidates."""

    users: np.ndarray  # (n,) model user indices
    targets: list[np.ndarray]  # each (1,) the held-out item
    base: np.ndarray  # (n, k) the plain top-k, seen items left out
    again: list[tuple[np.ndarray, np.ndarray]]  # (items, due) by descending due


def shoppers_at(model, data, rsplit: RepeatSplit, repeat: RepeatModel,  # noqa: ANN001
                part: str, k: int) -> Shoppers:
    """Base lists and candidates at the validation or test purchase (`part`)."""
    user_pos = {u: i for i, u in enumerate(data.user_ids)}
    item_pos = {str(i): p for p, i in enumerate(data.item_ids)}
    cut = rsplit.cut[rsplit.cut[USER_ID].astype(str).isin(user_pos)]
    users = np.array([user_pos[str(u)] for u in cut[USER_ID]], dtype=np.int64)
    train_hist = data.histories()
    extra = [np.array([item_pos[str(i)]]) for i in cut["valid_item"]] if part == "test" \
        else [np.zeros(0, np.int64)] * len(cut)
    histories = [np.r_[train_hist[u], e].astype(np.int64) for u, e in zip(users, extra,
                                                                          strict=True)]
    scores = np.asarray(model.score_histories(histories), dtype=np.float64)
    for row, history in enumerate(histories):
        scores[row, history] = -np.inf
    base = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    now = cut[f"{part}_time"].to_numpy()
    bought = rsplit.purchases.assign(item_idx=rsplit.purchases[ITEM_ID].astype(str).map(item_pos))
    grouped = dict(list(bought.groupby(USER_ID, sort=False)))
    again = []
    for user_id, when in zip(cut[USER_ID], now, strict=True):
        mine = grouped[user_id]
        mine = mine[mine[TIMESTAMP] < when]
        again.append(buy_again_candidates(repeat, mine["item_idx"].to_numpy(np.int64),
                                          mine[TIMESTAMP].to_numpy(np.int64), when))
    targets = [np.array([item_pos[str(i)]]) for i in cut[f"{part}_item"]]
    return Shoppers(users=users, targets=targets, base=base, again=again)


def ndcg_with(shoppers: Shoppers, slots: int, min_due: float, k: int) -> np.ndarray:
    """(n,) NDCG@k per shopper when up to `slots` items due above `min_due` come back."""
    lists = np.stack([merge_buy_again(base, items[due > min_due], slots, k)[0]
                      for base, (items, due) in zip(shoppers.base, shoppers.again, strict=True)])
    return ndcg_at_k(lists, shoppers.targets, k)


def learn_setting(shoppers: Shoppers, k: int) -> tuple[int, float, float]:
    """(slots, min_due, validation NDCG@k) with the best validation NDCG (ties: fewer
    slots, then a higher threshold)."""
    best = None
    for slots, min_due in product(SLOT_GRID, DUE_GRID[::-1]):
        value = float(ndcg_with(shoppers, slots, min_due, k).mean())
        if best is None or value > best[2] + 1e-12:
            best = (slots, min_due, value)
    return best


def fit_repeat_model(rsplit: RepeatSplit, item_ids: list[str]) -> RepeatModel:
    """The repeat model from purchases before each shopper's validation purchase."""
    limit = rsplit.purchases[USER_ID].map(rsplit.cut.set_index(USER_ID)["valid_time"])
    train = rsplit.purchases[limit.isna() | (rsplit.purchases[TIMESTAMP] < limit)]
    item_pos = pd.Index([str(i) for i in item_ids])
    items = item_pos.get_indexer(train[ITEM_ID].astype(str))
    users = pd.factorize(train[USER_ID])[0]
    keep = items >= 0
    return RepeatModel.fit(users[keep], items[keep], train[TIMESTAMP].to_numpy()[keep],
                           len(item_ids))
