"""Category targets as tables and CSV, the metric tiles' texts (the remembered default run:
tests/test_runs_listing.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import targets as tg
from dashboard.measures import tile_texts

NAMES = ["Home > Lamps", "Home > Desks", "Garden > Tools"]


def test_editor_frame_round_trips_rows_and_drops_empty_ones() -> None:
    rows = {"Home > Lamps": {"floor": 1, "cap": None, "share": 0.3},
            "Gone > Old": {"floor": 2, "cap": None, "share": None}}
    frame = tg.rows_to_frame(rows, NAMES)
    assert frame["category"].tolist() == ["Home > Lamps"]  # unknown category left out
    blank = pd.DataFrame([{"category": "Home > Desks", "floor": None, "cap": None,
                           "share": None}])
    assert tg.frame_to_rows(pd.concat([frame, blank])) == {
        "Home > Lamps": {"floor": 1, "cap": None, "share": 0.3}}


def test_targets_csv_round_trips_everyone_and_segments() -> None:
    everyone = {"Home > Lamps": {"floor": 1, "cap": 3, "share": None}}
    per_segment = {"Garden > Tools": {"Garden > Tools": {"floor": None, "cap": None,
                                                         "share": 0.5}}}
    text = tg.to_csv(everyone, per_segment)
    back = tg.from_csv(text.encode(), NAMES, ["Garden > Tools"])
    assert back == (everyone, per_segment)


@pytest.mark.parametrize(("body", "message"), [
    ("category,floor\nHome > Lamps,1\n", "lacks the column"),
    ("category,floor,cap,share\nNowhere,1,,\n", "does not have: 'Nowhere'"),
    ("category,floor,cap,share\nHome > Lamps,-1,,\n", "line 2: floor"),
    ("segment,category,floor,cap,share\nMars,Home > Lamps,1,,\n", "segment"),
])
def test_bad_targets_csv_says_what_to_fix(body: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tg.from_csv(body.encode(), NAMES, [])


def test_describe_reads_like_a_sentence() -> None:
    rows = {"Home > Lamps": {"floor": 3, "cap": 4, "share": 0.2}}
    assert tg.describe(rows) == "Home > Lamps: floor 3 · cap 4 · share 0.20"
    assert tg.describe({}) == "no targets set"


def test_a_tile_never_shows_negative_zero() -> None:
    assert tile_texts(-1e-12, None, 3) == ("0.000", None)  # a one-category entropy
    assert tile_texts(0.5, 0.5003, 3) == ("0.500", None)  # a change of -0.0003: none
    assert tile_texts(0.5, 0.25, 2) == ("0.50", "0.25")
    assert tile_texts(3.0, 5.0, 0) == ("3", "-2")


@pytest.mark.parametrize(("row", "message"), [
    ({"category": "Home > Lamps", "floor": 60, "cap": 20, "share": None},
     "row 1 (Home > Lamps): Floor must be from 0 to 50, got 60"),
    ({"category": "Home > Lamps", "floor": 6, "cap": 2, "share": None},
     "row 1: quotas['Home > Lamps']: floor 6 is above cap 2; lower the floor"),
    ({"category": "Home > Lamps", "floor": None, "cap": None, "share": -5.0},
     "row 1 (Home > Lamps): Share must be from 0.0 to 1.0, got -5"),
    ({"category": "Home > Lamps", "floor": None, "cap": None, "share": None},
     "row 1 (Home > Lamps): set a floor, a cap or a share"),
    ({"category": None, "floor": 1, "cap": None, "share": None}, "row 1: pick a category"),
])
def test_a_row_the_editor_cannot_apply_is_named_with_what_to_do(row: dict, message: str,
                                                                ) -> None:
    frame = pd.DataFrame([row], columns=tg.COLUMNS)
    assert message in tg.row_problem(frame)
    assert tg.row_problem(pd.DataFrame([{**row, "category": None, "floor": None, "cap": None,
                                         "share": None}], columns=tg.COLUMNS)) is None


def _editor_page() -> None:
    import pandas as pd
    import streamlit as st

    from dashboard import sidebar, state

    st.session_state.setdefault(state.TARGETS, {"Home > Lamps": {"floor": 1, "cap": 3,
                                                                 "share": None}})
    bad = pd.DataFrame([{"category": "Home > Lamps", "floor": 60, "cap": 20, "share": -5.0}])
    st.session_state.setdefault(sidebar.SOURCES, {("Everyone", 0): bad})
    sidebar.targets_editor(["Home > Lamps", "Home > Desks"], [])


def test_apply_refuses_a_bad_row_and_keeps_the_targets_applied_before() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_editor_page).run()
    assert not at.exception and not at.error
    at.button(key="targets_apply").click().run()
    assert not at.exception, at.exception
    (error,) = at.error
    assert "Targets not applied: row 1 (Home > Lamps): Floor must be from 0 to 50, got 60" in \
        error.value
    assert at.session_state["targets"] == {"Home > Lamps": {"floor": 1, "cap": 3,
                                                            "share": None}}


def _blank_page() -> None:
    import streamlit as st

    from dashboard import sidebar, state

    st.session_state.setdefault(state.TARGETS, {"Home > Lamps": {"floor": 1, "cap": None,
                                                                 "share": None}})
    sidebar.targets_editor(["Home > Lamps", "Home > Desks"], [])


def test_an_empty_target_cell_is_blank_not_none() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_blank_page).run()
    assert not at.exception, at.exception
    editor = next(d for d in at.dataframe if "share" in d.value.columns)
    assert editor.proto.HasField("placeholder") and editor.proto.placeholder == ""
