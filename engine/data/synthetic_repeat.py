"""Consumables for the synthetic shop: items bought again on a purchase cycle.

Off by default (`generate_shop(consumables=0.0)` gives the same tables as before). With a share
> 0, that share of items becomes consumable, each with its own cycle (CYCLE_DAYS, jittered per
item); a shopper who buys one buys it again about one cycle later (log-normal jitter per
purchase), keeps doing so with probability LOYALTY each time, and stops at the end of the
shop's period. Each repeat is a view followed by a purchase. Draws use their own random stream,
so the rest of the shop does not change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.core.columns import DAY, TIMESTAMP
from engine.core.errors import ConfigError

CYCLE_DAYS = (7.0, 14.0, 21.0, 30.0)
ITEM_JITTER = 0.15  # log-normal sigma of an item's cycle around its base
PURCHASE_JITTER = 0.2  # log-normal sigma of each gap around the item's cycle
LOYALTY = 0.85  # chance of buying again after each purchase
VIEW_LEAD_SECONDS = 90
PURCHASE = 3  # the synthetic generator's event kind index of a purchase


def check_share(share: float) -> float:
    if not isinstance(share, int | float) or not 0.0 <= float(share) <= 1.0:
        raise ConfigError(f"synthetic shop: consumables is a share of items from 0 to 1, "
                          f"got {share!r}")
    return float(share)


def consumable_cycles(seed: int, n_items: int, share: float) -> np.ndarray:
    """(n_items,) purchase cycle in seconds, NaN for items that are not consumables."""
    rng = np.random.default_rng([seed, 28])
    cycles = np.full(n_items, np.nan)
    chosen = rng.random(n_items) < share
    base = rng.choice(np.asarray(CYCLE_DAYS), size=int(chosen.sum()))
    cycles[chosen] = base * np.exp(rng.normal(0.0, ITEM_JITTER, len(base))) * DAY
    return cycles


def add_repeats(raw: pd.DataFrame, cycles: np.ndarray, end: int, seed: int) -> pd.DataFrame:
    """`raw` (user, item, timestamp, kind) plus the repeat views and purchases of consumables."""
    rng = np.random.default_rng([seed, 29])
    purchases = raw[(raw["kind"].to_numpy() == PURCHASE)
                    & np.isfinite(cycles[raw["item"].to_numpy()])]
    first = purchases.sort_values(TIMESTAMP, kind="stable").drop_duplicates(["user", "item"])
    user, item = first["user"].to_numpy(), first["item"].to_numpy()
    time = first[TIMESTAMP].to_numpy(np.int64)
    added = []
    while len(user):
        gap = cycles[item] * np.exp(rng.normal(0.0, PURCHASE_JITTER, len(user)))
        time = time + gap.astype(np.int64)
        keep = (time < end) & (rng.random(len(user)) < LOYALTY)
        user, item, time = user[keep], item[keep], time[keep]
        for kind, lead in ((0, VIEW_LEAD_SECONDS), (PURCHASE, 0)):
            added.append(pd.DataFrame({"user": user, "item": item, TIMESTAMP: time - lead,
                                       "kind": np.full(len(user), kind, np.int8)}))
    return pd.concat([raw, *added], ignore_index=True) if added else raw
