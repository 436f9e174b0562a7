"""Ledger: who gets seen across shoppers, and prices that bring group shares to targets.

Over a sample of held-out shoppers the page shows each group's share of position-discounted
exposure beside its share of the catalogue and of held-out purchases, with the Gini and the
top-10% share. Targets (floors and ceilings per group) are edited in a table; "Fit prices"
fits one price per group on half the sample and shows the shares before and after on the
other half; a publisher can then put those prices live in a policy (through the write gate,
recorded in the audit log as a target change).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import access, ledger_charts, state, tables
from dashboard.i18n import say, show_error, t, t_count
from dashboard.sample_box import NumberRange, SampleRange
from engine.core.errors import PrismError
from engine.exposure.ledger import TOP_SHARE
from engine.rerank.methods import QUOTA_FREE_METHODS

GROUPINGS = ("brand", "top_category", "price_band", "promo", "new", "popularity")
METHODS = QUOTA_FREE_METHODS  # the ledger sets no quotas
SAMPLE_MIN, SAMPLE, SAMPLE_MAX = 100, 1000, 20000  # shoppers in the ledger's sample
PRICES = "ledger_prices"  # the last fitted prices (JSON), until they are put live or refitted
FITTED = "ledger_fitted"  # (settings and targets it was fitted for, outcome, TargetSet)


def controls(shoppers: int) -> tuple[str, int, int, str, float]:
    """The ledger's settings; the sample holds at most the run's `shoppers` test shoppers."""
    sample = SampleRange.of(shoppers, SAMPLE_MIN, SAMPLE_MAX)
    asked = sample.keep("ledger_sample")  # typed outside the range (or from another run)
    with st.container(border=True):
        by_col, days_col, size_col, method_col, weight_col = st.columns([1.2, 0.8, 1, 1, 1])
        by = by_col.selectbox(t("ledger.group_by"), GROUPINGS,
                              format_func=lambda by: t(f"ledger.by.{by}"),
                              key="ledger_by")
        days = NumberRange(1, 3650, t("ledger.new_days")).box(
            days_col, "ledger_new_days", 30, step=1, disabled=by != "new")
        # the box takes any whole number (one outside the range is brought into it and
        # said, never refused by the box with only a tooltip)
        size = size_col.number_input(t("ledger.sample"), None, None,
                                     None if asked is not None else min(SAMPLE, sample.high),
                                     step=100, key="ledger_sample", help=sample.help())
        method = method_col.selectbox(t("ledger.reranker"), METHODS,
                                      format_func=lambda m: t(f"ledger.method.{m}"),
                                      key="ledger_method")
        weight = weight_col.slider(t("ledger.weight"), 0.0, 1.0, 0.0, 0.05,
                                   key="ledger_weight", disabled=method == "none")
    sample.say(asked)
    return by, int(days), int(size), method, float(weight)


def shown_groups(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """A copy of `frame` whose `group` column says the labels Prism makes ("promo",
    "(none)", ...) in the active language; data labels stay as they are."""
    from engine.exposure.groups import group_label

    return frame.assign(group=[say(group_label(by, str(g))) for g in frame["group"]])


def show_ledger(ledger) -> None:  # noqa: ANN001 - engine.exposure.ledger.Ledger
    summary = ledger.summary
    cols = st.columns(4)
    cols[0].metric(t("ledger.gini_groups"), f"{summary['group_gini']:.3f}",
                   help=t("ledger.gini_help"))
    n_groups = int(summary["n_groups"])
    top = max(1, math.ceil(TOP_SHARE * n_groups))
    exposed = int((ledger.table["exposure_share"] > 0).sum())
    cols[1].metric(t("ledger.top10_count", top=top, n=n_groups),
                   f"{summary['group_top10_share']:.1%}",
                   help=t("ledger.top10_help", exposed=exposed, n=n_groups, top=top))
    cols[2].metric(t("ledger.gini_items"), f"{summary['item_gini']:.3f}")
    cols[3].metric(t("ledger.groups"), f"{summary['n_groups']}")
    if ledger.meta.get("note"):
        st.caption(say(ledger.meta["note"]))
    table = shown_groups(ledger.table, ledger.meta["by"])
    st.plotly_chart(ledger_charts.shares_chart(table), key="ledger_chart")
    st.caption(t("ledger.chart_caption"))
    with st.expander(t("ledger.table")):
        percent = st.column_config.NumberColumn(format="percent")
        tables.show_paged(st, table, "ledger_table", hide_index=True, column_config={
            "group": st.column_config.TextColumn(group_header(ledger.meta["by"])),
            **{c: percent for c in table.columns if c.endswith("_share")}})


def group_names(labels: list[str], by: str) -> dict[str, str]:
    """{label as shown: the engine's label} for the targets editor's choices."""
    from engine.exposure.groups import group_label

    return {say(group_label(by, label)): label for label in labels}


def targets_editor(names: dict[str, str]) -> pd.DataFrame:
    """The targets table; its groups as shown (`names`: shown -> the engine's label)."""
    st.subheader(t("ledger.targets"))
    st.caption(t("ledger.targets_caption"))
    # nullable floats: a row added with only a floor or only a cap holds <NA> in the other
    # column, which a float64 column cannot (pandas would widen it, later refuse the row)
    start = pd.DataFrame({"group": pd.Series(dtype="string"),
                          "min %": pd.Series(dtype="Float64"),
                          "max %": pd.Series(dtype="Float64")})
    shared = st.query_params.get("targets")  # a link can carry targets: [["*", 3, null], ...]
    if shared:
        try:
            shown = {label: name for name, label in names.items()}  # a link names labels
            rows = [(shown.get(str(g), str(g)), lo, hi) for g, lo, hi in json.loads(shared)]
            start = pd.DataFrame(rows, columns=start.columns).astype(start.dtypes.to_dict())
        except (ValueError, TypeError):
            st.warning(t("ledger.bad_link"))
    return st.data_editor(start, key="ledger_targets", num_rows="dynamic", hide_index=True,
                          placeholder="",  # an empty cell is no bound: blank, not "None"
                          column_config={"group": st.column_config.SelectboxColumn(
                              t("ledger.group"), options=["*", *names], required=True),
                              "min %": st.column_config.NumberColumn(t("column.min %"),
                                                                     min_value=0.0,
                                                                     max_value=100.0),
                              "max %": st.column_config.NumberColumn(t("column.max %"),
                                                                     min_value=0.0,
                                                                     max_value=100.0)})


class RowProblem(ValueError):
    """A targets row the table's own words refuse (its message is said as it is)."""


def row_check(group: str, low: float | None, high: float | None) -> None:
    """Refuse a row with no bound or a floor above its cap, naming the table's columns."""
    if low is None and high is None:
        raise RowProblem(t("ledger.row_no_bound", group=group))
    if low is not None and high is not None and low > high:
        raise RowProblem(t("ledger.row_floor_above", group=group, floor=f"{low:g}",
                           cap=f"{high:g}"))


def target_set(edited: pd.DataFrame, by: str, days: int,  # noqa: ANN201 - TargetSet | None
               names: dict[str, str]):
    from engine.exposure.targets import parse_targets

    rows = []
    for row in edited.dropna(subset=["group"]).itertuples(index=False):
        low, high = row[1], row[2]
        row_check(str(row[0]), None if pd.isna(low) else float(low),
                  None if pd.isna(high) else float(high))
        rows.append({"group": names.get(str(row[0]), str(row[0])),
                     **({} if pd.isna(low) else {"min": float(low) / 100}),
                     **({} if pd.isna(high) else {"max": float(high) / 100})})
    return parse_targets({"by": by, "new_days": days, "targets": rows}) if rows else None


def fit_outcome(fit, n_fit: int, n_check: int, after: list[dict],  # noqa: ANN001
                by: str) -> None:
    """What the fit achieved on the check half: every target met, or which were missed
    (`target_summary`, the CLI's words)."""
    from engine.exposure.groups import group_label
    from engine.exposure.prices import target_summary

    summary = target_summary(after)
    fitted = t_count("ledger.fitted", len(fit.prices.prices), n=len(fit.prices.prices),
                     fit=n_fit, seconds=fit.seconds, check=n_check)
    if not summary["missed"]:
        st.success(f"{fitted} {t_count('ledger.all_met', summary['n'], n=summary['n'])}")
        return
    lines = [t("ledger.missed_row", group=say(group_label(by, row["group"])),
               share=row["share"],
               bound="≥" if row["bound"] == "min" else "≤", target=row["target"])
             for row in summary["missed"]]
    missed = t_count("ledger.some_missed", summary["n"], met=summary["met"], n=summary["n"],
                     close=summary["close"], worst=100 * summary["worst"])
    st.warning(f"{fitted} {missed}\n\n" + "\n".join(f"- {line}" for line in lines),
               icon=":material/target:")


def fit_and_compare(ctx, targets, k: int, drawn_for: tuple) -> None:  # noqa: ANN001
    """Fit prices for `targets` (with progress) and keep the outcome, with the settings and
    targets it was fitted for (`drawn_for`), to show until those change."""
    bar = st.progress(0.0, text=t("ledger.fitting"))
    checked = ctx.fit_and_check(targets, np.arange(len(ctx.users)), k=k,
                                on_iteration=lambda step, worst: bar.progress(
                                    min(1.0, (step + 1) / 400),
                                    text=t("ledger.step", step=step + 1,
                                           worst=100 * worst)))
    bar.empty()
    st.session_state[FITTED] = (drawn_for, checked, targets)
    st.session_state[PRICES] = json.loads(checked.fit.prices.model_dump_json())


def group_header(by: str) -> str:
    """The group column's header: the grouping's name ("Brand"), an item column's own name."""
    return t(f"ledger.by.{by}") if by in GROUPINGS else by


def fit_columns(by: str) -> dict[str, Any]:
    """The fit table's headers in words (shares as percentages, the price with what it does)."""
    share = {c: st.column_config.NumberColumn(t(f"ledger.fit_{c}"), format="percent")
             for c in ("min", "max", "before", "after")}
    return {"group": st.column_config.TextColumn(group_header(by)), **share,
            "price": st.column_config.NumberColumn(t("ledger.fit_price"),
                                                   help=t("ledger.fit_price_help"),
                                                   format="%+.3f")}


def show_fit(checked, targets) -> None:  # noqa: ANN001 - a fit-and-check outcome, TargetSet
    """The last fit: what it met, shares before and after with each group's price, and the
    prices as a download. Drawn on every run (editing the policy name below keeps it)."""
    fit, before, after = checked.fit, checked.before, checked.after
    from engine.exposure.groups import group_label

    for group, reach in fit.unreachable.items():
        st.warning(t("ledger.unreachable", group=repr(say(group_label(targets.by, group))),
                     reach=reach))
    fit_outcome(fit, len(checked.fit_rows), len(checked.check_rows), after, targets.by)
    report = pd.DataFrame(before).rename(columns={"share": "before"})
    report["after"] = [r["share"] for r in after]
    report["price"] = report["group"].map(fit.prices.prices)
    report = shown_groups(report, targets.by)
    st.plotly_chart(ledger_charts.before_after_chart(report), key="ledger_fit_chart")
    tables.show(st, report[["group", "min", "max", "before", "after", "price"]], hide_index=True,
                key="ledger_fit_table", column_config=fit_columns(targets.by))
    st.download_button(t("ledger.download"), fit.prices.model_dump_json(indent=2),
                       file_name="exposure-prices.json", mime="application/json",
                       key="ledger_download")


def targets_live() -> None:
    """Put the last fitted prices live in a policy: publishers only, through the gate."""
    prices = st.session_state.get(PRICES)
    if not prices:
        return
    if not access.may("set_targets"):
        st.caption(t("ledger.live_needs_publisher"))
        return
    with st.container(border=True):
        name_col, button_col = st.columns([3, 1])
        name = name_col.text_input(t("ledger.live_policy"), value="exposure-targets",
                                   key="ledger_live_policy", help=t("ledger.live_help"))
        if button_col.button(t("ledger.go_live"), key="ledger_go_live", type="primary"):
            from engine.exposure.prices import ExposurePrices

            try:
                version = access.gate().set_targets(access.actor(), name.strip(),
                                                    ExposurePrices.model_validate(prices))
                st.success(t("ledger.targets_live", name=name.strip(), version=version))
            except PrismError as exc:
                show_error(exc)


def main() -> None:
    st.title(t("nav.ledger"))
    st.caption(t("ledger.caption"))
    try:
        run = state.active_run()
        shoppers = state.test_shoppers(run)
    except PrismError as exc:
        show_error(exc)
        st.stop()
    by, days, size, method, weight = controls(shoppers or SAMPLE_MAX)
    k = int(state.setting(state.K))
    try:
        ctx = state.exposure_context(str(run.path), run.stamp, size)
        if ctx is None:
            st.warning(t("ledger.data_gone"))
            st.stop()
        from engine.exposure.groups import GroupSpec

        ledger = ctx.ledger(GroupSpec(by=by, new_days=days), k=k, method=method,
                            diversity_weight=weight)
    except PrismError as exc:
        show_error(exc)
        st.stop()
    show_ledger(ledger)
    names = group_names(ledger.table["group"].astype(str).tolist(), by)
    edited = targets_editor(names)
    drawn_for = (str(run.path), run.stamp, by, days, size, method, weight, k,
                 edited.to_json())
    if st.button(t("ledger.fit"), key="ledger_fit", type="primary"):
        try:
            targets = target_set(edited, by, days, names)
            if targets is None:
                st.info(t("ledger.no_targets"))
            else:
                fit_and_compare(ctx, targets, k, drawn_for)
        except RowProblem as exc:
            st.error(str(exc))
        except PrismError as exc:
            show_error(exc)
    fitted = st.session_state.get(FITTED)
    if fitted is not None and fitted[0] == drawn_for:  # other settings or targets: fit again
        show_fit(*fitted[1:])
    targets_live()


main()
