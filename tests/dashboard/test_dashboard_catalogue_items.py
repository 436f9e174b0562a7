"""The Catalogue's item table: a page of the catalogue at a time, or the items found, and the
pages together are the whole catalogue."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from dashboard_support import APP, RUN_NAME, TIMEOUT, use_tiny_home
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
