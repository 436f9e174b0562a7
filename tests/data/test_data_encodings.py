"""Encodings are detected on evidence: text imports exactly as written or is refused, never
silently read in the wrong encoding."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.errors import DataError
from engine.data.encodings import detect, mojibake
from engine.data.sources import read_source

WESTERN = ["Crème", "brûlée", "café", "Größe", "Müsli", "Straße", "niño", "año", "jalapeño",
           "façade", "naïve", "São", "Zoë", "über", "Ärmel", "Öl", "Übergröße", "été", "à",
           "garçon", "señor", "pingüino", "coração", "smörgåsbord", "Ångström", "Æble", "Øl",
           "£", "50%", "shoe", "Jacket", "cotton", "size", "XL", "12", "Pâté", "croûte",
           "Göteborg", "Mädchen", "Ibérica", "El", "Niño", "rosé", "fiancée", "déjà", "vu"]
CP1252_ONLY = ["cœur", "Bœuf", "l’été", "“Classic”", "15 €", "–", "it’s", "Œuvre", "…"]
CHINESE = ["无线", "蓝牙", "耳机", "不锈钢", "保温杯", "纯棉", "短袖", "T恤", "机械", "键盘",
           "夏季", "透气", "降噪", "长续航", "家居", "数码", "服装", "女装", "连衣裙", "运动鞋",
           "手机壳", "充电器", "新款", "包邮", "正品", "USB", "Pro", "2024", "iPhone", "￥99"]
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


def _words(vocabulary: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(vocabulary), min_size=1, max_size=8).map(" ".join)


CASES = {
    "cp1252": _words(WESTERN + CP1252_ONLY),
    "latin-1": _words(WESTERN),
    "utf-16": ANY_TEXT,
    "gb18030": _words(CHINESE),
    "utf-8": ANY_TEXT,
    "utf-8-sig": ANY_TEXT,
}


def _csv_bytes(titles: list[str], encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["item_id", "title"])
    writer.writerows([f"i{n}", title] for n, title in enumerate(titles))
    return buffer.getvalue().encode(encoding)


@pytest.mark.parametrize("encoding", list(CASES))
def test_text_imports_exactly_or_is_refused(tmp_path_factory, encoding):
    folder = tmp_path_factory.mktemp(encoding)
    events = folder / "events.csv"
    events.write_text("user_id,item_id\nu1,i0\n", encoding="utf-8")

    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(CASES[encoding], min_size=1, max_size=5))
    def check(titles: list[str]) -> None:
        path = folder / "items.csv"
        path.write_bytes(_csv_bytes(titles, encoding))
        try:
            items = read_source([path, events]).raw.items
        except DataError as exc:
            assert "--encoding" in str(exc), str(exc)
            return
        assert items["title"].tolist() == titles

    check()


def _detect(text: str, encoding: str) -> str:
    return detect(Path("items.csv"), f"item_id,title\n1,{text}\n".encode(encoding)).encoding


@pytest.mark.parametrize(("text", "encoding", "expected"), [
    ("Crème brûlée", "cp1252", "cp1252"),
    ("Bœuf – 15 €", "cp1252", "cp1252"),
    ("Größe Müsli", "latin-1", "cp1252"),  # Latin-1 text reads the same in Windows-1252
    ("无线蓝牙耳机", "gbk", "gb18030"),
    ("Crème brûlée", "utf-8", "utf-8"),
    ("Vitamin B12 500μg für Kinder, Fischöl", "utf-8", "utf-8"),  # a Greek μ in a Latin word
    ("Crème brûlée", "utf-8-sig", "utf-8"),
    ("Crème 无线", "utf-16", "utf-16"),
    ("Привет мир, хорошая куртка", "cp1251", "cp1251"),
])
def test_detection_table(text, encoding, expected):
    assert _detect(text, encoding) == expected


def test_weak_evidence_names_the_candidates_and_never_gb18030_for_european_text():
    with pytest.raises(DataError) as caught:
        _detect("Erkek gömlek, şık ve rahat. Kışlık ayakkabı", "cp1254")
    message = str(caught.value)
    assert "ambiguous" in message and "--encoding cp1254" in message
    assert "--encoding cp1252" in message and "gb18030" not in message.lower()


def test_a_forced_wrong_encoding_suggests_the_right_ones_only(tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes("item_id,title\nc1,ok\nc2,Crème brûlée\n".encode("cp1252"))
    events = tmp_path / "events.csv"
    events.write_text("user_id,item_id\nu1,c1\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_source([path, events], encoding="utf-8")
    message = str(caught.value)
    assert message.startswith("items.csv: byte 0xe8 on line 3") and str(tmp_path) not in message
    assert "--encoding cp1252" in message and "gb18030" not in message
    with pytest.raises(DataError) as caught:  # decodes, but as words of mixed scripts
        read_source([path, events], encoding="gb18030")
    message = str(caught.value)
    assert message.startswith("items.csv: read as gb18030 the text looks wrong")
    assert message.endswith("pass --encoding cp1252 (or auto)")


def test_double_encoded_utf8_is_refused():
    with pytest.raises(DataError, match="decoded wrongly before it was saved"):
        detect(Path("x.csv"), "id,t\n1,CrÃ¨me brÃ»lÃ©e\n".encode())


@pytest.mark.parametrize(("text", "problem"), [
    ("Cr鑝e br鹟閑", ""),
    ("ÎÞÏßÀ¶ÑÀ¶ú»ú", ""),
    ("Brot für Kinder: Crème mit Bœuf", None),
    ("Crème brûlée", None),
    ("无线蓝牙耳机 iPhone手机壳", None),
])
def test_mojibake_checks(text, problem):
    found = mojibake(text)
    assert (found is None) if problem is None else (problem in found)


def test_a_file_ambiguous_alone_takes_the_encoding_of_its_siblings(tmp_path):
    items = tmp_path / "items.csv"
    items.write_bytes("item_id,title\nc1,无线蓝牙耳机\nc2,不锈钢保温杯\n".encode("gb18030"))
    events = tmp_path / "events.csv"
    events.write_bytes("user_id,item_id\n顾客1,c1\n顾客2,c2\n".encode("gb18030"))
    with pytest.raises(DataError, match="ambiguous"):
        read_source([events, _ascii_items(tmp_path)])  # alone: no sibling with evidence
    source = read_source([items, events])
    assert source.raw.events["user_id"].tolist() == ["顾客1", "顾客2"]
    assert "like items.csv of the same import" in source.evidence["events.csv"]


def _ascii_items(folder: Path) -> Path:
    path = folder / "ascii" / "items.csv"
    path.parent.mkdir()
    path.write_text("item_id,title\nc1,Lamp\n", encoding="utf-8")
    return path


def test_a_generic_folder_settles_its_encodings_together(tmp_path):
    from engine.data import load_dataset

    (tmp_path / "items.csv").write_bytes(
        "item_id,title\nc1,无线蓝牙耳机\nc2,不锈钢保温杯\n".encode("gb18030"))
    (tmp_path / "events.csv").write_bytes(
        "user_id,item_id\n顾客1,c1\n顾客2,c2\n".encode("gb18030"))
    assert sorted(load_dataset(tmp_path).events["user_id"]) == ["顾客1", "顾客2"]
    source = read_source([tmp_path])
    assert "like items.csv" in source.evidence["events.csv"]


def test_encodings_that_read_the_same_word_are_named_together():
    """cp1250 and cp1257 both read 'Crème' as 'Crčme' (they differ further on): the evidence
    says that reading once, naming both."""
    data = "item_id,title\nA,Crème brûlée\nB,Café au lait\n".encode("cp1252")
    evidence = str(detect(Path("items.csv"), data).evidence)
    assert "cp1250 or cp1257 would read 'A,Crčme'" in evidence
    assert evidence.count("would read") == 1
