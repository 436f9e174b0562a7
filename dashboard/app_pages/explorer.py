"""Explorer: one shopper, the diversity slider, and how the ranking answers it, live.

Relevance-only and diversified lists side by side with rank moves, category coverage,
entropy/precision for this shopper, per-slot explanations, the history and a what-if session.
Its controls live in dashboard.view_state, which mirrors them into the URL (a shareable link).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import alpha_controls, charts, pickers, policy_view, state, tables, view_state
from dashboard.components import rank_changes, ranked_list_html
from dashboard.i18n import method_label, say, show_error, t, t_count
from dashboard.measures import explained, metric_help, metric_name, tile_texts
from dashboard.sample_box import fit_k, k_range, remember_k
from engine.core.errors import PrismError
from engine.rerank.quotas import default_cap, default_quotas
from engine.runs.listing import trained_loss_weights
from engine.serving.listmetrics import list_metrics
from engine.serving.requests import RecommendRequest

ALL_SHOPPERS = view_state.ALL_SHOPPERS


def shopper_controls(recommender, run: state.RunEntry) -> None:
    """Segment filter, shopper picker, method and k (a change reruns the whole page)."""
    with st.container(border=True):
        seg_col, user_col, method_col, k_col = st.columns([1.2, 1.2, 2.7, 0.6])
        segment_names = [ALL_SHOPPERS] + state.segment_names(run)
        if st.session_state.get(state.SEGMENT) not in segment_names:  # another run's segment
            st.session_state[state.SEGMENT] = ALL_SHOPPERS
        seg_col.selectbox(t("explorer.segment"), segment_names, **view_state.widget(state.SEGMENT),
                          format_func=lambda s: t("explorer.all_shoppers") if s == ALL_SHOPPERS
                          else s)
        chosen = st.session_state.get(state.SEGMENT, ALL_SHOPPERS)
        pool = (recommender.catalogue.user_finder if chosen == ALL_SHOPPERS
                else state.segment_finder(run, chosen))
        current = str(st.session_state[state.USER])
        options = pickers.matching(pool, "explorer_find_shopper", user_col, keep=[current])
        user_col.selectbox(t("explorer.shopper"), options, **view_state.widget(state.USER),
                           accept_new_options=True, help=t("explorer.shopper_help"))
        method_col.radio(t("explorer.method"), list(state.METHOD_LABELS),
                         **view_state.widget(state.METHOD),
                         format_func=method_label, horizontal=True,
                         help=t("explorer.method_help"))


def _quota_extras(k: int, category_names: list[str], segment: str | None) -> dict:
    """Quotas from the targets, or a per-category cap when none are set."""
    extras = state.rerank_extras("quota", segment)
    if extras:
        return extras
    return {"quotas": default_quotas(category_names, k)}


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


RESULTS = "_explorer_results"  # small per-session memo of recent lists
RESULTS_KEPT = 64
METRICS = "_explorer_metrics"  # the metric row per pair of lists (slider revisits)
HISTORIES = "_explorer_histories"  # shopper histories, per run version


def memo(name: str, key: tuple, compute):  # noqa: ANN001, ANN201 - any zero-arg callable
    """`compute()` once per key in a small per-session memo (oldest entry dropped first)."""
    store = st.session_state.setdefault(name, {})
    if key not in store:
        store[key] = compute()
        if len(store) > RESULTS_KEPT:
            store.pop(next(iter(store)))
    return store[key]


def _run_key(recommender, run: state.RunEntry) -> tuple:
    return (str(run.path), run.stamp, recommender.catalogue.n_items, recommender.run.role)


def shopper_history(recommender, run: state.RunEntry, user: str) -> pd.DataFrame:
    """The shopper's history, read once per run version (several panels show it)."""
    return memo(HISTORIES, (*_run_key(recommender, run), "history", user),
                lambda: recommender.history(user))


def get_recommendations(recommender, run: state.RunEntry, user: str,
                        history: list[str] | None, segment: str | None,
                        model_alpha: float | None = None):
    """The shopper's lists for the current settings, memoised per session (slider revisits);
    `model_alpha`: a loss-conditioned model's own α (one user-tower pass per new value)."""
    method, k = st.session_state[state.METHOD], int(st.session_state[state.K])
    extras = (_quota_extras(k, recommender.category_names, segment) if method == "quota"
              else state.rerank_extras(method, segment))
    alpha = round(float(st.session_state[state.ALPHA]), 2)
    key = (*_run_key(recommender, run), user, method, k, alpha, model_alpha,
           repr(sorted(extras.items())), None if history is None else tuple(history))
    request = RecommendRequest.of(  # the controls as the one request model
        user_id=None if history is not None else user, history=history, k=k, method=method,
        diversity_weight=alpha, alpha=model_alpha, **extras)
    return memo(RESULTS, key, lambda: recommender.serve(request))


def _list_metrics(recommender, run: state.RunEntry, result, truth: list[str] | None,
                  k: int) -> tuple[dict, dict]:
    """Metrics of the diversified and relevance-only lists, memoised per session."""
    after, before = result.table["item_id"].tolist(), result.relevance_only["item_id"].tolist()
    key = (*_run_key(recommender, run), tuple(after), tuple(before),
           None if truth is None else tuple(truth), k)
    return memo(METRICS, key, lambda: (list_metrics(recommender.catalogue, after, truth, k),
                                       list_metrics(recommender.catalogue, before, truth, k)))


def metric_row(recommender, run: state.RunEntry, result, truth: list[str] | None, k: int,
               held_out: tuple | None = None) -> None:
    """The shown lists' metrics; precision from `held_out` (the evaluation model's recommender
    and result for the same settings) when the serving model saw the held-out purchases."""
    diversified, baseline = _list_metrics(recommender, run, result, truth, k)
    if held_out is not None:
        evaluator, evaluated = held_out
        checked = _list_metrics(evaluator, run, evaluated, truth, k)
        diversified = {**diversified, "precision": checked[0]["precision"]}
        baseline = {**baseline, "precision": checked[1]["precision"]}
    cols = st.columns(4)
    places = {"category_entropy": 3, "category_coverage": 0, "precision": 2, "ild_vec": 3}
    for col, (key, digits) in zip(cols, places.items(), strict=True):
        label = metric_name(key, k)
        if diversified[key] is None:
            why = (t("explorer.no_heldout") if key == "precision"
                   else t("explorer.no_vectors"))
            col.metric(label, "—", help=f"{metric_help(key)} ({why})")
            continue
        value, delta = tile_texts(diversified[key], baseline[key], digits)
        col.metric(label, value, delta=delta, help=metric_help(key) + t("explorer.delta_help"))


def held_out_view(run: state.RunEntry, user: str, segment: str | None,
                  model_alpha: float | None = None) -> tuple | None:
    """(evaluation Recommender, its lists at the same settings and model α) for precision,
    when serving uses another model."""
    evaluator = state.evaluation_recommender(run)
    if evaluator is state.recommender(run):
        return None
    try:
        return evaluator, get_recommendations(evaluator, run, user,
                                              whatif_history(evaluator, user), segment,
                                              model_alpha)
    except PrismError:
        return None


def metrics_explained() -> None:
    """The "What do these numbers mean?" panel: a definition and a worked example each,
    drawn only while it is open (a closed panel costs every slider step nothing)."""
    panel = st.expander(t("explorer.explained"), icon=":material/help:",
                        key="explorer_explained", on_change="rerun")
    if panel.open:
        with panel:
            for name, (definition, example) in explained().items():
                st.markdown(t("explorer.explained_row", name=name, definition=definition,
                              example=example))


def lists_side_by_side(result, alpha: float, method: str, categories: list[str]):  # noqa: ANN201
    """The relevance-only and diversified lists, the diversified one sent first (the list the
    slider changes is what the browser draws first); returns the left column, where the
    coverage chart goes once everything above the lists is drawn."""
    before, after = result.relevance_only, result.table
    moves = rank_changes(before["item_id"].tolist(), after["item_id"].tolist())
    left, right = st.columns(2)
    at_alpha = "" if result.alpha is None else f" · α = {result.alpha:.2f}"
    right.markdown(ranked_list_html(after, t("explorer.diversified"),
                                    f"{method_label(method)} · w = {alpha:.2f}{at_alpha}",
                                    moves=moves, explain=True, list_id="diversified-list",
                                    categories=categories),
                   unsafe_allow_html=True)
    left.markdown(ranked_list_html(before, t("explorer.relevance_only"), f"w = 0{at_alpha}",
                                   list_id="relevance-list", categories=categories),
                  unsafe_allow_html=True)
    return left


def coverage_chart(column, result) -> None:  # noqa: ANN001 - a Streamlit column
    """Categories of the two lists; under the relevance list, the shorter one (no reasons)."""
    column.plotly_chart(charts.coverage_bars(result.relevance_only["category"],
                                             result.table["category"]), key="coverage_chart")


def open_panel(label: str, key: str, icon: str):  # noqa: ANN201 - an expander or None
    """A panel below the lists, closed at first and drawn only while open: a table or chart
    drawn below the lists is laid out again by the browser on every slider step."""
    panel = st.expander(label, key=key, on_change="rerun", icon=icon)
    return panel if panel.open else None


def history_panel(panel, recommender, run: state.RunEntry, user: str) -> None:  # noqa: ANN001
    if user not in recommender.catalogue.user_index:
        panel.info(t("explorer.no_history"))
        return
    history = shopper_history(recommender, run, user)
    left, right = panel.columns([1, 1.2])
    tables.show(left, history[["title", "category", "timestamp"]].iloc[::-1], hide_index=True,
                   width="stretch", height=300,
                   column_config={"timestamp": st.column_config.DatetimeColumn(
                       t("explorer.when"), format="YYYY-MM-DD")})
    right.plotly_chart(charts.history_timeline(history, "category", "timestamp", "title",
                                               recommender.category_names),
                       width="stretch", key="history_chart")


WHATIF_PICK = "whatif_pick"
HISTORY_PANEL, WHATIF_PANEL = "explorer_history", "explorer_whatif"  # their open states


def _add_picked() -> None:
    """Callback: add the one item picked in the finder to the session (never all matches)."""
    picked = st.session_state.get(WHATIF_PICK)
    added = list(st.session_state.get(state.WHATIF_ADD) or [])
    if picked and picked not in added:
        st.session_state[state.WHATIF_ADD] = [*added, picked]
    st.session_state[WHATIF_PICK] = None


def whatif_panel(recommender, run: state.RunEntry, user: str) -> None:
    st.caption(t("explorer.whatif_help"))
    add_col, remove_col = st.columns(2)
    catalogue = recommender.catalogue
    found = pickers.matching(catalogue.item_finder, "explorer_find_item", add_col, "item")
    added = list(st.session_state.get(state.WHATIF_ADD) or [])
    history_ids = (shopper_history(recommender, run, user)["item_id"].tolist()
                   if user in catalogue.user_index else [])
    labels = pickers.titles_of(catalogue, [*found, *added, *history_ids])
    add_col.selectbox(t("explorer.add"), found, index=None, key=WHATIF_PICK,
                      format_func=lambda item: labels.get(item, item), on_change=_add_picked,
                      placeholder=t("explorer.add_placeholder"), help=t("explorer.add_help"))
    # controls, not widget keys: the edits outlive the tab being closed or the page left
    add_col.multiselect(t("explorer.added"), added, **view_state.widget(state.WHATIF_ADD),
                        format_func=lambda item: labels.get(item, item),
                        placeholder=t("explorer.added_placeholder"))
    remove_col.multiselect(t("explorer.remove"), history_ids,
                           **view_state.widget(state.WHATIF_REMOVE),
                           format_func=lambda item: labels.get(item, item),
                           placeholder=t("explorer.remove_placeholder"))


def shopper_segment(run: state.RunEntry, user: str) -> str | None:
    segments = state.segments(run)
    return str(segments.get(user)) if user in segments.index else None


def stage_captions(column, recommender) -> None:
    """Where each weight acts: the slider at serving; the model's own α/β in training."""
    column.caption(t("explorer.alpha_stage"))
    weights = trained_loss_weights(recommender.run.meta)
    column.caption(t("explorer.trained_not_recorded", model=recommender.run.meta.get("model"))
                   if weights is None else
                   t("explorer.trained_with", alpha=weights[0], beta=weights[1]))


WEIGHT_COLUMNS = (4.2, 1.6, 0.7)  # slider, its metric tile, k


def weight_controls(recommender, model_alpha: float | None, moved: str | None,
                    asked_k: int | None = None) -> None:
    """The sliders: a conditioned run's own α (`model_alpha`, fitted into its range; `moved`
    says when a link's value had to move) first and the re-rank weight second; else the
    re-rank weight alone, saying so. The k box takes any entry; `asked_k` outside the range
    is said."""
    if moved:
        st.info(moved, icon=":material/tune:")
    # the tile is wide enough for its whole label ("Relevance 1 − w", "相关性 1 − w")
    slider_col, beta_col, k_col = st.columns(WEIGHT_COLUMNS)
    k_box = k_range(recommender.catalogue.n_items)  # a box with bounds: a tooltip, no word
    k_col.number_input("k", step=1, help=k_box.help(),
                       **view_state.widget(state.K, then=remember_k))
    k_box.say(asked_k)
    if model_alpha is None:
        slider_col.slider(t("explorer.alpha"), 0.0, 1.0, step=0.05,
                          **view_state.widget(state.ALPHA), help=t("explorer.alpha_help"))
        stage_captions(slider_col, recommender)
        slider_col.caption(t("explorer.rerank_only"))
        beta_col.metric(t("explorer.relevance_weight"),
                        f"{1 - float(st.session_state[state.ALPHA]):.2f}",
                        help=t("explorer.beta_help"))
        return
    alpha_controls.model_alpha_slider(slider_col, recommender,
                                      alpha_controls.model_range(recommender))
    beta_col.metric(t("explorer.model_alpha_metric"), f"{model_alpha:.2f}",
                    help=t("explorer.model_alpha_help"))
    rerank_col, _ = st.columns([WEIGHT_COLUMNS[0], sum(WEIGHT_COLUMNS[1:])])
    alpha_controls.rerank_weight_slider(
        rerank_col, method_label(st.session_state[state.METHOD]))


def list_notes(result, method: str, k: int, segment: str | None, known: bool) -> None:
    """What the lists below leave out or fall back on."""
    if method == "quota" and not state.rerank_extras("quota", segment):
        st.caption(t_count("explorer.default_cap", default_cap(k), cap=default_cap(k), k=k,
                           share=default_cap(k) / k))
    if result is None:
        return
    if result.notice and known:
        st.info(say(result.notice))
    if result.unavailable_left_out:
        st.caption(t("common.unavailable_left_out", n=result.unavailable_left_out))


@st.fragment
def live_view(recommender, run: state.RunEntry, user: str, known: bool) -> None:
    """The sliders and everything they change: reruns alone when a slider moves.

    The controls' values are already in the session when the fragment reruns (their
    callbacks run first), so the lists are computed and sent before anything else; the
    controls, notes and metrics above them are drawn afterwards into their places."""
    model_alpha, moved = alpha_controls.fit_model_alpha(recommender)
    asked_k = fit_k(recommender.catalogue.n_items)
    alpha, method = float(st.session_state[state.ALPHA]), st.session_state[state.METHOD]
    k = int(st.session_state[state.K])
    segment = shopper_segment(run, user)
    controls, metrics = st.container(), st.container()
    try:
        result = get_recommendations(recommender, run, user, whatif_history(recommender, user),
                                     segment, model_alpha)
    except PrismError as exc:
        with controls:
            weight_controls(recommender, model_alpha, moved, asked_k)
            list_notes(None, method, k, segment, known)
        show_error(exc, "explorer.rerank_error_targets" if state.rerank_extras(method, segment)
                   else "explorer.rerank_error")  # the targets are named when in use
        return
    chart_column = lists_side_by_side(result, alpha, method, recommender.category_names)
    with controls:
        weight_controls(recommender, model_alpha, moved, asked_k)
        list_notes(result, method, k, segment, known)
    state.write_url()
    heldout = state.heldout(run)
    truth = None if heldout is None else heldout.get(user)
    with metrics:
        metric_row(recommender, run, result, truth, k,
                   held_out_view(run, user, segment, model_alpha))
    coverage_chart(chart_column, result)
    details = st.expander(t("explorer.details"), key="explorer_details", on_change="rerun")
    if details.open:  # the table is drawn only while it is open
        tables.show(details, pd.DataFrame(result.table), hide_index=True, width="stretch")


def main() -> None:
    st.title(t("nav.explorer"))
    run, recommender = state.active_recommender()
    st.caption(t("explorer.caption_model_alpha" if alpha_controls.model_range(recommender)
                 else "explorer.caption"))  # the slider it names is the one drawn first
    notices = st.container()  # always drawn: a notice appearing must not move the tabs below
    if notice := state.ensure_view_defaults(recommender.user_ids, run.name):
        notices.info(notice, icon=":material/swap_horiz:")
    shopper_controls(recommender, run)
    user = str(st.session_state[state.USER]).strip()
    known = user in recommender.catalogue.user_index
    status = st.container()
    if not known:
        status.warning(t("explorer.unknown_shopper", user=user), icon=":material/person_off:")
    if whatif_history(recommender, user) is not None:
        status.info(t("explorer.edited_session"), icon=":material/edit_note:")
    live_view(recommender, run, user, known)
    policy_view.explorer_policy_panel(recommender, user, int(st.session_state[state.K]))
    metrics_explained()
    if (panel := open_panel(t("explorer.history"), HISTORY_PANEL, ":material/history:")):
        history_panel(panel, recommender, run, user)
    if (panel := open_panel(t("explorer.whatif"), WHATIF_PANEL, ":material/edit_note:")):
        with panel:
            whatif_panel(recommender, run, user)


main()
