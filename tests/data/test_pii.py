"""No shopper's identity reaches a data set: after importing fixtures of every format, no
e-mail, phone, name or address from them appears in any file the import wrote; shopper ids
made from e-mails are keyed hashes that an outsider cannot compute."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import stat
from pathlib import Path

import pandas as pd
import pytest
import shop_exports as shops

from engine.core import keys
from engine.data.importing import import_source, propose_column_map, sql_source
from engine.data.sources import read_source

EMAILS = ["zelda.quixote@example.org", "Yusuf.Orr@Example.net", "小明@例子.中国"]
PHONES = ["+1 555 0199 321", "(020) 7946 0958", "13800138000"]
NAMES = ["Zelda Quixote", "Yusuf Orr", "王小明"]
STREETS = ["12 Privet Drive", "742 Evergreen Terrace", "中山路88号"]
SECRETS = EMAILS + [e.lower() for e in EMAILS] + PHONES + NAMES + STREETS


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t" if path.suffix == ".tsv" else ",")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _people_events(folder: Path, user_header: str = "user_id") -> Path:
    """Events whose shoppers are e-mails, with phone, name and address beside them."""
    rows = [[EMAILS[i % 3], item, str(1700000000 + 100 * i), PHONES[i % 3], NAMES[i % 3],
             STREETS[i % 3]] for i, item in enumerate(["SKU-1", "SKU-2", "SKU-3", "SKU-1"])]
    return _write(folder / "events.csv", [user_header, "item_id", "timestamp", "phone",
                                          "customer_name", "shipping_address"], rows)


def generic_csv(folder: Path) -> list[Path]:
    items = _write(folder / "items.csv", shops.FEED_HEADER[:2] + ["contact_email"],
                   [row[:2] + [EMAILS[0]] for row in shops.FEED_ROWS])
    items.write_text(items.read_text().replace("id,title", "item_id,title", 1))
    return [items, _people_events(folder)]


def generic_parquet(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    for path in generic_csv(folder / "csv"):
        pd.read_csv(path, dtype=str).to_parquet(folder / f"{path.stem}.parquet", index=False)
    return [folder / "items.parquet", folder / "events.parquet"]


def email_column(folder: Path) -> list[Path]:
    """A generic-layout folder whose events have `email` instead of user_id (the mapping
    proposal maps it to user_id)."""
    generic_csv(folder)
    _people_events(folder, user_header="email")
    return [folder]


def merchant(folder: Path) -> list[Path]:
    return [*shops.write_feed_tsv(folder)[:1], _people_events(folder)]


def shopify(folder: Path) -> list[Path]:
    header = shops.SHOPIFY_ORDERS_HEADER + ["Phone", "Billing Phone", "Shipping Name",
                                            "Shipping Address1", "Shipping Street"]
    rows = [row[:1] + [EMAILS[i % 3] if row[1] else ""] + row[2:13] +
            [NAMES[i % 3] if row[13] else ""] + row[14:] +
            [PHONES[i % 3], PHONES[i % 3], NAMES[i % 3], STREETS[i % 3], STREETS[i % 3]]
            for i, row in enumerate(shops.SHOPIFY_ORDERS_ROWS)]
    products = shops.write_shopify(folder)[0]
    return [products, _write(folder / "orders_export.csv", header, rows)]


def woocommerce(folder: Path) -> list[Path]:
    header = shops.WOO_ORDERS_HEADER + ["billing_first_name", "billing_last_name",
                                        "billing_phone", "billing_address_1", "shipping_city"]
    rows = [row[:6] + [EMAILS[i % 3], EMAILS[i % 3]] + row[8:] +
            [NAMES[i % 3].split()[0], NAMES[i % 3].split()[-1], PHONES[i % 3], STREETS[i % 3],
             "Springfield"] for i, row in enumerate(shops.WOO_ORDERS_ROWS)]
    products = shops.write_woocommerce(folder)[0]
    return [products, _write(folder / "wc-order-export.csv", header, rows)]


def recbole(folder: Path) -> list[Path]:
    items = _write(folder / "shop.item", ["item_id:token", "title:token_seq"],
                   [["SKU-1", "Trail Shoe"], ["SKU-2", "Rain Jacket"], ["SKU-3", "Wool Socks"]])
    rows = [[EMAILS[i % 3], item, str(1700000000 + 100 * i), PHONES[i % 3], NAMES[i % 3]]
            for i, item in enumerate(["SKU-1", "SKU-2", "SKU-3", "SKU-1"])]
    inter = _write(folder / "shop.inter", ["user_id:token", "item_id:token", "timestamp:float",
                                           "phone:token", "full_name:token_seq"], rows)
    for path in (items, inter):  # RecBole atomic files are tab-separated
        path.write_text(path.read_text().replace(",", "\t"))
    return [folder]


FORMATS = {"generic-csv": generic_csv, "generic-parquet": generic_parquet,
           "email-as-shopper": email_column, "merchant-center": merchant, "shopify": shopify,
           "woocommerce": woocommerce, "recbole": recbole}


def _written_text(folder: Path) -> str:
    """Everything an import wrote, as text: tables read back (values and headers), other
    files as they are."""
    parts = []
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
            parts += [" ".join(map(str, table.columns)), table.astype(str).to_csv()]
        elif path.is_file():
            parts.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(parts)


def _check_clean(folder: Path) -> None:
    text = _written_text(folder)
    leaked = [value for value in SECRETS if value in text]
    assert not leaked, f"{folder.name}: {leaked}"
    key = keys.shopper_key()
    assert key.hex() not in text and key.hex()[:16] not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_identity_reaches_any_written_file(tmp_path, prism_home, fmt):
    files = FORMATS[fmt](tmp_path / fmt)
    source = read_source(files)
    column_map = propose_column_map(source.raw, "events") if fmt == "email-as-shopper" else {}
    dataset, folder = import_source(source, fmt, column_map)
    _check_clean(folder)
    meta = json.loads((folder / "import.json").read_text())
    events = next(c for c in meta["reconciliation"] if c["table"] == "events")
    if fmt not in ("shopify", "woocommerce"):  # the shop readers keep only Prism columns
        assert events["identifying_columns"], meta["reconciliation"]
    assert dataset.events["user_id"].str.match(r"^(u_[0-9a-f]{16}|customer:\d+)$").all()


def test_sql_import_keeps_no_identity(tmp_path, prism_home):
    db = tmp_path / "shop.db"
    shops.write_sqlite(db)
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE people (customer TEXT, email TEXT, phone TEXT, "
                           "name TEXT)")
        connection.executemany("INSERT INTO people VALUES (?, ?, ?, ?)",
                               [(f"c{i + 1}", EMAILS[i], PHONES[i], NAMES[i]) for i in range(2)])
    query = ("SELECT p.email AS user_id, o.sku AS item_id, o.ordered_at AS timestamp, "
             "p.phone, p.name FROM orders o JOIN people p ON p.customer = o.customer")
    dataset, folder = import_source(sql_source(f"sqlite:///{db}", shops.SQL_ITEMS, query), "db")
    _check_clean(folder)
    assert set(dataset.events["user_id"].str[:2]) == {"u_"}


def test_shopper_ids_are_keyed_per_home_and_the_key_stays_private(tmp_path, monkeypatch):
    address = "ann@example.com"
    unsalted = "u_" + hashlib.sha256(address.encode()).hexdigest()[:16]
    ids = []
    for home in ("a", "b"):
        monkeypatch.setenv("PRISM_HOME", str(tmp_path / home))
        source = read_source(shops.write_shopify(tmp_path / f"shop-{home}"))
        ids.append(set(source.raw.events["user_id"]))
        key_file = tmp_path / home / keys.SECRETS_DIR / keys.SHOPPER_KEY
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
        assert keys.keyed_shopper_id(address, keys.shopper_key()) in ids[-1]
        again = read_source(shops.write_shopify(tmp_path / f"again-{home}"))
        assert set(again.raw.events["user_id"]) == ids[-1]  # stable within a home
    assert unsalted not in ids[0] | ids[1]  # not computable from the address alone
    assert ids[0].isdisjoint(ids[1])  # each home its own key


def test_a_damaged_key_is_one_clear_error(prism_home):
    from engine.core.errors import ConfigError

    keys.shopper_key()
    (prism_home / keys.SECRETS_DIR / keys.SHOPPER_KEY).write_bytes(b"short")
    with pytest.raises(ConfigError, match="the shopper-id key is damaged"):
        keys.shopper_key()
