"""`prism data import`: encodings, SQL sources, atomic writes and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import shop_exports as shops

from engine.cli.main import main
from engine.core.errors import DataError
from engine.data import importing, load_dataset
from engine.data.importing import import_source, sql_source
from engine.data.readers import detect_encoding
from engine.data.sources import read_source
from engine.data.sql import mask_url, resolve_url, scrub

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "amazon-scientific"


def test_encodings_detected(tmp_path):
    text = "item_id,title\nc1,无线蓝牙耳机\n"
    for name, data, expected in [("plain", text.encode("utf-8"), "utf-8"),
                                 ("bom", b"\xef\xbb\xbf" + text.encode("utf-8"), "utf-8"),
                                 ("gbk", text.encode("gbk"), "gb18030"),
                                 ("gb18030", text.encode("gb18030"), "gb18030")]:
        path = tmp_path / f"{name}.csv"
        path.write_bytes(data)
        assert detect_encoding(path) == expected
        table = read_source([path, _events(tmp_path)]).raw.items
        assert table.columns.tolist() == ["item_id", "title"]  # the BOM is not in the header
        assert table["title"].tolist() == ["无线蓝牙耳机"]


def _events(folder: Path) -> Path:
    path = folder / "events.csv"
    path.write_text("user_id,item_id\nu1,c1\n", encoding="utf-8")
    return path


def test_wrong_encoding_names_file_and_row(tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes("item_id,title\nc1,ok\nc2,无线耳机\n".encode("gb18030"))
    with pytest.raises(DataError, match=r"items.csv: byte 0x.. on line 3 is not valid UTF-8 "
                                        r"text \(data row 2\)"):
        read_source([path, _events(tmp_path)], encoding="utf-8")


def test_binary_garbage_is_an_error(tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00\xff\xfe" * 50)
    with pytest.raises(DataError, match=r"items.csv: looks like a binary file"):
        read_source([path, _events(tmp_path)])


def test_windows_1252_is_not_read_as_gb18030(tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes("item_id,title\nc1,Crème brûlée\n".encode("cp1252"))
    source = read_source([path, _events(tmp_path)])
    assert source.raw.items["title"].tolist() == ["Crème brûlée"]
    assert source.encoding == "cp1252+utf-8"
    assert "Windows-1252" in source.evidence["items.csv"]


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_sql_sources(tmp_path, kind):
    if kind == "sqlite":
        url = f"sqlite:///{shops.write_sqlite(tmp_path / 'shop.db')}"
    else:
        url = f"duckdb:///{shops.write_duckdb(tmp_path / 'shop.duckdb')}"
    dataset, path = import_source(sql_source(url, shops.SQL_ITEMS, shops.SQL_EVENTS), kind,
                                  home=tmp_path / "home")
    assert dataset.items.set_index("item_id")["availability"].to_dict() == {
        "A1": "in_stock", "A2": "out_of_stock", "A3": "in_stock"}
    assert dataset.events["timestamp"].tolist() == [1704103200, 1704189600, 1704276000,
                                                    1704362400]
    again = load_dataset(path)
    assert again.items["availability"].tolist() == ["in_stock", "out_of_stock", "in_stock"]


def test_failing_query_is_an_error(tmp_path):
    url = f"sqlite:///{shops.write_sqlite(tmp_path / 'shop.db')}"
    with pytest.raises(DataError, match=r"the items query failed \(.*no such table: nope"):
        sql_source(url, "SELECT * FROM nope", shops.SQL_EVENTS)
    with pytest.raises(DataError, match=r"the events query returned no rows"):
        sql_source(url, shops.SQL_ITEMS, "SELECT * FROM orders WHERE 1 = 0")


def test_passwords_never_shown(tmp_path, monkeypatch):
    url = "postgresql+psycopg://shop:s3cr3t-pw@127.0.0.1:1/db"
    assert "s3cr3t-pw" not in mask_url(url) and "***" in mask_url(url)
    assert "s3cr3t-pw" not in scrub(f"failed for {url} with s3cr3t-pw", url)
    monkeypatch.setenv("SHOP_DB", url)
    assert resolve_url(env="SHOP_DB") == url
    secret = tmp_path / "db.url"
    secret.write_text(url + "\n")
    assert resolve_url(file=secret) == url
    with pytest.raises(DataError, match="SHOP_DB_MISSING is not set"):
        resolve_url(env="SHOP_DB_MISSING")
    with pytest.raises(DataError) as caught:
        sql_source(url, "SELECT 1", "SELECT 1")
    assert "s3cr3t-pw" not in str(caught.value)


def test_import_is_atomic_and_keeps_the_old_dataset(tmp_path, monkeypatch):
    home = tmp_path / "home"
    shops.write_shopify(tmp_path / "shop")
    _, path = import_source(read_source([tmp_path / "shop"]), "shop", home=home)
    before = sorted(p.name for p in path.iterdir())
    assert before == ["events.parquet", "import.json", "items.parquet"]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "items.csv").write_text("item_id,title\nX,a\n")
    (bad / "events.csv").write_text("user_id,item_id\nu1,nope\n")
    with pytest.raises(DataError, match="not in the items table"):
        import_source(read_source([bad]), "shop", home=home)
    woo = tmp_path / "woo"
    shops.write_woocommerce(woo)

    def fail_midway(items, events, out, fmt, progress):  # noqa: ANN001, ARG001
        (Path(out) / "items.parquet").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(importing, "write_tables", fail_midway)
    with pytest.raises(OSError, match="No space left"):
        import_source(read_source([woo]), "shop", home=home)
    assert sorted(p.name for p in (home / "data").iterdir()) == ["shop"]  # no leftovers
    assert len(pd.read_parquet(path / "items.parquet")) == 3  # the old dataset is intact
    meta = json.loads((path / "import.json").read_text())
    assert meta["format"] == "shopify" and meta["n_items"] == 3


def test_cli_import_feed_and_sql(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    files = shops.write_feed_xml(tmp_path / "feed")
    assert main(["data", "import", *map(str, files), "--name", "feed"]) == 0
    out = capsys.readouterr().out
    assert "Cleaning report" in out and "merchant-center" in out
    items = pd.read_parquet(tmp_path / "home" / "data" / "feed" / "items.parquet")
    assert "availability" in items.columns
    url = f"sqlite:///{shops.write_sqlite(tmp_path / 'shop.db')}"
    monkeypatch.setenv("SHOP_DB", url)
    assert main(["data", "import", "--sql-url-env", "SHOP_DB", "--items-query",
                 shops.SQL_ITEMS, "--events-query", shops.SQL_EVENTS, "--name", "db"]) == 0
    assert "imported sql data" in capsys.readouterr().out


def test_cli_import_errors_are_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["data", "import", str(empty), "--name", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the file is empty" in err
    assert main(["data", "import", str(empty), "--name", "../x"]) == 2
    assert "dataset name" in capsys.readouterr().err
    secret_url = "postgresql://u:hunter2-pw@127.0.0.1:1/db"
    assert main(["data", "import", "--sql", secret_url, "--items-query", "SELECT 1",
                 "--events-query", "SELECT 1", "--name", "x"]) == 2
    assert "hunter2-pw" not in capsys.readouterr().err


@pytest.mark.shared_data
@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data/amazon-scientific")
def test_cli_import_shared_amazon(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    assert main(["data", "import", str(SHARED), "--name", "amazon"]) == 0
    assert "wrote 4,344 items" in capsys.readouterr().out
