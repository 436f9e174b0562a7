"""Buy again: which of a shopper's past purchases are due to be bought again.

Fitted per item from the shop's own purchase events (docs/buy-again.md):

- rebuy rate r_i = (shoppers who bought i again) / (shoppers who bought i + PRIOR_BUYERS),
  shrunk towards 0 for items few shoppers bought;
- the inter-purchase interval: median gap m_i between a shopper's consecutive purchases of i
  (gaps under MIN_GAP_SECONDS are one order counted twice and are ignored), and the spread
  s_i of the log gaps (at least MIN_SPREAD);
- items never bought again have r_i = 0 and are never offered back.

A shopper whose last purchase of i was `elapsed` seconds ago gets
    due_i = r_i · exp(−½ · (ln(elapsed / m_i) / s_i)²),
largest when the usual interval has passed, small just after a purchase and long after it.
`merge_buy_again` puts up to `slots` due items at the top of a list (docs/buy-again.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.core.columns import EVENT, ITEM_ID, TIMESTAMP, USER_ID

PRIOR_BUYERS = 2.0
MIN_GAP_SECONDS = 3_600
MIN_SPREAD = 0.35


@dataclass(frozen=True)
class RepeatModel:
    """Per-item rebuy rate, median interval (seconds) and log-interval spread."""

    rate: np.ndarray  # (n_items,) 0 for items never bought again
    interval: np.ndarray  # (n_items,) seconds; NaN where never bought again
    spread: np.ndarray  # (n_items,)

    @property
    def n_repeatable(self) -> int:
        return int((self.rate > 0).sum())

    @classmethod
    def fit(cls, users: np.ndarray, items: np.ndarray, times: np.ndarray,
            n_items: int) -> RepeatModel:
        """From purchase events (user, item, unix seconds), in any order."""
        users, items = np.asarray(users, np.int64), np.asarray(items, np.int64)
        times = np.asarray(times, np.int64)
        order = np.lexsort((times, items, users))
        users, items, times = users[order], items[order], times[order]
        same = (users[1:] == users[:-1]) & (items[1:] == items[:-1])
        gaps = np.diff(times)
        real = same & (gaps >= MIN_GAP_SECONDS)
        pair_start = np.r_[True, ~same]
        buyers = np.bincount(items[pair_start], minlength=n_items).astype(np.float64)
        # a (shopper, item) pair with at least one real gap is a rebuyer
        pair_id = np.cumsum(pair_start) - 1
        rebought_pairs = np.unique(pair_id[1:][real])
        rebuyers = np.bincount(items[pair_start][rebought_pairs], minlength=n_items)
        rate = rebuyers / (buyers + PRIOR_BUYERS)
        gap_items, log_gaps = items[1:][real], np.log(gaps[real].astype(np.float64))
        interval = np.full(n_items, np.nan)
        spread = np.full(n_items, MIN_SPREAD)
        if len(gap_items):
            by_item = np.argsort(gap_items, kind="stable")
            sorted_items, sorted_logs = gap_items[by_item], log_gaps[by_item]
            bounds = np.flatnonzero(np.r_[True, sorted_items[1:] != sorted_items[:-1], True])
            for start, end in zip(bounds[:-1], bounds[1:], strict=True):
                chunk = sorted_logs[start:end]
                item = sorted_items[start]
                interval[item] = float(np.exp(np.median(chunk)))
                spread[item] = max(MIN_SPREAD, float(chunk.std()))
        return cls(rate=rate, interval=interval, spread=spread)

    def due(self, items: np.ndarray, last_times: np.ndarray, now: float) -> np.ndarray:
        """(n,) how due each item is for a shopper who last bought it at `last_times`."""
        items = np.asarray(items, np.int64)
        rate = self.rate[items]
        elapsed = np.maximum(float(now) - np.asarray(last_times, np.float64), 1.0)
        interval = np.where(rate > 0, self.interval[items], 1.0)
        ratio = np.log(elapsed / interval) / self.spread[items]
        return np.where(rate > 0, rate * np.exp(-0.5 * ratio ** 2), 0.0)


def last_purchases(items: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One shopper's distinct purchased items and the time of their latest purchase."""
    items, times = np.asarray(items, np.int64), np.asarray(times, np.int64)
    order = np.lexsort((times, items))
    items, times = items[order], times[order]
    last = np.r_[items[1:] != items[:-1], True] if len(items) else np.zeros(0, bool)
    return items[last], times[last]


def buy_again_candidates(model: RepeatModel, items: np.ndarray, times: np.ndarray,
                         now: float, min_due: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A shopper's repeatable past purchases by descending due score (ties by position),
    those above `min_due` only, with their scores."""
    bought, last = last_purchases(items, times)
    due = model.due(bought, last, now)
    keep = due > min_due
    bought, due = bought[keep], due[keep]
    order = np.lexsort((bought, -due))
    return bought[order], due[order]


def merge_buy_again(base: np.ndarray, again: np.ndarray, slots: int,
                    k: int) -> tuple[np.ndarray, np.ndarray]:
    """(k,) list with up to `slots` of the due items `again` (most due first) at the top and
    the plain list `base` (-1 pads) after them without duplicates, -1 padded; and (k,) bool
    marking the buy-again slots."""
    chosen = np.asarray(again, dtype=np.int64)[:max(0, int(slots))]
    rest = np.asarray(base, dtype=np.int64)
    rest = rest[(rest >= 0) & ~np.isin(rest, chosen)]
    merged = np.r_[chosen, rest][:k]
    out = np.full(k, -1, dtype=np.int64)
    out[:len(merged)] = merged
    marked = np.zeros(k, dtype=bool)
    marked[:min(len(chosen), k)] = True
    return out, marked


def purchase_events(events: pd.DataFrame) -> pd.DataFrame:
    """user_id, item_id, timestamp of the purchase events (every event where the data has no
    event column), sorted by shopper and time."""
    bought = events[events[EVENT].astype(str) == "purchase"] if EVENT in events else events
    bought = bought[[USER_ID, ITEM_ID, TIMESTAMP]].astype(
        {USER_ID: str, ITEM_ID: str, TIMESTAMP: np.int64})
    return bought.sort_values([USER_ID, TIMESTAMP, ITEM_ID], kind="stable").reset_index(drop=True)
