"""The Import page's reconciliation (rows read = kept + dropped per reason, per table) speaks
Chinese (AppTest, `?lang=zh`): an order-lines export with a cancelled order, a postage line
and repeated lines of a product is read, and the table names, sources and drop reasons hold
no English word outside data (the file name and the shop's column names)."""

from __future__ import annotations

from pathlib import Path

import pytest
from chinese_scan import data_words, english_words, table_texts
from streamlit.testing.v1 import AppTest

from dashboard.i18n import translate

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "app_pages" / "importer.py"
HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
LINES = [  # order, product, description, quantity, date, price, customer
    "1001,T1,Green tea,2,2024-05-01 10:00,4.50,c1",
    "1001,T1,Green tea,1,2024-05-01 10:00,4.50,c1",  # the same product again: folded
    "1001,POST,POSTAGE,1,2024-05-01 10:00,3.00,c1",  # postage: no product
    "1002,T2,White cup,1,2024-05-02 11:00,6.00,c2",
    "1002,T1,Green tea,3,2024-05-02 11:00,4.50,c2",
    "C1003,T2,White cup,-1,2024-05-03 12:00,6.00,c2",  # a credit note: cancelled
    "1004,T3,Tea pot,1,2024-05-04 09:00,19.00,c3",
    "1004,T2,White cup,2,2024-05-04 09:00,6.00,c3",
]


def _reconcile_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN202
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.setattr("dashboard.i18n.current", lambda: "zh")
    at = AppTest.from_file(str(PAGE), default_timeout=30)
    at.query_params["lang"] = "zh"
    at = at.run()
    at.file_uploader(key="imp_files").set_value(
        [("orders.csv", (HEADER + "\n".join(LINES) + "\n").encode(), "text/csv")]).run()
    at = at.button(key="imp_read_upload").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    balanced = translate("import.balanced", "zh")  # the reconciliation's last column
    return next(d for d in at.dataframe if balanced in d.value.columns)


def test_the_reconciliation_names_tables_and_drop_reasons_in_chinese(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = _reconcile_table(tmp_path, monkeypatch)
    said = table_texts(table)
    words = data_words("orders.csv", HEADER)
    assert not english_words(said, words), (english_words(said, words), said)
    frame = table.value
    assert list(frame.iloc[:, 0]) == ["商品", "事件"], frame
    assert "orders.csv（订单行）" in list(frame.iloc[:, 1]), frame
    drops = " ".join(map(str, frame.iloc[:, 4]))
    for reason in ("取消单和红字发票", "运费、手续费、折扣和代金券",
                   "同一订单中同一商品的重复行（数量已相加）", "已列出商品的行"):
        assert reason in drops, drops
    assert set(frame.iloc[:, 5]) == {"✓"}, frame  # every row still balances


def test_identifying_columns_are_named_in_chinese(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Events carrying the shoppers' e-mail and phone: the notice of what was kept out of the
    data set says what each column held in Chinese (column names are data)."""
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.setattr("dashboard.i18n.current", lambda: "zh")
    items = "item_id,title,category\n" + "".join(
        f"i{n},Tea {n},Tea > Green\n" for n in range(4))
    header = "user_id,item_id,timestamp,event,Email,Phone\n"
    events = header + "".join(
        f"u{n % 3},i{n % 4},2024-05-0{1 + n % 9} 10:00,purchase,u{n % 3}@example.com,0123\n"
        for n in range(12))
    at = AppTest.from_file(str(PAGE), default_timeout=30)
    at.query_params["lang"] = "zh"
    at = at.run()
    at.file_uploader(key="imp_files").set_value(
        [("items.csv", items.encode(), "text/csv"),
         ("events.csv", events.encode(), "text/csv")]).run()
    at = at.button(key="imp_read_upload").click().run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    notice = next(i.value for i in at.info if "Email" in i.value)
    assert "已删除：电子邮件" in notice and "已删除：电话" in notice, notice
    words = data_words("items.csv events.csv", header)
    assert not english_words([notice], words), (english_words([notice], words), notice)
    assert "example.com" not in notice  # the values themselves are never shown
