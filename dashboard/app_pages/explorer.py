"""Explorer: one shopper, the diversity slider, and how the ranking answers it, live.

Relevance-only and diversified lists side by side with rank moves, category coverage,
entropy/precision for this shopper, per-slot explanations, the history and a what-if session.
Widget keys `user`, `alpha`, `method`, `k` mirror the URL so a view can be shared as a link.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard import charts, policy_view, state
from dashboard.components import rank_changes, ranked_list_html
from dashboard.i18n import t
from dashboard.measures import list_metrics
from engine.errors import PrismError

ALL_SHOPPERS = "All shoppers"


def controls(recommender, run: state.RunEntry) -> None:
    """Shopper picker (with a segment filter), method, k and the α slider."""
    users = recommender.user_ids
    state.ensure_view_defaults(users)
    segments = state.segments(run)
    with st.container(border=True):
        seg_col, user_col, method_col, k_col = st.columns([1.2, 1.2, 2.7, 0.6])
        segment_names = [ALL_SHOPPERS] + sorted(s for s in segments.unique() if s)
        if st.session_state.get(state.SEGMENT) not in segment_names:  # another run's segment
            st.session_state[state.SEGMENT] = ALL_SHOPPERS
        seg_col.selectbox(t("explorer.segment"), segment_names, key=state.SEGMENT,
                          format_func=lambda s: t("explorer.all_shoppers") if s == ALL_SHOPPERS
                          else s)
        chosen = st.session_state.get(state.SEGMENT, ALL_SHOPPERS)
        options = users if chosen == ALL_SHOPPERS else segments.index[segments == chosen].tolist()
        current = str(st.session_state[state.USER])
        if current not in options:
            options = [current, *options]
        user_col.selectbox(t("explorer.shopper"), options, key=state.USER,
                           accept_new_options=True, help=t("explorer.shopper_help"))
        method_col.radio(t("explorer.method"), list(state.METHOD_LABELS), key=state.METHOD,
                         format_func=state.METHOD_LABELS.get, horizontal=True)
        k_col.number_input("k", min_value=state.K_MIN, max_value=state.K_MAX, step=1,
                           key=state.K)
        slider_col, beta_col = st.columns([5, 1])
        slider_col.slider(t("explorer.alpha"), 0.0, 1.0, step=0.05, key=state.ALPHA,
                          help=t("explorer.alpha_help"))
        alpha = float(st.session_state[state.ALPHA])
        beta_col.metric("β = 1 − α", f"{1 - alpha:.2f}",
                        help=t("explorer.beta_help"))


def _quota_extras(k: int, category_names: list[str]) -> dict:
    """Quotas from the side panel, or a per-category cap when none are set."""
    extras = state.rerank_extras("quota")
    if extras:
        return extras
    cap = max(1, math.ceil(k / 4))
    st.caption(t("explorer.default_cap", cap=cap))
    return {"quotas": {name: [None, cap] for name in category_names}}


def whatif_history(recommender, user: str) -> list[str] | None:
    """The edited session history, or None when the what-if panel is untouched."""
    if st.session_state.get("_whatif_for") != user:
        st.session_state["_whatif_for"] = user
        st.session_state[state.WHATIF_ADD] = []
        st.session_state[state.WHATIF_REMOVE] = []
    added = st.session_state.get(state.WHATIF_ADD) or []
    removed = set(st.session_state.get(state.WHATIF_REMOVE) or [])
    if not added and not removed:
        return None
    base = []
    if user in recommender.catalogue.user_index:
        base = recommender.history(user)["item_id"].tolist()
    return [item for item in base if item not in removed] + list(added)


def get_recommendations(recommender, user: str, history: list[str] | None):
    method, k = st.session_state[state.METHOD], int(st.session_state[state.K])
    extras = (_quota_extras(k, recommender.category_names) if method == "quota"
              else state.rerank_extras(method))
    common = dict(k=k, method=method, diversity_weight=float(st.session_state[state.ALPHA]),
                  **extras)
    if history is not None:
        return recommender.recommend(history=history, **common)
    return recommender.recommend(user_id=user, **common)


def metric_row(recommender, result, truth: list[str] | None, k: int) -> None:
    diversified = list_metrics(recommender.catalogue, result.table["item_id"], truth, k)
    baseline = list_metrics(recommender.catalogue, result.relevance_only["item_id"], truth, k)
    cols = st.columns(4)
    specs = [(t("metric.entropy"), "entropy", "{:.3f}"),
             (t("metric.coverage"), "coverage", "{:.0f}"),
             (t("metric.precision", k=k), "precision", "{:.2f}"),
             (t("metric.ild"), "ild", "{:.3f}")]
    for col, (label, key, fmt) in zip(cols, specs, strict=True):
        value, before = diversified[key], baseline[key]
        if value is None:
            why = (t("explorer.no_heldout") if key == "precision"
                   else t("explorer.no_vectors"))
            col.metric(label, "—", help=f"{t('metric_def.' + key)} ({why})")
            continue
        delta = (None if before is None or fmt.format(value - before) == fmt.format(0)
                 else fmt.format(value - before))
        col.metric(label, fmt.format(value), delta=delta, help=t("metric_def." + key)
                   + t("explorer.delta_help"))


def lists_side_by_side(result, alpha: float, method: str) -> None:
    before, after = result.relevance_only, result.table
    moves = rank_changes(before["item_id"].tolist(), after["item_id"].tolist())
    left, right = st.columns(2)
    left.markdown(ranked_list_html(before, t("explorer.relevance_only"), "α = 0",
                                   list_id="relevance-list"), unsafe_allow_html=True)
    # the relevance list is the shorter one (no explanations): the chart fills the space below
    left.plotly_chart(charts.coverage_bars(before["category"], after["category"]),
                      key="coverage_chart")
    right.markdown(ranked_list_html(after, t("explorer.diversified"),
                                    f"{state.METHOD_LABELS[method]} · α = {alpha:.2f}",
                                    moves=moves, explain=True, list_id="diversified-list"),
                   unsafe_allow_html=True)


def history_panel(recommender, user: str) -> None:
    if user not in recommender.catalogue.user_index:
        st.info(t("explorer.no_history"))
        return
    history = recommender.history(user)
    left, right = st.columns([1, 1.2])
    left.dataframe(history[["title", "category", "timestamp"]].iloc[::-1], hide_index=True,
                   width="stretch", height=300,
                   column_config={"timestamp": st.column_config.DatetimeColumn(
                       t("explorer.when"), format="YYYY-MM-DD")})
    right.plotly_chart(charts.history_timeline(history, "category", "timestamp", "title"),
                       width="stretch", key="history_chart")


def whatif_panel(recommender, user: str) -> None:
    titles = recommender.catalogue.items.set_index("item_id")["title"].astype(str)
    labels = titles.to_dict()
    st.caption(t("explorer.whatif_help"))
    add_col, remove_col = st.columns(2)
    add_col.multiselect(t("explorer.add"), titles.index.tolist(), key=state.WHATIF_ADD,
                        format_func=lambda item: labels.get(item, item),
                        placeholder=t("explorer.add_placeholder"))
    history_ids = (recommender.history(user)["item_id"].tolist()
                   if user in recommender.catalogue.user_index else [])
    remove_col.multiselect(t("explorer.remove"), history_ids, key=state.WHATIF_REMOVE,
                           format_func=lambda item: labels.get(item, item),
                           placeholder=t("explorer.remove_placeholder"))


def main() -> None:
    st.title(t("nav.explorer"))
    st.caption(t("explorer.caption"))
    for message in state.seed_from_url():
        st.warning(message, icon=":material/link:")
    run, recommender = state.active_recommender()
    controls(recommender, run)
    state.write_url()
    user = str(st.session_state[state.USER]).strip()
    alpha, method = float(st.session_state[state.ALPHA]), st.session_state[state.METHOD]
    k = int(st.session_state[state.K])
    known = user in recommender.catalogue.user_index
    if not known:
        st.warning(t("explorer.unknown_shopper", user=user), icon=":material/person_off:")
    try:
        result = get_recommendations(recommender, user, whatif_history(recommender, user))
    except PrismError as exc:
        st.error(t("explorer.rerank_error", error=exc))
        st.stop()
    if result.notice and known:
        st.info(result.notice)
    heldout = state.heldout(run)
    truth = None if heldout is None else heldout.get(user)
    metric_row(recommender, result, truth, k)
    lists_side_by_side(result, alpha, method)
    policy_view.explorer_policy_panel(recommender, user, k)
    history_tab, whatif_tab, detail_tab = st.tabs([t("explorer.history"), t("explorer.whatif"),
                                                   t("explorer.details")])
    with history_tab:
        history_panel(recommender, user)
    with whatif_tab:
        whatif_panel(recommender, user)
    with detail_tab:
        st.dataframe(pd.DataFrame(result.table), hide_index=True, width="stretch")


main()
