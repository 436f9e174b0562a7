"""Fuzzing the importers: whatever lands in the files, `load_dataset` returns a valid Dataset
or raises a PrismError with a message — never another exception.

Random bytes, random column sets and random value types are written as CSV, TSV, Parquet,
RecBole atomic and MovieLens files into a fresh folder per example.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.columns import (
    BRAND,
    CATEGORY,
    DESCRIPTION,
    EVENT,
    EVENT_REQUIRED,
    EVENT_TYPES,
    ITEM_ID,
    ITEM_REQUIRED,
    PRICE,
    PROMO,
    TIMESTAMP,
    TITLE,
    USER_ID,
    WEIGHT,
)
from engine.core.errors import DataError, PrismError
from engine.data import Dataset, load_dataset

# PRISM_FUZZ_EXAMPLES raises the budget for a deeper search than the quick default
FUZZ = settings(max_examples=int(os.environ.get("PRISM_FUZZ_EXAMPLES", "30")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ITEM_COLUMNS = [ITEM_ID, TITLE, DESCRIPTION, CATEGORY, BRAND, PRICE, PROMO, "extra"]
EVENT_COLUMNS = [USER_ID, ITEM_ID, TIMESTAMP, EVENT, WEIGHT, "note"]

# values of every kind a spreadsheet export can hold
cell = st.one_of(
    st.none(), st.booleans(), st.integers(-2**40, 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["", " ", "nan", "NULL", "1e309", "2024-01-01",
                                           "A > B | C", "&amp;", "purchase", "view", "-1"]),
    st.sampled_from(list(EVENT_TYPES)),
)


def _is_infinite(value: object) -> bool:
    try:
        return math.isinf(float(str(value).strip()))
    except ValueError:
        return False


# infinite timestamps crash the event cleaning: see test_infinite_timestamp below
finite_cell = cell.filter(lambda value: not _is_infinite(value))
small_id = st.sampled_from(["a", "b", "c", "1", "2", "", "nan"])

LIKELY = {
    EVENT: st.sampled_from([*EVENT_TYPES, "", " Purchase "]),
    WEIGHT: st.floats(0.01, 100),
    TIMESTAMP: st.one_of(st.integers(0, 2**33), st.sampled_from(["2024-05-01T12:00:00"])),
    PRICE: st.one_of(st.floats(-10, 1e7), st.just(float("nan"))),
}


def check_valid(dataset: Dataset) -> None:
    """The data contract of docs/architecture.md, on a dataset the loader accepted."""
    items, events = dataset.items, dataset.events
    assert isinstance(items.index, pd.RangeIndex) and items.index.start == 0
    assert items[ITEM_ID].is_unique
    for column in (ITEM_ID, TITLE, DESCRIPTION, CATEGORY, BRAND):
        assert items[column].map(type).eq(str).all(), column
    assert items[PRICE].dtype.kind == "f" and items[PROMO].dtype == bool
    assert events[ITEM_ID].isin(items[ITEM_ID]).all()
    assert events[TIMESTAMP].dtype == np.int64
    assert events[EVENT].isin(EVENT_TYPES).all()
    assert np.isfinite(events[WEIGHT].to_numpy(dtype=float)).all()
    assert (events[WEIGHT].to_numpy(dtype=float) > 0).all()
    matrix, names = dataset.category_matrix()
    assert matrix.shape == (len(items), len(names))
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=1e-5, atol=1e-6)


def load_or_clear_error(folder: Path) -> None:
    try:
        dataset = load_dataset(folder)
    except PrismError as exc:
        assert str(exc).strip(), "a PrismError must carry a message"
        return
    check_valid(dataset)


def random_table(draw: st.DrawFn, columns: list[str], ids: bool,
                 required: tuple[str, ...]) -> pd.DataFrame:
    chosen = draw(st.lists(st.sampled_from(columns), unique=True, max_size=len(columns)))
    if ids:  # near-valid tables: the required columns present, holding overlapping ids
        chosen = list(required) + [c for c in chosen if c not in required]
    n_rows = draw(st.integers(0, 6))
    data = {}
    for column in chosen:
        values = small_id if ids and column in (ITEM_ID, USER_ID) else cell
        values = finite_cell if column == TIMESTAMP else values
        if ids and column in LIKELY:  # mostly plausible values, sometimes anything
            values = st.one_of(LIKELY[column], LIKELY[column], values)
        data[column] = draw(st.lists(values, min_size=n_rows, max_size=n_rows))
    return pd.DataFrame(data)


@st.composite
def table_pairs(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = draw(st.booleans())  # overlapping ids reach cleaning; arbitrary ones test the guards
    return (random_table(draw, ITEM_COLUMNS, ids, ITEM_REQUIRED),
            random_table(draw, EVENT_COLUMNS, ids, EVENT_REQUIRED))


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        # mixed object columns are stored as text; Parquet cannot hold a mix of types
        mixed = {c: frame[c].map(lambda v: v if v is None else str(v)) for c in frame
                 if frame[c].dtype == object}
        frame.assign(**mixed).to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if path.suffix == ".tsv" else ",")


@FUZZ
@given(items=st.binary(max_size=300), events=st.binary(max_size=300),
       ext=st.sampled_from(["csv", "tsv", "parquet"]))
def test_random_bytes_in_generic_files(items: bytes, events: bytes, ext: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / f"items.{ext}").write_bytes(items)
        (folder / f"events.{ext}").write_bytes(events)
        load_or_clear_error(folder)


@FUZZ
@given(header=st.sampled_from([b"item_id,title\n", b"user_id,item_id,timestamp\n"]),
       body=st.binary(max_size=200))
def test_valid_header_then_random_bytes(header: bytes, body: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "items.csv").write_bytes(b"item_id,title\n" + body)
        (folder / "events.csv").write_bytes(header + body)
        load_or_clear_error(folder)


@FUZZ
@given(tables=table_pairs(), ext=st.sampled_from(["csv", "parquet"]))
def test_random_columns_and_types(tables: tuple[pd.DataFrame, pd.DataFrame], ext: str) -> None:
    items, events = tables
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_frame(items, folder / f"items.{ext}")
        write_frame(events, folder / f"events.{ext}")
        load_or_clear_error(folder)


@FUZZ
@given(inter=st.binary(max_size=200), item=st.binary(max_size=200),
       typed=st.booleans())
def test_random_recbole_atomic_files(inter: bytes, item: bytes, typed: bool) -> None:
    header = b"user_id:token\titem_id:token\ttimestamp:float\n" if typed else b""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "shop.inter").write_bytes(header + inter)
        (folder / "shop.item").write_bytes(b"item_id:token\tclass:token_seq\n" + item)
        load_or_clear_error(folder)


@FUZZ
@given(data=st.binary(max_size=200), item=st.binary(max_size=200))
def test_random_movielens_files(data: bytes, item: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "u.data").write_bytes(b"1\t1\t5\t881250949\n" + data)
        (folder / "u.item").write_bytes(b"1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0"
                                        b"|0|0|0|0|0|0|0|0|0|0|0|0\n" + item)
        load_or_clear_error(folder)


# Minimal inputs the fuzzer found, kept as regression tests.
def test_huge_float_ids(tmp_path: Path) -> None:
    pd.DataFrame({ITEM_ID: [1e20], TITLE: ["x"]}).to_parquet(tmp_path / "items.parquet")
    pd.DataFrame({USER_ID: ["u"], ITEM_ID: ["1e20"]}).to_parquet(tmp_path / "events.parquet")
    load_or_clear_error(tmp_path)


@pytest.mark.parametrize("value", ["inf", "-inf", "1e300", "1e25"])
def test_out_of_range_timestamp_is_a_clear_error(tmp_path: Path, value: str) -> None:
    (tmp_path / "items.csv").write_text("item_id,title\na,x\n")
    (tmp_path / "events.csv").write_text(f"user_id,item_id,timestamp\nu,a,{value}\n")
    with pytest.raises(DataError, match="timestamps that do not parse"):
        load_dataset(tmp_path)


def test_out_of_range_timestamp_is_counted_not_kept(tmp_path: Path) -> None:
    (tmp_path / "items.csv").write_text("item_id,title\na,x\n")
    (tmp_path / "events.csv").write_text(
        "user_id,item_id,timestamp\nu,a,1700000000\nu,a,1700000100\nv,a,1e300\n")
    dataset = load_dataset(tmp_path)
    assert dataset.report.unparseable_timestamps == 1
    assert dataset.events[TIMESTAMP].min() > 0
