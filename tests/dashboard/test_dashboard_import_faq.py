"""The Import page reads a faq.csv beside items and events: reconciled, written with the data."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.data.faq import load_faq
from tests.ask_support import write_faq

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "app_pages" / "importer.py"


def test_folder_with_an_faq_is_reconciled_and_imported(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.data import generate_shop, write_tables

    items, events = generate_shop(n_items=40, n_users=20, seed=3)
    folder = tmp_path / "shop"
    write_tables(items, events, folder, fmt="csv")
    write_faq(folder)
    home = tmp_path / "home"
    home.mkdir()
    (home / "sources.toml").write_text(f'[folders]\nroots = ["{tmp_path.as_posix()}"]\n')
    monkeypatch.setenv("PRISM_HOME", str(home))
    at = AppTest.from_file(str(PAGE), default_timeout=30).run()
    at.radio(key="imp_kind").set_value("folder").run()
    at.text_input(key="imp_folder").input(str(folder)).run()
    at.button(key="imp_read_folder").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    counts = next(frame.value for frame in at.dataframe
                  if "faq" in frame.value.iloc[:, 0].astype(str).tolist())
    faq = counts[counts.iloc[:, 0] == "faq"].iloc[0]
    assert (faq.iloc[1], faq.iloc[2], faq.iloc[3]) == ("faq.csv", 7, 5)
    assert faq.iloc[4] == "missing id: 1; repeated id (first kept): 1" and faq.iloc[5] == "✓"
    at.text_input(key="imp_name").input("faqshop").run()
    at.button(key="imp_go").click().run()
    assert not at.exception and not at.error
    assert len(load_faq(home / "data" / "faqshop")) == 5
