"""The Catalogue's item table: a page of the catalogue at a time, or the items found, and the
pages together are the whole catalogue."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from dashboard_support import APP, RUN_NAME, TIMEOUT, tiny_home_copy, use_home, use_tiny_home
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Overrides the per-test empty home: these tests share one tiny trained run."""
    return use_tiny_home(monkeypatch)


def _items(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "price" in d.value.columns)


def test_pages_of_the_item_table_are_the_catalogue(prism_home: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import tables
    from engine.serving.recommender import Recommender

    catalogue = Recommender.load(prism_home / "runs" / RUN_NAME).catalogue
    monkeypatch.setattr(tables, "PAGE_ROWS", 64)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/catalogue.py")
    at.run()
    assert not at.exception and not at.error
    pages = [_items(at)]
    for page in range(2, -(-catalogue.n_items // 64) + 1):
        at.number_input(key="catalogue_items_page").set_value(page).run()
        pages.append(_items(at))
    whole = pd.concat(pages, ignore_index=True)
    assert [len(p) for p in pages[:-1]] == [64] * (len(pages) - 1)
    assert whole["item_id"].tolist() == catalogue.columns.ids.tolist()
    assert whole["title"].tolist() == catalogue.columns.titles.tolist()
    assert whole["category"].tolist() == catalogue.columns.labels.tolist()


def test_the_find_box_shows_the_items_found(prism_home: Path) -> None:
    from engine.serving.recommender import Recommender

    catalogue = Recommender.load(prism_home / "runs" / RUN_NAME).catalogue
    wanted = str(catalogue.columns.ids[17])
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/catalogue.py")
    at.run()
    at.text_input(key="catalogue_find_item").set_value(wanted).run()
    assert not at.exception and not at.error
    found = _items(at)
    assert found["item_id"].tolist() == catalogue.item_finder.find(wanted)
    assert found["item_id"].iloc[0] == wanted
    at.text_input(key="catalogue_find_item").set_value("no such item at all").run()
    assert _items(at).empty


def _upload(prism_home: Path, data: bytes) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/catalogue.py")
    at.run()
    at.file_uploader(key="cold_upload_0").set_value([("newitems.csv", data, "text/csv")]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _category(prism_home: Path) -> str:
    from engine.serving.recommender import Recommender

    return Recommender.load(prism_home / "runs" / RUN_NAME).category_names[0]


def test_a_windows_1252_upload_is_read_and_offered(prism_home: Path) -> None:
    category = _category(prism_home)
    data = (f'item_id,title,price,category\nN1,Pâtisserie Whisk,"7,95",{category}\n'
            .encode("cp1252"))
    at = _upload(prism_home, data)
    assert not at.error, [e.value for e in at.error]
    preview = next(d.value for d in at.dataframe if "price" in d.value.columns
                   and "N1" in d.value["item_id"].tolist())
    assert preview["title"].tolist() == ["Pâtisserie Whisk"]
    assert [b.label for b in at.button if b.key == "cold_add"] == [
        f"Add 1 item to run {RUN_NAME}"]


def test_an_upload_with_an_empty_title_is_refused_before_any_button(prism_home: Path) -> None:
    category = _category(prism_home)
    data = (f"item_id,title,category\nN1,Lamp,{category}\nN2,,{category}\n"
            f"N3,Desk,{category}\n").encode()
    at = _upload(prism_home, data)
    assert [e.value for e in at.error] == [
        "new items: empty id or title in 1 row (ids 'N2'); every item needs an id and a "
        "title"]
    assert not any(b.key == "cold_add" for b in at.button)


def test_the_summary_names_the_data_and_the_run_without_server_paths(prism_home: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/catalogue.py").run()
    assert not at.exception and not at.error
    said = next(c.value for c in at.caption if c.value.startswith("Model "))
    assert "from folder `synthetic`" in said and f"run **{RUN_NAME}**" in said, said
    assert str(prism_home) not in said and "/" not in said, said


def test_items_added_since_training_explain_the_count(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold-start item makes the catalogue one item larger than the data set it was
    trained on (and than the texts encoded then): the page says so in words."""
    from engine.serving.recommender import Recommender

    home = use_home(monkeypatch, tiny_home_copy(tmp_path / "home"))
    recommender = Recommender.load(home / "runs" / RUN_NAME)
    n_data = recommender.catalogue.n_items
    recommender.add_items(pd.DataFrame({"item_id": ["NEW-1"], "title": ["Rattan lamp"],
                                        "category": [recommender.category_names[0]]}))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/catalogue.py").run()
    assert not at.exception and not at.error
    assert next(m.value for m in at.metric if m.label == "Items") == f"{n_data + 1:,}"
    assert f"{n_data + 1} items: {n_data} from the data set the run was trained on, and 1 " \
        "cold-start item added here since." in [c.value for c in at.caption]
