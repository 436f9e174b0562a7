"""The built-in synthetic shop: a seeded, vectorised generator of items and events.

Items: 8 departments × 5 leaves, titles and descriptions from per-category vocabularies,
log-normal prices per leaf, Zipf-like popularity, promo flags. Shoppers: a mixture over a few
leaves that drifts from a start mixture to an end mixture over ~90 days. Sessions: views of
items in one leaf, then click → cart → purchase with falling probabilities. A little mess is
added on purpose (duplicate events, empty descriptions, absurd prices, HTML entities) so the
cleaning report has work to show. Same seed ⇒ identical tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.core.columns import (
    BRAND,
    CATEGORY,
    DAY,
    DESCRIPTION,
    EVENT,
    EVENT_TYPES,
    ITEM_ID,
    PRICE,
    PROMO,
    TIMESTAMP,
    TITLE,
    USER_ID,
)
from engine.core.errors import ConfigError
from engine.data.synthetic_repeat import add_repeats, check_share, consumable_cycles
from engine.data.synthetic_text import HTML_MESS_RATE, Vocabulary, describe, make_titles

START = 1_704_067_200  # 2024-01-01T00:00:00Z
DAYS = 90
EVENTS_PER_USER = 50
MIXTURE_SIZE = 3
EXPLORE_RATE = 0.1
VIEWS_PER_SESSION = 2.5  # Poisson mean of extra views after the first
FUNNEL = (0.4, 0.35, 0.6)  # P(click | view), P(cart | click), P(purchase | cart)
PROMO_RATE = 0.08


def _make_items(rng: np.random.Generator, vocab: Vocabulary, n_items: int) -> pd.DataFrame:
    leaf_share = rng.dirichlet(np.full(vocab.n_leaves, 3.0))
    leaf = rng.choice(vocab.n_leaves, size=n_items, p=leaf_share)
    dept = vocab.leaf_dept[leaf]
    brand = vocab.brands.pick(rng, dept)
    parts = {
        "brand": brand,
        "noun": vocab.nouns.pick(rng, leaf),
        "adjective": vocab.adjectives.pick(rng, dept),
        "material": vocab.materials.pick(rng, dept),
        "use": vocab.uses.pick(rng, leaf),
        "feature": vocab.features.pick(rng, dept),
        "colour": rng.integers(0, len(vocab.colours), n_items),
        "template": rng.integers(0, 3, n_items),
        "html": rng.random(n_items) < HTML_MESS_RATE,
    }
    brand_premium = np.exp(rng.normal(0.0, 0.25, size=len(vocab.brands.words)))
    price = vocab.leaf_price[leaf] * brand_premium[brand] * np.exp(rng.normal(0, 0.45, n_items))
    width = len(str(max(n_items - 1, 0)))
    return pd.DataFrame({
        ITEM_ID: [f"P{i:0{width}d}" for i in range(n_items)],
        TITLE: make_titles(vocab, parts),
        DESCRIPTION: describe(vocab, parts),
        CATEGORY: vocab.leaf_paths[leaf],
        BRAND: vocab.brands.words[brand],
        PRICE: np.round(price, 2),
        PROMO: rng.random(n_items) < PROMO_RATE,
        "leaf": leaf,
    })


def _popularity_keys(rng: np.random.Generator, leaf: np.ndarray, promo: np.ndarray,
                     n_leaves: int) -> tuple[np.ndarray, np.ndarray]:
    """Items sorted by leaf and keys `leaf + cumulative share` for in-leaf sampling.

    Popularity is Zipf-like over a random ranking; a session of leaf L draws item
    `order[searchsorted(keys, L + u, "right")]` with u uniform in [0, 1).
    """
    rank = rng.permutation(len(leaf)) + 1
    weight = rank ** -1.05 * np.where(promo, 1.5, 1.0)
    order = np.lexsort((np.arange(len(leaf)), leaf))
    sorted_leaf, sorted_weight = leaf[order], weight[order]
    totals = np.bincount(sorted_leaf, weights=sorted_weight, minlength=n_leaves)
    cumulative = np.cumsum(sorted_weight)
    before = np.concatenate([[0.0], np.cumsum(totals)[:-1]])[sorted_leaf]
    share = (cumulative - before) / totals[sorted_leaf]
    share[np.r_[sorted_leaf[1:] != sorted_leaf[:-1], True]] = 1.0  # exact leaf ends
    return order, sorted_leaf + share


def _shoppers(rng: np.random.Generator, n_users: int,
              leaf_p: np.ndarray) -> tuple[np.ndarray, ...]:
    """Start and end mixtures (leaves and weights) per shopper, and session counts."""
    n_leaves = len(leaf_p)
    start = rng.choice(n_leaves, size=(n_users, MIXTURE_SIZE), p=leaf_p)
    end = start.copy()
    drifted = rng.integers(0, MIXTURE_SIZE, n_users)
    end[np.arange(n_users), drifted] = rng.choice(n_leaves, size=n_users, p=leaf_p)
    w_start = rng.gamma(1.0, size=(n_users, MIXTURE_SIZE))
    w_end = rng.gamma(1.0, size=(n_users, MIXTURE_SIZE))
    activity = rng.lognormal(0.0, 0.8, n_users)
    activity /= activity.mean()
    funnel_events = 1 + FUNNEL[0] * (1 + FUNNEL[1] * (1 + FUNNEL[2]))
    per_session = (1 + VIEWS_PER_SESSION) * funnel_events
    sessions = 1 + rng.poisson(activity * (EVENTS_PER_USER / per_session - 1))
    return start, end, w_start, w_end, sessions


def _session_leaves(rng: np.random.Generator, user: np.ndarray, drift: np.ndarray,
                    mixtures: tuple[np.ndarray, ...], leaf_p: np.ndarray) -> np.ndarray:
    """Each session's leaf: from the start or end mixture by time, or exploration."""
    start, end, w_start, w_end = mixtures
    late = rng.random(len(user)) < drift
    leaves = np.where(late[:, None], end[user], start[user])
    weights = np.where(late[:, None], w_end[user], w_start[user])
    cumulative = np.cumsum(weights, axis=1)
    pick = rng.random(len(user))[:, None] * cumulative[:, -1:]
    component = np.minimum((pick >= cumulative).sum(axis=1), MIXTURE_SIZE - 1)
    chosen = leaves[np.arange(len(user)), component]
    explore = rng.random(len(user)) < EXPLORE_RATE
    chosen[explore] = rng.choice(len(leaf_p), size=int(explore.sum()), p=leaf_p)
    return chosen


def _events(rng: np.random.Generator, items: pd.DataFrame, n_users: int) -> pd.DataFrame:
    """Sessions over 90 days: a leaf per session, popularity-weighted views inside it."""
    leaf, promo = items["leaf"].to_numpy(), items[PROMO].to_numpy()
    n_leaves = int(leaf.max()) + 1
    counts = np.bincount(leaf, minlength=n_leaves)
    leaf_p = counts / counts.sum()  # leaves without items are never chosen
    order, keys = _popularity_keys(rng, leaf, promo, n_leaves)
    start, end, w_start, w_end, sessions = _shoppers(rng, n_users, leaf_p)
    user = np.repeat(np.arange(n_users), sessions)
    offset = rng.random(len(user))  # session time as a share of the 90 days
    session_leaf = _session_leaves(rng, user, offset, (start, end, w_start, w_end), leaf_p)
    views = 1 + rng.poisson(VIEWS_PER_SESSION, len(user))
    view_session = np.repeat(np.arange(len(user)), views)
    target = session_leaf[view_session] + rng.random(len(view_session)) * (1 - 1e-12)
    view_item = order[np.minimum(np.searchsorted(keys, target, side="right"), len(keys) - 1)]
    gaps = (20 + rng.exponential(60.0, len(view_session))).astype(np.int64)
    elapsed = np.cumsum(gaps)
    first = np.cumsum(views) - views  # index of each session's first view
    elapsed -= np.repeat(elapsed[first] - gaps[first], views)  # restart the clock per session
    session_start = START + (offset * DAYS * DAY).astype(np.int64)
    view_time = session_start[view_session] + elapsed
    return _funnel(rng, user[view_session], view_item, view_time, promo)


def _funnel(rng: np.random.Generator, user: np.ndarray, item: np.ndarray, time: np.ndarray,
            promo: np.ndarray) -> pd.DataFrame:
    """Views, then clicks, carts and purchases as falling-probability subsets."""
    boost = np.where(promo[item], 1.3, 1.0)
    stage = np.ones(len(user), dtype=bool)
    users, items, times, kinds = [user], [item], [time], [np.zeros(len(user), np.int8)]
    for kind, probability in enumerate(FUNNEL, start=1):
        stage &= rng.random(len(user)) < np.minimum(probability * boost, 0.95)
        delay = rng.integers(5, 60 * kind, len(user))
        time = time + delay
        users.append(user[stage])
        items.append(item[stage])
        times.append(time[stage])
        kinds.append(np.full(int(stage.sum()), kind, np.int8))
    return pd.DataFrame({
        "user": np.concatenate(users), "item": np.concatenate(items),
        TIMESTAMP: np.concatenate(times), "kind": np.concatenate(kinds),
    })


def _add_mess(rng: np.random.Generator, items: pd.DataFrame,
              events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Empty descriptions, absurd and negative prices, and exact duplicate events."""
    n_items = len(items)
    picks = rng.permutation(n_items)
    n_desc, n_price = max(1, n_items // 30), max(2, n_items // 300)
    items.loc[picks[:n_desc], DESCRIPTION] = ""
    bad = picks[n_desc:n_desc + n_price]
    items.loc[bad[::2], PRICE] = -items.loc[bad[::2], PRICE]
    items.loc[bad[1::2], PRICE] = 9_999_999.0
    n_dup = max(3, len(events) // 500)
    duplicates = events.iloc[rng.choice(len(events), size=n_dup, replace=False)]
    return items, pd.concat([events, duplicates], ignore_index=True)


def generate_shop(n_items: int = 2000, n_users: int = 1000, seed: int = 0,
                  consumables: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw synthetic items and events (with deliberate mess), identical for the same seed.

    About 50 events per shopper; 1,000,000 items and 200,000 shoppers take well under 24 GB.
    `consumables`: the share of items bought again on a purchase cycle
    (`engine.data.synthetic_repeat`); 0 leaves the shop exactly as without it.
    """
    if n_items < 1 or n_users < 1:
        raise ConfigError(f"synthetic shop: n_items and n_users must be >= 1 "
                          f"(got {n_items}, {n_users})")
    share = check_share(consumables)
    rng = np.random.default_rng(seed)
    vocab = Vocabulary.build()
    items = _make_items(rng, vocab, n_items)
    raw = _events(rng, items, n_users)
    if share > 0:
        cycles = consumable_cycles(seed, n_items, share)
        raw = add_repeats(raw, cycles, START + DAYS * DAY, seed)
    items, raw = _add_mess(rng, items, raw)
    raw = raw.iloc[np.lexsort((raw["kind"].to_numpy(), raw[TIMESTAMP].to_numpy(),
                               raw["user"].to_numpy()))]
    width = len(str(max(n_users - 1, 0)))
    user_ids = np.array([f"C{u:0{width}d}" for u in range(n_users)], dtype=object)
    events = pd.DataFrame({
        USER_ID: user_ids[raw["user"].to_numpy()],
        ITEM_ID: items[ITEM_ID].to_numpy(dtype=object)[raw["item"].to_numpy()],
        TIMESTAMP: raw[TIMESTAMP].to_numpy(np.int64),
        EVENT: np.array(EVENT_TYPES, dtype=object)[raw["kind"].to_numpy()],
    })
    return items.drop(columns="leaf"), events
