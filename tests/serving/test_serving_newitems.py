"""Reading a table of new items (cold start) from a path or an upload, one clear message each."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from engine.core.errors import DataError
from engine.serving.coldstart import read_new_items


def test_read_upload_rejects_wrong_columns() -> None:
    bad = pd.DataFrame({"sku": ["a"], "name": ["x"]}).to_csv(index=False).encode()
    with pytest.raises(ValueError, match="lacks the column.*item_id, title.*Found: sku, name"):
        read_new_items(bad, "new.csv")
    good = read_new_items(io.BytesIO(b"item_id,title\n7,Lamp\n").getvalue(), "new.csv")
    assert good["item_id"].tolist() == ["7"]


def test_a_path_csv_or_parquet_reads_the_same(tmp_path: Path) -> None:
    frame = pd.DataFrame({"item_id": ["007", "8"], "title": ["Lamp", "Desk"],
                          "category": ["Home > Lamps", ""]})
    frame.to_csv(tmp_path / "new.csv", index=False)
    frame.assign(item_id=[7, 8]).to_parquet(tmp_path / "new.parquet")
    from_csv = read_new_items(tmp_path / "new.csv")
    assert from_csv["item_id"].tolist() == ["007", "8"]  # ids are text, leading zeros kept
    assert from_csv["category"].tolist() == ["Home > Lamps", ""]  # an empty cell stays ""
    assert read_new_items(str(tmp_path / "new.parquet"))["item_id"].tolist() == ["7", "8"]


def test_each_problem_is_one_message(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing.csv: no such file; give a CSV or Parquet"):
        read_new_items(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="new.csv has a header but no rows"):
        read_new_items(b"item_id,title\n", "new.csv")
    with pytest.raises(DataError, match="the upload is not a readable CSV file"):
        read_new_items(b"")
    with pytest.raises(DataError, match="is not a readable Parquet file"):
        read_new_items(b"PAR1 broken", "new.parquet")


def test_rows_the_run_cannot_place_are_listed_by_the_label_it_cannot_place() -> None:
    from types import SimpleNamespace

    from engine.core.errors import RequestError
    from engine.serving.coldstart import new_item_categories, unplaceable_items

    catalogue = SimpleNamespace(category_names=["Lamps", "Desks"])  # no "unknown" category
    items = pd.DataFrame({"item_id": ["1", "2", "3"], "title": ["a", "b", "c"],
                          "category": ["Shop > Lamps", "Shop > Sofas",
                                       "Shop > Desks | Shop > Rugs"]})
    bad = unplaceable_items(items, catalogue, {"category_depth": 2})
    assert bad.to_dict("list") == {"item_id": ["2", "3"], "row": [1, 2],
                                   "label": ["Shop > Sofas", "Shop > Rugs"]}
    assert new_item_categories(items[:1], catalogue, 2).tolist() == [[1.0, 0.0]]
    with pytest.raises(RequestError) as caught:
        new_item_categories(items, catalogue, 2)
    assert str(caught.value) == ("new item '2' category 'Shop > Sofas' is not one of the run's "
                                 "categories; give it a category path starting with one of "
                                 "'Lamps', 'Desks'")


def _imported(frame: pd.DataFrame) -> pd.DataFrame:
    """The same table as the shop import cleans it."""
    from engine.core.config import DataConfig
    from engine.data.cleaning import CleaningReport, clean_items

    return clean_items(frame, DataConfig(), CleaningReport())


def _checked(frame: pd.DataFrame) -> pd.DataFrame:
    from types import SimpleNamespace

    from engine.serving.coldstart import check_new_items

    return check_new_items(frame, SimpleNamespace(item_index=pd.Index(["1"])))


def test_a_new_items_text_loses_its_html_as_in_the_import() -> None:
    frame = pd.DataFrame({"item_id": ["7"], "title": ["Desk &amp; Lamp "],
                          "description": ["<!--StartFragment --><p>Warm&nbsp;<b>light</b></p>"
                                          "<script>track()</script><br>Brass"],
                          "brand": ["<i>Lumo</i>"]})
    checked, imported = _checked(frame), _imported(frame)
    assert checked.loc[0, ["title", "description", "brand"]].tolist() == [
        "Desk & Lamp", "Warm light Brass", "Lumo"]
    for column in ("title", "description", "brand"):
        assert checked[column].tolist() == imported[column].tolist()


def test_a_title_that_was_only_markup_is_refused_as_blank() -> None:
    from engine.core.errors import RequestError

    with pytest.raises(RequestError, match="empty id or title in 1 row"):
        _checked(pd.DataFrame({"item_id": ["7"], "title": ["<p></p>"]}))


@pytest.mark.parametrize(("ids", "read"), [
    ([17850.0, 17851.0], ["17850", "17851"]),  # whole floats from Parquet: ints
    ([17850.0, 17850.5], ["17850.0", "17850.5"]),  # one not whole: every id kept as written
])
def test_parquet_float_ids_read_as_the_import_reads_them(ids: list[float],
                                                         read: list[str]) -> None:
    frame = pd.DataFrame({"item_id": ids, "title": ["Lamp", "Desk"]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    uploaded = read_new_items(buffer.getvalue(), "new.parquet")
    assert uploaded["item_id"].tolist() == read
    assert _checked(frame)["item_id"].tolist() == read  # a table given to add_items
    assert _imported(frame)["item_id"].tolist() == read
    as_text = read_new_items(frame.to_csv(index=False).encode(), "new.csv")  # "17850.0" cells
    assert as_text["item_id"].tolist() == read


def test_a_float_id_left_empty_is_refused_not_guessed() -> None:
    from engine.core.errors import RequestError

    frame = pd.DataFrame({"item_id": [17850.0, None], "title": ["Lamp", "Desk"]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    assert read_new_items(buffer.getvalue())["item_id"].tolist() == ["17850", ""]
    with pytest.raises(RequestError, match="empty id or title in 1 row"):
        _checked(frame)


@pytest.mark.parametrize("meta", [{}, {"decimal_mark": ","}, {"decimal_mark": "."}])
def test_a_windows_1252_upload_reads_as_the_import_reads_it(meta: dict) -> None:
    from types import SimpleNamespace

    from engine.serving.coldstart import check_new_items

    data = 'item_id,title,price\nN1,Pâtisserie Whisk,"7,95"\n'.encode("cp1252")
    frame = read_new_items(data, "newitems.csv")
    assert frame["title"].tolist() == ["Pâtisserie Whisk"]
    checked = check_new_items(frame, SimpleNamespace(item_index=pd.Index(["1"])), meta)
    assert checked["price"].tolist() == pytest.approx([7.95], rel=1e-9, abs=1e-9)


def test_an_upload_whose_encoding_is_ambiguous_is_refused_with_what_each_reads() -> None:
    data = "item_id,title\nT1,Erkek gömlek, şık ve rahat. Kışlık ayakkabı\n".encode("cp1254")
    with pytest.raises(DataError) as caught:
        read_new_items(data, "newitems.csv")
    message = str(caught.value)
    assert message.startswith("newitems.csv: the encoding is ambiguous (")
    assert "Windows-1254" in message and "save the file as UTF-8" in message
    assert "codec" not in message and "--encoding" not in message


@pytest.mark.parametrize(("ids", "titles", "said"), [
    (["N1", "N2", "N1"], ["a", "b", "c"], "item_id repeated in the table: 'N1'"),
    (["N1", "1"], ["a", "b"], "1 id already in the catalogue: '1'; give"),
    (["N1", "N2", "N3"], ["a", "", "c"], "empty id or title in 1 row (ids 'N2');"),
    ([f"N{i}" for i in range(12)], [""] * 12,
     "in 12 rows (ids 'N0', 'N1', 'N2', 'N3', 'N4', 'N5', 'N6', 'N7', 'N8', 'N9' and 2 more)"),
])
def test_refused_ids_are_quoted_as_the_product_names_ids(ids: list[str], titles: list[str],
                                                         said: str) -> None:
    from engine.core.errors import RequestError

    with pytest.raises(RequestError) as caught:
        _checked(pd.DataFrame({"item_id": ids, "title": titles}))
    assert said in str(caught.value) and "[" not in str(caught.value)
