"""The Import page reads only what the operator allowed: folders below the roots, the named
databases, tables within the size and row limits; refusals are one clear error."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "app_pages" / "importer.py"


def _page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: str | None) -> AppTest:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("PRISM_HOME", str(home))
    if rules is not None:
        (home / "sources.toml").write_text(rules)
    return AppTest.from_file(str(PAGE), default_timeout=30).run()


def _read_folder(at: AppTest, text: str) -> AppTest:
    at.radio(key="imp_kind").set_value("folder").run()
    at.text_input(key="imp_folder").input(text).run()
    return at.button(key="imp_read_folder").click().run()


@pytest.mark.parametrize("text", ["/etc", "/etc/hostname", "~", "../.."])
def test_folders_outside_the_roots_are_refused(tmp_path, monkeypatch, text):
    at = _read_folder(_page(tmp_path, monkeypatch, None), text)
    assert not at.exception
    error = at.error[0].value
    assert "the studio reads only folders below" in error and "imports" in error
    if Path("/etc/hostname").is_file():
        assert Path("/etc/hostname").read_text().strip() not in error
    assert "imp_items_rows" not in [getattr(d, "key", None) for d in at.dataframe]


def test_a_link_out_of_the_root_is_refused(tmp_path, monkeypatch):
    at = _page(tmp_path, monkeypatch, None)
    (tmp_path / "home" / "imports").mkdir(exist_ok=True)
    (tmp_path / "home" / "imports" / "sneaky").symlink_to("/etc")
    at = _read_folder(at, "sneaky")
    assert "the studio reads only folders below" in at.error[0].value


def test_databases_are_only_those_the_operator_named(tmp_path, monkeypatch):
    at = _page(tmp_path, monkeypatch, None)
    at.radio(key="imp_kind").set_value("sql").run()
    assert not at.exception and not at.error
    assert "No database is offered yet" in at.info[0].value
    assert not at.text_area and not at.text_input  # nothing to name a variable or a file with


def test_an_upload_that_unpacks_past_the_limit_is_refused(tmp_path, monkeypatch):
    at = _page(tmp_path, monkeypatch, "[uploads]\nmax_mb = 1\n")
    rows = 20_000
    path = tmp_path / "items.parquet"
    pq.write_table(pa.table({"item_id": ["A" * 200] * rows, "title": ["t"] * rows}), path,
                   compression="zstd")
    assert path.stat().st_size < 2**20  # passes a limit that counts compressed bytes
    at.file_uploader(key="imp_files").set_value(
        ("items.parquet", path.read_bytes(), "application/octet-stream")).run()
    at.button(key="imp_read_upload").click().run()
    assert not at.exception
    assert "MB unpacked is over the studio's limit of 1 MB" in at.error[0].value
