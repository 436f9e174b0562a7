"""Catalogue: what the active run knows — size, cleaning report, category tree, item map, and
cold-start items (a CSV upload that joins the run without retraining)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, state
from dashboard.i18n import t
from dashboard.uploads import OPTIONAL, REQUIRED, read_upload
from engine.errors import PrismError


def summary(recommender, run: state.RunEntry) -> None:
    catalogue = recommender.catalogue
    meta = recommender.run.meta
    cols = st.columns(4)
    cols[0].metric(t("import.n_items"), f"{catalogue.n_items:,}")
    cols[1].metric(t("import.n_users"), f"{len(catalogue.user_index):,}")
    cols[2].metric(t("catalogue.interactions"), f"{len(catalogue.events):,}")
    cols[3].metric(t("catalogue.categories"), f"{len(catalogue.category_names):,}")
    folder = state.run_data_path(meta)
    st.caption(f"Model **{meta.get('model', '?')}** · data **{meta.get('dataset', '?')}** from "
               f"`{folder or 'a folder that is gone'}` · split {meta.get('split', '?')} · "
               f"run folder `{run.path}`")


def cleaning_report(run: state.RunEntry) -> None:
    prepared_report = state.cleaning_rows(run)
    if prepared_report is None:
        st.info(t("catalogue.data_gone"))
        return
    frame = pd.DataFrame(prepared_report, columns=["rule", "count", "action"])
    total = int(frame["count"].sum())
    st.caption(t("catalogue.fixes", total=total))
    st.dataframe(frame, hide_index=True, width="stretch")


def cold_start(recommender, run: state.RunEntry) -> None:
    st.caption("New products with text but no sales yet: the two-tower model places them from "
               f"their text alone. CSV columns: {', '.join(REQUIRED)} (required), "
               f"{', '.join(OPTIONAL)} (optional).")
    upload = st.file_uploader(t("catalogue.new_items"), type=["csv"], key="cold_upload")
    if upload is None:
        return
    try:
        frame = read_upload(upload.getvalue(), upload.name)
    except ValueError as exc:
        st.error(str(exc))
        return
    st.dataframe(frame.head(20), hide_index=True, width="stretch")
    if st.button(f"Add {len(frame):,} items to run {run.name}", type="primary",
                 key="cold_add", icon=":material/add_circle:"):
        try:
            with st.spinner(t("catalogue.adding")):
                added = state.add_cold_items(run, frame)
        except PrismError as exc:
            st.error(str(exc))
            return
        st.success(t("catalogue.added", n=len(added)))


def main() -> None:
    st.title(t("nav.catalogue"))
    run, recommender = state.active_recommender()
    summary(recommender, run)
    tree_col, report_col = st.columns([1.2, 1])
    with tree_col:
        st.plotly_chart(charts.category_tree(recommender.catalogue.items, "category"),
                        key="category_tree")
    with report_col:
        st.subheader(t("catalogue.report"))
        cleaning_report(run)
    st.plotly_chart(charts.item_map(state.item_map_points(run)), key="item_map")
    st.subheader(t("catalogue.cold"))
    cold_start(recommender, run)


main()
