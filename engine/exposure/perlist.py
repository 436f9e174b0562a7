"""Per-list caps and quotas on group exposure: the usual way to meet shares, as a baseline.

Every list gets the same rule: a capped group may take at most `cap_g` of the list's
exposure, a floored group at least `floor_g` of it (when the shopper's candidates hold one).
Lists are filled greedily by relevance; a capped item is skipped when it would break its cap,
and a floored group's best candidate is forced in at the last slot that can still meet the
floor. `tune_levels` sets each group's level by bisection so the population share reaches the
target — the strongest per-list rule for the comparison with prices.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.exposure.pool import Pool

BLOCK_USERS = 1024
BISECTION_STEPS = 12
ROUNDS = 2


def _fill_block(relevance: np.ndarray, group: np.ndarray, n_groups: int, weights: np.ndarray,
                floors: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """(B, k) positions into the pool; `group (B, N)` each candidate's targeted group, or
    `n_groups` for none. All work is on (B, N) and (B, T) arrays, k vectorised steps."""
    n_users, n_cand = relevance.shape
    total = weights.sum()
    left_after = total - np.cumsum(weights)
    floors, caps = np.r_[floors, 0.0], np.r_[caps, np.inf]  # the extra column: no group
    available = np.isfinite(relevance)
    rows = np.arange(n_users)
    count = np.zeros((n_users, n_groups + 1))
    np.add.at(count, (np.repeat(rows, n_cand), group.ravel()), available.ravel())
    got = np.zeros((n_users, n_groups + 1))
    out = np.full((n_users, len(weights)), -1, dtype=np.int64)
    for slot, weight in enumerate(weights):
        full = got + weight > caps * total + 1e-9  # (B, T+1): taking one more breaks the cap
        allowed = available & ~full[rows[:, None], group]
        forced = (floors * total - got > left_after[slot] + 1e-9) & (count > 0) & (floors > 0)
        need = forced.any(axis=1)
        allowed &= forced[rows[:, None], group] | ~need[:, None]
        allowed |= available & ~allowed.any(axis=1)[:, None]  # nothing fits: drop the rule
        pick = np.where(allowed, relevance, -np.inf).argmax(axis=1)  # first of equal scores
        valid = available[rows, pick]
        chosen = group[rows[valid], pick[valid]]
        out[valid, slot] = pick[valid]
        available[rows[valid], pick[valid]] = False
        got[rows[valid], chosen] += weight
        count[rows[valid], chosen] -= 1
    return out


def per_list_lists(pool: Pool, k: int, member: np.ndarray, weights: np.ndarray,
                   floors: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """(U, k) item lists under per-list exposure floors/caps (fractions of each list's weight).

    `member (n_items, T)` is the targeted groups' membership; an item counts for its largest
    group here (items split over several groups are rare). `weights (k,)` the slot weights.
    """
    k = min(k, pool.items.shape[1])
    n_groups = member.shape[1]
    primary = np.where(member.max(axis=1) > 0, member.argmax(axis=1), n_groups)
    out = np.full((len(pool.users), k), -1, dtype=np.int64)
    for start in range(0, len(pool.users), BLOCK_USERS):
        block = slice(start, start + BLOCK_USERS)
        items = pool.items[block]
        group = np.where(items >= 0, primary[np.maximum(items, 0)], n_groups)
        picks = _fill_block(pool.relevance[block], group, n_groups, weights[:k], floors, caps)
        out[block] = np.where(picks >= 0, np.take_along_axis(items, np.maximum(picks, 0), 1), -1)
    return out


def tune_levels(shares_at: Callable[[np.ndarray, np.ndarray], np.ndarray],
                targets_low: np.ndarray, targets_high: np.ndarray,
                on_step: Callable[[], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-group floor and cap levels that bring each share to its bound, by bisection.

    `shares_at(floors, caps) -> (T,)` the population shares under those levels. Floors are
    raised from 0 only for groups below their floor, caps lowered from 1 only for groups
    above their ceiling; groups are tuned one at a time, `ROUNDS` passes over them.
    """
    n = len(targets_low)
    floors, caps = np.zeros(n), np.ones(n)
    for _ in range(ROUNDS):
        for t in range(n):
            for levels, bound, is_floor in ((floors, targets_low[t], True),
                                            (caps, targets_high[t], False)):
                if (is_floor and bound <= 0) or (not is_floor and bound >= 1):
                    continue
                levels[t] = _bisect(lambda x, lv=levels, at=t: _share_with(
                    shares_at, floors, caps, lv, at, x), bound, is_floor, on_step)
    return floors, caps


def _share_with(shares_at: Callable[[np.ndarray, np.ndarray], np.ndarray], floors: np.ndarray,
                caps: np.ndarray, levels: np.ndarray, t: int, value: float) -> float:
    saved = levels[t]
    levels[t] = value
    share = float(shares_at(floors, caps)[t])
    levels[t] = saved
    return share


def _bisect(share: Callable[[float], float], bound: float, is_floor: bool,
            on_step: Callable[[], None] | None) -> float:
    """Smallest floor level meeting `bound` (or largest cap level keeping under it)."""
    low, high = 0.0, 1.0
    if is_floor and share(0.0) >= bound:
        return 0.0
    if not is_floor and share(1.0) <= bound:
        return 1.0
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        meets = share(middle) >= bound if is_floor else share(middle) <= bound
        if on_step is not None:
            on_step()
        if is_floor:
            low, high = (low, middle) if meets else (middle, high)
        else:
            low, high = (middle, high) if meets else (low, middle)
    return high if is_floor else low
