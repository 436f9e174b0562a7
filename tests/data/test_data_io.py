"""Atomic writes of the generic layout."""

from __future__ import annotations

import stat
from pathlib import Path

import pandas as pd
import pytest

from engine.core.errors import DataError
from engine.data import io as data_io
from engine.data import load_dataset, write_dataset_dir, write_tables

ITEMS = pd.DataFrame({"item_id": ["a", "b"], "title": ["Mug", "Pan"]})
EVENTS = pd.DataFrame({"user_id": ["u", "u"], "item_id": ["a", "b"], "timestamp": [1, 2]})


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_tables_round_trip(tmp_path: Path, fmt: str) -> None:
    paths = write_tables(ITEMS, EVENTS, tmp_path / "out", fmt=fmt)
    assert [p.name for p in paths] == [f"items.{fmt}", f"events.{fmt}"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)
    assert stat.S_IMODE(paths[0].stat().st_mode) == 0o644
    ds = load_dataset(tmp_path / "out")
    assert ds.items["title"].tolist() == ["Mug", "Pan"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_chunked_writes_equal_one_shot(tmp_path: Path, fmt: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    events = pd.DataFrame({"user_id": [f"u{i}" for i in range(7)], "item_id": ["a"] * 7,
                           "timestamp": range(7)})
    monkeypatch.setattr(data_io, "CHUNK_ROWS", 3)
    path = write_tables(ITEMS, events, tmp_path, fmt=fmt)[1]
    back = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
    assert back["user_id"].tolist() == events["user_id"].tolist()


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    write_tables(ITEMS, EVENTS, tmp_path)
    before = (tmp_path / "items.csv").read_bytes()

    def half_then_fail(frame: pd.DataFrame, path: Path, progress: bool) -> None:
        path.write_text("item_id,ti")
        raise OSError("disk full")

    monkeypatch.setattr(data_io, "_write_csv", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        data_io.write_frame(ITEMS, tmp_path / "items.csv")
    assert (tmp_path / "items.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.csv", "items.csv"]


def test_write_dataset_dir_new_and_existing(tmp_path: Path) -> None:
    out = write_dataset_dir(ITEMS, EVENTS, tmp_path / "conv")
    assert sorted(p.name for p in out.iterdir()) == ["events.parquet", "items.parquet"]
    (out / "notes.txt").write_text("keep me")
    write_dataset_dir(ITEMS.iloc[:1], EVENTS.iloc[:1], out)
    assert (out / "notes.txt").read_text() == "keep me"
    assert len(pd.read_parquet(out / "items.parquet")) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["conv"]  # no staging folder left


def test_bad_output_format_and_file_as_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown output format 'xlsx'"):
        write_tables(ITEMS, EVENTS, tmp_path, fmt="xlsx")
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="is not a folder"):
        write_tables(ITEMS, EVENTS, tmp_path / "file")
