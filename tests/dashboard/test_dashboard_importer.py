"""The Import page: read a source, correct the mapping, see the report, import, train on it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shop_exports as shops
from dashboard_support import APP, TIMEOUT, use_tiny_home
from streamlit.testing.v1 import AppTest

from engine.data.cleaning import CleaningReport

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "app_pages" / "importer.py"


def _page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str = "en") -> AppTest:
    """The page with a Prism home whose sources.toml allows folders below `tmp_path` and
    the database whose URL is in SHOP_DB_URL."""
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "home" / "sources.toml").write_text(
        f'[folders]\nroots = ["{tmp_path.as_posix()}"]\n\n'
        '[databases.shop]\nurl_env = "SHOP_DB_URL"\n')
    at = AppTest.from_file(str(PAGE), default_timeout=30)
    if lang != "en":
        at.query_params["lang"] = lang
    return at.run()


def _read_folder(at: AppTest, folder: Path) -> AppTest:
    at.radio(key="imp_kind").set_value("folder").run()
    at.text_input(key="imp_folder").input(str(folder)).run()
    return at.button(key="imp_read_folder").click().run()


def _no_traceback(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_folder_mapping_report_and_import(tmp_path, monkeypatch):
    shops.write_shopify(tmp_path / "shop")
    at = _read_folder(_page(tmp_path, monkeypatch), tmp_path / "shop")
    _no_traceback(at)
    assert not at.error
    assert "shopify" in at.success[0].value
    assert at.selectbox(key="imp_map_items_item_id").value == "item_id"
    assert at.selectbox(key="imp_map_items_category").value == "category"
    # correct the mapping: use the tags as the category; the report follows
    at.selectbox(key="imp_map_items_category").set_value("tags").run()
    _no_traceback(at)
    cleaned = at.dataframe[4].value
    assert cleaned.loc[0, "category"] == "running, trail"
    report = at.dataframe[2].value
    assert len(report) == len(CleaningReport().rows())  # every cleaning rule has its row
    actions = " ".join(report.iloc[:, 2])  # the studio names its own box, not the CLI's flag
    assert "the Import page's “Decimal mark” box decides them" in actions
    assert "--decimal-mark" not in actions
    counts = at.dataframe[3].value  # rows read = kept + dropped, per table
    assert counts.iloc[:, 2].tolist() == [4, 4] and counts.iloc[:, 3].tolist() == [3, 4]
    assert counts.iloc[0, 4] == "variant and image rows folded into their product: 1"
    assert counts.iloc[:, 5].tolist() == ["✓", "✓"]
    assert not (tmp_path / "home" / "data" / "myshop").exists()  # nothing written yet
    at.text_input(key="imp_name").input("myshop").run()
    at.button(key="imp_go").click().run()
    _no_traceback(at)
    assert not at.error
    items = pd.read_parquet(tmp_path / "home" / "data" / "myshop" / "items.parquet")
    assert items["availability"].tolist() == ["in_stock", "out_of_stock", "in_stock"]
    assert items.loc[0, "category"] == "running, trail"
    assert at.button(key="imp_train")


def test_upload_and_chinese_interface(tmp_path, monkeypatch):
    paths = shops.write_chinese_shop(tmp_path / "zh")
    at = _page(tmp_path, monkeypatch, lang="zh")
    assert at.title[0].value == "导入"
    assert at.button(key="imp_read_upload").label == "读取"
    at.file_uploader(key="imp_files").set_value(
        [(p.name, p.read_bytes(), "text/csv") for p in paths]).run()
    at.button(key="imp_read_upload").click().run()
    _no_traceback(at)
    assert not at.error
    assert "gb18030" in at.success[0].value
    assert "无线蓝牙耳机" in at.dataframe[4].value["title"].tolist()


def _bad_folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    events = "user_id,item_id\nu1,A\n"
    if name == "empty":
        (folder / "items.csv").write_text("")
        (folder / "events.csv").write_text(events)
    elif name == "no_prices":
        rows = [r[:6] + [""] + r[7:] for r in shops.FEED_ROWS]
        shops._write_csv(folder / "feed.tsv", shops.FEED_HEADER, rows, sep="\t")
        (folder / "events.csv").write_text(events)
    elif name == "garbage":
        (folder / "items.csv").write_bytes(bytes(range(256)) * 40)
        (folder / "events.csv").write_text(events)
    return folder


@pytest.mark.parametrize(("case", "message"), [
    ("empty", "the file is empty"),
    ("no_prices", "the feed has no prices"),
    ("garbage", "looks like a binary file"),
    ("missing", "no such file or folder"),
])
def test_bad_folders_are_errors(tmp_path, monkeypatch, case, message):
    folder = tmp_path / case if case == "missing" else _bad_folder(tmp_path, case)
    page = _page(tmp_path, monkeypatch)
    assert any(i.value.startswith("Choose a source and press Read") for i in page.info)
    at = _read_folder(page, folder)
    _no_traceback(at)
    assert message in at.error[0].value
    # just after Read the error says what to do: no "Choose a source and press Read" with it
    assert not any(i.value.startswith("Choose a source") for i in at.info)
    assert at.title[0].value == "Import"  # the page still renders


def test_upload_over_the_limit_is_an_error(tmp_path, monkeypatch):
    at = _page(tmp_path, monkeypatch)
    assert "Upload limit: 20 MB" in at.caption[1].value
    big = b"item_id,title\n" + b"x" * (21 * 2**20)
    at.file_uploader(key="imp_files").set_value(("items.csv", big, "text/csv")).run()
    at.button(key="imp_read_upload").click().run()
    _no_traceback(at)
    assert "over the upload limit of 20 MB" in at.error[0].value


def test_failing_query_is_an_error(tmp_path, monkeypatch):
    url = f"sqlite:///{shops.write_sqlite(tmp_path / 'shop.db')}"
    monkeypatch.setenv("SHOP_DB_URL", url)
    at = _page(tmp_path, monkeypatch)
    at.radio(key="imp_kind").set_value("sql").run()
    assert at.selectbox(key="imp_sql_db").options == ["shop"]  # only what the operator named
    at.text_area(key="imp_items_query").input("SELECT * FROM missing_table").run()
    at.text_area(key="imp_events_query").input(shops.SQL_EVENTS).run()
    at.button(key="imp_read_sql").click().run()
    _no_traceback(at)
    assert "the items query failed" in at.error[0].value
    at.text_area(key="imp_items_query").input(shops.SQL_ITEMS).run()
    at.button(key="imp_read_sql").click().run()
    assert not at.error
    assert "sql" in at.success[0].value


@pytest.mark.slow
def test_train_on_it_hands_over_to_training(tmp_path, monkeypatch):
    home = use_tiny_home(monkeypatch)
    exports = home / "imports" / tmp_path.name  # the default root: no sources.toml needed
    exports.mkdir(parents=True)
    shops.write_woocommerce(exports)
    left = home / "data" / f".woo-shop.tmp-{tmp_path.name[-12:]}"  # a killed import's staging
    left.mkdir(parents=True, exist_ok=True)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/importer.py").run()
    at = _read_folder(at, exports)
    at.text_input(key="imp_name").input("woo-shop").run()
    at.button(key="imp_go").click().run()
    assert (home / "data" / "woo-shop" / "items.parquet").is_file()
    at.button(key="imp_train").click().run()
    _no_traceback(at)
    assert at.selectbox(key="train_data").value == "woo-shop"
    assert not [o for o in at.selectbox(key="train_data").options if ".tmp-" in o]
    left.rmdir()


def test_a_shallow_category_depth_is_named_with_a_better_one(tmp_path, monkeypatch):
    import json
    import shutil

    exports = tmp_path / "shopify"  # below the page's root (see _page)
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "exports" / "shopify",
                    exports)
    at = _read_folder(_page(tmp_path, monkeypatch), exports)
    _no_traceback(at)
    assert "only 4 diversity categories" in at.warning[0].value
    assert "depth 3 gives 6" in at.warning[0].value
    at.number_input(key="imp_depth").set_value(3).run()
    _no_traceback(at)
    assert not [w for w in at.warning if "diversity categor" in w.value]
    at.text_input(key="imp_name").input("deeper").run()
    at.button(key="imp_go").click().run()
    _no_traceback(at)
    meta = json.loads((tmp_path / "home" / "data" / "deeper" / "import.json").read_text())
    assert meta["category_depth"] == 3


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "exports"


@pytest.mark.parametrize(("files", "counts"), [
    (["shopify/orders_export_1.csv", "shopify/orders_export_2.csv"], [(15, 5), (17, 11)]),
    (["woocommerce/sample_products.csv", "woocommerce/wc-order-export.csv"], [(14, 9), (11, 7)]),
    (["merchant-tr/feed.xml", "merchant-tr/events.csv"], [(6, 3), (6, 6)]),
])
def test_uploaded_platform_exports_reconcile(tmp_path, monkeypatch, files, counts):
    at = _page(tmp_path, monkeypatch)
    at.file_uploader(key="imp_files").set_value(
        [(Path(f).name, (EXAMPLES / f).read_bytes(), "text/csv") for f in files]).run()
    at.button(key="imp_read_upload").click().run()
    _no_traceback(at)
    assert not at.error
    table = next(d.value for d in at.dataframe if "adds up" in d.value.columns)
    assert list(zip(table["read"], table["kept"], strict=True)) == counts
    assert table["adds up"].tolist() == ["✓", "✓"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_mapping_names_fields_in_words_with_the_raw_name_as_help(tmp_path, monkeypatch,
                                                                     lang):
    from dashboard.i18n import translate
    from engine.data.importing import EVENT_TARGETS, ITEM_TARGETS

    shops.write_shopify(tmp_path / "shop")
    at = _read_folder(_page(tmp_path, monkeypatch, lang), tmp_path / "shop")
    _no_traceback(at)
    for table, targets in (("items", ITEM_TARGETS), ("events", EVENT_TARGETS)):
        for target in targets:
            box = at.selectbox(key=f"imp_map_{table}_{target}")
            assert box.label == translate(f"import.field.{target}", lang) != target
            assert f"`{target}`" in box.help
    assert at.selectbox(key="imp_map_events_user_id").label == {"en": "Shopper ID",
                                                                "zh": "顾客 ID"}[lang]
