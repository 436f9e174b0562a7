"""The Import page after a failure, with files it does not recognise, and with legacy
encodings: nothing of a previous source stays under an error, unrecognised headers get a
column-mapping step, and encoding errors name the uploaded file and the right encoding."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import shop_exports as shops
from streamlit.testing.v1 import AppTest

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "app_pages" / "importer.py"
ERP_HEADER = ["Beleg", "Artikel", "Bezeichnung", "Stueck", "Datum", "Preis", "Kunde", "Land"]


def _page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "home" / "sources.toml").write_text(
        f'[folders]\nroots = ["{tmp_path.as_posix()}"]\n')
    return AppTest.from_file(str(PAGE), default_timeout=30).run()


def _read_folder(at: AppTest, folder: Path) -> AppTest:
    at.radio(key="imp_kind").set_value("folder").run()
    at.text_input(key="imp_folder").input(str(folder)).run()
    return at.button(key="imp_read_folder").click().run()


def _upload(at: AppTest, paths: list[Path], encoding: str = "auto") -> AppTest:
    at.selectbox(key="imp_encoding").set_value(encoding).run()
    at.file_uploader(key="imp_files").set_value(
        [(p.name, p.read_bytes(), "text/csv") for p in paths]).run()
    return at.button(key="imp_read_upload").click().run()


def _table(at: AppTest, column: str):  # noqa: ANN202 - a DataFrame
    """The first table on the page with `column`."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _keys(at: AppTest, kind: str) -> set[str]:
    return {element.key for element in getattr(at, kind) if element.key}


def test_a_failed_read_leaves_nothing_of_the_previous_source(tmp_path, monkeypatch):
    shops.write_shopify(tmp_path / "shop")
    at = _read_folder(_page(tmp_path, monkeypatch), tmp_path / "shop")
    assert not at.exception and not at.error
    at.text_input(key="imp_name").input("myshop").run()
    at.button(key="imp_go").click().run()
    assert "imp_train" in _keys(at, "button")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "items.csv").write_text("")
    (tmp_path / "broken" / "events.csv").write_text("user_id,item_id\nu1,A\n")
    at = _read_folder(at, tmp_path / "broken")
    assert not at.exception and "the file is empty" in at.error[0].value
    assert not at.dataframe  # no previous preview, report or cleaned rows
    assert {"imp_go", "imp_train"}.isdisjoint(_keys(at, "button"))


def test_a_new_source_is_imported_before_it_can_be_trained_on(tmp_path, monkeypatch):
    shops.write_shopify(tmp_path / "shop")
    shops.write_woocommerce(tmp_path / "woo")
    at = _read_folder(_page(tmp_path, monkeypatch), tmp_path / "shop")
    at.button(key="imp_go").click().run()
    assert "imp_train" in _keys(at, "button")
    at = _read_folder(at, tmp_path / "woo")
    assert not at.error and "woocommerce" in at.success[0].value
    assert "imp_go" in _keys(at, "button") and "imp_train" not in _keys(at, "button")


def test_unrecognised_headers_get_a_mapping_step(tmp_path, monkeypatch):
    files = shops.write_order_lines(tmp_path / "erp", ERP_HEADER)
    at = _upload(_page(tmp_path, monkeypatch), files)
    assert not at.exception and not at.error
    assert "not recognised: columns Beleg" in at.warning[0].value
    assert "--map" not in at.warning[0].value
    chosen = {"order_id": "Beleg", "item_id": "Artikel", "title": "Bezeichnung",
              "weight": "Stueck", "timestamp": "Datum", "price": "Preis", "user_id": "Kunde"}
    order = at.selectbox(key="imp_pre_order_id")  # a field in words, its raw name as help
    assert order.label == "Order ID" and "`order_id`" in order.help
    for target, column in chosen.items():
        at.selectbox(key=f"imp_pre_{target}").set_value(column).run()
    at.button(key="imp_premap_read").click().run()
    assert not at.exception and not at.error
    assert "order-lines" in at.success[0].value
    counts = _table(at, "adds up")
    assert counts.iloc[1, 2] == 12 and counts.iloc[1, 3] == 4  # lines read, purchases kept
    assert counts.iloc[:, 5].tolist() == ["✓", "✓"]


def test_a_products_table_named_otherwise_is_mapped(tmp_path, monkeypatch):
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "products.csv").write_text("foo,bar\nA,Lamp\n")
    (folder / "events.csv").write_text("user_id,item_id\nu1,A\n")
    at = _read_folder(_page(tmp_path, monkeypatch), folder)
    assert not at.error and "products.csv (not recognised: columns foo, bar)" in \
        at.warning[0].value
    # proposed from the headers: the events file's own column names
    assert at.selectbox(key="imp_pre_user_id").value == "user_id"
    assert at.selectbox(key="imp_pre_title").value == ""
    at.selectbox(key="imp_pre_item_id").set_value("foo").run()
    at.button(key="imp_premap_read").click().run()
    assert "Still not recognised" in at.error[0].value  # a title is needed too
    at.selectbox(key="imp_pre_title").set_value("bar").run()
    at.button(key="imp_premap_read").click().run()
    assert not at.exception and not at.error and "generic" in at.success[0].value
    assert _table(at, "title")["title"].tolist() == ["Lamp"]


def test_an_events_file_alone_asks_for_the_products_file(tmp_path, monkeypatch):
    events = tmp_path / "events.csv"
    events.write_text("user_id,item_id,timestamp,event\nu1,A,1,purchase\n")
    at = _upload(_page(tmp_path, monkeypatch), [events])
    assert not at.exception and not at.error
    assert "events.csv (events table)" in at.warning[0].value
    assert "add the catalogue" in at.warning[0].value
    assert not any(key.startswith("imp_pre_") for key in _keys(at, "selectbox"))


def test_windows_1252_uploads(tmp_path, monkeypatch):
    folder = tmp_path / "fr"
    folder.mkdir()
    items = folder / "items.csv"
    items.write_bytes("item_id,title\nc1,Crème brûlée\nc2,Café\n".encode("cp1252"))
    events = folder / "events.csv"
    events.write_text("user_id,item_id\nu1,c1\nu2,c2\n", encoding="utf-8")
    at = _upload(_page(tmp_path, monkeypatch), [items, events])
    assert not at.exception and not at.error
    assert "cp1252" in at.success[0].value
    assert "Crème brûlée" in _table(at, "title")["title"].tolist()
    at = _upload(at, [items, events], encoding="gb18030")
    message = at.error[0].value
    assert message.startswith("items.csv: ") and "prism-uploads" not in message
    assert "under Text encoding (cp1252" in message and "gb18030" not in message.split(";")[-1]
    assert "--encoding" not in message  # the CLI's flag; the page has its own box


def test_decimal_mark_and_encoding_evidence_on_the_page(tmp_path, monkeypatch):
    shop = Path(__file__).resolve().parents[2] / "examples" / "exports" / "windows-1252"
    at = _upload(_page(tmp_path, monkeypatch), sorted(shop.glob("*.csv")))
    assert not at.exception and not at.error
    assert any("produits.csv" in c.value and "Windows-1252" in c.value for c in at.caption)
    report = _table(at, "action").set_index(_table(at, "action").columns[0])
    assert report.iloc[:, 0]["ambiguous numbers"] == 1

    def price() -> float:  # in the cleaned products, the last table with prices
        cleaned = [d.value for d in at.dataframe if "price" in d.value.columns][-1]
        return float(cleaned.set_index("item_id")["price"]["FR-04"])

    assert math.isnan(price())
    at.selectbox(key="imp_decimal").set_value(",").run()
    assert price() == pytest.approx(1.299, abs=1e-9)
