"""Prism studio entry point: page config, logo, navigation and the shared sidebar.

Run with `streamlit run dashboard/app.py` (this computer only, unless sign-in is configured:
see dashboard/access.py and docs/deploy.md). The sidebar picks the active run and holds the
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

import streamlit as st  # noqa: E402

from dashboard import access, bootstrap, sidebar, state, view_state  # noqa: E402
from dashboard.components import CSS  # noqa: E402
from dashboard.i18n import language_switch, show_error, split_label, t  # noqa: E402
from engine.core.errors import PrismError  # noqa: E402

LOG = logging.getLogger("prism.dashboard")
ASSETS = ROOT / "assets"
PAGES = Path(__file__).resolve().parent / "app_pages"
RUN_SEEDED = "_run_seeded"


def _run_label(entry: state.RunEntry) -> str:
    meta = entry.meta
    return f"{entry.name} · {meta.get('model', '?')}"


def _chosen_run(names: list[str], runs: list[state.RunEntry]) -> str:
    """The run to show: the linked one (first visit), the session's, else the default."""
    if not st.session_state.get(RUN_SEEDED):
        st.session_state[RUN_SEEDED] = True
        linked = str(st.query_params.get(state.RUN) or "").strip()
        if linked in names:
            return linked
        if linked:
            st.warning(t("app.run_not_here", run=repr(linked),
                         opened=repr(state.default_run(runs))), icon=":material/link_off:")
    previous = st.session_state.get(state.RUN)
    if previous in names:
        return previous
    fallback = state.default_run(runs) or names[0]
    if state.remembered_run() not in names:  # the run this studio opens stays put: a run
        state.remember_run(fallback)  # trained later becomes active only when chosen
    if previous is not None:
        st.warning(t("app.run_gone", run=repr(previous), opened=repr(fallback)),
                   icon=":material/folder_off:")
    return fallback


def _remember_choice() -> None:
    """Callback: the run picked by hand becomes the default for the next visit."""
    state.remember_run(str(st.session_state[state.RUN]))


def sidebar_run_picker() -> bool:
    """Run selectbox plus a one-line summary; False when there is no usable run."""
    runs = state.list_runs()
    if not runs:
        st.sidebar.error(t("sidebar.no_runs"))
        return False
    names = [entry.name for entry in runs]
    st.session_state[state.RUN] = _chosen_run(names, runs)
    by_name = {entry.name: entry for entry in runs}
    st.sidebar.selectbox(t("sidebar.active_run"), names,
                         **view_state.widget(state.RUN, then=_remember_choice),
                         format_func=lambda name: _run_label(by_name[name]),
                         help=t("sidebar.active_run_help"))
    meta = by_name[st.session_state[state.RUN]].meta
    metrics = meta.get("metrics") or {}
    ndcg = metrics.get("ndcg@10")
    st.sidebar.caption(
        t("sidebar.run_summary", dataset=meta.get('dataset', '?'),
          split=split_label(meta.get('split', '?')))
        + (f" · NDCG@10 **{ndcg:.4f}**" if isinstance(ndcg, int | float) else "")
        + (f" · {t('sidebar.stopped_early')}" if meta.get("stopped_early") else "")
    )
    return True


def main() -> None:
    st.set_page_config(page_title=t("app.title"), page_icon=str(ASSETS / "icon.svg"),
                       layout="wide", initial_sidebar_state="expanded")
    st.logo(str(ASSETS / "logo.svg"), icon_image=str(ASSETS / "icon.svg"), size="large")
    st.markdown(CSS, unsafe_allow_html=True)
    language_switch()
    access.sidebar_badge(access.identify())  # stops here for anyone who may not look
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
        st.Page(PAGES / "experiments.py", title=t("nav.experiments"), icon=":material/science:"),
    ]
    navigation = st.navigation(pages)
    for warning in view_state.seed_from_url():
        st.warning(t(warning.key, **warning.values), icon=":material/link:")
    if sidebar_run_picker():
        try:
            run = state.active_run()
            recommender = state.recommender(run)
            view_state.fit_to_run(recommender.catalogue.n_items, state.test_shoppers(run))
            sidebar.targets_panel(recommender.category_names, state.segment_names(run))
        except PrismError as exc:
            show_error(exc, area=st.sidebar)
    view_state.write_url()  # every page's link holds the whole view
    try:
        navigation.run()
    except PrismError as exc:  # a page forgot to catch it: still one clear line
        show_error(exc)
    except Exception as exc:  # noqa: BLE001 - never show a traceback to a merchandiser
        LOG.exception("page %s failed", navigation.title)
        st.error(t("app.unexpected", kind=type(exc).__name__, error=exc))


main()
