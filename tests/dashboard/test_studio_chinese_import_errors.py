"""The Import page's refusals speak Chinese (AppTest, `?lang=zh`): an upload that is binary,
read in the wrong encoding, with duplicate ids, a promo column that is no flag, dates that do
not parse, unknown event types, weights with decimal commas, an XML feed that is not
well-formed or a folder outside the roots — each error reads in Chinese with no English word
outside data (the file names, ids and values the shop wrote), and never names the staging
folder the uploads were read from."""

from __future__ import annotations

from pathlib import Path

import pytest
from chinese_scan import data_words, english_words, visible_texts
from streamlit.testing.v1 import AppTest

from engine.core.columns import EVENT_TYPES  # the values a shop's event column holds

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "app_pages" / "importer.py"
ITEMS = "item_id,title\nA,Tea\nB,Cup\n"
ENCODING_IDS = ["cp1252", "cp1250", "cp1257"]  # the values the encoding picker offers
EVENTS = "user_id,item_id,timestamp\nu1,A,2024-05-01\nu2,B,2024-05-02\n"


def _page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "home" / "sources.toml").write_text(
        f'[folders]\nroots = ["{(tmp_path / "shops").as_posix()}"]\n\n'
        '[databases.shop]\nurl_env = "SHOP_DB_URL"\n')
    monkeypatch.setattr("dashboard.i18n.current", lambda: "zh")
    at = AppTest.from_file(str(PAGE), default_timeout=30)
    at.query_params["lang"] = "zh"
    return at.run()


def _upload(at: AppTest, files: dict[str, bytes], encoding: str = "auto") -> AppTest:
    at.selectbox(key="imp_encoding").set_value(encoding).run()
    at.file_uploader(key="imp_files").set_value(
        [(name, data, "text/csv") for name, data in files.items()]).run()
    return at.button(key="imp_read_upload").click().run()


CASES = {  # case: (files, encoding, the data in the message, a phrase of its Chinese)
    "binary": ({"items.csv": bytes(range(256)) * 8, "events.csv": EVENTS.encode()}, "auto",
               [], "看起来是二进制文件"),
    "wrong_encoding": ({"items.csv": "item_id,title\nA,Crème brûlée\n".encode("cp1252"),
                        "events.csv": EVENTS.encode()}, "utf-8", ["0xe8", *ENCODING_IDS],
                       "不是有效的 UTF-8 文本"),
    "duplicate_ids": ({"items.csv": b"item_id,title\nA,Tea\nA,Green tea\n",
                       "events.csv": EVENTS.encode()}, "auto", ["'A'"], "出现了不止一次且标题不同"),
    "promo": ({"items.csv": b"item_id,title,promo\nA,Tea,maybe\nB,Cup,1\n",
               "events.csv": EVENTS.encode()}, "auto", ["maybe"], "不是“是/否”的值"),
    "dates": ({"items.csv": ITEMS.encode(),
               "events.csv": b"user_id,item_id,timestamp\nu1,A,soon\nu2,B,later\n"}, "auto",
              ["soon", "later"], "时间戳无法解析"),
    "event_types": ({"items.csv": ITEMS.encode(),
                     "events.csv": b"user_id,item_id,event\nu1,A,wish\nu2,B,purchase\n"},
                    "auto", ["wish", *EVENT_TYPES], "未知的类型"),
    "decimal_comma": ({"items.csv": ITEMS.encode(),
                       "events.csv": b'user_id,item_id,weight\nu1,A,"1,250"\nu2,B,2\n'},
                      "auto", [], "说明哪个是小数点"),
    "feed_xml": ({"feed.xml": b"<rss><channel><item><g:id>1</item></rss>",
                  "events.csv": EVENTS.encode()}, "auto", ["xml"], "XML 格式不正确"),
    "looks_mis_decoded": ({"items.csv": "item_id,title\nA,绿茶礼盒\nB,白瓷茶杯\n".encode("gb18030"),
                           "events.csv": EVENTS.encode()}, "cp1252", ["cp1252", "gb18030"],
                          "成串的带重音字母和符号"),
    "faq_none_left": ({"items.csv": ITEMS.encode(), "events.csv": EVENTS.encode(),
                       "faq.csv": b"id,question,answer\n,Where?,Here\nq2,,Soon\n"}, "auto",
                      ["faq.csv"], "读取 2 行 = 保留 0 行 + 缺少 ID 1 行 + 缺少问题或答案 1 行"),
}


def _said_in_chinese(at: AppTest, data: list[str]) -> str:
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1, [e.value for e in at.error]
    said = at.error[0].value
    assert any("\u4e00" <= ch <= "\u9fff" for ch in said), said
    assert "prism-uploads" not in said, said  # the staging folder is never named
    words = data_words("items", "events", "feed", *data)
    assert not english_words([said], words), (english_words([said], words), said)
    return said


@pytest.mark.parametrize("case", list(CASES))
def test_an_upload_refused_in_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      case: str) -> None:
    files, encoding, data, phrase = CASES[case]
    said = _said_in_chinese(_upload(_page(tmp_path, monkeypatch), files, encoding), data)
    assert phrase in said, said


def test_a_folder_outside_the_roots_is_refused_in_chinese(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    at = _page(tmp_path, monkeypatch)
    at.radio(key="imp_kind").set_value("folder").run()
    at.text_input(key="imp_folder").input(str(tmp_path / "elsewhere")).run()
    at = at.button(key="imp_read_folder").click().run()
    said = _said_in_chinese(at, [str(tmp_path)])
    assert "工作台只读取" in said, said


def test_an_unrecognised_file_is_named_in_chinese(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the importer does not recognise: what it was read as, in Chinese."""
    at = _upload(_page(tmp_path, monkeypatch), {"notes.csv": b"Beleg,Artikel\n1,2\n"})
    assert not at.exception, [e.value for e in at.exception]
    said = [w.value for w in at.warning if "notes.csv" in w.value]
    assert said and "无法识别：列为 Beleg, Artikel" in said[0], [w.value for w in at.warning]
    fields = ("order_id", "item_id", "title", "weight", "user_id")  # the mapping boxes' names
    words = data_words("notes.csv", "Beleg", "Artikel", *fields)
    assert not english_words(said, words), (english_words(said, words), said)


@pytest.mark.parametrize(("items_query", "data", "phrase"), [
    ("DELETE FROM products", ["DELETE"], "商品查询是一条 DELETE 语句"),
    ("SELECT * FROM missing_table", ["no such table", "missing_table"], "商品查询失败")])
def test_a_refused_query_is_said_in_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            items_query: str, data: list, phrase: str) -> None:
    import shop_exports as shops

    url = f"sqlite:///{shops.write_sqlite(tmp_path / 'shop.db')}"
    monkeypatch.setenv("SHOP_DB_URL", url)
    at = _page(tmp_path, monkeypatch)
    at.radio(key="imp_kind").set_value("sql").run()
    at.text_area(key="imp_items_query").input(items_query).run()
    at.text_area(key="imp_events_query").input(shops.SQL_EVENTS).run()
    at = at.button(key="imp_read_sql").click().run()
    said = _said_in_chinese(at, [*data, "sqlite", "shop.db", str(tmp_path)])
    assert phrase in said, said


def test_a_windows_1252_upload_says_why_in_chinese(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """What the importer says about how it chose a file's encoding is Chinese too."""
    titles = "item_id,title,category\nA,Crème brûlée,Desserts\nB,Café au lait,Drinks\n"
    at = _upload(_page(tmp_path, monkeypatch), {"items.csv": titles.encode("cp1252"),
                                               "events.csv": EVENTS.encode()})
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    said = [c.value for c in at.caption if c.value.startswith("`items.csv` 的编码")]
    assert said and "这类导出常用的旧编码" in said[0], [c.value for c in at.caption]
    readings = [titles.encode("cp1252").decode(e) for e in ("cp1250", "cp1257")]
    # the mapping boxes name Prism fields; "myshop" is the data set name offered
    fields = ("description", "brand", "price", "promo", "weight", "event")
    words = data_words(titles, EVENTS, *readings, *ENCODING_IDS, *fields, "myshop")
    english = english_words(visible_texts(at), words)
    assert not english, "; ".join(f"{word!r} in {text!r}" for word, text in english.items())
