"""Prism studio entry point: page config, logo, navigation and the shared sidebar.

Run with `streamlit run dashboard/app.py`. The sidebar picks the active run and holds the
merchandiser's category targets (floors, caps, shares) that the calibrated and quota
re-rankers read. On an empty machine the first visit builds a starter run, visibly.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from dashboard import bootstrap, state  # noqa: E402
from dashboard.components import CSS  # noqa: E402
from dashboard.i18n import language_switch, t  # noqa: E402
from engine.errors import PrismError  # noqa: E402

LOG = logging.getLogger("prism.dashboard")
ASSETS = ROOT / "assets"
PAGES = Path(__file__).resolve().parent / "app_pages"


def _run_label(entry: state.RunEntry) -> str:
    meta = entry.meta
    return f"{entry.name} · {meta.get('model', '?')}"


def sidebar_run_picker() -> bool:
    """Run selectbox plus a one-line summary; False when there is no usable run."""
    runs = state.list_runs()
    if not runs:
        st.sidebar.error(t("sidebar.no_runs"))
        return False
    names = [entry.name for entry in runs]
    previous = st.session_state.get(state.RUN)
    if previous not in names:
        if previous is not None:
            st.warning(t("sidebar.run_gone", previous=previous, now=names[0]),
                       icon=":material/folder_off:")
        st.session_state[state.RUN] = names[0]
    by_name = {entry.name: entry for entry in runs}
    st.sidebar.selectbox(t("sidebar.active_run"), names, key=state.RUN,
                         format_func=lambda name: _run_label(by_name[name]),
                         help=t("sidebar.active_run_help"))
    meta = by_name[st.session_state[state.RUN]].meta
    metrics = meta.get("metrics") or {}
    ndcg = metrics.get("ndcg@10")
    st.sidebar.caption(
        t("sidebar.run_summary", dataset=meta.get('dataset', '?'), split=meta.get('split', '?'))
        + (f" · NDCG@10 **{ndcg:.4f}**" if isinstance(ndcg, int | float) else "")
    )
    return True


def _targets_frame(category_names: list[str]) -> pd.DataFrame:
    rows = state.targets()
    return pd.DataFrame(
        [{"category": name, "floor": row.get("floor"), "cap": row.get("cap"),
          "share": row.get("share")} for name, row in rows.items() if name in category_names],
        columns=["category", "floor", "cap", "share"],
    ).astype({"floor": "Int64", "cap": "Int64", "share": "Float64"})


def sidebar_targets(category_names: list[str]) -> None:
    """Editable floors/caps (quota) and target shares (calibrated) per category."""
    with st.sidebar.expander(t("sidebar.targets"), icon=":material/tune:",
                             expanded=bool(state.targets())):
        st.caption(t("sidebar.targets_help"))
        version = st.session_state.get(state.TARGETS_VERSION, 0)
        edited = st.data_editor(
            _targets_frame(category_names), key=f"targets_editor_{version}",
            num_rows="dynamic", hide_index=True, width="stretch",
            column_config={
                "category": st.column_config.SelectboxColumn(
                    t("sidebar.category"), options=category_names, required=True,
                    width="medium"),
                "floor": st.column_config.NumberColumn(t("sidebar.floor"), min_value=0,
                                                       max_value=50, step=1,
                                                       help=t("sidebar.floor_help")),
                "cap": st.column_config.NumberColumn(t("sidebar.cap"), min_value=0, max_value=50,
                                                     step=1, help=t("sidebar.cap_help")),
                "share": st.column_config.NumberColumn(t("sidebar.share"), min_value=0.0,
                                                       max_value=1.0, step=0.05,
                                                       help=t("sidebar.share_help")),
            },
        )
        rows = {}
        for row in edited.dropna(subset=["category"]).itertuples(index=False):
            rows[str(row.category)] = {
                "floor": None if pd.isna(row.floor) else int(row.floor),
                "cap": None if pd.isna(row.cap) else int(row.cap),
                "share": None if pd.isna(row.share) else float(row.share),
            }
        st.session_state[state.TARGETS] = rows


def main() -> None:
    st.set_page_config(page_title=t("app.title"), page_icon=str(ASSETS / "icon.svg"),
                       layout="wide", initial_sidebar_state="expanded")
    st.logo(str(ASSETS / "logo.svg"), icon_image=str(ASSETS / "icon.svg"), size="large")
    st.markdown(CSS, unsafe_allow_html=True)
    state.keep_widget_state()
    language_switch()
    if not bootstrap.ensure_starter_run():
        st.stop()
    pages = [
        st.Page(PAGES / "explorer.py", title=t("nav.explorer"), icon=":material/explore:",
                default=True),
        st.Page(PAGES / "tradeoff.py", title=t("nav.tradeoff"), icon=":material/balance:"),
        st.Page(PAGES / "ledger.py", title=t("nav.ledger"), icon=":material/account_balance:"),
        st.Page(PAGES / "training.py", title=t("nav.training"), icon=":material/model_training:"),
        st.Page(PAGES / "catalogue.py", title=t("nav.catalogue"), icon=":material/category:"),
        st.Page(PAGES / "search.py", title=t("nav.search"), icon=":material/search:"),
        st.Page(PAGES / "scenarios.py", title=t("nav.scenarios"), icon=":material/bookmarks:"),
        st.Page(PAGES / "importer.py", title=t("nav.import"), icon=":material/upload_file:"),
        st.Page(PAGES / "policies.py", title=t("nav.policies"), icon=":material/rule:"),
    ]
    navigation = st.navigation(pages)
    if sidebar_run_picker():
        try:
            sidebar_targets(state.recommender().category_names)
        except PrismError as exc:
            st.sidebar.error(str(exc))
    try:
        navigation.run()
    except PrismError as exc:  # a page forgot to catch it: still one clear line
        st.error(str(exc))
    except Exception as exc:  # noqa: BLE001 - never show a traceback to a merchandiser
        LOG.exception("page %s failed", navigation.title)
        st.error(t("app.unexpected", kind=type(exc).__name__, error=exc))


main()
