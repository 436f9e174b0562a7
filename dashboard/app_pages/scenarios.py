"""Scenarios: save the studio's current settings with their metrics, reload them, compare two,
and export recommendations and metrics as CSV."""

from __future__ import annotations

import json
from functools import partial

import pandas as pd
import streamlit as st

from dashboard import charts, policy_view, state, tables, view_state
from dashboard.i18n import method_label, say_error, show_error, t
from dashboard.measures import column_label
from engine.core.errors import PrismError
from engine.core.messages import fixed
from engine.metrics.registry import parse_column
from engine.policy.scenarios import Scenario, ScenarioStoreError, scenarios_frame
from engine.rerank.quotas import default_quotas
from engine.serving.listmetrics import list_metrics
from engine.serving.requests import RecommendRequest

SAMPLE_METRICS = ("ndcg@{k}", "precision@{k}", "category_entropy@{k}", "category_coverage@{k}",
                  "ild@{k}", "tail_share@{k}")


def current_settings() -> dict:
    return {"user": str(state.setting(state.USER) or ""),
            "sample_size": int(state.setting(state.SAMPLE_SIZE)),
            "method": str(state.setting(state.METHOD)), "alpha": float(state.setting(state.ALPHA)),
            "k": int(state.setting(state.K)), "targets": state.targets(),
            "segment_targets": state.segment_targets()}


def current_recommendations(recommender, settings: dict):
    method, k = settings["method"], settings["k"]
    segments = state.segments(state.active_run())
    user = settings["user"]
    segment = str(segments.get(user)) if user in segments.index else None
    extras = state.rerank_extras(method, segment)
    if method == "quota" and not extras:
        extras = {"quotas": default_quotas(recommender.category_names, k)}
    return recommender.serve(RecommendRequest.of(
        user_id=settings["user"] or None, k=k, method=method,
        diversity_weight=settings["alpha"], **extras))


def scenario_metrics(run: state.RunEntry, settings: dict) -> dict[str, float]:
    """The shopper's list metrics plus sample metrics for (method, α) over the shopper sample,
    all from the run's evaluation model (the one that never saw the held-out purchases)."""
    k = settings["k"]
    recommender = state.evaluation_recommender(run)
    result = current_recommendations(recommender, settings)
    heldout = state.heldout(run) or {}
    shopper = list_metrics(recommender.catalogue, result.table["item_id"],
                           heldout.get(settings["user"]), k)
    out = {f"shopper {name}@{k}": value for name, value in shopper.items() if value is not None}
    if settings["method"] != "quota" and state.evaluation_data(run) is not None:
        row = state.sweep_cached(str(run.path), run.stamp, settings["method"],
                                 (settings["alpha"],), settings["sample_size"], k).iloc[0]
        for name in SAMPLE_METRICS:
            column = name.format(k=k)
            if column in row:
                out[f"sample {column}"] = float(row[column])
    return out


CLEAR_FORM = "_scenario_clear"  # set after a save: empty the name and note on the next run
SAVED = "_scenario_saved"


def _taken_name(name: str) -> bool:
    try:
        return any(s.name.strip().casefold() == name.strip().casefold()
                   for s in state.scenario_store().list())
    except ScenarioStoreError:
        return False  # the save itself reports the database problem


def save_form(run: state.RunEntry, recommender) -> None:
    """Name + note form; a failed save keeps what was typed, a good one clears it."""
    settings = current_settings()
    if st.session_state.pop(CLEAR_FORM, False):
        st.session_state["scenario_name"], st.session_state["scenario_note"] = "", ""
    if saved := st.session_state.pop(SAVED, None):
        st.success(t("scenarios.saved", saved=saved), icon=":material/check:")
    with st.form("scenario_form", clear_on_submit=False, border=True):
        st.markdown(t("scenarios.current", run=run.name, user=settings["user"],
                      method=method_label(settings["method"]),
                      alpha=settings["alpha"], k=settings["k"], n=settings["sample_size"],
                      targets=len(settings["targets"])))
        name = st.text_input(t("scenarios.name"), key="scenario_name",
                             placeholder=t("scenarios.name_placeholder"))
        note = st.text_area(t("scenarios.note"), key="scenario_note", height=68)
        submitted = st.form_submit_button(t("scenarios.save"), type="primary",
                                          icon=":material/save:")
    if not submitted:
        return
    if not name.strip():
        st.error(t("scenarios.no_name"))
        return
    if _taken_name(name):
        st.error(t("scenarios.taken", name=name.strip()))
        return
    try:
        with st.spinner(t("scenarios.measuring")):
            metrics = scenario_metrics(run, settings)
        state.scenario_store().save(Scenario(name=name.strip(), note=note, run=run.name,
                                             settings=settings, metrics=metrics))
    except (PrismError, ScenarioStoreError) as exc:
        show_error(exc, "scenarios.save_failed")
        return
    st.session_state[CLEAR_FORM], st.session_state[SAVED] = True, name.strip()
    st.rerun()


def _reload(scenario_id: int) -> None:
    """Callback: copy a scenario's settings into the widgets (before they are drawn)."""
    try:
        scenario = state.scenario_store().get(scenario_id)
    except ScenarioStoreError as exc:
        st.session_state["_scenario_error"] = say_error(exc)
        return
    settings = scenario.settings
    if scenario.run in [entry.name for entry in state.list_runs()]:
        st.session_state[state.RUN] = scenario.run
        state.remember_run(scenario.run)
    else:
        st.session_state["_scenario_error"] = t("scenarios.run_gone", run=repr(scenario.run))
    for key in (state.USER, state.ALPHA, state.METHOD, state.K, state.SAMPLE_SIZE):
        if key in settings:
            st.session_state[key] = settings[key]
    st.session_state[state.TARGETS] = settings.get("targets") or {}
    st.session_state[state.SEGMENT_TARGETS] = settings.get("segment_targets") or {}
    st.session_state[state.TARGETS_VERSION] = st.session_state.get(state.TARGETS_VERSION, 0) + 1
    st.session_state["_scenario_loaded"] = scenario.name
    st.session_state[FITTED] = fitted_notes(scenario)


FITTED = "_scenario_fitted"  # what the reload could not restore as saved, said once


def fitted_notes(scenario: Scenario) -> list[str]:
    """What the studio will use instead of the scenario's saved k or sample size, because the
    run it is loaded on has fewer items or held-out shoppers (the sidebar brings both down
    before any page reads them): one sentence each, so no setting changes silently."""
    try:
        run = state.active_run()
        n_items, shoppers = state.recommender(run).catalogue.n_items, state.test_shoppers(run)
    except PrismError:
        return []  # the page says what is wrong with the run
    saved = scenario.settings
    k, sample = int(saved.get("k", state.setting(state.K))), int(
        saved.get("sample_size", state.setting(state.SAMPLE_SIZE)))
    used_k, used_sample = view_state.fitted(k, sample, n_items, shoppers)
    notes = []
    if "k" in saved and used_k != k:  # the catalogue's size, else the Explorer's range
        low, high = view_state.k_bounds(n_items)
        notes.append(t("scenarios.k_fitted", name=scenario.name, saved=k, run=run.name,
                       used=used_k) if k > used_k == n_items else
                     t("scenarios.k_range", name=scenario.name, saved=k, low=low, high=high,
                       used=used_k))
    if "sample_size" in saved and used_sample != sample:
        notes.append(t("scenarios.sample_fitted", name=scenario.name, saved=sample,
                       run=run.name, used=used_sample))
    return notes


def saved_section(scenarios: list[Scenario]) -> None:
    if message := st.session_state.pop("_scenario_error", None):
        st.warning(message)
    if loaded := st.session_state.pop("_scenario_loaded", None):
        st.success(t("scenarios.loaded", name=loaded))
        for note in st.session_state.pop(FITTED, []):
            st.info(note, icon=":material/info:")
        st.page_link("app_pages/explorer.py", label=t("scenarios.open_explorer"),
                     icon=":material/explore:")
    if not scenarios:
        st.info(t("scenarios.none"))
        return
    frame = scenarios_frame(scenarios)
    tables.show(st, shown_frame(frame), hide_index=True, width="stretch")
    labels = {s.id: f"#{s.id} {s.name}" for s in scenarios}
    pick_col, load_col = st.columns([3, 1])
    pick = pick_col.selectbox(t("scenarios.pick"), list(labels), format_func=labels.get,
                              key="scenario_pick")
    load_col.button(t("scenarios.reload"), on_click=_reload, args=(pick,), key="scenario_reload",
                    icon=":material/restore:", width="stretch")
    compare = st.multiselect(t("scenarios.compare"), list(labels), format_func=labels.get,
                             max_selections=2, key="scenario_compare",
                             placeholder=t("common.choose"))
    if len(compare) == 2:  # in the order picked: the sentence, table and legend agree
        compare_measured(frame.set_index("id").loc[compare].reset_index())
        by_id = {s.id: s for s in scenarios}
        paired_scenarios(by_id[compare[0]], by_id[compare[1]])
    st.download_button(t("scenarios.export"), frame.to_csv(index=False), "scenarios.csv",
                       "text/csv", key="scenario_export", icon=":material/download:")


def _count_or_dash(cell: object) -> object:
    """A setting stored as JSON ({} / [] of targets) as how many it holds, "—" for none."""
    if not isinstance(cell, str) or not cell.startswith(("{", "[")):
        return cell
    try:
        held = len(json.loads(cell))
    except ValueError:
        return cell
    return held or "—"


def shown_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The saved scenarios as the page shows them (the CSV keeps the stored values): methods
    by name, targets counted."""
    shown = frame.map(_count_or_dash)
    if "method" in shown:
        shown["method"] = shown["method"].map(
            lambda m: method_label(m) if isinstance(m, str) else m)
    return shown


def compare_measured(rows: pd.DataFrame) -> None:
    """Two scenarios' metrics side by side: a metric one of them did not measure reads "not
    measured" in the table and has no bar (never a drawn zero). Saved at different k, each
    column holds its scenario's metrics at its own k (named in the heading), and a note says
    the lists differ in length."""
    metric_cols = [c for c in rows.columns if c.startswith(("sample ", "shopper "))]
    values = rows[["name", *metric_cols]].set_index("name")
    label = column_label
    if lengths := _other_lengths(rows):
        values, label = _at_own_k(values, lengths), partial(column_label, k="k")
        (a, k_a), (b, k_b) = zip(rows["name"], lengths, strict=True)
        st.info(t("scenarios.other_k", a=a, k_a=k_a, b=b, k_b=k_b), icon=":material/straighten:")
    table = values.T.map(lambda v: t("scenarios.not_measured") if pd.isna(v) else fixed(v))
    st.dataframe(table.rename(index=label), width="stretch", key="scenario_compare_table")
    missing = [c for c in values.columns if values[c].isna().any()]
    if missing:
        st.caption(t("scenarios.not_measured_note", metrics=", ".join(map(label, missing))))
    shown = values.drop(columns=missing).rename(columns=label).reset_index()
    st.plotly_chart(charts.metric_comparison(shown, "name"), key="scenario_compare_chart")


def _other_lengths(rows: pd.DataFrame) -> tuple[int, int] | None:
    """The two scenarios' k when they were saved at different k (None when equal or unknown)."""
    saved = pd.to_numeric(rows["k"], errors="coerce") if "k" in rows else None
    if saved is None or saved.isna().any() or saved.nunique() == 1:
        return None
    return int(saved.iloc[0]), int(saved.iloc[1])


def _at_own_k(values: pd.DataFrame, lengths: tuple[int, int]) -> pd.DataFrame:
    """Each scenario's metrics at its own k, on rows both share (a column is keyed at the
    first scenario's k, to be shown as "@k"), one column per scenario named with its k."""
    rows = {}
    for (name, measured), k in zip(values.iterrows(), lengths, strict=True):
        own = {column: value for column, value in measured.items()
               if pd.notna(value) and _k_of(column) == k}
        rows[t("scenarios.with_k", name=name, k=k)] = {
            column.replace(f"@{k}", f"@{lengths[0]}", 1): value for column, value in own.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("name")


def _k_of(column: str) -> int | None:
    """The k of a scenario metric column (`sample ndcg@8` → 8)."""
    parsed = parse_column(column.partition(" ")[2])
    return None if parsed is None else parsed[1]


PAIRED = "_scenario_paired"  # {(id a, id b): the preview report of A against B}


def paired_scenarios(a: Scenario, b: Scenario) -> None:
    """A against B on every test shopper of their run, with paired 95% intervals (the policy
    preview of the policies the two scenarios' settings make)."""
    from engine.policy.preview import preview
    from engine.policy.schema import parse_policy
    from engine.policy.store import scenario_policy

    if a.run != b.run:
        st.info(t("scenarios.paired_other_runs"))
        return
    entry = {e.name: e for e in state.list_runs()}.get(a.run)
    if entry is None:
        st.info(t("scenarios.paired_no_run", run=a.run))
        return
    reports = st.session_state.setdefault(PAIRED, {})
    key = (a.id, b.id, entry.stamp)
    k, k_b = int(a.settings.get("k", 10)), int(b.settings.get("k", 10))
    if k != k_b:  # one length for both lists: said, as B's own is not the one replayed
        st.info(t("scenarios.paired_one_k", k=k, a=a.name, b=b.name, k_b=k_b),
                icon=":material/straighten:")
    if st.button(t("scenarios.paired_run"), key="scenario_paired_run",
                 icon=":material/balance:"):
        try:
            inputs = state.preview_inputs(str(entry.path), entry.stamp)
            names = inputs.catalogue.category_names  # Quotas without targets: default caps
            policies = [parse_policy(scenario_policy(int(s.id or 0), s.name, s.settings, names),
                                     f"scenario {s.name!r}") for s in (a, b)]
            bar = st.progress(0.0, text=t("policies.replaying"))
            reports[key] = preview(inputs, *policies, k=k,
                                   on_progress=lambda done, total: bar.progress(
                                       done / max(total, 1), text=t("policies.progress",
                                                                    done=done, total=total)))
            bar.empty()
        except PrismError as exc:
            show_error(exc, "scenarios.paired_failed")
            return
    report = reports.get(key)
    if report is None:
        st.caption(t("scenarios.paired_caption"))
        return
    st.markdown(t("scenarios.paired_report", a=a.name, b=b.name, n=report["n_users"]))
    st.dataframe(policy_view.impact_frame(report, (a.name, b.name)), hide_index=True,
                 width="stretch", key="scenario_paired_table")


def export_current(recommender) -> None:
    settings = current_settings()
    try:
        result = current_recommendations(recommender, settings)
    except PrismError as exc:
        show_error(exc, "scenarios.export_failed", warn=True)
        return
    table = pd.DataFrame(result.table).assign(
        user=settings["user"], method=settings["method"], alpha=settings["alpha"])
    st.download_button(t("scenarios.export_recs"), table.to_csv(index=False),
                       "recommendations.csv", "text/csv", key="recs_export",
                       icon=":material/download:")


def main() -> None:
    st.title(t("nav.scenarios"))
    st.caption(t("scenarios.caption"))
    run, recommender = state.active_recommender()
    state.ensure_view_defaults(recommender.user_ids, run.name)
    save_form(run, recommender)
    export_current(recommender)
    store = state.scenario_store()
    try:
        scenarios = store.list()
    except ScenarioStoreError as exc:
        show_error(exc, icon=":material/database:")
        if st.button(t("scenarios.reset"), key="scenario_reset"):
            aside = store.reset()  # the studio's home folder, named by its file name only
            st.success(t("scenarios.reset_done", name=aside.name if aside else store.path.name))
        return
    st.subheader(t("scenarios.saved_header"))
    saved_section(scenarios)


main()
