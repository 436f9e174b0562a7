"""Every import reconciles: rows read = rows kept + rows dropped per named reason, per table.

The rows read are counted here from the files themselves (not taken from the importer), so a
reader that loses rows without naming a reason fails the identity.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import shop_exports as shops

from engine.cli.main import main
from engine.data import load_dataset
from engine.data.importing import import_source, sql_source
from engine.data.reconcile import UNACCOUNTED, TableCount
from engine.data.sources import read_source


def _csv_rows(path: Path, sep: str = ",") -> int:
    with path.open(encoding="utf-8-sig" if sep != "gb" else "gb18030", newline="") as handle:
        return sum(1 for _ in csv.reader(handle, delimiter=sep)) - 1


def _gb_rows(path: Path) -> int:
    return path.read_bytes().decode("gb18030").count("\n") - 1


def _line_items(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return sum(1 for row in rows for key, value in row.items()
               if key.startswith("line_item_") and value.strip())


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


DIRTY_ITEMS = "item_id,title\nA,Lamp\nA,Lamp\n,No id\nB,Rug\nC,<br> />.\n"
DIRTY_EVENTS = ("user_id,item_id,timestamp\nu1,A,1700000000\nu1,A,1700000000\nu2,B,1700000100\n"
                ",B,1700000200\nu3,Z,1700000300\nu3,B,yesterday\nu4,A,1700000400\n")


def _generic(tmp_path: Path) -> tuple[list[Path], dict[str, int]]:
    folder = _write(tmp_path / "g", {"items.csv": DIRTY_ITEMS, "events.csv": DIRTY_EVENTS})
    return [folder], {"items": 5, "events": 7}


def _recbole(tmp_path: Path) -> tuple[list[Path], dict[str, int]]:
    folder = _write(tmp_path / "rb", {
        "rb.inter": "user_id:token\titem_id:token\ttimestamp:float\n1\t10\t5\n1\t20\t6\n2\t10\t7\n",
        "rb.item": "item_id:token\ttitle:token_seq\n10\tToy Story\n20\tHeat\n"})
    return [folder], {"items": 2, "events": 3}


def _movielens(tmp_path: Path) -> tuple[list[Path], dict[str, int]]:
    folder = _write(tmp_path / "ml", {"ratings.dat": "1::1::5::978300760\n1::2::3::978302109\n"
                                                     "2::3::4::978302110\n",
                                      "movies.dat": "1::A (1995)::Drama\n2::B (1996)::Comedy\n"})
    return [folder], {"items": 2, "events": 3}


def _feed_tsv(tmp_path: Path) -> tuple[list[Path], dict[str, int]]:
    feed, events = shops.write_feed_tsv(tmp_path / "tsv")
    return [feed, events], {"items": _csv_rows(feed, "\t"), "events": _csv_rows(events)}


def _feed_xml(tmp_path: Path) -> tuple[list[Path], dict[str, int]]:
    feed, events = shops.write_feed_xml(tmp_path / "xml")
    return [feed, events], {"items": feed.read_text().count("<item>"),
                            "events": _csv_rows(events)}


def _shopify(tmp_path: Path) -> tuple[list[Path], dict[str, int]]:
    products, orders = shops.write_shopify(tmp_path / "shopify")
    return [products, orders], {"items": _csv_rows(products), "events": _csv_rows(orders)}


def _woocommerce(tmp_path: Path) -> tuple[list[Path], dict[str, int]]:
    products, orders = shops.write_woocommerce(tmp_path / "woo")
    return [products, orders], {"items": _csv_rows(products), "events": _line_items(orders)}


def _gb18030(tmp_path: Path) -> tuple[list[Path], dict[str, int]]:
    items, events = shops.write_chinese_shop(tmp_path / "zh")
    return [items, events], {"items": _gb_rows(items), "events": _gb_rows(events)}


def _order_lines(tmp_path: Path) -> tuple[list[Path], dict[str, int]]:
    files = shops.write_order_lines(tmp_path / "lines")
    return files, {"items": _csv_rows(files[0]), "events": _csv_rows(files[0])}


FORMATS = {"generic": _generic, "recbole": _recbole, "movielens": _movielens,
           "merchant-tsv": _feed_tsv, "merchant-xml": _feed_xml, "shopify": _shopify,
           "woocommerce": _woocommerce, "generic-gb18030": _gb18030,
           "order-lines": _order_lines}


def _check(reconciliation: list[TableCount], expected_read: dict[str, int],
           kept: dict[str, int]) -> None:
    assert [count.table for count in reconciliation] == ["items", "events"]
    for count in reconciliation:
        assert count.read == expected_read[count.table], count.line()
        assert count.kept == kept[count.table], count.line()
        assert count.read == count.kept + sum(count.dropped.values()), count.line()
        assert UNACCOUNTED not in count.dropped and count.balanced, count.line()


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_reconciles(tmp_path, fmt):
    paths, expected = FORMATS[fmt](tmp_path)
    dataset, folder = import_source(read_source(paths), fmt.replace(".", "-"),
                                    home=tmp_path / "home")
    kept = {"items": dataset.n_items, "events": len(dataset.events)}
    _check(dataset.reconciliation, expected, kept)
    meta = json.loads((folder / "import.json").read_text())
    assert [(c["read"], c["kept"], c["balanced"]) for c in meta["reconciliation"]] == [
        (c.read, c.kept, True) for c in dataset.reconciliation]


def test_sql_import_reconciles(tmp_path):
    url = f"sqlite:///{shops.write_sqlite(tmp_path / 'shop.db')}"
    dataset, _ = import_source(sql_source(url, shops.SQL_ITEMS, shops.SQL_EVENTS), "db",
                               home=tmp_path / "home")
    _check(dataset.reconciliation, {"items": 3, "events": 4}, {"items": 3, "events": 4})


def test_each_drop_is_named(tmp_path):
    paths, _ = _generic(tmp_path)
    items, events = load_dataset(paths[0]).reconciliation
    assert items.dropped == {"without an item id": 1, "duplicate item rows": 1,
                             "title only markup, no description": 1}
    assert events.dropped == {"without a shopper or item id": 1, "unreadable timestamps": 1,
                              "duplicate events": 1, "product not in the catalogue": 1}
    assert items.line() == ("items (items.csv): 5 read = 2 kept + 1 without an item id + "
                            "1 duplicate item rows + 1 title only markup, no description")


def test_folded_shop_rows_are_named(tmp_path):
    raw = read_source(shops.write_shopify(tmp_path / "s")).raw
    assert raw.items_count is not None and raw.events_count is not None
    assert raw.items_count.dropped == {"variant and image rows folded into their product": 1}
    assert raw.events_count.dropped == {}


def test_a_gap_is_named_not_hidden():
    count = TableCount("events", "orders.csv", read=10)
    count.drop("cancelled orders", 2)
    count.settle(7)
    assert not count.balanced and count.dropped[UNACCOUNTED] == 1


def test_cli_prints_the_reconciliation(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    paths, _ = _generic(tmp_path)
    assert main(["data", "import", str(paths[0]), "--name", "dirty"]) == 0
    out = capsys.readouterr().out
    assert "Rows read, kept and dropped" in out
    assert "events (events.csv): 7 read = 3 kept + 1 without a shopper or item id" in out
