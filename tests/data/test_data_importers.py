"""Importers (generic, RecBole atomic, MovieLens), format detection, readers' errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from real_data import shared_dataset

from engine.core.errors import DataError
from engine.data import detect_format, load_dataset

REPO = Path(__file__).resolve().parents[2]

ITEMS_CSV = "item_id,title,category\na,Mug,Kitchen > Mugs\nb,Pan,Kitchen > Pans\n"
EVENTS_CSV = "user_id,item_id,timestamp,event\nu1,a,1,view\nu1,b,2,purchase\nu2,a,3,cart\n"


def _write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def test_generic_csv(tmp_path: Path) -> None:
    folder = _write(tmp_path / "shop", {"items.csv": ITEMS_CSV, "events.csv": EVENTS_CSV})
    ds = load_dataset(folder)
    assert (ds.name, ds.fmt, ds.n_items, ds.n_users, len(ds.events)) == ("shop", "generic", 2,
                                                                          2, 3)
    assert ds.events["event"].tolist() == ["view", "purchase", "cart"]


def test_generic_parquet_and_tsv(tmp_path: Path) -> None:
    folder = tmp_path / "pq"
    folder.mkdir()
    pd.DataFrame({"item_id": [1, 2], "title": ["Mug", "Pan"]}).to_parquet(folder / "items.parquet")
    pd.DataFrame({"user_id": [7], "item_id": [2], "timestamp": pd.to_datetime(["2024-01-01"])}
                 ).to_parquet(folder / "events.parquet")
    ds = load_dataset(folder)
    assert ds.items["item_id"].tolist() == ["1", "2"]  # ids become strings
    assert ds.events["timestamp"].tolist() == [1_704_067_200]
    tsv = _write(tmp_path / "tsv", {"items.tsv": ITEMS_CSV.replace(",", "\t"),
                                    "events.tsv": EVENTS_CSV.replace(",", "\t")})
    assert len(load_dataset(tsv).events) == 3


def test_excel_utf8_bom_and_parquet_ids_with_gaps(tmp_path: Path) -> None:
    folder = _write(tmp_path / "bom", {"items.csv": "\ufeff" + ITEMS_CSV,
                                       "events.csv": EVENTS_CSV})
    assert load_dataset(folder).items["item_id"].tolist() == ["a", "b"]
    gaps = tmp_path / "gaps"
    gaps.mkdir()
    pd.DataFrame({"item_id": [1.0, 2.0, None], "title": ["Mug", "Pan", "X"]}).to_parquet(
        gaps / "items.parquet")
    pd.DataFrame({"user_id": [7, 8], "item_id": [2, 1]}).to_parquet(gaps / "events.parquet")
    ds = load_dataset(gaps)
    assert ds.items["item_id"].tolist() == ["1", "2"]
    assert ds.report.missing_ids == 1
    assert ds.events["item_id"].tolist() == ["2", "1"]


def test_generic_with_column_map(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"items.csv": "sku,name\na,Mug\n",
                                     "events.csv": "customer,sku\nu,a\n"})
    ds = load_dataset(folder, column_map={"item_id": "sku", "title": "name",
                                          "user_id": "customer"})
    assert ds.items["title"].tolist() == ["Mug"]


RECBOLE_INTER = ("user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                 "1\t10\t4\t881250949\n1\t20\t3\t881250950\n2\t10\t5\t881250951\n")
RECBOLE_ITEM = ("item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
                "10\tToy Story\t1995\tAnimation Children's Comedy\n20\tHeat\t1995\tAction\n")


def test_recbole_atomic_files(tmp_path: Path) -> None:
    folder = _write(tmp_path / "tiny", {"tiny.inter": RECBOLE_INTER, "tiny.item": RECBOLE_ITEM})
    assert detect_format(folder) == "recbole"
    ds = load_dataset(folder)
    assert ds.items["title"].tolist() == ["Toy Story", "Heat"]
    assert ds.items["category"].tolist() == ["Animation | Children's | Comedy", "Action"]
    assert ds.items["release_year"].tolist() == ["1995", "1995"]  # extra columns kept
    matrix, names = ds.category_matrix()
    assert names == ["Action", "Animation", "Children's", "Comedy"]
    assert matrix[0].tolist() == pytest.approx([0, 1 / 3, 1 / 3, 1 / 3])
    assert ds.events["timestamp"].tolist() == [881250949, 881250950, 881250951]


def test_a_recbole_folder_names_its_encoding_by_code(tmp_path: Path) -> None:
    """The encoding of a format that fixes it is a coded phrase the studio translates (read
    from the studio's locale file: the engine's tests run without the studio installed)."""
    from engine.data.sources import read_source

    folder = _write(tmp_path / "tiny", {"tiny.inter": RECBOLE_INTER, "tiny.item": RECBOLE_ITEM})
    encoding = read_source([folder]).encoding
    assert encoding == "as the format specifies"
    zh = json.loads((REPO / "dashboard" / "locales" / "zh.json").read_text(encoding="utf-8"))
    assert zh[f"engine.{encoding.code}"] == "由数据格式规定"


def test_recbole_without_item_file(tmp_path: Path) -> None:
    folder = _write(tmp_path / "x", {"x.inter": RECBOLE_INTER})
    with pytest.raises(DataError, match=r"needs a \*\.item file"):
        load_dataset(folder)


def test_movielens_100k_raw_files(tmp_path: Path) -> None:
    flags = ["0"] * 19
    toy, heat = flags.copy(), flags.copy()
    toy[3] = toy[4] = "1"
    heat[1] = "1"
    u_item = (f"1|Toy Story (1995)|01-Jan-1995||http://x|{'|'.join(toy)}\n"
              f"2|Café Society (1995)|01-Jan-1995||http://y|{'|'.join(heat)}\n")
    folder = _write(tmp_path / "ml", {"u.data": "1\t1\t5\t874965758\n1\t2\t3\t876893171\n",
                                      "u.item": u_item.encode("latin-1")})
    assert detect_format(folder) == "movielens"
    ds = load_dataset(folder)
    assert ds.items["title"].tolist() == ["Toy Story (1995)", "Café Society (1995)"]
    assert ds.items["category"].tolist() == ["Animation | Children's", "Action"]
    assert len(ds.events) == 2


def test_movielens_1m_double_colon_files(tmp_path: Path) -> None:
    folder = _write(tmp_path / "ml1m", {
        "ratings.dat": "1::1193::5::978300760\n1::661::3::978302109\n",
        "movies.dat": "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
                      "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"})
    ds = load_dataset(folder, fmt="movielens")
    assert ds.items["category"].tolist()[1] == "Animation | Children's | Musical"
    assert ds.events["timestamp"].tolist() == [978300760, 978302109]


def test_format_override_and_unknown_format(tmp_path: Path) -> None:
    folder = _write(tmp_path / "g", {"items.csv": ITEMS_CSV, "events.csv": EVENTS_CSV})
    with pytest.raises(DataError, match="unknown format 'excel'"):
        load_dataset(folder, fmt="excel")
    with pytest.raises(DataError, match=r"needs a \*\.inter file"):
        load_dataset(folder, fmt="recbole")
    other = _write(tmp_path / "o", {"notes.txt": "hi"})
    with pytest.raises(DataError, match=r"unknown data format \(found: notes.txt\)"):
        load_dataset(other)


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or folder"):
        load_dataset(tmp_path / "nope")


def test_empty_file(tmp_path: Path) -> None:
    folder = _write(tmp_path / "e", {"items.csv": "", "events.csv": EVENTS_CSV})
    with pytest.raises(DataError, match=r"items.csv: the file is empty"):
        load_dataset(folder)


def test_wrong_delimiter(tmp_path: Path) -> None:
    folder = _write(tmp_path / "d", {"items.csv": ITEMS_CSV.replace(",", ";"),
                                     "events.csv": EVENTS_CSV})
    with pytest.raises(DataError, match="looks semicolon-separated"):
        load_dataset(folder)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    folder = _write(tmp_path / "b", {"items.csv": "item_id,title\na,Caf\xe9\n".encode("latin-1"),
                                     "events.csv": EVENTS_CSV})
    assert load_dataset(folder).items["title"].tolist()[0] == "Café"  # read as Windows-1252
    turkish = "item_id,title\na,Erkek gömlek şık\n".encode("cp1254")
    folder = _write(tmp_path / "t", {"items.csv": turkish, "events.csv": EVENTS_CSV})
    with pytest.raises(DataError, match=r"items.csv: the encoding is ambiguous .*cp1254"):
        load_dataset(folder)


def test_missing_required_column_names_file(tmp_path: Path) -> None:
    folder = _write(tmp_path / "c", {"items.csv": "item_id,name\na,Mug\n",
                                     "events.csv": EVENTS_CSV})
    with pytest.raises(DataError, match=r"items.csv: missing required column title"):
        load_dataset(folder)


def test_ragged_rows(tmp_path: Path) -> None:
    folder = _write(tmp_path / "r", {"items.csv": "item_id,title\na,Mug,extra,more\n",
                                     "events.csv": EVENTS_CSV})
    with pytest.raises(DataError, match="cannot be parsed"):
        load_dataset(folder)


def test_corrupt_parquet(tmp_path: Path) -> None:
    folder = _write(tmp_path / "p", {"items.parquet": b"not parquet at all",
                                     "events.csv": EVENTS_CSV})
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load_dataset(folder)


@pytest.mark.shared_data
def test_real_amazon_scientific() -> None:
    ds = load_dataset(shared_dataset("amazon-scientific"))
    assert (ds.n_users, ds.n_items, len(ds.events)) == (8317, 4344, 58492)
    assert ds.report.html_removed > 0
    assert not ds.items["title"].str.contains("&amp;").any()
    assert ds.category_matrix(2)[0].shape == (4344, 26)  # 25 + "unknown" (131 items)
    assert ds.category_matrix(2)[1].count("unknown") == 1
    assert int((ds.items["category"] == "").sum()) == 131


@pytest.mark.shared_data
def test_real_ml100k() -> None:
    ds = load_dataset(shared_dataset("ml-100k"))
    assert (ds.n_users, ds.n_items, len(ds.events)) == (943, 1682, 100000)
    matrix, names = ds.category_matrix()
    assert len(names) == 19 and "Drama" in names
    assert matrix.sum(axis=1) == pytest.approx(1.0)
    assert ds.report.total == 0
