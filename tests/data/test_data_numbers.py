"""Prices and quantities by locale: decimal commas, thousands separators, currencies; a value
that reads two ways is counted and left unknown unless the decimal mark is given."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
import shop_exports as shops

from engine.cli.main import main
from engine.core.config import DataConfig
from engine.data import build_dataset
from engine.data.numbers import AMBIGUOUS, BAD, OK, parse_amount
from engine.data.sources import read_source


@pytest.mark.parametrize(("text", "mark", "number", "currency", "status"), [
    ("15,90 EUR", "auto", 15.90, "EUR", OK),
    ("1.299,00 EUR", "auto", 1299.00, "EUR", OK),
    ("1,299.00 USD", "auto", 1299.00, "USD", OK),
    ("€15", "auto", 15.0, "EUR", OK),
    ("15.00", "auto", 15.0, "", OK),
    ("1,299", "auto", None, "", AMBIGUOUS),
    ("1,299", ",", 1.299, "", OK),
    ("1,299", ".", 1299.0, "", OK),
    ("1.299", "auto", None, "", AMBIGUOUS),
    ("1.299", ",", 1299.0, "", OK),
    ("15,90 EUR", ".", 15.90, "EUR", OK),  # the option decides only two-way values
    ("1 299,50 €", "auto", 1299.50, "EUR", OK),
    ("CHF 1'299.50", "auto", 1299.50, "CHF", OK),
    ("$1,299,000", "auto", 1299000.0, "USD", OK),
    ("€ 15,-", "auto", 15.0, "EUR", OK),
    ("R$ 10,50", "auto", 10.50, "BRL", OK),
    ("1,2,3", "auto", None, "", BAD),
    ("12,34.5", "auto", None, "", BAD),
    ("free", "auto", None, "", BAD),
    ("15 EUR USD", "auto", None, "", BAD),
])
def test_price_table(text, mark, number, currency, status):
    got_number, got_currency, got_status = parse_amount(text, mark)
    assert got_status == status
    assert got_currency == currency
    if number is None:
        assert got_number is None
    else:
        assert math.isclose(got_number, number, abs_tol=1e-9)


def _items(prices: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"item_id": [f"i{n}" for n in range(len(prices))],
                         "title": [f"T{n}" for n in range(len(prices))], "price": prices})


def _events() -> pd.DataFrame:
    return pd.DataFrame({"user_id": ["u"], "item_id": ["i0"]})


def test_cleaning_reads_locales_and_counts_two_way_values():
    prices = ["15,90 EUR", "1.299,00 EUR", "1,299.00 USD", "€15", "15.00", "1,299", "x"]
    dataset = build_dataset(_items(prices), _events())
    got = dataset.items["price"].tolist()
    assert got[:5] == pytest.approx([15.90, 1299.00, 1299.00, 15.0, 15.0], abs=1e-9)
    assert math.isnan(got[5]) and math.isnan(got[6])
    assert dataset.report.ambiguous_numbers == 1 and dataset.report.bad_prices == 1
    assert dataset.items["currency"].tolist()[:4] == ["EUR", "EUR", "USD", "EUR"]
    decided = build_dataset(_items(prices), _events(), config=DataConfig(decimal_mark=","))
    assert decided.items["price"].iloc[5] == pytest.approx(1.299, abs=1e-9)
    assert decided.report.ambiguous_numbers == 0


def test_feed_prices_with_decimal_commas(tmp_path):
    rows = [list(r) for r in shops.FEED_ROWS]
    rows[0][6], rows[1][6], rows[1][7], rows[2][6] = ("15,90 EUR", "1.299,00 EUR", "999,00 EUR",
                                                      "1,299 EUR")
    folder = tmp_path / "feed"
    folder.mkdir()
    feed = shops._write_csv(folder / "products.tsv", shops.FEED_HEADER, rows, sep="\t")
    events = shops._write_csv(folder / "events.csv", shops.EVENTS_HEADER, shops.EVENTS_ROWS)
    source = read_source([feed, events])
    dataset = build_dataset(source.raw.items, source.raw.events)
    prices = dataset.items.set_index("item_id")["price"]
    assert prices["SKU-1"] == pytest.approx(15.90, abs=1e-9)
    assert prices["SKU-2"] == pytest.approx(999.00, abs=1e-9)  # the sale price
    assert math.isnan(prices["SKU-3"]) and dataset.report.ambiguous_numbers == 1


def test_weights_that_read_two_ways_are_refused():
    events = pd.DataFrame({"user_id": ["u"], "item_id": ["i0"], "weight": ["1,000"]})
    with pytest.raises(Exception, match=r"read two ways .*--decimal-mark"):
        build_dataset(_items(["1"]), events)
    decided = build_dataset(_items(["1"]), events, config=DataConfig(decimal_mark="."))
    assert decided.events["weight"].tolist() == [1000.0]


def test_cli_decimal_mark(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "items.csv").write_text('item_id,title,price\na,Lamp,"1,299"\nb,Rug,"15,90"\n')
    (folder / "events.csv").write_text("user_id,item_id\nu1,a\n")
    assert main(["data", "import", str(folder), "--name", "auto"]) == 0
    assert re.search(r"^ambiguous numbers +1 ", capsys.readouterr().out, re.M)
    assert main(["data", "import", str(folder), "--name", "comma", "--decimal-mark", ","]) == 0
    items = pd.read_parquet(tmp_path / "home" / "data" / "comma" / "items.parquet")
    assert items["price"].tolist() == pytest.approx([1.299, 15.90], abs=1e-9)
