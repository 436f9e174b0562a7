"""Experiments: split shoppers between published policies and see what each arm did.

A running or past experiment shows, per arm, lists and shoppers, conversion, clicks per list,
revenue (when the catalogue has prices), category entropy, long-tail exposure and catalogue
coverage, each with its always-valid 95% interval (engine.experiments), and the verdict only
when it is earned. A publisher starts and stops experiments here, through the write gate.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import access, experiment_charts, state
from dashboard.i18n import show_error, t
from dashboard.sample_box import FormBoxes, NumberRange
from engine.core.errors import PrismError
from engine.core.messages import fixed

ORDER = ("clicks_per_list", "conversion", "revenue_per_list", "category_entropy",
         "long_tail_exposure", "coverage")


STARTED = "_experiment_started"  # the experiment just started, said once on the next run
FITTED = "_experiment_fitted"  # the exploration just fitted, said after a start's rerun too


def _store():  # noqa: ANN202 - ExperimentStore
    from engine.events.store import EventStore
    from engine.experiments.store import ExperimentStore

    return ExperimentStore(EventStore())


def _interval(cell: dict | None) -> str:
    if not cell or cell.get("estimate") is None:
        return "–"
    if cell.get("low") is None or cell.get("high") is None:
        return f"{fixed(cell['estimate'])} ({t('experiments.too_few')})"
    return f"{fixed(cell['estimate'])} [{fixed(cell['low'])}, {fixed(cell['high'])}]"


def verdict_box(report: dict) -> None:
    verdict, metric = report["verdict"], report["experiment"]["metric"]
    control = report["arms"][0]["arm"]
    calls = [t(f"experiments.call.{call}", arm=arm, control=control)
             for arm, call in verdict["arms"].items() if call]
    if verdict["decided"]:
        st.success(t("experiments.verdict", calls="; ".join(calls),
                     metric=t(f"experiments.metric.{metric}")), icon=":material/verified:")
        return
    fewest = min(row["lists"] for row in report["arms"])
    reason = t("experiments.no_verdict_one_arm") if len(report["arms"]) < 2 else \
        t("experiments.no_verdict_lists", fewest=fewest) if fewest < 100 else \
        t("experiments.no_verdict_interval", metric=t(f"experiments.metric.{metric}"))
    st.info(reason, icon=":material/hourglass_top:")


def show_report(report: dict) -> None:
    rows = report["arms"]
    metrics = [m for m in ORDER if m in rows[0]["metrics"]]
    verdict_box(report)
    cols = st.columns(len(rows))
    for col, row in zip(cols, rows, strict=True):
        policy = t("experiments.plain") if row["policy"] == "none" else row["policy"]
        col.metric(t("experiments.arm_lists", arm=row["arm"], policy=policy),
                   f"{row['lists']:,}", help=t("experiments.shoppers", n=row["shoppers"]))
    table = pd.DataFrame([{t("experiments.chart.arm"): row["arm"],
                           **{t(f"experiments.metric.{m}"): _interval(row["metrics"].get(m))
                              for m in metrics}} for row in rows])
    st.dataframe(table, hide_index=True, key="experiments_table")
    if not any(row["lists"] for row in rows):  # nothing measured: no empty axes
        st.info(t("experiments.no_lists"))
        return
    metric = st.selectbox(t("experiments.metric_pick"), metrics, key="experiments_metric",
                          format_func=lambda m: t(f"experiments.metric.{m}"))
    left, right = st.columns(2)
    left.plotly_chart(experiment_charts.arms_chart(rows, metric), key="experiments_arms")
    if len(rows) > 1:
        right.plotly_chart(experiment_charts.arms_chart(rows[1:], metric, difference=True),
                           key="experiments_diff")
    st.caption(t("experiments.interval_caption", batch=report["coverage_batch"]))


def _arms_editor(live: list[str]) -> pd.DataFrame:
    policies = [t("experiments.plain"), *live]  # plain ranking (policy "none"), in words
    start = pd.DataFrame({"arm": ["control", "test"], "policy": [policies[0], policies[-1]],
                          "share": [0.5, 0.5]})
    return st.data_editor(start, num_rows="dynamic", hide_index=True,
                          key="experiments_arms_edit", column_config={
                              "arm": t("experiments.arm"), "share": t("experiments.share"),
                              "policy": st.column_config.SelectboxColumn(
                                  t("experiments.policy"), options=policies, required=True)})


def _start(name: str, arms: pd.DataFrame, metric: str, temperature: float) -> None:
    from engine.experiments.assign import (
        Arm,
        Experiment,
        check_arms,
        check_exploration,
        check_name,
    )

    try:
        plain = t("experiments.plain")
        picked = check_arms([Arm(str(r.arm), "none" if r.policy == plain else str(r.policy),
                                 float(r.share))
                             for r in arms.dropna().itertuples(index=False)])
        experiment = Experiment(check_name(name.strip(), "experiment name"), picked,
                                metric=metric,
                                exploration=check_exploration(temperature or None, None))
        access.gate().start_experiment(access.actor(), experiment, _store())
    except PrismError as exc:
        show_error(exc)
        return
    st.session_state[STARTED] = experiment.name  # said after the page shows it as running
    st.rerun()


def start_form() -> None:
    """A publisher starts an experiment: arms over published policies, shares, exploration."""
    if not access.may("start_experiment"):
        st.caption(t("experiments.needs_publisher"))
        return
    from engine.experiments.assign import METRICS
    from engine.policy.store import PolicyStore

    live = [f"{name}@{version}" for name, version in PolicyStore().live_versions().items()]
    boxes = FormBoxes({"experiments_temperature": NumberRange(
        0.0, 20.0, t("experiments.temperature"))}, FITTED)  # takes any entry: fitted, said
    fitted = boxes.fit()
    with st.form("experiments_start", enter_to_submit=False):  # only Start starts it
        st.subheader(t("experiments.start"))
        name = st.text_input(t("experiments.name"), key="experiments_name")
        arms = _arms_editor(live)
        metric = st.selectbox(t("experiments.verdict_metric"), METRICS,
                              key="experiments_new_metric",
                              format_func=lambda m: t(f"experiments.metric.{m}"))
        held = "experiments_temperature" in st.session_state  # else the box's first value
        temperature = st.number_input(t("experiments.temperature"), value=None if held else 0.0,
                                      step=0.5, key="experiments_temperature",
                                      help=t("experiments.temperature_help"))
        if st.form_submit_button(t("experiments.start_button"), type="primary"):
            with boxes.carry(fitted):  # said again after the rerun a start causes
                _start(name, arms, metric, float(temperature))


def stop_button(store, name: str) -> None:  # noqa: ANN001 - ExperimentStore
    if not access.may("stop_experiment"):
        return
    if st.button(t("experiments.stop"), key="experiments_stop"):
        try:
            access.gate().stop_experiment(access.actor(), name, store)
            st.rerun()
        except PrismError as exc:
            show_error(exc)


def main() -> None:
    st.title(t("nav.experiments"))
    st.caption(t("experiments.caption"))
    try:
        store = _store()
        experiments = store.list()
    except PrismError as exc:
        show_error(exc)
        st.stop()
    if started := st.session_state.pop(STARTED, None):
        st.success(t("experiments.started", name=started))
    if not experiments:
        st.info(t("experiments.none"))
    else:
        name = st.selectbox(t("experiments.pick"), [e.name for e in experiments],
                            key="experiments_pick", format_func=lambda n: t(
                                f"experiments.status.{store.get(n).status}", name=n))
        try:
            catalogue = state.recommender(state.active_run()).catalogue
            from engine.experiments.report import experiment_report

            report = experiment_report(store, name, catalogue)
        except PrismError as exc:
            show_error(exc)
            st.stop()
        show_report(report)
        if report["experiment"]["status"] == "running":
            stop_button(store, name)
    start_form()


main()
