"""The sidebar's category-targets panel and its full-width editor (a dialog).

Floors/caps feed the Quotas re-ranker, shares the Calibrated one. Targets are kept for
everyone and per segment. The editor's input table lives in session state and changes only
when the scope, a scenario or an import replaces it: the data editor then keeps its own edit
state across reruns, so no edit is lost (rebuilding its input from its own output reset it).
"""

from __future__ import annotations

from collections.abc import Sized

import streamlit as st

from dashboard import state
from dashboard import targets as tg
from dashboard.i18n import show_error, t, t_count

SCOPE = "targets_scope"
CATEGORY_WIDTH, NUMBER_WIDTH = 420, 140  # px: long category paths stay readable
IMPORTED = "_targets_imported"
EXPORT = "_targets_export"  # {"csv": the targets file as of the latest run}
SOURCES = "_targets_sources"  # {(scope, version): the editor's input frame}


def _column_config(category_names: list[str]) -> dict:
    return {
        "category": st.column_config.SelectboxColumn(
            t("sidebar.category"), options=category_names, required=True, width=CATEGORY_WIDTH),
        # no min/max here: the grid would clamp an out-of-range value without a word; Apply
        # checks each row and says what to fix (`tg.row_problem`)
        "floor": st.column_config.NumberColumn(t("sidebar.floor"), step=1,
                                               help=t("sidebar.floor_help_quotas"),
                                               width=NUMBER_WIDTH),
        "cap": st.column_config.NumberColumn(t("sidebar.cap"), step=1,
                                             help=t("sidebar.cap_help_quotas"),
                                             width=NUMBER_WIDTH),
        "share": st.column_config.NumberColumn(t("sidebar.share"), step=0.05,
                                               help=t("sidebar.share_help_calibrated"),
                                               width=NUMBER_WIDTH),
    }


def _scope_rows(scope: str) -> tg.Rows:
    if scope == tg.EVERYONE:
        return state.targets()
    return state.segment_targets().get(scope, {})


def _store_rows(scope: str, rows: tg.Rows) -> None:
    if scope == tg.EVERYONE:
        st.session_state[state.TARGETS] = rows
        return
    per_segment = state.segment_targets()
    per_segment[scope] = rows
    st.session_state[state.SEGMENT_TARGETS] = {k: v for k, v in per_segment.items() if v}


def _source(scope: str, version: int, category_names: list[str]):  # noqa: ANN202 - DataFrame
    """The editor's input for this scope and version, built once (then only edits apply)."""
    sources = st.session_state.setdefault(SOURCES, {})
    key = (scope, version)
    if key not in sources:
        sources[key] = tg.rows_to_frame(_scope_rows(scope), category_names)
    return sources[key]


def _bump_version() -> None:
    st.session_state[state.TARGETS_VERSION] = st.session_state.get(state.TARGETS_VERSION, 0) + 1
    st.session_state[SOURCES] = {}


def _import_csv(data: bytes, category_names: list[str], segment_names: list[str]) -> None:
    try:
        everyone, per_segment = tg.from_csv(data, category_names, segment_names)
    except ValueError as exc:
        show_error(exc, "sidebar.not_imported")
        return
    st.session_state[state.TARGETS] = everyone
    st.session_state[state.SEGMENT_TARGETS] = per_segment
    _bump_version()
    st.session_state[IMPORTED] = t("sidebar.imported", **_target_counts(everyone, per_segment))
    st.rerun(scope="fragment")  # redraw the editor from the imported rows at once


def targets_dialog(category_names: list[str], segment_names: list[str]) -> None:
    """The editor in a dialog titled in the active language (a decorator's title would be
    fixed when the module is first imported)."""
    st.dialog(t("sidebar.dialog_title"), width="large", on_dismiss="rerun")(targets_editor)(
        category_names, segment_names)


def targets_editor(category_names: list[str], segment_names: list[str]) -> None:
    """Full-width editor: pick a scope, edit rows, import/export CSV, apply."""
    st.caption(t("sidebar.dialog_caption"))
    scope = st.selectbox(t("sidebar.scope"), [tg.EVERYONE, *segment_names], key=SCOPE,
                         format_func=lambda s: t("sidebar.everyone") if s == tg.EVERYONE else s,
                         help=t("sidebar.scope_help"))
    version = st.session_state.get(state.TARGETS_VERSION, 0)
    edited = st.data_editor(_source(scope, version, category_names),
                            key=f"targets_editor_{scope}_{version}", num_rows="dynamic",
                            hide_index=True, width="content",
                            placeholder="",  # an empty cell is no bound: blank, not "None"
                            column_config=_column_config(category_names))
    problem = tg.row_problem(edited)
    if problem is None:  # a table with a row to fix keeps the rows applied before it
        _store_rows(scope, tg.frame_to_rows(edited))
    # Export builds its file when clicked, from what the latest run stored (before anything
    # below is drawn): a click that lands while an edit's rerun is still drawing the button
    # exports that edit too. The callable reads a plain dict: it runs outside the script,
    # where session state is not reachable.
    latest = st.session_state.setdefault(EXPORT, {})
    latest["csv"] = tg.to_csv(state.targets(), state.segment_targets())
    st.caption(t("sidebar.in_use", scope=t("sidebar.everyone") if scope == tg.EVERYONE
                  else scope, targets=tg.describe(_scope_rows(scope))))
    export_col, apply_col = st.columns([1, 1])
    export_col.download_button(
        t("sidebar.export"), lambda: latest["csv"], "category-targets.csv", "text/csv",
        key="targets_export", icon=":material/download:", on_click="ignore")
    if apply_col.button(t("sidebar.apply"), type="primary", key="targets_apply",
                        icon=":material/check:", width="stretch"):
        if problem is None:
            st.rerun()
        st.error(t("sidebar.not_applied", error=problem))  # the dialog stays open
    if message := st.session_state.pop(IMPORTED, None):  # below the grid: it never moves
        st.success(message)
    upload = st.file_uploader(t("sidebar.upload"),
                              type=["csv"], key="targets_upload")
    if upload is not None and st.button(t("sidebar.import"), key="targets_import",
                                        icon=":material/upload:"):
        _import_csv(upload.getvalue(), category_names, segment_names)


def _target_counts(everyone: Sized, per_segment: Sized) -> dict[str, str]:
    """"3 category targets" and "1 segment": the counts of the targets for everyone and of
    the segments with their own, in the active language."""
    return {"targets": t_count("sidebar.n_targets", len(everyone), n=len(everyone)),
            "segments": t_count("sidebar.n_segments", len(per_segment), n=len(per_segment))}


def targets_panel(category_names: list[str], segment_names: list[str]) -> None:
    """Sidebar summary of the targets with a button that opens the full-width editor."""
    with st.sidebar.container(border=True):
        everyone, per_segment = state.targets(), state.segment_targets()
        st.markdown(t("sidebar.panel_title"))
        if everyone or per_segment:
            st.caption(t("sidebar.panel_caption", **_target_counts(everyone, per_segment)))
        else:
            st.caption(t("sidebar.panel_caption_empty"))
        if st.button(t("sidebar.edit"), key="targets_open", icon=":material/tune:",
                     width="stretch"):
            targets_dialog(category_names, segment_names)
