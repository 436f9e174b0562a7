"""The Import page in a real Chromium: after a failure nothing of the previous source stays,
"Train on it" only follows an Import, unrecognised headers get the column-mapping step, a
Windows-1252 upload read as GB18030 names the file and the right encoding, and Streamlit's
own uploader words are the studio's in Chinese.

Files go in through the uploader's file input, as a merchandiser's browser sends them; every
wait is on the app's run state or on text it draws.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import shop_exports as shops
from browser_support import (
    LONG,
    body_text,
    chromium,
    idle,
    open_page,
    require_chromium,
    studio,
    upload,
    wait_text,
)
from dashboard_support import tiny_home

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ERP_HEADER = ["Beleg", "Artikel", "Bezeichnung", "Stueck", "Datum", "Preis", "Kunde", "Land"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the tiny home (imports write data sets into it)."""
    folder = tmp_path_factory.mktemp("import_home") / "home"
    shutil.copytree(tiny_home(), folder)
    return folder


@pytest.fixture(scope="module")
def base(home: Path) -> Iterator[str]:
    require_chromium()
    with studio(home) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as instance:
        yield instance


def _buttons(page) -> set[str]:  # noqa: ANN001 - playwright Page
    """The buttons' words (an icon's name, drawn as a glyph, comes first)."""
    return {text.strip().splitlines()[-1] for text in page.locator("button").all_inner_texts()
            if text.strip()}


def test_a_failed_upload_leaves_nothing_of_the_previous_source(base: str, tmp_path: Path,
                                                               browser) -> None:  # noqa: ANN001
    shops.write_shopify(tmp_path / "shop")
    empty = tmp_path / "broken" / "products_export.csv"
    empty.parent.mkdir()
    empty.write_text("  \n")
    page = open_page(browser, f"{base}/importer")
    upload(page, sorted((tmp_path / "shop").glob("*.csv")))
    wait_text(page, "Recognised")
    assert "Train on it" not in _buttons(page)  # nothing imported yet: nothing to train on
    page.get_by_role("textbox", name="Dataset name").fill("shop-upload")
    page.get_by_role("button", name="Import", exact=True).click()
    wait_text(page, "Imported shop-upload")
    idle(page)
    assert "Train on it" in _buttons(page)
    for path in (tmp_path / "shop").glob("*.csv"):  # take the good files out again
        page.get_by_role("button", name=f"Remove {path.name}").click()
        idle(page)
    upload(page, [empty])
    wait_text(page, "products_export.csv: the file is empty")
    assert page.locator('[data-testid="stDataFrame"]').count() == 0  # no stale preview
    assert {"Import", "Train on it"}.isdisjoint(_buttons(page))
    assert "Recognised" not in body_text(page)
    page.context.close()


def test_unrecognised_headers_get_the_mapping_step(base: str, tmp_path: Path,
                                                   browser) -> None:  # noqa: ANN001
    files = shops.write_order_lines(tmp_path / "erp", ERP_HEADER)
    page = open_page(browser, f"{base}/importer")
    upload(page, files)
    mapping = page.get_by_role("button", name="Read with this mapping")
    mapping.wait_for(timeout=LONG)  # drawn by the run that read the files, after the message
    idle(page)
    assert "not recognised: columns Beleg" in body_text(page)
    assert "--map" not in body_text(page)
    assert mapping.count() == 1
    # each field's box is labelled in words ("Product ID"), the raw field name is its help
    assert page.locator('[data-testid="stSelectbox"]').filter(has_text="Product ID").count() >= 1
    page.context.close()


def test_windows_1252_read_as_gb18030_names_the_file_and_the_right_encoding(
        base: str, tmp_path: Path, browser) -> None:  # noqa: ANN001
    from browser_support import pick_option

    items = tmp_path / "items.csv"
    items.write_bytes("item_id,title\nc1,Crème brûlée\nc2,Café\n".encode("cp1252"))
    events = tmp_path / "events.csv"
    events.write_text("user_id,item_id\nu1,c1\nu2,c2\n", encoding="utf-8")
    page = open_page(browser, f"{base}/importer")
    pick_option(page, "Text encoding", "gb18030")
    upload(page, [items, events])
    wait_text(page, "items.csv: ")
    error = page.locator('[data-testid="stAlertContentError"]').first.inner_text()
    assert "prism-uploads" not in error and "/tmp" not in error, error
    assert "cp1252" in error and "gb18030" not in error.split("items.csv")[1], error
    page.context.close()


def test_the_uploader_speaks_chinese(base: str, browser) -> None:  # noqa: ANN001
    """Streamlit writes "Upload" and its size line itself; the studio's CSS draws its own words
    over the button and hides the line (the page's caption gives the limit and formats). The
    DOM keeps Streamlit's text underneath, which screen readers may still read."""
    page = open_page(browser, f"{base}/importer?lang=zh")
    button = page.locator('[data-testid="stFileUploaderDropzone"] button p').first
    drawn = button.evaluate("p => getComputedStyle(p, '::after').content")
    assert drawn == '"选择文件"', drawn
    assert button.evaluate("p => getComputedStyle(p).fontSize") == "0px"
    assert not page.locator('[data-testid="stFileUploaderDropzoneInstructions"]').is_visible()
    wait_text(page, "上传限制")
    page.context.close()
