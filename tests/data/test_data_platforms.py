"""Shop exports in their platforms' real layouts (examples/exports): what goes in, what is
dropped and why, and how many."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import shop_exports as shops

from engine.core.errors import DataError
from engine.data.importing import clean_source
from engine.data.sources import read_source

EXPORTS = Path(__file__).resolve().parents[2] / "examples" / "exports"
SHOPIFY = EXPORTS / "shopify"
ORDERS = [SHOPIFY / "orders_export_1.csv", SHOPIFY / "orders_export_2.csv"]


def _import(paths, name="shop"):
    source = read_source(paths)
    dataset = clean_source(source, name)
    assert all(count.balanced for count in dataset.reconciliation)
    return source, dataset


def _dropped(dataset, table):
    return next(c for c in dataset.reconciliation if c.table == table).dropped


def test_shopify_products_and_two_order_exports():
    source, dataset = _import([SHOPIFY])
    # 17 order lines in two exports: #1004 is in both (2 lines once), then 4 lines of orders
    # that were cancelled (#1004), voided (#1007) or refunded (#1005) are no purchases
    assert _dropped(dataset, "events") == {"orders repeated in another export": 2,
                                           "cancelled orders": 2, "voided orders": 1,
                                           "refunded orders": 1}
    events = dataset.events
    assert len(events) == 17 - 2 - 4
    items = dataset.items.set_index("item_id")
    assert items.loc["linen-shirt", "title"] == "লিনেন শার্ট"
    assert items["status"].to_dict()["merino-beanie"] == "draft"
    assert items["status"].to_dict()["canvas-tote"] == "archived"
    assert "canvas-tote" not in set(events["item_id"])  # only bought in the refunded order
    assert dataset.report.unknown_item_events == 0


def test_shopify_orders_alone_make_the_items():
    source, dataset = _import(ORDERS)
    assert source.raw.items_source.endswith("(items from the order lines)")
    items = dataset.items.set_index("item_id")
    assert items.loc["trail-shoe", "title"] == "Trail Shoe"
    assert items.loc["trail-shoe", "variants"] == "42, 43"
    assert items.loc["trail-shoe", "price"] == pytest.approx(85.0)  # the lowest line price
    assert items.loc["trail-shoe", "brand"] == "Peak"
    assert items.loc["wool-socks", "brand"] == "Knit Co"  # the vendor of its own line
    assert items.loc["লিনেন-শার্ট", "title"] == "লিনেন শার্ট"
    # the same handles as the products export, so the events match either way
    assert len(dataset.events) == 11 and dataset.report.unknown_item_events == 0
    assert sum(_dropped(dataset, "events").values()) == 6
    items_count = dataset.reconciliation[0]
    # the 15 order lines of the joined exports name 5 products
    assert (items_count.read, items_count.kept) == (15, 5)


def test_an_order_cancelled_in_an_earlier_export_stays_cancelled(tmp_path):
    # the cancelled version of #1004 is in the export whose name sorts last: swap the names
    shutil.copy(ORDERS[0], tmp_path / "orders_b.csv")
    shutil.copy(ORDERS[1], tmp_path / "orders_a.csv")
    source, dataset = _import([tmp_path])
    assert _dropped(dataset, "events")["cancelled orders"] == 2
    assert len(dataset.events) == 11


def test_order_exports_of_two_platforms_are_refused(tmp_path):
    shutil.copy(ORDERS[0], tmp_path / "orders_export.csv")
    shutil.copy(EXPORTS / "woocommerce" / "wc-order-export.csv", tmp_path)
    with pytest.raises(DataError, match=r"several events tables \(.*Shopify orders.*"
                                        r"WooCommerce orders"):
        read_source([tmp_path])


def test_woocommerce_sample_layout_without_ids():
    source, dataset = _import([EXPORTS / "woocommerce"])
    assert source.fmt == "woocommerce"
    items = dataset.items.set_index("item_id")
    assert "woo-vneck-tee-red" not in items.index  # variations fold into their product
    # variable products: priced from their variations (the sale price where set)
    assert items.loc["woo-vneck-tee", "price"] == pytest.approx(15.0)
    assert items.loc["woo-hoodie", "price"] == pytest.approx(42.0)
    assert bool(items.loc["woo-hoodie", "promo"])
    assert items.loc["woo-scarf", "status"] == "draft"  # Published -1
    # a grouped product costs its cheapest member (beanie 18 on sale, belt 55, cap 16)
    assert items.loc["logo-collection", "price"] == pytest.approx(16.0)
    assert items.loc["woo-cap", "availability"] == "out_of_stock"
    # in line items: #504 had one, #505 two, #506 one
    assert _dropped(dataset, "events") == {"cancelled orders": 1, "refunded orders": 2,
                                           "failed orders": 1}
    events = dataset.events
    assert len(events) == 7 and dataset.report.unknown_item_events == 0
    assert {"woo-vneck-tee", "woo-hoodie"} <= set(events["item_id"])  # variations' parents


def test_woocommerce_orders_alone_make_the_items():
    _, dataset = _import([EXPORTS / "woocommerce" / "wc-order-export.csv"])
    items = dataset.items.set_index("item_id")
    assert items.loc["v-neck-t-shirt", "variants"] == "Red, Blue"
    assert items.loc["wordpress-pennant", "price"] == pytest.approx(11.05)  # 22.10 for two
    assert len(items) == 7 and len(dataset.events) == 7
    assert dataset.report.unknown_item_events == 0
    assert dataset.reconciliation[0].dropped == {"order lines of a product already listed": 4}


def test_woocommerce_export_with_ids_prices_variable_products(tmp_path):
    rows = [r[:] for r in shops.WOO_PRODUCTS_ROWS]
    rows[1][12] = ""  # the variable hoodie has no price of its own
    rows.append(["14", "variation", "woo-hoodie-red", "Hoodie - Red", "1", "0", "visible", "",
                 "", "1", "2", "39", "45", "", "", "", "id:11", ""])
    shops._write_csv(tmp_path / "wc-product-export.csv", shops.WOO_PRODUCTS_HEADER, rows)
    shops._write_csv(tmp_path / "wc-order-export.csv", shops.WOO_ORDERS_HEADER,
                     shops.WOO_ORDERS_ROWS)
    _, dataset = _import([tmp_path])
    items = dataset.items.set_index("item_id")
    assert items.loc["11", "price"] == pytest.approx(39.0) and bool(items.loc["11", "promo"])


@pytest.mark.parametrize(("folder", "groups"), [
    ("merchant-cs", {"TRIKO": "TRIKO-S, TRIKO-M, TRIKO-L, TRIKO-XL, TRIKO-XXL"}),
    ("merchant-es", {"ZAP": "ZAP-ROJ, ZAP-AZU, ZAP-VER"}),
    ("merchant-tr", {"ELB-KETEN": "ELB-36, ELB-38, ELB-40, ELB-42"}),
])
def test_merchant_variants_are_one_product(folder, groups):
    source, dataset = _import([EXPORTS / folder])
    items = dataset.items.set_index("item_id")
    for group, variants in groups.items():
        assert items.loc[group, "variants"] == variants
        assert items.loc[group, "availability"] == "in_stock"  # one variant in stock is enough
        folded = len(variants.split(", ")) - 1
        assert _dropped(dataset, "items") == {
            "variants grouped into their product (item_group_id)": folded}
    # events naming a variant count for its product
    assert dataset.report.unknown_item_events == 0
    assert not dataset.items["description"].str.contains("<|StartFragment", regex=True).any()
    assert set(groups) <= set(dataset.events["item_id"])


def test_czech_feed_product_takes_the_lowest_price_and_its_promotion():
    _, dataset = _import([EXPORTS / "merchant-cs"])
    shirt = dataset.items.set_index("item_id").loc["TRIKO"]
    assert shirt["price"] == pytest.approx(399.0) and bool(shirt["promo"])
    assert shirt["title"] == "Bavlněné tričko – velikost"


def test_variant_aliases_follow_the_column_map():
    from dataclasses import replace

    source = read_source([EXPORTS / "merchant-es"])
    renamed = source.raw.events.rename(columns={"item_id": "sku"})
    mapped = replace(source, raw=replace(source.raw, events=renamed))
    dataset = clean_source(mapped, "es", {"item_id": "sku"})
    assert dataset.report.unknown_item_events == 0
    assert (dataset.events["item_id"] == "ZAP").sum() == 3


def test_shopify_stock_from_variant_rows_only(tmp_path):
    header = shops.SHOPIFY_PRODUCTS_HEADER
    blank = dict.fromkeys(header, "")
    rows = [dict(zip(header, r, strict=True)) for r in shops.SHOPIFY_PRODUCTS_ROWS]
    rows[2]["Variant Inventory Policy"] = "continue"  # rain jacket: sold at zero stock
    rows.append({**blank, "Handle": "wool-socks", "Image Src": "https://cdn.example/2.jpg"})
    rows.append({**blank, "Handle": "beanie", "Title": "Beanie", "Published": "FALSE",
                 "Option1 Value": "Default Title", "Variant SKU": "BN-1",
                 "Variant Inventory Tracker": "shopify", "Variant Inventory Qty": "0",
                 "Variant Price": "12.00", "Status": "active"})
    rows.append({**blank, "Handle": "beanie", "Image Src": "https://cdn.example/3.jpg"})
    shops._write_csv(tmp_path / "products_export.csv", header,
                     [[r[c] for c in header] for r in rows])
    shops._write_csv(tmp_path / "orders_export.csv", shops.SHOPIFY_ORDERS_HEADER,
                     shops.SHOPIFY_ORDERS_ROWS)
    _, dataset = _import([tmp_path])
    items = dataset.items.set_index("item_id")
    assert items["availability"].to_dict() == {
        "trail-shoe": "in_stock", "rain-jacket": "backorder", "wool-socks": "in_stock",
        "beanie": "out_of_stock"}  # its image row (no stock tracker) does not make it in stock
    assert items.loc["beanie", "status"] == "unpublished"  # active but not on the store
    assert items.loc["trail-shoe", "status"] == "active"


def test_variant_prices_are_compared_as_numbers_whatever_their_decimal_mark(tmp_path):
    header = ["id", "item_group_id", "title", "price", "availability", "link"]
    rows = [["V-S", "V", "Vesta S", "1.099,00 CZK", "in_stock", "https://x/s"],
            ["V-M", "V", "Vesta M", "999,00 CZK", "in_stock", "https://x/m"],
            ["V-L", "V", "Vesta L", "1.199,00 CZK", "out_of_stock", "https://x/l"]]
    shops._write_csv(tmp_path / "feed.tsv", header, rows, sep="\t")
    shops._write_csv(tmp_path / "events.csv", shops.EVENTS_HEADER,
                     [["u1", "V-L", "1700000000", "purchase"]])
    _, dataset = _import([tmp_path])
    vest = dataset.items.set_index("item_id").loc["V"]
    assert vest["price"] == pytest.approx(999.0) and vest["currency"] == "CZK"
    assert list(dataset.events["item_id"]) == ["V"]
