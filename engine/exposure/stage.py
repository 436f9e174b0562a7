"""The serve-time piece of a policy's `exposure_targets` stage: prices → adjusted relevance.

`catalogue_bonus` turns the stage's fitted prices into a per-item vector once per compiled
policy; `apply_policy` (`engine.rerank.pipeline`) adds it to a batch's candidates, on the
scale the prices were fitted on (min-max over each shopper's candidates). Outside policies:

A policy version stores `ExposurePrices` as JSON (`prices.model_dump()`); serving builds one
`PricedStage` per (run catalogue, policy version) and calls it per request:

    stage = PricedStage.from_json(version_json["exposure_prices"], run)
    relevance = stage(candidates, scores)   # O(len(candidates))

The returned relevance is the scores min-max scaled over the candidates plus each
candidate's group prices; later stages (diversify, pins) take it as their relevance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.core.columns import ITEM_ID, TIMESTAMP
from engine.exposure.groups import build_grouping, grouping_for_run
from engine.exposure.prices import ExposurePrices, apply_prices


def catalogue_bonus(prices: ExposurePrices, catalogue: Any) -> np.ndarray:
    """(n_items,) price per item over a serving Catalogue (its training interactions give
    item age and popularity, as in the run the prices were fitted on)."""
    events = catalogue.events
    item_ids = catalogue.items[ITEM_ID].astype(str).to_numpy()
    seen = pd.DataFrame({ITEM_ID: item_ids[events["item_idx"].to_numpy()],
                         TIMESTAMP: events[TIMESTAMP].to_numpy()})
    popularity = np.bincount(events["item_idx"].to_numpy(), minlength=catalogue.n_items)
    return prices.item_bonus(build_grouping(prices.group, catalogue.items, seen, popularity))


class PricedStage:
    """Fitted prices bound to one catalogue: the per-item price vector is built once."""

    def __init__(self, prices: ExposurePrices, run: Any) -> None:
        self.prices = prices
        self.item_bonus = prices.item_bonus(grouping_for_run(run, prices.group))  # (n_items,)

    @classmethod
    def from_json(cls, value: dict[str, Any] | str, run: Any) -> PricedStage:
        """From what a policy version stores (a dict or JSON text); ConfigError-free input
        is the caller's job: pydantic's ValidationError names the bad field."""
        prices = ExposurePrices.model_validate_json(value) if isinstance(value, str) else \
            ExposurePrices.model_validate(value)
        return cls(prices, run)

    def __call__(self, candidates: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """(N,) adjusted relevance of one request's candidates (catalogue positions)."""
        candidates = np.asarray(candidates, dtype=np.int64)
        known = candidates < len(self.item_bonus)  # items added after the fit carry no price
        bonus = np.zeros(len(self.item_bonus) + 1)
        bonus[:-1] = self.item_bonus
        return apply_prices(scores, np.where(known, candidates, len(self.item_bonus)), bonus)
