"""What a serving call returns: the ranked list, a notice for fallbacks, the plain top-k, and
under a policy its name, each item's attribution and what each stage removed."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from engine.core.columns import CATEGORY, ITEM_ID, PRICE, TITLE
from engine.serving.catalogue import Catalogue

TABLE_COLUMNS = ("rank", ITEM_ID, TITLE, CATEGORY, PRICE, "relevance", "diversity_gain", "score",
                 "explanation")

Columns = dict[str, np.ndarray]  # one array per table column, one entry per slot


@dataclass(frozen=True)
class Recommendations:
    """A ranked list, why a fallback happened (`notice`) and the un-diversified top-k; a
    plain request's, a search's, trending items' and a policy's list alike.

    The list is kept as `columns` (arrays in TABLE_COLUMNS order, and under a policy an
    `attribution` column: per item, the stages that touched it), built once per request;
    `records()` (the API, the CLI's JSON) reads them directly, and the pandas `table` (the
    studio, the CLI's table) is only built when it is asked for."""

    columns: Columns
    notice: str | None = None
    relevance_columns: Columns | None = None
    method: str = "none"
    diversity_weight: float = 0.0
    n_candidates: int = 0  # items that passed the filters
    best_match: float | None = None  # search only: the best text-match cosine
    good_match: bool = True  # search only: False when even the best match is weak
    unavailable_left_out: int = 0  # items left out because they cannot be bought now
    alpha: float | None = None  # the model's loss weight alpha (loss-conditioned runs only)
    policy: str | None = None  # name@version of the policy that ranked the list
    removed: dict[str, int] | None = None  # policy only: {stage label: items it kept out}

    @cached_property
    def table(self) -> pd.DataFrame:
        """The list as a table in TABLE_COLUMNS order (explanations keep their parts)."""
        return _frame(self.columns)

    @cached_property
    def relevance_only(self) -> pd.DataFrame | None:
        """The plain top-k by relevance, for a side-by-side with the diversified list."""
        return None if self.relevance_columns is None else _frame(self.relevance_columns)

    def records(self) -> list[dict]:
        """The list as JSON-able rows of plain Python values, one dict per slot (a missing
        price is None, explanations plain text)."""
        plain = {name: [plain_value(value) for value in values.tolist()]
                 for name, values in self.columns.items()}
        if "explanation" in plain:
            plain["explanation"] = [str.__str__(text) for text in plain["explanation"]]
        return [dict(zip(plain, row, strict=True)) for row in zip(*plain.values(), strict=True)]


def catalogue_rows(catalogue: Catalogue, positions: np.ndarray | slice) -> pd.DataFrame:
    """item_id, title, category (diversity label), price of some catalogue positions (a page
    of the catalogue, or the items a search found): only those rows are read."""
    return _frame(item_columns(catalogue, positions)).drop(columns="rank")


def item_columns(catalogue: Catalogue, positions: np.ndarray | slice) -> Columns:
    """rank, item_id, title, category (diversity label), price for catalogue positions."""
    columns = catalogue.columns
    ids = columns.ids[positions]
    return {"rank": np.arange(1, len(ids) + 1), ITEM_ID: ids, TITLE: columns.titles[positions],
            CATEGORY: columns.labels[positions], PRICE: columns.prices[positions]}


def list_columns(catalogue: Catalogue, positions: np.ndarray, relevance: np.ndarray,
                 diversity_gain: np.ndarray, score: np.ndarray,
                 explanations: list[str]) -> Columns:
    """Every TABLE_COLUMNS column of a served list, terms rounded to 4 decimals."""
    out = item_columns(catalogue, positions)
    out.update(relevance=np.round(relevance, 4), diversity_gain=np.round(diversity_gain, 4),
               score=np.round(score, 4), explanation=object_column(explanations))
    return out


def object_column(values: list) -> np.ndarray:
    """One slot per value, each kept as it is (an explanation, a list of stage labels)."""
    return np.fromiter(values, dtype=object, count=len(values))


def _frame(columns: Columns) -> pd.DataFrame:
    frame = pd.DataFrame({name: values for name, values in columns.items()
                          if name != "explanation"})
    if "explanation" in columns:  # object, not pandas' string dtype: the coded parts stay
        frame["explanation"] = pd.Series(columns["explanation"], dtype=object,
                                         index=frame.index)
    return frame


def plain_value(value: object) -> object:
    """A table cell as a plain JSON-able Python value (NaN and None become None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value
