"""Cold start: items with text but no events join a two-tower run without retraining.

New items are checked (ids present, unique, new; titles not empty), their category paths are
mapped onto the run's diversity categories, their text is encoded by the run's encoder and the
model appends item vectors from its text tower. The run folder is then rewritten as a whole
in a staging copy and swapped into place, so a crash never leaves half an update.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.core.columns import (
    BRAND,
    CATEGORY,
    CATEGORY_SEP,
    DESCRIPTION,
    DIV_CATEGORY,
    ITEM_ID,
    PRICE,
    PROMO,
    TITLE,
    UNKNOWN_CATEGORY,
)
from engine.core.errors import DataError, PrismError, RequestError
from engine.core.messages import Message, shown_ids
from engine.data.cleaning import CleaningReport, clean_ids, parse_promo, strip_item_html
from engine.data.encodings import AmbiguousEncoding
from engine.data.numbers import AMBIGUOUS, BAD, parse_amounts
from engine.data.readers import codec, detect_encoding
from engine.data.schema import category_labels
from engine.models.base import BaseModel
from engine.runs.store import (
    EVALUATION_MODEL,
    SERVING_MODEL,
    Run,
    div_category_labels,
    has_refit,
    load_part_model,
    update_run_items,
)
from engine.serving.catalogue import MAX_IDS_SHOWN, Catalogue
from engine.text.search import TextIndex, item_texts

NEW_ITEM_REQUIRED = (ITEM_ID, TITLE)
NEW_ITEM_OPTIONAL = (DESCRIPTION, CATEGORY, BRAND, PRICE, PROMO)
PARQUET_MAGIC = b"PAR1"


def read_new_items(source: bytes | str | Path, name: str | None = None) -> pd.DataFrame:
    """A table of new items from a CSV or Parquet file: a path (`prism items add`) or an
    upload's bytes (the studio). A CSV's encoding is detected as the shop import detects it
    (one it cannot tell is refused, never guessed); cells are read as text (an empty cell is
    ""; prices and promo flags are parsed when the items join, `catalogue_rows`). DataError
    says what to fix: a missing or unreadable file, missing columns (those found and
    expected), no rows."""
    if isinstance(source, bytes):
        data, name = source, name or "the upload"
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(Message("new_items_no_file", path=str(source)))
        data, name = path.read_bytes(), name or str(source)
    parquet = data[:4] == PARQUET_MAGIC
    text = "" if parquet else _csv_text(data, name)
    try:
        frame = (pd.read_parquet(io.BytesIO(data)) if parquet
                 else pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False))
    except (ValueError, OSError) as exc:  # parser errors are ValueErrors
        kind = "Parquet" if parquet else "CSV"
        raise DataError(Message("new_items_unreadable", name=name, kind=kind,
                                error=str(exc))) from exc
    check_new_item_columns(frame, name, DataError)
    frame[ITEM_ID] = clean_ids(frame[ITEM_ID])  # the ids the run will give them, as shown
    return frame


def _csv_text(data: bytes, name: str) -> str:
    """A CSV file's text in the encoding the shop import detects for it; a file that reads
    as real text in several encodings is refused with what each reads."""
    try:
        encoding = detect_encoding(Path(name), data)
    except AmbiguousEncoding as exc:
        shown = exc.message.values["shown"] if exc.message else str(exc)
        raise DataError(Message("new_items_encoding", name=name, shown=shown)) from None
    return data.decode(codec(encoding))


def check_new_item_columns(frame: pd.DataFrame, name: str,
                           error: type[PrismError] = RequestError) -> None:
    """The one check of a new-items table's shape, for a file (DataError) and a table given
    to `add_items` (RequestError): the required columns (those found and expected), rows."""
    missing = [column for column in NEW_ITEM_REQUIRED if column not in frame.columns]
    if missing:
        raise error(Message(
            "new_items_columns", name=name, missing=", ".join(missing), n=len(missing),
            found=", ".join(map(str, frame.columns)) or Message("no_columns"),
            required=", ".join(NEW_ITEM_REQUIRED), optional=", ".join(NEW_ITEM_OPTIONAL)))
    if frame.empty:
        raise error(Message("new_items_no_rows", name=name))


def data_setting(meta: dict[str, Any], key: str, kind: type) -> Any:
    """A data-config setting the run recorded in run.json (None when it did not)."""
    for holder in (meta, meta.get("configs") or {}, meta.get("data_config") or {}):
        data = holder.get("data") if isinstance(holder.get("data"), dict) else holder
        if isinstance(data, dict) and isinstance(data.get(key), kind):
            return data[key]
    return None


def category_depth(meta: dict[str, Any], category_names: list[str]) -> int:
    """The run's category depth: from run.json when recorded, else the deepest category name."""
    recorded = data_setting(meta, "category_depth", int)
    if recorded is not None:
        return int(recorded)
    depths = [len(name.split(CATEGORY_SEP)) for name in category_names if name != UNKNOWN_CATEGORY]
    return max(depths, default=1)


def check_new_items(items: pd.DataFrame, catalogue: Catalogue,
                    meta: dict[str, Any] | None = None) -> pd.DataFrame:
    """Validate a table of new items; ids must be new and unique, titles non-empty. Ids, text
    (HTML removed), prices and promo flags are read as the import reads them (with the run's
    decimal mark in `meta`), so an item reads the same added here or imported."""
    check_new_item_columns(items, Message("new_items_table"))
    frame = items.reset_index(drop=True).copy()
    frame[ITEM_ID] = clean_ids(frame[ITEM_ID])
    strip_item_html(frame, CleaningReport())  # the count is the import's report, not ours
    duplicated = frame.loc[frame[ITEM_ID].duplicated(), ITEM_ID].unique().tolist()
    if duplicated:
        shown, more = shown_ids(duplicated, MAX_IDS_SHOWN)
        raise RequestError(Message("new_items_repeated", shown=shown, more=more))
    taken = frame.loc[catalogue.item_index.get_indexer(frame[ITEM_ID]) >= 0, ITEM_ID].tolist()
    if taken:
        shown, more = shown_ids(taken, MAX_IDS_SHOWN)
        raise RequestError(Message("new_items_taken", n=len(taken), shown=shown, more=more))
    empty = frame.loc[(frame[TITLE] == "") | (frame[ITEM_ID] == ""), ITEM_ID].tolist()
    if empty:
        shown, more = shown_ids(empty, MAX_IDS_SHOWN)
        raise RequestError(Message("new_items_blank", n=len(empty), shown=shown, more=more))
    if PRICE in frame.columns:
        frame[PRICE] = _prices(frame, meta or {})
    if PROMO in frame.columns:
        frame[PROMO] = _promo_flags(frame)
    return frame


def _prices(frame: pd.DataFrame, meta: dict[str, Any]) -> pd.Series:
    """Prices as numbers, read as the import reads them; a price that is not one amount, or
    is negative or above the run's maximum, is refused (an empty cell is no price)."""
    numbers, _, status = parse_amounts(frame[PRICE], data_setting(meta, "decimal_mark", str)
                                       or "auto")
    limit = data_setting(meta, "max_price", float) or float("inf")
    bad = status.isin([AMBIGUOUS, BAD]) | (numbers < 0) | (numbers > limit)
    if bad.any():
        shown = [f"{item}: {value!r}" for item, value in
                 zip(frame.loc[bad, ITEM_ID], frame.loc[bad, PRICE], strict=True)][:5]
        raise RequestError(Message("new_items_price", n=int(bad.sum()), shown=", ".join(shown)))
    return numbers.astype(np.float64)


def _promo_flags(frame: pd.DataFrame) -> pd.Series:
    """Promo flags read as the import reads them; any other value is refused."""
    try:
        return parse_promo(frame[PROMO], Message("new_items_table"))
    except DataError as exc:
        raise RequestError(exc.message or str(exc)) from exc


def run_label(label: str, names: Sequence[str] | set[str]) -> str:
    """An uploaded item's label as the run names it: runs leave out a root shared by every
    category ("Shop > Tools" is "Tools"), uploads carry full paths."""
    if label in names or CATEGORY_SEP not in label:
        return label
    return label.split(CATEGORY_SEP, 1)[1]


def _placed(items: pd.DataFrame, catalogue: Catalogue, depth: int) -> pd.DataFrame:
    """One row per (item row, label at `depth`) with the run's category column it takes: the
    label's own, else "unknown" when the run has that category, else -1 (it cannot place it)."""
    names = catalogue.category_names
    position = {name: i for i, name in enumerate(names)}
    paths = items[CATEGORY] if CATEGORY in items.columns else pd.Series([""] * len(items))
    labels = category_labels(paths.reset_index(drop=True), depth)
    labels["column"] = [position.get(run_label(label, names), position.get(UNKNOWN_CATEGORY, -1))
                        for label in labels["label"]]
    return labels


def unplaceable_items(items: pd.DataFrame, catalogue: Catalogue,
                      meta: dict[str, Any]) -> pd.DataFrame:
    """Rows of `items` whose category the run cannot place: item_id, label (before any add).

    Lets a caller check an upload at once, show every bad row and add the rest, instead of
    learning at add time from the first bad row.
    """
    placed = _placed(items, catalogue, category_depth(meta, catalogue.category_names))
    bad = placed[placed["column"] < 0].drop_duplicates("row")
    return pd.DataFrame({ITEM_ID: items[ITEM_ID].astype(str).iloc[bad["row"]].to_numpy(),
                         "label": bad["label"].to_numpy(), "row": bad["row"].to_numpy()})


def new_item_categories(frame: pd.DataFrame, catalogue: Catalogue, depth: int) -> np.ndarray:
    """(n_new, C) row-stochastic matrix over the run's categories.

    A label the run never saw maps to "unknown" when the run has that category; otherwise the
    request fails naming the label, since the model has no embedding for it.
    """
    names = catalogue.category_names
    matrix = np.zeros((len(frame), len(names)), dtype=np.float32)
    for row, label, column in _placed(frame, catalogue, depth).itertuples(index=False):
        if column < 0:
            item = frame[ITEM_ID].iat[row]
            shown, more = shown_ids(names, 20)
            raise RequestError(
                Message("new_item_no_category", item=item, unknown=UNKNOWN_CATEGORY,
                        names=shown, more=more) if label == UNKNOWN_CATEGORY else
                Message("new_item_category", item=item, label=label, names=shown, more=more))
        matrix[row, column] = 1.0
    return matrix / matrix.sum(axis=1, keepdims=True)


def catalogue_rows(frame: pd.DataFrame, catalogue: Catalogue,
                   categories: np.ndarray) -> pd.DataFrame:
    """New items with the run's item columns (missing ones empty) and their div_category."""
    rows = frame.copy()
    for column in catalogue.items.columns:
        if column not in rows.columns:
            rows[column] = np.nan if column == PRICE else (False if column == PROMO else "")
    rows[DIV_CATEGORY] = div_category_labels(categories, catalogue.category_names)
    return rows[list(catalogue.items.columns)]


def add_items(run: Run, model: BaseModel, text: TextIndex, catalogue: Catalogue,
              items: pd.DataFrame) -> tuple[Catalogue, pd.DataFrame]:
    """Encode, append to the model and the search index, persist; returns the new snapshot
    and the added rows. The caller holds the serving write lock."""
    if type(model).add_items is BaseModel.add_items:
        model.add_items(np.empty((0, 0)), np.empty((0, 0)))  # raises: no text tower
    frame = check_new_items(items, catalogue, run.meta)
    categories = new_item_categories(frame, catalogue,
                                     category_depth(run.meta, catalogue.category_names))
    rows = catalogue_rows(frame, catalogue, categories)
    embeddings = text.encode(item_texts(rows))
    model.add_items(embeddings, categories)  # baselines raise RequestError
    vectors = model.item_vectors()
    new_catalogue = catalogue.with_items(
        rows, categories, None if vectors is None else vectors[catalogue.n_items:])
    text.extend(embeddings, catalogue.n_items)
    models, popularity = {run.part: model}, {run.part: run.item_popularity}
    for part in _other_parts(run):  # every model of the run must know the new items
        models[part], popularity[part] = load_part_model(run, part)
        models[part].add_items(embeddings, categories)
    popularity = {part: np.pad(np.asarray(known, dtype=np.float64),  # no events yet: 0
                               (0, new_catalogue.n_items - len(known)))
                  for part, known in popularity.items()}
    update_run_items(run.path, models, new_catalogue.items, new_catalogue.item_categories,
                     popularity, text_embeddings=text.known(new_catalogue.n_items))
    run.item_popularity = popularity[run.part]
    return new_catalogue, rows.reset_index(drop=True)


def _other_parts(run: Run) -> list[str]:
    """The run's parts with a model of their own besides the one `run` holds."""
    parts = [EVALUATION_MODEL] + ([SERVING_MODEL] if has_refit(run.path) else [])
    return [part for part in parts if part != run.part]
