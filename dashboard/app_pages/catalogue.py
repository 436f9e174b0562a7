"""Catalogue: what the active run knows — size, cleaning report, category tree, item map, the
items a page at a time (or those a find box matches), and cold-start items (a CSV upload that
joins the run without retraining)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import charts, pickers, state, tables
from dashboard.components import uploader_css
from dashboard.i18n import show_error, split_label, t, t_count
from engine.core.errors import PrismError
from engine.serving.coldstart import (
    NEW_ITEM_OPTIONAL,
    NEW_ITEM_REQUIRED,
    check_new_items,
    read_new_items,
)
from engine.serving.results import catalogue_rows


def summary(recommender, run: state.RunEntry) -> None:
    """The catalogue's sizes, and where it comes from by name (a data folder's and the run's
    names, never a path on the server)."""
    catalogue = recommender.catalogue
    meta = recommender.run.meta
    cols = st.columns(4)
    cols[0].metric(t("import.n_items"), f"{catalogue.n_items:,}", help=t("catalogue.items_help"))
    cols[1].metric(t("import.n_users"), f"{len(catalogue.user_index):,}")
    cols[2].metric(t("catalogue.interactions"), f"{len(catalogue.events):,}")
    cols[3].metric(t("catalogue.categories"), f"{len(catalogue.category_names):,}")
    added = state.added_items(run)
    if added:  # why the count is above the data set's (and the training's texts encoded)
        st.caption(t_count("catalogue.items_added", added, n=f"{catalogue.n_items:,}",
                           data=f"{catalogue.n_items - added:,}", added=f"{added:,}"))
    folder = state.run_data_path(meta)
    st.caption(t("catalogue.summary", model=meta.get("model", "?"),
                 dataset=meta.get("dataset", "?"),
                 folder=f"`{folder.name}`" if folder else t("catalogue.folder_gone"),
                 split=split_label(meta.get("split", "?")), run=run.name))


def cleaning_report(run: state.RunEntry) -> None:
    prepared_report = state.cleaning_rows(run)
    if prepared_report is None:
        st.info(t("catalogue.data_gone"))
        return
    frame = tables.cleaning_frame(prepared_report, [t("catalogue.col_rule"),
                                                    t("catalogue.col_count"),
                                                    t("catalogue.col_action")])
    total = int(frame.iloc[:, 1].sum())
    st.caption(t("catalogue.fixes", total=total))
    st.dataframe(frame, hide_index=True, width="stretch")


ADDED_MESSAGE = "_cold_added"
UPLOAD_ROUND = "_cold_round"  # bumped after an add: the uploader starts empty again


def category_check(recommender, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the upload the run cannot place, shown at once with every valid category."""
    from engine.serving.coldstart import unplaceable_items

    bad = unplaceable_items(frame, recommender.catalogue, recommender.run.meta)
    if bad.empty:
        return bad
    st.error(t("catalogue.bad_categories", bad=f"{len(bad):,}", n=f"{len(frame):,}",
               example=repr(bad["label"].iloc[0])), icon=":material/category:")
    with st.expander(t("catalogue.rows_to_fix", bad=f"{len(bad):,}",
                       n=f"{len(recommender.category_names):,}")):
        left, right = st.columns(2)
        left.dataframe(bad.rename(columns={"label": "category"})[["item_id", "category"]],
                       hide_index=True, width="stretch")
        right.dataframe(pd.DataFrame({t("catalogue.valid_category"):
                                      recommender.category_names}),
                        hide_index=True, width="stretch")
    return bad


def cold_start(recommender, run: state.RunEntry) -> None:
    st.caption(t("catalogue.cold_caption", required=", ".join(f"`{c}`" for c in NEW_ITEM_REQUIRED),
                 optional=", ".join(f"`{c}`" for c in NEW_ITEM_OPTIONAL)))
    if message := st.session_state.pop(ADDED_MESSAGE, None):
        st.success(message)
    st.markdown(uploader_css(), unsafe_allow_html=True)  # the uploader's words translated
    upload = st.file_uploader(t("catalogue.new_items"), type=["csv"],
                              key=f"cold_upload_{st.session_state.get(UPLOAD_ROUND, 0)}")
    if upload is None:
        return
    try:
        frame = read_new_items(upload.getvalue(), upload.name)
    except ValueError as exc:
        show_error(exc)
        return
    st.dataframe(frame.head(20), hide_index=True, width="stretch")
    try:  # ids, titles, prices and promo flags checked before any button is offered
        check_new_items(frame, recommender.catalogue, recommender.run.meta)
    except PrismError as exc:
        show_error(exc)
        return
    bad = category_check(recommender, frame)
    valid = frame.drop(index=frame.index[bad["row"].to_numpy()]) if len(bad) else frame
    if valid.empty:
        return
    add = t_count("catalogue.add_button", len(valid), n=f"{len(valid):,}", run=run.name)
    if st.button(add, type="primary", key="cold_add", icon=":material/add_circle:"):
        try:
            with st.spinner(t("catalogue.adding")):
                added = state.add_cold_items(run, valid)
        except PrismError as exc:
            show_error(exc)
            return
        st.session_state[ADDED_MESSAGE] = t_count("catalogue.added_run", len(added),
                                                  n=f"{len(added):,}", run=run.name)
        st.session_state[UPLOAD_ROUND] = st.session_state.get(UPLOAD_ROUND, 0) + 1
        st.rerun()  # every count and cache on every page now reads the grown catalogue


def item_table(recommender) -> None:  # noqa: ANN001 - the run's Recommender
    """The catalogue's items a page at a time, or those the find box matches (searched on the
    server in the catalogue's find index): only the rows shown are built and sent."""
    catalogue = recommender.catalogue
    st.subheader(t("catalogue.items", n=f"{catalogue.n_items:,}"))
    query = pickers.find_box(st, "catalogue_find_item", "item")
    if query.strip():
        found = catalogue.item_finder.find(query)
        rows = catalogue.positions_of(found) if found else np.zeros(0, dtype=np.int64)
    else:
        rows = tables.pager(st, catalogue.n_items, "catalogue_items", tables.PAGE_ROWS)
    tables.show(st, catalogue_rows(catalogue, rows), hide_index=True, key="catalogue_items")


def main() -> None:
    st.title(t("nav.catalogue"))
    run, recommender = state.active_recommender()
    summary(recommender, run)
    tree_col, report_col = st.columns([1.2, 1])
    with tree_col:
        st.plotly_chart(charts.category_tree(state.category_counts(run, recommender)),
                        key="category_tree")
    with report_col:
        st.subheader(t("catalogue.report"))
        cleaning_report(run)
    st.plotly_chart(charts.item_map(state.item_map_points(run)), key="item_map")
    item_table(recommender)
    st.subheader(t("catalogue.cold"))
    cold_start(recommender, run)


main()
