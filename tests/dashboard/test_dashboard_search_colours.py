"""Search colours each category once for the whole page: the same chip colour in both
columns, the one the run's categories give it everywhere in the studio."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dashboard_support import APP, RUN_NAME, TIMEOUT, use_tiny_home
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow
CHIP = re.compile(r'style="background:([^"]+)">([^<]+)</span>')


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_tiny_home(monkeypatch)


def test_a_category_has_one_colour_across_both_columns(prism_home: Path) -> None:
    import html

    from dashboard.charts import category_colors
    from engine.serving.recommender import Recommender

    names = list(Recommender.load(prism_home / "runs" / RUN_NAME).category_names)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/search.py").run()
    at.text_input(key="search_query").set_value("classic gadget").run()
    assert not at.exception
    page = " ".join(m.value for m in at.markdown if "search-" in m.value)
    chips = {(colour, html.unescape(name)) for colour, name in CHIP.findall(page)}
    shown = {name for _, name in chips}
    assert len(shown) >= 2
    expected = category_colors(sorted(shown), names)
    assert chips == {(expected[name], name) for name in shown}
