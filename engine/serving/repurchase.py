"""What serving knows about repeat purchases: the run's repeat model and each shopper's buys.

Built once per catalogue snapshot from the run's `purchases.parquet` (every purchase event,
written at training). Lists are made as of the newest purchase the run knows (`now`), so a
run trained on past data brings back what was due at its end, not what is due today.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.core.columns import ITEM_ID, TIMESTAMP, USER_ID
from engine.models.repeat import RepeatModel, buy_again_candidates


@dataclass(frozen=True)
class Repurchases:
    """The repeat model over the catalogue and each shopper's purchases (item positions)."""

    model: RepeatModel
    bought: dict[str, tuple[np.ndarray, np.ndarray]]  # user_id -> (items, unix seconds)
    now: int  # the newest purchase time

    def due(self, user_id: str, n_items: int) -> tuple[np.ndarray, np.ndarray]:
        """The shopper's due past purchases, most due first, and their due scores."""
        items, times = self.bought.get(str(user_id), (np.zeros(0, np.int64),) * 2)
        known = items < min(n_items, len(self.model.rate))
        return buy_again_candidates(self.model, items[known], times[known], self.now)


def repurchases(purchases: pd.DataFrame | None, item_index: pd.Index) -> Repurchases | None:
    """From a run's purchase table (None when the run has none)."""
    if purchases is None or not len(purchases):
        return None
    items = item_index.get_indexer(purchases[ITEM_ID].astype(str))
    frame = purchases.assign(item_idx=items)[items >= 0]
    users = pd.factorize(frame[USER_ID].astype(str))[0]
    times = frame[TIMESTAMP].to_numpy(np.int64)
    model = RepeatModel.fit(users, frame["item_idx"].to_numpy(), times, len(item_index))
    bought = {str(user): (group["item_idx"].to_numpy(np.int64),
                          group[TIMESTAMP].to_numpy(np.int64))
              for user, group in frame.groupby(USER_ID, sort=False)}
    return Repurchases(model=model, bought=bought, now=int(times.max()))
