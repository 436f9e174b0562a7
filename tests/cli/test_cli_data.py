"""`prism data ...`: the flows that work, and one clear line with exit code 2 for bad input."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest
from real_data import shared_dataset

from engine.cli.main import main

ITEMS_CSV = "item_id,title,category\na,Mug,Kitchen > Mugs\nb,Pan,Kitchen > Pans\n"
EVENTS_CSV = "user_id,item_id,timestamp\nu1,a,1\nu1,b,2\nu2,a,3\n"


def _folder(root: Path, items: str | bytes = ITEMS_CSV, events: str | bytes = EVENTS_CSV,
            name: str = "shop") -> Path:
    folder = root / name
    folder.mkdir()
    for file, content in (("items.csv", items), ("events.csv", events)):
        if isinstance(content, bytes):
            (folder / file).write_bytes(content)
        else:
            (folder / file).write_text(content, encoding="utf-8")
    return folder


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _fails(capsys: pytest.CaptureFixture[str], argv: list[str], pattern: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("prism: error: ")
    assert pd.Series([err]).str.contains(pattern, regex=True).iloc[0], err


def test_generate_then_inspect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "shop"
    assert main(["data", "generate", "--out", str(out), "--items", "300", "--users", "60",
                 "--seed", "7"]) == 0
    assert "wrote 300 items" in capsys.readouterr().out
    assert main(["data", "inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert re.search(r"^users\s+60$", text, re.M)
    assert "Cleaning report" in text and "duplicate events" in text
    assert "diversity depth 2:" in text


def test_generate_same_seed_is_byte_identical(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert main(["data", "generate", "--out", str(tmp_path / name), "--items", "100",
                     "--users", "30", "--seed", "7", "--format", "parquet"]) == 0
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_inspect_with_map_and_depth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path, items="sku,name,category\na,Mug,K > M\nb,Pan,K > P\n",
                     events="user_id,sku,timestamp\nu,a,1\nu,b,2\n")
    assert main(["data", "inspect", str(folder), "--map", "item_id=sku,title=name",
                 "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "diversity depth 1: 1 categories" in out


def test_inspect_does_not_count_unknown_as_a_category(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path, items="item_id,title,category\na,Mug,K > M\nb,Pan,K > P\nc,Box,\n",
                     events="user_id,item_id,timestamp\nu,a,1\nu,b,2\nu,c,3\n")
    assert main(["data", "inspect", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "items without a category: 1" in out
    assert "diversity depth 2: 2 categories over 3 items" in out


def test_convert_writes_parquet_and_leaves_input_alone(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path, events=EVENTS_CSV + "u2,a,3\n")
    before = _digest(folder)
    out = tmp_path / "converted"
    assert main(["data", "convert", str(folder), "--out", str(out)]) == 0
    assert "wrote 2 items and 3 events" in capsys.readouterr().out
    assert _digest(folder) == before
    assert sorted(p.name for p in out.iterdir()) == ["events.parquet", "items.parquet"]
    events = pd.read_parquet(out / "events.parquet")
    assert events["timestamp"].dtype == "int64" and len(events) == 3


def test_convert_refuses_to_write_into_input(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path)
    _fails(capsys, ["data", "convert", str(folder), "--out", str(folder / "x")],
           "never writes into the input")


@pytest.mark.parametrize(("items", "events", "pattern"), [
    ("item_id,name\na,Mug\n", EVENTS_CSV, r"items.csv: missing required column title"),
    ("", EVENTS_CSV, r"items.csv: the file is empty"),
    (ITEMS_CSV.replace(",", ";"), EVENTS_CSV, r"items.csv: .*looks semicolon-separated"),
    ("item_id,title\na,Erkek gömlek şık\n".encode("cp1254"), EVENTS_CSV,
     r"items.csv: the encoding is ambiguous \(.*--encoding cp1254"),
    ("item_id,title\na,Mug\na,Cup\nb,Pan\n", EVENTS_CSV,
     r"item id 'a' appears more than once with different titles"),
    (ITEMS_CSV, "user_id,item_id\nu,x\nu,y\nu,a\n",
     r"events.csv: 2 of 3 events have item ids that are not in the items table"),
    (ITEMS_CSV, "user_id,item_id,timestamp\nu,a,last week\nu,b,soon\n",
     r"events.csv: 2 of 2 events have timestamps that do not parse"),
])
def test_bad_input_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   items: str | bytes, events: str, pattern: str) -> None:
    folder = _folder(tmp_path, items=items, events=events)
    before = _digest(folder)
    _fails(capsys, ["data", "inspect", str(folder)], pattern)
    assert _digest(folder) == before


def test_unknown_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "data.xlsx").write_bytes(b"PK")
    _fails(capsys, ["data", "inspect", str(folder)], r"unknown data format \(found: data.xlsx\)")
    _fails(capsys, ["data", "inspect", str(folder), "--format", "excel"],
           r"unknown format 'excel'; use one of auto, generic, recbole, movielens")


def test_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _fails(capsys, ["data", "generate", "--out", str(blocker / "sub"), "--items", "5",
                    "--users", "2"], "cannot write")


def test_path_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails(capsys, ["data", "inspect", str(tmp_path / "missing")], "no such file or folder")


def test_unknown_map_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails(capsys, ["data", "inspect", str(_folder(tmp_path)), "--map", "sku=item_id"],
           r"unknown target column 'sku'; valid targets are item_id, title")


def test_bad_depth_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails(capsys, ["data", "inspect", str(_folder(tmp_path)), "--depth", "0"],
           r"category_depth: must be >= 1")


@pytest.mark.shared_data
def test_inspect_amazon_scientific(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "inspect", str(shared_dataset("amazon-scientific"))]) == 0
    out = capsys.readouterr().out
    for expected in (r"^users\s+8,317$", r"^items\s+4,344$", r"^events\s+58,492$",
                     r"^\s+2\s+25\s", r"^\s+3\s+192\s", r"^\s+4\s+435\s",
                     r"^items without a category: 131 ", r"^html removed\s+10\s",
                     r"^diversity depth 2: 25 categories over 4,344 items$"):
        assert re.search(expected, out, re.M), expected


@pytest.mark.shared_data
def test_inspect_ml100k(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "inspect", str(shared_dataset("ml-100k"))]) == 0
    out = capsys.readouterr().out
    for expected in (r"^users\s+943$", r"^items\s+1,682$", r"^events\s+100,000$",
                     r"18 categories", r"Film-Noir"):  # its "unknown" genre is no category
        assert re.search(expected, out, re.M), expected
