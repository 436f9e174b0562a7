"""Shop exports recognised by their headers and read into the Prism contract."""

from __future__ import annotations

import pandas as pd
import pytest
import shop_exports as shops

from engine.core.errors import DataError
from engine.data.importing import clean_source, propose_column_map
from engine.data.shop_fields import html_to_text, parse_dates, shopper_ids, split_price
from engine.data.sources import detect_table, read_source
from engine.data.woocommerce import category_paths, parse_line_item


@pytest.mark.parametrize(("header", "kind"), [
    (shops.FEED_HEADER, "merchant_center"),
    (["g:id", "g:title", "g:price", "g:availability"], "merchant_center"),
    (shops.SHOPIFY_PRODUCTS_HEADER, "shopify_products"),
    (shops.SHOPIFY_ORDERS_HEADER, "shopify_orders"),
    (shops.WOO_PRODUCTS_HEADER, "woocommerce_products"),
    (shops.WOO_ORDERS_HEADER, "woocommerce_orders"),
    (["item_id", "title", "price"], "items"),
    (["user_id", "item_id", "timestamp"], "events"),
    (["id", "title", "price"], None),  # no feed-only attribute: not claimed as a feed
    (["foo", "bar"], None),
])
def test_detect_table_by_header(header, kind):
    assert detect_table(header) == kind


def test_field_parsers():
    assert html_to_text("<p>Light <b>&amp;</b>\n fast</p>") == "Light & fast"
    amount, currency = split_price(pd.Series(["15.00 USD", "1,299.50 EUR", "12", "free"]))
    assert amount.tolist() == ["15.00 USD", "1,299.50 EUR", "12", "free"]  # cleaning reads them
    assert currency.tolist() == ["USD", "EUR", "", ""]
    stamps = parse_dates(pd.Series(["2024-03-01 10:15:00 -0500", "2024-03-01T15:15:00Z", "",
                                    "soon"]))
    assert stamps.tolist() == ["1709306100", "1709306100", "", ""]
    users = shopper_ids(pd.Series(["Ann@Example.com ", "ann@example.com", ""]),
                        pd.Series(["1", "2", "#3"]), "order")
    assert users[0] == users[1] and users[0].startswith("u_") and "ann" not in users[0]
    assert users[2] == "order:#3"
    assert category_paths("Clothing > Hoodies, Sale, A\\, B") == \
        "Clothing > Hoodies | Sale | A, B"
    assert parse_line_item("name:Hoodie|product_id:40|quantity:2") == {
        "name": "Hoodie", "product_id": "40", "quantity": "2"}


@pytest.mark.parametrize("writer", [shops.write_feed_tsv, shops.write_feed_xml])
def test_merchant_center_feed(tmp_path, writer):
    writer(tmp_path)
    source = read_source([tmp_path])
    dataset = clean_source(source, "feed")
    assert source.fmt == "merchant-center"
    items = dataset.items.set_index("item_id")
    assert items["availability"].to_dict() == {"SKU-1": "in_stock", "SKU-2": "out_of_stock",
                                               "SKU-3": "preorder"}
    assert items.loc["SKU-2", "price"] == pytest.approx(99.0)  # the sale price
    assert bool(items.loc["SKU-2", "promo"]) and not bool(items.loc["SKU-1", "promo"])
    assert items.loc["SKU-1", "category"] == "Shoes > Running"  # product_type first
    assert items.loc["SKU-1", "description"] == "Light & fast"
    assert items.loc["SKU-1", "currency"] == "USD"
    assert len(dataset.events) == 5


def test_feed_without_prices_is_an_error(tmp_path):
    rows = [r[:6] + [""] + r[7:] for r in shops.FEED_ROWS]
    shops._write_csv(tmp_path / "feed.tsv", shops.FEED_HEADER, rows, sep="\t")
    shops._write_csv(tmp_path / "events.csv", shops.EVENTS_HEADER, shops.EVENTS_ROWS)
    with pytest.raises(DataError, match=r"feed.tsv: the feed has no prices"):
        read_source([tmp_path])


def test_broken_xml_names_the_line(tmp_path):
    (tmp_path / "feed.xml").write_text('<rss xmlns:g="http://base.google.com/ns/1.0">\n'
                                       "<channel><item><g:id>1</g:id>\n</rss>")
    with pytest.raises(DataError, match=r"feed.xml: not well-formed XML at line 3"):
        read_source([tmp_path / "feed.xml"])


def test_shopify_pair(tmp_path):
    shops.write_shopify(tmp_path)
    source = read_source([tmp_path])
    dataset = clean_source(source, "shopify")
    assert source.fmt == "shopify"
    items = dataset.items.set_index("item_id")
    assert list(items.index) == ["trail-shoe", "rain-jacket", "wool-socks"]
    assert items.loc["trail-shoe", "price"] == pytest.approx(85.0)  # cheapest variant
    assert bool(items.loc["trail-shoe", "promo"])  # compare-at above price
    assert items["availability"].to_dict() == {"trail-shoe": "in_stock",
                                               "rain-jacket": "out_of_stock",
                                               "wool-socks": "in_stock"}  # not tracked
    assert items.loc["wool-socks", "category"] == "Socks"  # Type when no Product Category
    assert items.loc["trail-shoe", "description"] == "Light & fast"
    events = dataset.events
    assert len(events) == 4 and set(events["event"]) == {"purchase"}
    ann = events[events["item_id"] == "wool-socks"]["user_id"].iloc[0]
    # the second line of order #1001 has no e-mail: filled from the order's first row
    assert (events["user_id"] == ann).sum() == 3
    assert "rain-jacket" in set(events["item_id"])  # matched by name, no SKU on the line
    assert dataset.report.unknown_item_events == 0
    assert not events["user_id"].str.contains("@").any()


def test_woocommerce_pair(tmp_path):
    shops.write_woocommerce(tmp_path)
    source = read_source([tmp_path])
    dataset = clean_source(source, "woo")
    assert source.fmt == "woocommerce"
    items = dataset.items.set_index("item_id")
    assert list(items.index) == ["10", "11", "13"]  # the variation folds into its parent
    assert items.loc["10", "category"] == "Clothing > Accessories | Sale"
    assert items.loc["13", "category"] == "Music, Film > Soundtracks"
    assert items.loc["10", "price"] == pytest.approx(18.0) and bool(items.loc["10", "promo"])
    assert items["availability"].to_dict() == {"10": "in_stock", "11": "in_stock",
                                               "13": "out_of_stock"}
    assert items.loc["10", "description"] == "A warm beanie"
    assert items.loc["10", "brand"] == "Woo"
    events = dataset.events
    assert sorted(events["item_id"]) == ["10", "10", "11", "13"]  # sku fallback on order 503
    assert set(events["user_id"]) == {"customer:7", shopper_ids(
        pd.Series(["dan@example.com"]), pd.Series(["502"]), "order")[0]}


def test_products_alone_names_what_was_found(tmp_path):
    shops.write_shopify(tmp_path)
    with pytest.raises(DataError) as raised:
        read_source([tmp_path / "products_export.csv"])
    message = str(raised.value)
    assert "()" not in message and "\n" not in message
    assert "products_export.csv (Shopify products)" in message
    assert "Add the shop's orders export" in message


def test_two_product_tables_is_an_error(tmp_path):
    shops.write_shopify(tmp_path)
    shops.write_woocommerce(tmp_path)
    with pytest.raises(DataError, match=r"several items tables"):
        read_source([tmp_path])


def test_propose_column_map_for_shop_headers():
    from engine.data.importers import RawTables

    raw = RawTables(pd.DataFrame(columns=["SKU", "Product Name", "Vendor", "Price"]),
                    pd.DataFrame(columns=["customer_id", "SKU", "order_date"]), "i", "e", "x")
    assert propose_column_map(raw) == {"item_id": "SKU", "title": "Product Name",
                                       "brand": "Vendor", "price": "Price",
                                       "user_id": "customer_id", "timestamp": "order_date"}
