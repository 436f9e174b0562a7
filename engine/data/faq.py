"""A shop's FAQ: `faq.csv` (id, question, answer, optional product ids and categories).

The FAQ is imported beside a dataset's items and events: read with the same encoding
detection, every text field stripped of HTML by the one HTML function, and reconciled like
the other tables (rows read = kept + dropped per named reason). Linked product ids and
categories are lists separated by `|` or `;`. It is written to the dataset folder as
`faq.parquet` with its count in `faq.json`; `prism ask` reads it from the folder a run was
trained on.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from engine.core.errors import DataError
from engine.core.files import staged_file, write_json_atomic
from engine.core.messages import Message
from engine.data.html_text import strip_html
from engine.data.readers import find_table, read_table
from engine.data.reconcile import TableCount

FAQ = "faq"
FAQ_FILE = "faq.parquet"
FAQ_COUNT = "faq.json"
FAQ_ID, QUESTION, ANSWER, FAQ_ITEMS, FAQ_CATEGORIES = (
    "faq_id", "question", "answer", "item_ids", "categories")
FAQ_COLUMNS = (FAQ_ID, QUESTION, ANSWER, FAQ_ITEMS, FAQ_CATEGORIES)
LIST_SEP = "|"
_SPLIT = re.compile(r"\s*[|;]\s*")
# what FAQ exports call the columns (lower-case, spaces and dashes as underscores)
SYNONYMS = {
    FAQ_ID: ("faq_id", "id", "question_id", "entry_id"),
    QUESTION: ("question", "q", "title", "问题"),
    ANSWER: ("answer", "a", "body", "reply", "答案", "回答"),
    FAQ_ITEMS: ("item_ids", "product_ids", "products", "items", "skus", "item_id", "product_id"),
    FAQ_CATEGORIES: ("categories", "category", "topics", "类目"),
}


def _key(name: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def find_faq(folder: Path) -> Path | None:
    """The `faq.{csv,tsv,parquet}` of a folder, if any."""
    return find_table(folder, FAQ) if folder.is_dir() else None


def is_faq_file(path: Path) -> bool:
    """True for a file named faq.csv / faq.tsv / faq.parquet."""
    return path.is_file() and path.stem.lower() == FAQ


def _renamed(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    by_key = {_key(c): c for c in frame.columns}
    renamed = {}
    for target, aliases in SYNONYMS.items():
        column = next((by_key[a] for a in aliases if a in by_key), None)
        if column is not None and column not in renamed:
            renamed[column] = target
    missing = [c for c in (FAQ_ID, QUESTION, ANSWER) if c not in renamed.values()]
    if missing:
        raise DataError(Message("faq_missing_columns", source=str(source),
                                missing=", ".join(missing), n=len(missing),
                                found=", ".join(map(str, frame.columns)) or Message("no_columns")))
    out = frame.rename(columns=renamed)
    for column in (FAQ_ITEMS, FAQ_CATEGORIES):
        if column not in out:
            out[column] = ""
    return out[list(FAQ_COLUMNS)]


def _joined(values: pd.Series) -> pd.Series:
    """'a; b |c' → 'a|b|c' (empty parts dropped)."""
    return values.map(lambda text: LIST_SEP.join(p for p in _SPLIT.split(text) if p))


def clean_faq(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, TableCount]:
    """FAQ rows with Prism column names, HTML stripped, and the reconciled count."""
    count = TableCount(FAQ, source, read=len(frame))
    faq = _renamed(frame, source)
    for column in FAQ_COLUMNS:
        faq[column], _ = strip_html(faq[column])
    no_id = faq[FAQ_ID] == ""
    count.drop(Message("faq_drop_no_id"), int(no_id.sum()))
    faq = faq[~no_id]
    empty = (faq[QUESTION] == "") | (faq[ANSWER] == "")
    count.drop(Message("faq_drop_no_text"), int(empty.sum()))
    faq = faq[~empty]
    repeated = faq[FAQ_ID].duplicated(keep="first")
    count.drop(Message("faq_drop_repeated"), int(repeated.sum()))
    faq = faq[~repeated].reset_index(drop=True)
    faq[FAQ_ITEMS] = _joined(faq[FAQ_ITEMS])
    faq[FAQ_CATEGORIES] = _joined(faq[FAQ_CATEGORIES])
    return faq, count.settle(len(faq))


def read_faq(path: str | Path, encoding: str = "auto") -> tuple[pd.DataFrame, TableCount]:
    """Read and clean one FAQ file (encoding detected unless given); refuses one with no rows
    left."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(Message("faq_no_file", path=str(path)))
    frame = read_table(path, encoding)
    faq, count = clean_faq(frame.fillna("").astype(str), str(path))
    if faq.empty:
        raise DataError(Message("faq_none_left", source=str(count.source), counts=count.line()))
    return faq, count


def write_faq(folder: Path, faq: pd.DataFrame, count: TableCount) -> Path:
    """Write `faq.parquet` and its count into a dataset folder (each atomically)."""
    target = Path(folder) / FAQ_FILE
    with staged_file(target) as staging:
        faq.to_parquet(staging, index=False)
    write_json_atomic(Path(folder) / FAQ_COUNT, count.as_dict())
    return target


def import_faq(path: str | Path, folder: Path, encoding: str = "auto") -> TableCount:
    """Read, clean and write an FAQ into dataset `folder`; refuses an FAQ with no rows left."""
    faq, count = read_faq(path, encoding)
    write_faq(folder, faq, count)
    return count


def load_faq(folder: Path) -> pd.DataFrame | None:
    """A dataset folder's imported FAQ, or None when it has none."""
    path = Path(folder) / FAQ_FILE
    return pd.read_parquet(path) if path.is_file() else None


def split_list(text: str) -> list[str]:
    """'a|b' → ['a', 'b'] ('' → [])."""
    return [p for p in str(text).split(LIST_SEP) if p]
