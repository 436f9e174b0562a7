"""Flat order-lines files (the Online Retail layout, or any names through --map) become items
and purchase events; lines that are no purchase are dropped and counted per reason."""

from __future__ import annotations

import pandas as pd
import pytest
import shop_exports as shops

from engine.cli.main import main
from engine.core.errors import DataError
from engine.data import build_dataset
from engine.data.cleaning import clean_ids
from engine.data.order_lines import looks_like_order_lines
from engine.data.sources import read_source


def test_online_retail_layout_splits_into_items_and_weighted_purchases(tmp_path):
    source = read_source(shops.write_order_lines(tmp_path / "retail"))
    assert source.fmt == "order-lines"
    dataset = build_dataset(source.raw.items, source.raw.events,
                            counts=(source.raw.items_count, source.raw.events_count))
    items = dataset.items.set_index("item_id")
    assert sorted(items.index) == ["22633", "71053", "84029G", "85123A"]
    assert items.loc["71053", "title"] == "WHITE METAL LANTERN"
    assert items.loc["71053", "price"] == pytest.approx(3.39, abs=1e-9)
    events = dataset.events.set_index(["order_id", "item_id"])
    assert events.loc[("581001", "71053"), "weight"] == pytest.approx(8.0, abs=1e-9)
    assert events.loc[("581002", "22633"), "weight"] == pytest.approx(12.0, abs=1e-9)
    assert set(dataset.events["user_id"]) == {"17850", "13047", "12583"}  # no "17850.0"
    assert (dataset.events["event"] == "purchase").all() and len(dataset.events) == 4
    _, counts = dataset.reconciliation
    assert counts.read == 12 and counts.balanced
    assert counts.dropped == {
        "cancellations and credit notes": 1, "returns (negative quantity)": 1,
        "postage, fees, discounts and vouchers": 4, "lines without a customer": 1,
        "repeated lines of a product in one order (quantities added)": 1}


def test_service_lines_are_judged_by_code_and_description(tmp_path):
    header = ["order_id", "sku", "name", "qty", "date", "price", "customer"]
    frame = pd.DataFrame([["1", "X-1", "Lamp", "1", "2024-01-01", "9", "c1"],
                          ["1", "SHIP", "Shipping", "1", "2024-01-01", "4", "c1"],
                          ["2", "GV-10", "Gift Voucher 10", "1", "2024-01-02", "10", "c2"],
                          ["2", "X-2", "Coffee mug", "2", "2024-01-02", "5", "c2"]],
                         columns=header)
    assert looks_like_order_lines(header)
    frame.to_csv(tmp_path / "lines.csv", index=False)
    source = read_source([tmp_path / "lines.csv"])
    assert sorted(source.raw.items["item_id"]) == ["X-1", "X-2"]
    assert source.raw.events_count.dropped == {"postage, fees, discounts and vouchers": 2}


def test_float_ids_lose_their_fraction_only_when_every_id_in_the_column_is_whole():
    customers = clean_ids(pd.Series(["17850.0", " 12583.00 ", "", None]))
    assert customers.tolist() == ["17850", "12583", "", ""]
    mixed = clean_ids(pd.Series(["17850.0", "85123A", "1.5"]))  # not ints written as floats
    assert mixed.tolist() == ["17850.0", "85123A", "1.5"]


def test_any_column_names_through_map_before_recognition(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    header = ["Beleg", "Artikel", "Bezeichnung", "Stueck", "Datum", "Preis", "Kunde", "Land"]
    files = shops.write_order_lines(tmp_path / "erp", header)
    assert main(["data", "import", str(files[0]), "--name", "erp"]) == 2
    assert "not recognised: columns Beleg, Artikel" in capsys.readouterr().err
    mapping = ("order_id=Beleg,item_id=Artikel,title=Bezeichnung,weight=Stueck,"
               "timestamp=Datum,price=Preis,user_id=Kunde")
    assert main(["data", "import", str(files[0]), "--name", "erp", "--map", mapping]) == 0
    out = capsys.readouterr().out
    assert "imported order-lines data" in out
    assert "events (order_lines.csv): 12 read = 4 kept + 1 cancellations and credit notes" in out
    events = pd.read_parquet(tmp_path / "home" / "data" / "erp" / "events.parquet")
    assert sorted(events["weight"].tolist()) == [4.0, 6.0, 8.0, 12.0]


def test_a_map_naming_a_missing_column_is_one_clear_error(tmp_path):
    files = shops.write_order_lines(tmp_path / "r")
    with pytest.raises(DataError, match=r"column map item_id=Artikel: no column 'Artikel'"):
        read_source(files, column_map={"item_id": "Artikel"})


def test_several_order_lines_files_are_joined_and_overlaps_counted(tmp_path):
    first = shops.write_order_lines(tmp_path / "a")[0]
    second = tmp_path / "b" / "order_lines_2.csv"
    second.parent.mkdir()
    extra = ["581009", "22633", "HAND WARMER UNION JACK", "3", "12/5/2011 9:00", "1.85",
             "17850.0", "United Kingdom"]
    shops._write_csv(second, shops.ORDER_LINES_HEADER, shops.ORDER_LINES_ROWS[:2] + [extra])
    source = read_source([first, second])
    events = source.raw.events_count
    assert events is not None and events.read == 15
    assert events.dropped["lines repeated in another file"] == 2
    dataset = build_dataset(source.raw.items, source.raw.events,
                            counts=(source.raw.items_count, source.raw.events_count))
    assert len(dataset.events) == 5 and all(c.balanced for c in dataset.reconciliation)
    other = tmp_path / "c" / "other.csv"
    other.parent.mkdir()
    shops._write_csv(other, [*shops.ORDER_LINES_HEADER, "Note"],
                     [[*shops.ORDER_LINES_ROWS[0], "x"]])
    with pytest.raises(DataError, match="columns differ"):
        read_source([first, other])
