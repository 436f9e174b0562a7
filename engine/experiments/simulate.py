"""A shop simulator: shoppers whose clicks follow a position-based model built from a data
set's held-out behaviour.

A shopper examines position j with probability θ_j = 1 / j (the position-based model of
Craswell et al. 2008, as in Chuklin, Markov and de Rijke, "Click Models for Web Search", 2015)
and clicks an examined item with its attraction

    r(shopper, item) = base + held_out · 1[the shopper bought it in the held-out part]
                       + affinity · (share of the shopper's held-out categories it is in)

so lists that hold what the shopper went on to buy, or things like it, are clicked more. A
click turns into a purchase with probability `buy_held_out` for a held-out item, `buy_other`
otherwise. A planted lift multiplies every click probability of a chosen arm by (1 + lift),
so the true effect of an A/B test is known exactly; the true clicks per list of any list is
Σ_j θ_j r (no sampling), which is what an off-policy estimate is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ClickModel:
    base: float = 0.03
    held_out: float = 0.5
    affinity: float = 0.25
    buy_held_out: float = 0.3
    buy_other: float = 0.05

    @staticmethod
    def examination(k: int) -> np.ndarray:
        return 1.0 / np.arange(1, k + 1, dtype=np.float64)


@dataclass
class Shop:
    """Simulated shoppers over a run's catalogue (item positions as in the catalogue)."""

    users: list[str]
    held: np.ndarray  # sorted codes user_row * n_items + item position
    user_categories: np.ndarray  # (U, C) each shopper's held-out category shares
    item_categories: np.ndarray  # (I, C)
    model: ClickModel = field(default_factory=ClickModel)

    @classmethod
    def from_held_out(cls, catalogue, held_out: pd.DataFrame,  # noqa: ANN001 - a Catalogue
                      model: ClickModel | None = None, max_users: int | None = None,
                      seed: int = 0) -> Shop:
        """Shoppers the run knows who have held-out events on items it knows."""
        positions = catalogue.item_index.get_indexer(held_out["item_id"].astype(str))
        known = held_out.assign(item=positions)[positions >= 0]
        known = known[known["user_id"].astype(str).isin(catalogue.user_index)]
        users = sorted(known["user_id"].astype(str).unique())
        if max_users is not None and len(users) > max_users:
            picked = np.random.default_rng(seed).choice(len(users), max_users, replace=False)
            users = [users[i] for i in sorted(picked)]
        row = {user: n for n, user in enumerate(users)}
        known = known[known["user_id"].astype(str).isin(row)]
        rows = known["user_id"].astype(str).map(row).to_numpy()
        items = known["item"].to_numpy()
        cats = np.asarray(catalogue.item_categories, dtype=np.float64)
        mass = np.zeros((len(users), cats.shape[1]))
        np.add.at(mass, rows, cats[items])
        shares = mass / np.maximum(mass.sum(axis=1, keepdims=True), 1e-12)
        codes = np.unique(rows.astype(np.int64) * cats.shape[0] + items)
        return cls(users=users, held=codes, user_categories=shares, item_categories=cats,
                   model=model or ClickModel())

    @property
    def n_items(self) -> int:
        return self.item_categories.shape[0]

    def attraction(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """(n, k) attraction of each listed item (item −1, padding: 0)."""
        users = np.asarray(users, dtype=np.int64)[:, None]
        safe = np.maximum(items, 0)
        held = np.isin(users * self.n_items + safe, self.held)
        like = np.einsum("nc,nkc->nk", self.user_categories[users[:, 0]],
                         self.item_categories[safe])
        value = self.model.base + self.model.held_out * held + self.model.affinity * like
        return np.where(items >= 0, np.minimum(value, 1.0), 0.0)

    def expected_clicks(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """(n,) true clicks per list of these lists: Σ_j θ_j r."""
        theta = self.model.examination(items.shape[1])
        return (self.attraction(users, items) * theta[None, :]).sum(axis=1)

    def draw(self, rng: np.random.Generator, users: np.ndarray, items: np.ndarray,
             lift: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(clicks, purchases), each (n, k) booleans, for one showing of each list."""
        theta = self.model.examination(items.shape[1])
        scale = 1.0 + np.broadcast_to(np.asarray(lift, dtype=np.float64), (len(items),))
        probability = np.minimum(self.attraction(users, items) * theta * scale[:, None], 1.0)
        clicks = rng.random(items.shape) < probability
        held = np.isin(np.asarray(users, dtype=np.int64)[:, None] * self.n_items
                       + np.maximum(items, 0), self.held)
        buy = np.where(held, self.model.buy_held_out, self.model.buy_other)
        return clicks, clicks & (rng.random(items.shape) < buy)
