"""Trade-off: accuracy against diversity for every re-ranker across the weight range.

Over a sample of shoppers (default 500) each method is evaluated at several weights; the
Pareto chart marks the Explorer's current α. Exposure by category and the long-tail curve
compare the current setting with the relevance-only ranking.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import alpha_controls, charts, state, tables, view_state
from dashboard.i18n import method_label, say_error, show_error, t
from dashboard.sample_box import SampleRange
from engine.core.errors import PrismError
from engine.evaluation.sweep import ALPHA_METHOD
from engine.exposure.slots import category_slots, popularity_lorenz
from engine.rerank.methods import SWEEP_METHODS
from engine.runs.listing import trained_loss_weights

WEIGHTS = (0.25, 0.5, 0.75, 1.0)  # weight 0 is the relevance order: evaluated once, shared
ALPHA_POINTS = 5  # a conditioned run's own curve: α evenly over its trained range
ACCURACY = {"NDCG": "ndcg@", "Precision": "precision@"}
DIVERSITY = {"Category entropy": "category_entropy@", "Category coverage": "category_coverage@",
             "ILD (categories)": "ild@"}
AXIS_KEYS = {"NDCG": "tradeoff.axis_ndcg", "Precision": "tradeoff.axis_precision",
             "Category entropy": "tradeoff.axis_entropy",
             "Category coverage": "tradeoff.axis_coverage", "ILD (categories)": "tradeoff.axis_ild"}


def _axis_name(name: str) -> str:
    """An axis option (the English name is its value) in the active language."""
    return t(AXIS_KEYS[name])


def sweep_all(run: state.RunEntry, methods: list[str], n_users: int, k: int,
              model_alpha: float | None = None) -> pd.DataFrame:
    """Per-method cached sweeps plus the shared weight-0 point, with a progress bar;
    `model_alpha`: a conditioned run's model is scored at that α before re-ranking."""
    frames, failed = [], []
    bar = st.progress(0.0, text=t("tradeoff.evaluating"))
    started = time.perf_counter()
    try:  # every method at weight 0 is exactly the relevance order: evaluate it once
        base = state.sweep_cached(str(run.path), run.stamp, "none", (0.0,), n_users, k,
                                  model_alpha)
    except PrismError as exc:
        show_error(exc, "tradeoff.sample_error")
        return pd.DataFrame()
    for index, method in enumerate(methods):
        try:
            curve = state.sweep_cached(str(run.path), run.stamp, method, WEIGHTS, n_users, k,
                                       model_alpha)
            frames.append(pd.concat([base.assign(method=method), curve], ignore_index=True))
        except PrismError as exc:
            failed.append(f"{method_label(method)}: {say_error(exc)}")
        bar.progress((index + 1) / len(methods), text=t("tradeoff.evaluated", method=method))
    bar.empty()
    for message in failed:
        st.warning(message)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    st.caption(t("tradeoff.sweep_caption", methods=len(methods), weights=len(WEIGHTS) + 1,
                 shoppers=sampled(table, n_users), seconds=time.perf_counter() - started))
    return table


def sampled(table: pd.DataFrame, asked: int) -> int:
    """How many shoppers the sweep really evaluated: the sample asked for, or every test
    shopper when the run has fewer."""
    return int(table["n_users"].max()) if "n_users" in table and len(table) else asked


def model_alphas(run: state.RunEntry) -> tuple[float, ...]:
    """Where a loss-conditioned run's own curve is evaluated (evenly over its trained range);
    empty for a run with one α."""
    span = alpha_controls.model_range(state.evaluation_recommender(run))
    return () if span is None else tuple(round(float(a), 4) for a in
                                         np.linspace(span[0], span[1], ALPHA_POINTS))


def alpha_curve(run: state.RunEntry, alphas: tuple[float, ...], n_users: int,
                k: int) -> pd.DataFrame:
    """The one model's own trade-off curve: no re-ranking, its α moved (method "alpha")."""
    with st.spinner(t("tradeoff.alpha_evaluating", n=len(alphas))):
        try:
            return state.sweep_cached(str(run.path), run.stamp, ALPHA_METHOD, alphas, n_users, k)
        except PrismError as exc:
            show_error(exc, "tradeoff.sample_error", warn=True)
            return pd.DataFrame()


def current_point(run: state.RunEntry, method: str, alpha: float, n_users: int,
                  k: int, model_alpha: float | None = None) -> pd.DataFrame | None:
    """The Explorer's exact setting evaluated on the same sample (cached like the curves);
    `model_alpha`: a conditioned run's own α as chosen on the Explorer."""
    try:
        name, weight = ("none", 0.0) if alpha == 0 else (method, round(alpha, 2))
        return state.sweep_cached(str(run.path), run.stamp, name, (weight,), n_users, k,
                                  model_alpha)
    except PrismError as exc:
        show_error(exc, "tradeoff.current_error", warn=True)
        return None


def exposure_views(run: state.RunEntry, method: str, alpha: float, n_users: int,
                   k: int, model_alpha: float | None = None) -> None:
    """Exposure treemap and long-tail curve: current setting vs relevance-only (a conditioned
    run's model at `model_alpha`, as the curves)."""
    recommender = state.evaluation_recommender(run)  # the model the slots were counted with
    catalogue = recommender.catalogue
    popularity = np.asarray(recommender.run.item_popularity, dtype=float)
    settings = {t("charts.relevance_only"): ("none", 0.0),
                t("charts.setting", method=method_label(method), alpha=alpha): (method, alpha)}
    exposure_rows, curves = [], []
    for label, (name, weight) in settings.items():
        slots = state.exposure_cached(str(run.path), run.stamp, name, weight, n_users, k,
                                      model_alpha)
        per_category = category_slots(slots, catalogue.item_categories)
        exposure_rows.append(pd.DataFrame({"setting": label, "path": catalogue.category_names,
                                           "slots": per_category}))
        curves.append(popularity_lorenz(slots, popularity[: len(slots)]).assign(setting=label))
    left, right = st.columns([1.25, 1])
    left.plotly_chart(charts.exposure_treemap(pd.concat(exposure_rows)), key="exposure_chart")
    right.plotly_chart(charts.long_tail_curve(pd.concat(curves)), key="longtail_chart")


def rerank_caption(run: state.RunEntry, alphas: tuple[float, ...],
                   model_alpha: float | None) -> str:
    """Which model α the re-rankers' curves work on: the Explorer's (a conditioned run's own
    curve is drawn too), the one α the run was trained at, or none (a baseline)."""
    if alphas:
        return t("tradeoff.alpha_curve", n=len(alphas), low=alphas[0], high=alphas[-1],
                 model_alpha=model_alpha)
    meta = state.evaluation_recommender(run).run.meta  # the model the curves re-rank
    weights = trained_loss_weights(meta)
    if weights is None:
        return t("tradeoff.rerank_at_baseline", model=meta.get("model", "?"))
    return t("tradeoff.rerank_at_trained", alpha=weights[0], beta=weights[1])


TYPED = "_tradeoff_sample_typed"  # the sample size as typed, for the rerun it causes


def _remember_typed() -> None:
    st.session_state[TYPED] = view_state.value(state.SAMPLE_SIZE)


def sweep_controls(shoppers: int) -> tuple[str, str, list[str]]:
    """Sample size (at most the run's `shoppers` test shoppers), the two axes and the
    methods to sweep."""
    sample = SampleRange.of(shoppers, view_state.SAMPLE_MIN, view_state.SAMPLE_MAX)
    # the size just typed (the studio has already brought the control itself down to the
    # run's shoppers before the page runs), else the control's own
    asked = int(st.session_state.pop(TYPED, view_state.value(state.SAMPLE_SIZE)))
    view_state.set_value(state.SAMPLE_SIZE, sample.fit(asked))
    with st.container(border=True):
        size_col, acc_col, div_col, method_col = st.columns([1, 1, 1.3, 2.2])
        # the box takes any whole number, so a smaller or larger one reaches the check above
        # (a box with bounds would refuse it with only a tooltip, and keep the old sample)
        size_col.number_input(t("tradeoff.sample"), None, None, step=50, help=sample.help(),
                              **view_state.widget(state.SAMPLE_SIZE, then=_remember_typed))
        accuracy = acc_col.selectbox(t("tradeoff.accuracy"), list(ACCURACY),
                                     **view_state.widget(view_state.AXIS_ACCURACY),
                                     format_func=_axis_name)
        diversity = div_col.selectbox(t("tradeoff.diversity"), list(DIVERSITY),
                                      **view_state.widget(view_state.AXIS_DIVERSITY),
                                      format_func=_axis_name)
        methods = method_col.multiselect(t("tradeoff.methods"), list(SWEEP_METHODS),
                                         **view_state.widget(view_state.SWEPT),
                                         format_func=method_label,
                                         placeholder=t("common.choose"))
    sample.say(asked)
    return accuracy, diversity, methods


def main() -> None:
    st.title(t("nav.tradeoff"))
    st.caption(t("tradeoff.caption"))
    try:
        run = state.active_run()
        state.recommender(run)
        prepared = state.evaluation_data(run)
    except PrismError as exc:
        show_error(exc)
        st.stop()
    if prepared is None:
        st.warning(t("tradeoff.data_gone"))
        st.stop()
    accuracy, diversity, methods = sweep_controls(state.test_shoppers(run) or
                                                  view_state.SAMPLE_MAX)
    n_users, k = int(state.setting(state.SAMPLE_SIZE)), int(state.setting(state.K))
    alpha, method = float(state.setting(state.ALPHA)), str(state.setting(state.METHOD))
    if not methods:
        st.info(t("tradeoff.pick_method"))
        st.stop()
    alphas = model_alphas(run)
    model_alpha = (alpha_controls.fit_model_alpha(state.evaluation_recommender(run))[0]
                   if alphas else None)  # the re-rankers work on the model at this α
    table = sweep_all(run, methods, n_users, k, model_alpha)
    if table.empty:
        st.stop()
    if alphas:  # one model for every α: its own curve beside the re-rankers'
        table = pd.concat([table, alpha_curve(run, alphas, n_users, k)], ignore_index=True)
    x, y = f"{DIVERSITY[diversity]}{k}", f"{ACCURACY[accuracy]}{k}"
    labels = {x: f"{_axis_name(diversity)}@{k}", y: f"{_axis_name(accuracy)}@{k}"}
    current = (current_point(run, method, alpha, n_users, k, model_alpha)
               if method in methods else None)
    st.plotly_chart(charts.pareto_chart(table, x, y, current, labels), key="pareto_chart")
    label = method_label(method)
    where = (t("tradeoff.ringed", method=label, alpha=alpha) if current is not None else
             t("tradeoff.not_ringed", method=label))
    st.caption(where + t("tradeoff.change_on_explorer"))
    st.caption(rerank_caption(run, alphas, model_alpha))
    st.caption(t("tradeoff.intervals", shoppers=sampled(table, n_users)))
    if method in SWEEP_METHODS:
        exposure_views(run, method, alpha, n_users, k, model_alpha)
    else:
        st.info(t("tradeoff.exposure_methods"))
    with st.expander(t("tradeoff.table")):
        tables.show(st, table, hide_index=True)


main()
