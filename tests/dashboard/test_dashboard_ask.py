"""The Search page's Ask mode: a shopper's question answered by FAQ entries and products."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_support import APP, TIMEOUT, use_tiny_home
from streamlit.testing.v1 import AppTest

from engine.data.faq import FAQ_FILE

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared tiny run on the synthetic shop, whose folder holds the shop's own FAQ."""
    home = use_tiny_home(monkeypatch)
    assert (home / "data" / "synthetic" / FAQ_FILE).is_file()
    return home


def _ask_page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/search.py")
    at.run()
    at.button_group(key="search_mode").set_value("ask").run()
    return at


def test_ask_mode_answers_from_the_faq_beside_products() -> None:
    at = _ask_page()
    assert not at.exception and not at.error
    assert any("Type a question" in i.value for i in at.info)
    at.text_input(key="ask_question").set_value("when will my parcel arrive").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    html = " ".join(m.value for m in at.markdown)
    faq = html[html.index('id="ask-faq"'):]
    assert faq.index("How long does delivery take?") < faq.index('prism-rank">2<')
    assert "text match" in faq
    assert 'id="ask-products"' in html

