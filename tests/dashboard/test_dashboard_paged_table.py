"""A long table goes to the browser one page at a time; the pages together are the table."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest


def _table_page() -> None:
    import pandas as pd
    import streamlit as st

    from dashboard import tables

    frame = pd.DataFrame({"group": [f"g{i:03d}" for i in range(int(st.session_state.get(
        "rows", 450)))], "exposure_share": [i / 1000 for i in range(int(st.session_state.get(
            "rows", 450)))]})
    tables.show_paged(st, frame, "long", size=200, hide_index=True)


def test_pages_together_are_the_whole_table() -> None:
    at = AppTest.from_function(_table_page).run()
    assert not at.exception
    shown = [at.dataframe[0].value]
    for page in (2, 3):
        at.number_input(key="long_page").set_value(page).run()
        shown.append(at.dataframe[0].value)
    assert [len(part) for part in shown] == [200, 200, 50]
    assert at.caption[0].value == "Rows 401–450 of 450"
    whole = pd.concat(shown, ignore_index=True)
    assert whole["group"].tolist() == [f"g{i:03d}" for i in range(450)]


def test_a_table_of_one_page_shows_whole_without_a_pager() -> None:
    at = AppTest.from_function(_table_page)
    at.session_state["rows"] = 120
    at.run()
    assert len(at.dataframe[0].value) == 120 and not at.number_input and not at.caption


def test_a_page_past_the_last_shows_the_last_and_says_so() -> None:
    """The page box takes any entry: a page past the last (typed, or held while the table
    shrank) shows the last one and says so, never only a tooltip."""
    at = AppTest.from_function(_table_page).run()
    assert at.number_input(key="long_page").max is None
    at.number_input(key="long_page").set_value(9).run()
    assert not at.exception
    assert at.number_input(key="long_page").value == 3 and len(at.dataframe[0].value) == 50
    assert [w.value for w in at.warning] == ["Page (of 3): from 1 to 3, so 9 was lowered to 3."]
    at.session_state["rows"] = 250
    at.run()
    assert at.number_input(key="long_page").value == 2 and len(at.dataframe[0].value) == 50
    assert [w.value for w in at.warning] == ["Page (of 2): from 1 to 2, so 3 was lowered to 2."]
