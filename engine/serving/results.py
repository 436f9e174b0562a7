"""What a serving call returns: the ranked table, a notice for fallbacks, the plain top-k."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.core.columns import CATEGORY, ITEM_ID, PRICE, TITLE
from engine.serving.catalogue import Catalogue
from engine.serving.ranking import RankedList

TABLE_COLUMNS = ("rank", ITEM_ID, TITLE, CATEGORY, PRICE, "relevance", "diversity_gain", "score",
                 "explanation")


@dataclass(frozen=True)
class Recommendations:
    """A ranked list (`table`), why a fallback happened (`notice`) and the un-diversified top-k."""

    table: pd.DataFrame
    notice: str | None = None
    relevance_only: pd.DataFrame | None = None
    method: str = "none"
    diversity_weight: float = 0.0
    n_candidates: int = 0  # items that passed the filters
    best_match: float | None = None  # search only: the best text-match cosine
    good_match: bool = True  # search only: False when even the best match is weak
    unavailable_left_out: int = 0  # items left out because they cannot be bought now
    alpha: float | None = None  # the model's loss weight alpha (loss-conditioned runs only)

    def records(self) -> list[dict]:
        """The table as JSON-able rows of plain Python values (NaN price becomes None)."""
        return json.loads(self.table.to_json(orient="records", force_ascii=False))


def item_frame(catalogue: Catalogue, positions: np.ndarray) -> pd.DataFrame:
    """rank, item_id, title, category (diversity label), price for catalogue positions."""
    columns = catalogue.columns
    return pd.DataFrame({
        "rank": np.arange(1, len(positions) + 1),
        ITEM_ID: columns.ids[positions],
        TITLE: columns.titles[positions],
        CATEGORY: columns.labels[positions],
        PRICE: columns.prices[positions],
    })


def ranked_table(catalogue: Catalogue, ranked: RankedList, explanations: list[str]) -> pd.DataFrame:
    """The full serving table in TABLE_COLUMNS order."""
    frame = item_frame(catalogue, ranked.items)
    frame["relevance"] = np.round(ranked.relevance, 4)
    frame["diversity_gain"] = np.round(ranked.diversity_gain, 4)
    frame["score"] = np.round(ranked.score, 4)
    # object, not pandas' string dtype: each Explanation keeps its coded parts for the studio
    frame["explanation"] = pd.Series(explanations, dtype=object, index=frame.index)
    return frame[list(TABLE_COLUMNS)]


def relevance_table(catalogue: Catalogue, positions: np.ndarray,
                    relevance: np.ndarray) -> pd.DataFrame:
    """The plain top-k by relevance, for a side-by-side with the diversified list."""
    frame = item_frame(catalogue, positions)
    frame["relevance"] = np.round(relevance, 4)
    return frame


def plain_value(value: object) -> object:
    """A table cell as a plain JSON-able Python value (NaN and None become None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value
