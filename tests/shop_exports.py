"""Tiny shop exports in their platforms' documented layouts, written by the tests.

Each writer returns the paths it wrote. The shops are small enough to check by hand:
three products (one out of stock), four shoppers, a handful of orders.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

FEED_HEADER = ["id", "title", "description", "link", "image_link", "availability", "price",
               "sale_price", "brand", "condition", "google_product_category", "product_type"]
FEED_ROWS = [
    ["SKU-1", "Trail Shoe", "Light &amp; fast", "https://shop.example/p/1",
     "https://shop.example/i/1.jpg", "in_stock", "89.00 USD", "", "Peak", "new",
     "Apparel & Accessories > Shoes", "Shoes > Running"],
    ["SKU-2", "Rain Jacket", "Waterproof", "https://shop.example/p/2",
     "https://shop.example/i/2.jpg", "out_of_stock", "120.00 USD", "99.00 USD", "Peak", "new",
     "Apparel & Accessories > Clothing", "Clothing > Jackets"],
    ["SKU-3", "Wool Socks", "Warm", "https://shop.example/p/3", "https://shop.example/i/3.jpg",
     "preorder", "15.00 USD", "", "Knit Co", "new", "Apparel & Accessories > Clothing",
     "Clothing > Socks"],
]
EVENTS_HEADER = ["user_id", "item_id", "timestamp", "event"]
EVENTS_ROWS = [["u1", "SKU-1", "1700000000", "view"], ["u1", "SKU-2", "1700000100", "purchase"],
               ["u2", "SKU-3", "1700000200", "click"], ["u2", "SKU-1", "1700000300", "cart"],
               ["u3", "SKU-2", "1700000400", "purchase"]]


def _write_csv(path: Path, header: list[str], rows: list[list[str]], sep: str = ",",
               encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=sep, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_feed_tsv(folder: Path) -> list[Path]:
    """A Merchant Center tab-separated feed plus a generic events table."""
    folder.mkdir(parents=True, exist_ok=True)
    return [_write_csv(folder / "products.tsv", FEED_HEADER, FEED_ROWS, sep="\t"),
            _write_csv(folder / "events.csv", EVENTS_HEADER, EVENTS_ROWS)]


def write_feed_xml(folder: Path) -> list[Path]:
    """The same feed as RSS 2.0 with the g: namespace."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for row in FEED_ROWS:
        values = dict(zip(FEED_HEADER, row, strict=True))
        fields = "".join(f"<g:{k}>{v.replace('&', '&amp;').replace('>', '&gt;')}</g:{k}>"
                         for k, v in values.items() if k not in ("title", "link", "description"))
        entries.append(f"<item><title>{values['title']}</title><link>{values['link']}</link>"
                       f"<description>{values['description']}</description>{fields}</item>")
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
           'xmlns:g="http://base.google.com/ns/1.0"><channel><title>Shop</title>'
           f'{"".join(entries)}</channel></rss>\n')
    path = folder / "feed.xml"
    path.write_text(xml, encoding="utf-8")
    return [path, _write_csv(folder / "events.csv", EVENTS_HEADER, EVENTS_ROWS)]


SHOPIFY_PRODUCTS_HEADER = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Variant SKU", "Variant Grams", "Variant Inventory Tracker",
    "Variant Inventory Qty", "Variant Inventory Policy", "Variant Fulfillment Service",
    "Variant Price", "Variant Compare At Price", "Image Src", "Status"]
SHOPIFY_PRODUCTS_ROWS = [
    ["trail-shoe", "Trail Shoe", "<p>Light <b>&amp;</b> fast</p>", "Peak",
     "Apparel & Accessories > Shoes", "Shoes", "running, trail", "TRUE", "Size", "42", "TS-42",
     "300", "shopify", "5", "deny", "manual", "89.00", "", "https://cdn.example/1.jpg", "active"],
    ["trail-shoe", "", "", "", "", "", "", "", "", "43", "TS-43", "300", "shopify", "0", "deny",
     "manual", "85.00", "95.00", "", ""],
    ["rain-jacket", "Rain Jacket", "<p>Waterproof</p>", "Peak",
     "Apparel & Accessories > Clothing > Outerwear", "Jackets", "rain", "TRUE", "Size", "M",
     "RJ-M", "500", "shopify", "0", "deny", "manual", "120.00", "", "", "active"],
    ["wool-socks", "Wool Socks", "Warm", "Knit Co", "", "Socks", "", "TRUE", "Title",
     "Default Title", "WS-1", "50", "", "0", "deny", "manual", "15.00", "", "", "active"],
]
SHOPIFY_ORDERS_HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Currency",
    "Subtotal", "Total", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price",
    "Lineitem sku", "Billing Name", "Id", "Vendor"]
SHOPIFY_ORDERS_ROWS = [
    ["#1001", "Ann@Example.com", "paid", "2024-03-01 10:16:00 -0500", "fulfilled", "USD",
     "104.00", "104.00", "2024-03-01 10:15:00 -0500", "1", "Trail Shoe - 42", "89.00", "TS-42",
     "Ann", "5001", "Peak"],
    ["#1001", "", "", "", "", "", "", "", "", "1", "Wool Socks", "15.00", "WS-1", "", "",
     "Knit Co"],
    ["#1002", "bob@example.com", "paid", "", "", "USD", "120.00", "120.00",
     "2024-03-02 09:00:00 +0100", "1", "Rain Jacket - M", "120.00", "", "Bob", "5002", "Peak"],
    ["#1003", "ann@example.com", "paid", "", "", "USD", "85.00", "85.00",
     "2024-03-05 12:00:00 -0500", "1", "Trail Shoe - 43", "85.00", "TS-43", "Ann", "5003", "Peak"],
]


def write_shopify(folder: Path) -> list[Path]:
    """Shopify's products_export.csv and orders_export.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    return [_write_csv(folder / "products_export.csv", SHOPIFY_PRODUCTS_HEADER,
                       SHOPIFY_PRODUCTS_ROWS),
            _write_csv(folder / "orders_export.csv", SHOPIFY_ORDERS_HEADER, SHOPIFY_ORDERS_ROWS)]


WOO_PRODUCTS_HEADER = [
    "ID", "Type", "SKU", "Name", "Published", "Is featured?", "Visibility in catalog",
    "Short description", "Description", "In stock?", "Stock", "Sale price", "Regular price",
    "Categories", "Tags", "Images", "Parent", "Brands"]
WOO_PRODUCTS_ROWS = [
    ["10", "simple", "woo-beanie", "Beanie", "1", "0", "visible", "Warm hat",
     "<p>A <em>warm</em> beanie</p>", "1", "12", "18", "20",
     "Clothing > Accessories, Sale", "winter", "", "", "Woo"],
    ["11", "variable", "woo-hoodie", "Hoodie", "1", "1", "visible", "Soft", "", "", "", "",
     "45", "Clothing > Hoodies", "", "", "", "Woo"],
    ["12", "variation", "woo-hoodie-blue", "Hoodie - Blue", "1", "0", "visible", "", "", "1",
     "3", "", "45", "", "", "", "id:11", ""],
    ["13", "simple", "woo-album", "Album", "1", "0", "visible", "", "Music to relax", "0",
     "0", "", "15", "Music\\, Film > Soundtracks", "", "", "", ""],
]
WOO_ORDERS_HEADER = ["order_id", "order_number", "order_date", "status", "order_total",
                     "customer_id", "customer_email", "billing_email", "line_item_1",
                     "line_item_2"]
WOO_ORDERS_ROWS = [
    ["501", "501", "2024-04-01 08:00:00", "completed", "63.00", "7", "cat@example.com",
     "cat@example.com", "name:Beanie|product_id:10|sku:woo-beanie|quantity:1|total:18.00",
     "name:Hoodie - Blue|product_id:12|sku:woo-hoodie-blue|quantity:1|total:45.00"],
    ["502", "502", "2024-04-02 09:30:00", "completed", "15.00", "0", "dan@example.com",
     "dan@example.com", "name:Album|product_id:13|sku:woo-album|quantity:1|total:15.00", ""],
    ["503", "503", "2024-04-03 10:00:00", "processing", "18.00", "7", "cat@example.com",
     "cat@example.com", "name:Beanie|product_id:|sku:woo-beanie|quantity:2|total:36.00", ""],
]


def write_woocommerce(folder: Path) -> list[Path]:
    """WooCommerce's product export and an Import Export Suite orders export."""
    folder.mkdir(parents=True, exist_ok=True)
    return [_write_csv(folder / "wc-product-export.csv", WOO_PRODUCTS_HEADER, WOO_PRODUCTS_ROWS),
            _write_csv(folder / "wc-order-export.csv", WOO_ORDERS_HEADER, WOO_ORDERS_ROWS)]


CHINESE_ITEMS = [["c1", "无线蓝牙耳机", "降噪 长续航", "数码 > 耳机", "声悦", "199"],
                 ["c2", "不锈钢保温杯", "316 不锈钢", "家居 > 水杯", "暖居", "89"],
                 ["c3", "纯棉短袖T恤", "夏季 透气", "服装 > 上衣", "棉语", "59"],
                 ["c4", "机械键盘", "青轴 背光", "数码 > 键盘", "声悦", "299"]]


def write_chinese_shop(folder: Path) -> list[Path]:
    """A generic items/events pair saved as GB18030, as Chinese spreadsheet tools often do."""
    folder.mkdir(parents=True, exist_ok=True)
    header = ["item_id", "title", "description", "category", "brand", "price"]
    events = [[f"用户{u}", f"c{i}", str(1700000000 + 100 * (u * 4 + i)), "purchase"]
              for u in range(1, 4) for i in range(1, 5) if (u + i) % 3]
    return [_write_csv(folder / "items.csv", header, CHINESE_ITEMS, encoding="gb18030"),
            _write_csv(folder / "events.csv", EVENTS_HEADER, events, encoding="gb18030")]


def write_sqlite(path: Path) -> Path:
    """A shop database with `products` and `orders` tables (names a shop would use)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE products (sku TEXT, name TEXT, category TEXT, price REAL, "
                   "stock TEXT)")
        db.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?)",
                       [("A1", "Lamp", "Home > Lighting", 30.0, "in_stock"),
                        ("A2", "Rug", "Home > Textiles", 80.0, "out_of_stock"),
                        ("A3", "Mug", "Kitchen > Cups", 9.5, "in_stock")])
        db.execute("CREATE TABLE orders (customer TEXT, sku TEXT, ordered_at TEXT)")
        db.executemany("INSERT INTO orders VALUES (?, ?, ?)",
                       [("c1", "A1", "2024-01-01T10:00:00"), ("c1", "A3", "2024-01-02T10:00:00"),
                        ("c2", "A2", "2024-01-03T10:00:00"), ("c2", "A1", "2024-01-04T10:00:00")])
    return path


def write_duckdb(path: Path) -> Path:
    """The same shop as a DuckDB file (timestamps as TIMESTAMP values)."""
    import duckdb

    with duckdb.connect(str(path)) as db:
        db.execute("CREATE TABLE products (sku VARCHAR, name VARCHAR, category VARCHAR, "
                   "price DOUBLE, stock VARCHAR)")
        db.execute("INSERT INTO products VALUES ('A1', 'Lamp', 'Home > Lighting', 30.0, "
                   "'in_stock'), ('A2', 'Rug', 'Home > Textiles', 80.0, 'out_of_stock'), "
                   "('A3', 'Mug', 'Kitchen > Cups', 9.5, 'in_stock')")
        db.execute("CREATE TABLE orders (customer VARCHAR, sku VARCHAR, ordered_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('c1', 'A1', '2024-01-01 10:00:00'), "
                   "('c1', 'A3', '2024-01-02 10:00:00'), ('c2', 'A2', '2024-01-03 10:00:00'), "
                   "('c2', 'A1', '2024-01-04 10:00:00')")
    return path


SQL_ITEMS = ("SELECT sku AS item_id, name AS title, category, price, stock AS availability "
             "FROM products")
SQL_EVENTS = "SELECT customer AS user_id, sku AS item_id, ordered_at AS timestamp FROM orders"


ZH_DEPARTMENTS = {
    "数码": ["耳机", "键盘", "充电器", "音箱", "鼠标"],
    "家居": ["水杯", "收纳盒", "台灯", "抱枕", "毛巾"],
    "服装": ["上衣", "裤子", "外套", "袜子", "帽子"],
    "美妆": ["面霜", "口红", "面膜", "洗面奶", "防晒霜"],
    "食品": ["茶叶", "坚果", "咖啡", "饼干", "蜂蜜"],
    "运动": ["跑鞋", "瑜伽垫", "哑铃", "水壶", "护膝"],
}
ZH_ADJECTIVES = ["经典", "轻薄", "加厚", "便携", "高级", "简约"]


def write_chinese_catalogue(folder: Path, n_users: int = 60, seed: int = 0) -> list[Path]:
    """A larger GB18030 shop (180 items, 6 departments) whose shoppers favour two departments."""
    import numpy as np

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    items, by_department = [], {}
    for d, (department, leaves) in enumerate(ZH_DEPARTMENTS.items()):
        for leaf in leaves:
            for a, adjective in enumerate(ZH_ADJECTIVES):
                item_id = f"zh{len(items):03d}"
                by_department.setdefault(d, []).append(item_id)
                items.append([item_id, f"{adjective}{leaf}", f"{department}好物",
                              f"{department} > {leaf}", f"品牌{d}{a}", str(20 + 7 * a + d)])
    events, departments = [], list(by_department)
    for user in range(n_users):
        liked = rng.choice(departments, size=2, replace=False)
        for step in range(12):
            pool = by_department[int(liked[step % 2])] if rng.random() < 0.85 else \
                by_department[int(rng.choice(departments))]
            events.append([f"顾客{user:03d}", str(rng.choice(pool)),
                           str(1_700_000_000 + 3600 * (user * 20 + step)), "purchase"])
    header = ["item_id", "title", "description", "category", "brand", "price"]
    return [_write_csv(folder / "items.csv", header, items, encoding="gb18030"),
            _write_csv(folder / "events.csv", EVENTS_HEADER, events, encoding="gb18030")]


ORDER_LINES_HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate",
                      "UnitPrice", "CustomerID", "Country"]
# written for the tests in the UCI "Online Retail" layout: one row per product of an invoice
ORDER_LINES_ROWS = [
    ["581001", "84029G", "KNITTED FLAG HOT WATER BOTTLE", "6", "12/1/2011 8:26", "3.39",
     "17850.0", "United Kingdom"],
    ["581001", "71053", "WHITE METAL LANTERN", "6", "12/1/2011 8:26", "3.39", "17850.0",
     "United Kingdom"],
    ["581001", "71053", "WHITE METAL LANTERN", "2", "12/1/2011 8:26", "3.39", "17850.0",
     "United Kingdom"],  # the same product again in its invoice: quantities added
    ["581001", "POST", "POSTAGE", "1", "12/1/2011 8:26", "18.00", "17850.0", "United Kingdom"],
    ["581002", "22633", "HAND WARMER UNION JACK", "12", "12/1/2011 9:02", "1.85", "13047.0",
     "France"],
    ["581002", "D", "Discount", "1", "12/1/2011 9:02", "-5.00", "13047.0", "France"],
    ["C581003", "22633", "HAND WARMER UNION JACK", "-2", "12/2/2011 10:00", "1.85", "13047.0",
     "France"],
    ["581004", "71053", "WHITE METAL LANTERN", "-1", "12/2/2011 11:00", "3.39", "12583.0",
     "Germany"],  # a return without a credit-note number
    ["581005", "84029G", "KNITTED FLAG HOT WATER BOTTLE", "3", "12/3/2011 12:00", "3.39", "",
     "United Kingdom"],
    ["581006", "AMAZONFEE", "AMAZON FEE", "1", "12/3/2011 13:00", "1.00", "", "United Kingdom"],
    ["581007", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "4", "12/4/2011 14:00", "2.55",
     "12583.0", "Germany"],
    ["581008", "BANK CHARGES", "Bank Charges", "1", "12/4/2011 15:00", "15.00", "12583.0",
     "Germany"],
]


def write_order_lines(folder: Path, header: list[str] | None = None) -> list[Path]:
    """One flat order-lines file in the Online Retail layout (or with another header)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [_write_csv(folder / "order_lines.csv", header or ORDER_LINES_HEADER,
                       ORDER_LINES_ROWS)]
