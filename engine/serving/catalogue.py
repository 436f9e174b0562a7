"""An immutable snapshot of what serving reads from a run: items, categories, vectors, histories.

The recommender swaps in a new snapshot when cold-start items arrive, so a request that is
already running keeps a consistent view (the snapshot it started with) without locks.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from engine.core.columns import (
    BRAND,
    DIV_CATEGORY,
    ITEM_ID,
    PRICE,
    PROMO,
    TIMESTAMP,
    TITLE,
    WEIGHT,
)
from engine.core.errors import RequestError
from engine.core.messages import Message, shown_ids
from engine.metrics.diversity import category_prior as catalogue_prior
from engine.models.base import ITEM_IDX, USER_IDX, TrainData
from engine.models.baselines import interaction_matrix
from engine.rerank.plan import plan_arrays
from engine.rerank.quotas import CategorySupply, category_supply
from engine.rerank.similarity import graded_item_vectors
from engine.rerank.targets import blend_target
from engine.serving.availability import unavailable_mask
from engine.serving.lookup import IdFinder
from engine.serving.repurchase import Repurchases, repurchases

if TYPE_CHECKING:
    from engine.runs.store import Run


MAX_IDS_SHOWN = 10  # unknown ids named in an error
GRADED_MAX_ITEMS = 200_000  # above this, a (n_items, ~100) float table is too much to build
Made = TypeVar("Made")


def bounded_cache(cache: dict, key: Hashable, size: int, make: Callable[[], Made],
                  fresh: Callable[[Made], bool] | None = None) -> Made:
    """`cache[key]`, made and kept on first use (made again when `fresh(kept)` is false); the
    cache is emptied when it holds `size` entries, so keys a caller chooses cannot grow it
    without end. Safe across threads without a lock: at worst two threads make the same value
    or empty the cache twice."""
    found = cache.get(key)
    if found is None or (fresh is not None and not fresh(found)):
        found = make()
        if len(cache) >= size:
            cache.clear()
        cache[key] = found
    return found


@dataclass(frozen=True)
class Catalogue:
    """Read-only arrays for serving; item positions match the model's item indices."""

    items: pd.DataFrame  # RangeIndex, item columns + div_category
    item_index: pd.Index  # item_id -> position
    item_categories: np.ndarray  # (n_items, C) row-stochastic
    category_names: list[str]
    item_vectors: np.ndarray | None  # (n_items, d) L2-normalised, or None for baselines
    promo: np.ndarray  # (n_items,) 1.0 for items on promotion
    user_index: pd.Index  # user_id -> model user index
    user_items: list[np.ndarray]  # per user, item positions in time order
    item_users: sp.csr_matrix  # (n_items, n_users) binary, for co-occurrence explanations
    events: pd.DataFrame  # item_idx, timestamp, weight of every training interaction
    event_users: np.ndarray  # (n_events,) user index of each row of `events`, sorted
    columns: ItemColumns  # per-item display arrays, so building a result table is cheap
    # trending scores per half-life, filled on first use; a new snapshot starts empty
    trend_cache: dict[float, np.ndarray] = field(default_factory=dict, compare=False)
    # every purchase event of the run (user_id, item_id, timestamp), for buy again
    purchases: pd.DataFrame | None = field(default=None, compare=False)

    @cached_property
    def repurchases(self) -> Repurchases | None:
        """The repeat model and each shopper's purchases, built on first use; None when the
        run has no purchase table."""
        return repurchases(self.purchases, self.item_index)

    def similarity_vectors(self) -> np.ndarray | None:
        """What re-rankers measure similarity with: the model's item vectors, else (EASE,
        ItemKNN, Pop) category rows blended with training co-occurrence, so the diversity
        slider moves step by step (`engine.rerank.similarity`); None above GRADED_MAX_ITEMS,
        where the category rows alone are used."""
        if self.item_vectors is not None or self.n_items > GRADED_MAX_ITEMS:
            return self.item_vectors
        return self._graded_vectors

    @cached_property
    def _graded_vectors(self) -> np.ndarray:
        return graded_item_vectors(self.item_categories, self.item_users.T).astype(np.float32)

    @cached_property
    def rank_arrays(self) -> dict[str, np.ndarray | None]:
        """The category and similarity rows every plan over this snapshot reads
        (`engine.rerank.plan.plan_arrays`), made once."""
        return plan_arrays(self.item_categories, self.similarity_vectors())

    @property
    def n_items(self) -> int:
        return len(self.items)

    def in_categories(self, categories: np.ndarray) -> np.ndarray:
        """(n_items,) items with a share in any of `categories` (a (C,) mask or indices)."""
        return self.item_categories[:, categories].sum(axis=1) > 0

    def category_label(self, position: int) -> str:
        """The diversity category of one item, as shown to merchandisers."""
        return str(self.columns.labels[position])

    def user_rows(self, user: int) -> np.ndarray:
        """Row numbers of one user's events in `events` (sorted by user, then time)."""
        start = int(np.searchsorted(self.event_users, user, side="left"))
        end = int(np.searchsorted(self.event_users, user, side="right"))
        return np.arange(start, end)

    @cached_property
    def user_lookup(self) -> dict[str, int]:
        """user_id -> model user index, a dict: one lookup per request without pandas."""
        return {str(u): i for i, u in enumerate(self.user_index)}

    @cached_property
    def item_finder(self) -> IdFinder:
        """The item pickers' find index (ids and titles), built once per snapshot."""
        return IdFinder(self.columns.ids, self.columns.titles)

    @cached_property
    def user_finder(self) -> IdFinder:
        """The shopper pickers' find index, built once per snapshot."""
        return IdFinder(self.user_index)

    def user_position(self, user_id: object) -> int:
        """Model index of a training shopper; -1 for an unknown one or None."""
        return -1 if user_id is None else self.user_lookup.get(str(user_id), -1)

    @cached_property
    def brands(self) -> list[str]:
        """Brand names by how many items carry them, most first (ties by name), counted once
        per snapshot: the pickers that list brands read this, not the whole item table."""
        if BRAND not in self.items.columns:
            return []
        counts = self.items[BRAND].dropna().astype(str).value_counts()
        counts = counts[counts.index != ""].sort_index()  # by name, then stably by count
        return counts.sort_values(ascending=False, kind="stable").index.tolist()

    @cached_property
    def unavailable(self) -> np.ndarray:
        """Positions of the items that cannot be bought now (`engine.serving.availability`)."""
        return np.flatnonzero(unavailable_mask(self.items)).astype(np.int64)

    @cached_property
    def category_supply(self) -> CategorySupply:
        """The items' `category_supply` (what quotas can draw on), counted once per snapshot."""
        return category_supply(self.item_categories)

    @cached_property
    def category_prior(self) -> np.ndarray:
        """(C,) the catalogue's category distribution (mean item row), computed once."""
        return catalogue_prior(self.item_categories)

    def history_distribution(self, history: np.ndarray) -> np.ndarray:
        """(C,) category distribution of a history; the catalogue's when the history is empty."""
        if not len(history):
            return self.category_prior
        return catalogue_prior(self.item_categories[history])  # normalised the prior's way

    def calibration_target(self, history: np.ndarray, target_mix: float) -> np.ndarray:
        """(C,) what a calibrated list aims at: the history's category mix blended with the
        catalogue's by `target_mix` (`engine.rerank.targets.blend_target`)."""
        return blend_target(self.history_distribution(history), self.category_prior, target_mix)

    def positions_of(self, item_ids) -> np.ndarray:  # noqa: ANN001 - a sequence of ids
        """Catalogue positions of item ids; RequestError lists the unknown ones."""
        ids = [str(i) for i in item_ids]
        if len(ids) == 1 and self.item_index.is_unique and ids[0] in self.item_index:  # one id
            return np.array([self.item_index.get_loc(ids[0])], dtype=np.int64)
        positions = self.item_index.get_indexer(ids)
        unknown = [i for i, p in zip(ids, positions, strict=True) if p < 0]
        if unknown:
            shown, more = shown_ids(unknown, MAX_IDS_SHOWN)
            raise RequestError(Message("unknown_history_items", n=len(unknown), more=more,
                                       shown=shown))
        return positions.astype(np.int64)

    def with_items(self, new_items: pd.DataFrame, new_categories: np.ndarray,
                   new_vectors: np.ndarray | None) -> Catalogue:
        """A new snapshot with cold-start items appended (no events, so no co-occurrence)."""
        items = pd.concat([self.items, new_items], ignore_index=True)
        vectors = (None if self.item_vectors is None or new_vectors is None
                   else np.vstack([self.item_vectors, new_vectors]))
        n_new = len(new_items)
        item_users = sp.vstack([self.item_users,
                                sp.csr_matrix((n_new, self.item_users.shape[1]),
                                              dtype=np.float32)]).tocsr()
        categories = np.vstack([self.item_categories, new_categories]).astype(np.float32)
        return replace(
            self, items=items, item_index=pd.Index(items[ITEM_ID].astype(str)),
            item_categories=categories, item_vectors=vectors, promo=_promo_flags(items),
            item_users=item_users, columns=item_columns(items, categories, self.category_names),
            trend_cache={},  # arrays of the old size are stale (cached properties start anew)
        )


@dataclass(frozen=True)
class ItemColumns:
    """Plain numpy arrays of what a result table shows per item."""

    ids: np.ndarray  # object (str)
    titles: np.ndarray  # object (str)
    labels: np.ndarray  # object (str): the diversity category shown to merchandisers
    prices: np.ndarray  # float64, NaN when unknown


def item_columns(items: pd.DataFrame, item_categories: np.ndarray,
                 category_names: list[str]) -> ItemColumns:
    """Display arrays: the item's div_category when the run stored it, else its main category."""
    main = np.asarray(category_names, dtype=object)[item_categories.argmax(axis=1)]
    if DIV_CATEGORY in items.columns:
        stored = items[DIV_CATEGORY].fillna("").astype(str).to_numpy(dtype=object)
        labels = np.where(stored != "", stored, main)
    else:
        labels = main
    prices = (pd.to_numeric(items[PRICE], errors="coerce").to_numpy(dtype=np.float64)
              if PRICE in items.columns else np.full(len(items), np.nan))
    return ItemColumns(ids=items[ITEM_ID].astype(str).to_numpy(dtype=object),
                       titles=items[TITLE].fillna("").astype(str).to_numpy(dtype=object),
                       labels=labels, prices=prices)


def _promo_flags(items: pd.DataFrame) -> np.ndarray:
    if PROMO not in items.columns:
        return np.zeros(len(items), dtype=np.float64)
    return items[PROMO].fillna(False).astype(bool).to_numpy(dtype=np.float64)


def catalogue_from_run(run: Run) -> Catalogue:
    """Index a loaded run for serving: string ids -> positions, per-user histories. The run's
    interactions are indexed as training data indexes them (`TrainData.from_interactions`:
    the model's user order, each user's events in time order)."""
    items = run.items.reset_index(drop=True)
    data = TrainData.from_interactions(run.histories, run.item_ids, run.item_categories,
                                       run.category_names)
    users, positions = data.train[USER_IDX].to_numpy(), data.train[ITEM_IDX].to_numpy()
    vectors = run.model.item_vectors()
    return Catalogue(
        items=items, item_index=pd.Index(data.item_ids),
        item_categories=data.item_categories, category_names=data.category_names,
        item_vectors=None if vectors is None else np.asarray(vectors, dtype=np.float32),
        promo=_promo_flags(items), user_index=pd.Index(data.user_ids),
        user_items=data.histories(),
        item_users=interaction_matrix(positions, users, data.n_items, data.n_users),
        events=data.train[[ITEM_IDX, TIMESTAMP, WEIGHT]], event_users=users,
        columns=item_columns(items, data.item_categories, data.category_names),
        purchases=run.purchases,
    )
