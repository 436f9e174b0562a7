"""Training: launch a two-tower fit in the background, watch its losses live, manage runs.

The primary button trains the default model, one two-tower over Prism's default range of α
(engine.core.config.DEFAULT_ALPHA_RANGE); the second trains at the form's one α.

The fit runs in a worker thread (one per server at a time); a fragment polls its progress
every second and draws L_r, L_d and validation NDCG per epoch. The runs table lists every
run with its evaluation; pick the active one, or compare two.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import access, charts, jobs, state
from dashboard.i18n import name_rule, say, sentence, show_error, t
from dashboard.measures import RECOMMENDED_ALPHA, column_label, measured_frontier, privacy_values
from dashboard.training_form import (
    FORM_VALUES,
    NAME_GENERATION,
    form_boxes,
    fresh_run_name,
    name_key,
    restore_form,
)
from engine.core import paths
from engine.core.config import DEFAULT_ALPHA, DEFAULT_ALPHA_RANGE
from engine.core.errors import PrismError
from engine.core.names import clean_name, is_name, name_problem
from engine.training import presets

SHOWN_METRICS = ("ndcg@10", "recall@10", "precision@10", "category_entropy@10",
                 "category_coverage@10", "ild@10", "catalog_coverage@10", "tail_share@10")


def data_folders() -> dict[str, Path]:
    """Data folders to train on: the active run's data and everything under the data dir."""
    folders: dict[str, Path] = {}
    meta = state.list_runs()
    active = next((entry for entry in meta if entry.name == st.session_state.get(state.RUN)),
                  None)
    folder = None if active is None else state.run_data_path(active.meta)
    if folder is not None:
        folders[t("training.active_data", name=folder.name)] = folder
    for folder in paths.dataset_folders():
        if folder not in folders.values():
            folders[folder.name] = folder
    return folders


EVERY_ALPHA = DEFAULT_ALPHA_RANGE  # the primary button: one model trained over this range
NOTICE = "_train_notice"  # said once, above the form, after the rerun that started a job


def slider_names() -> dict[str, str]:
    """The Explorer's two diversity sliders by their labels: the one that moves the model
    and the one that re-ranks at serving."""
    return {"model_alpha": t("explorer.model_alpha"), "rerank": t("explorer.alpha")}


def launch_form() -> None:
    folders = data_folders()
    if not folders:
        st.info(t("training.no_data"))
        return
    job = st.session_state.get(state.TRAINING_JOB)
    busy = job is not None and job.snapshot().state == "running"
    if notice := st.session_state.pop(NOTICE, None):
        st.info(notice, icon=":material/edit:")
    restore_form(folders)
    boxes = form_boxes()  # they take any entry: one outside its range is fitted and said
    fitted = boxes.fit()
    with st.form("train_form", border=True, enter_to_submit=False):  # only Start starts
        data_col, name_col = st.columns([1, 1])
        source = data_col.selectbox(t("training.data"), list(folders), key="train_data")
        name = name_col.text_input(t("training.run_name"), key=name_key(),
                                   help=t("training.run_name_help", rule=sentence(name_rule())))
        alpha_col, beta_col, epochs_col, dim_col = st.columns(4)
        alpha = alpha_col.slider(t("training.alpha"), 0.0, 1.0, step=0.05, key="train_alpha",
                                   help=t("training.alpha_help", **slider_names()))
        beta = beta_col.slider(t("training.beta"), 0.0, 1.0, step=0.05, key="train_beta")
        epochs = epochs_col.number_input(t("training.epochs"), step=1, key="train_epochs",
                                         help=boxes.ranges["train_epochs"].help())
        dim = dim_col.selectbox(t("training.dim"), [16, 32, 64, 128], key="train_dim")
        text = st.toggle(t("training.text"), key="train_text", help=t("training.text_help"))
        # α and β: loss weights, not the serving slider
        st.caption(t("training.stage", **slider_names()))
        measured = measured_frontier()
        if measured is not None:
            st.caption(t("training.recommendation", alpha=RECOMMENDED_ALPHA,
                         default=DEFAULT_ALPHA, **measured))
        tune_col, trials_col = st.columns([1, 1])
        tune = tune_col.checkbox(t("training.tune"), key="train_tune",
                                 help=t("training.tune_help"))
        trials = trials_col.number_input(t("training.trials"), step=1, key="train_trials",
                                         help=boxes.ranges["train_trials"].help())
        private_col, epsilon_col = st.columns([1, 1])
        private = private_col.checkbox(t("training.private"), key="train_private",
                                       help=t("training.private_help"))
        epsilon = epsilon_col.number_input(t("training.epsilon"), step=0.5, key="train_epsilon",
                                           help=t("training.epsilon_help"))
        every_col, start_col = st.columns([2, 1])  # the default first: one model, every α
        every = every_col.form_submit_button(
            t("training.start_every_alpha", low=EVERY_ALPHA[0], high=EVERY_ALPHA[1]),
            type="primary", disabled=busy, icon=":material/play_arrow:",
            help=t("training.every_alpha_help"))
        submitted = start_col.form_submit_button(t("training.start"), disabled=busy,
                                                 icon=":material/linear_scale:")
    if not (submitted or every):
        return
    with boxes.carry(fitted):  # said again after the rerun a started job causes
        st.session_state[FORM_VALUES] = {
            "train_data": source, "train_name": name, "train_alpha": alpha,
            "train_beta": beta, "train_epochs": int(epochs), "train_dim": int(dim),
            "train_tune": bool(tune), "train_trials": int(trials),
            "train_private": bool(private), "train_epsilon": float(epsilon),
            "train_text": bool(text)}
        dp_epsilon = float(epsilon) if private else None
        if every:  # one model over the whole range: the Explorer moves its α live
            start_job(folders[source], name, EVERY_ALPHA[0], beta, int(epochs), int(dim),
                      alpha_max=EVERY_ALPHA[1], dp_epsilon=dp_epsilon, use_text=bool(text))
        else:
            start_job(folders[source], name, alpha, beta, int(epochs), int(dim),
                      int(trials) if tune else 0, dp_epsilon=dp_epsilon, use_text=bool(text))


def start_job(folder: Path, name: str, alpha: float, beta: float, epochs: int, dim: int,
              tune_trials: int = 0, alpha_max: float | None = None,
              dp_epsilon: float | None = None, use_text: bool = True) -> None:
    """Check the form and start a fit; `alpha_max`: one model over α in alpha..alpha_max;
    `dp_epsilon`: differentially private over shoppers (engine/models/private.py);
    `use_text` False: the model reads no product text, and the catalogue is encoded for
    Search when Search is first used on the run rather than right after training."""
    clean = clean_name(name)
    if not is_name(clean):  # empty, too long, or not starting with a letter or digit
        st.error(sentence(say(name_problem(clean, "run"))) if clean else
                 t("training.no_name", rule=name_rule()))
        return
    if (paths.runs_dir() / clean).exists():
        st.error(t("training.exists", name=repr(clean)))
        return
    renamed = t("training.name_cleaned", name=repr(name.strip()), clean=repr(clean)) \
        if clean != name.strip() else None
    if beta == 0 and (alpha == 0 or alpha_max is not None):
        st.error(t("training.zero_weights"))
        return
    if dp_epsilon is not None and (problem := _private_problem(dp_epsilon, tune_trials)):
        st.error(problem)
        return
    try:
        access.gate().require(access.actor(), "train")
    except PrismError as exc:
        show_error(exc)
        return
    spec = presets.quick_run(data_dir=folder, out_dir=paths.runs_dir() / clean, alpha=alpha,
                             beta=beta, alpha_max=alpha_max, epochs=epochs, dim=dim,
                             patience=3, tune_trials=tune_trials, dp_epsilon=dp_epsilon,
                             use_text=use_text, search_vectors=use_text)
    st.session_state[state.TRAINING_JOB] = jobs.start(spec, state.training_lock())
    fresh = fresh_run_name(taken=clean)  # the next job gets a name of its own
    st.session_state[FORM_VALUES] = {**st.session_state[FORM_VALUES], "train_name": fresh}
    st.session_state[NAME_GENERATION] = st.session_state.get(NAME_GENERATION, 0) + 1
    st.session_state[NOTICE] = renamed
    st.rerun()  # redraw the form at once: Start disabled while the job runs, the new name in


def _private_problem(epsilon: float, tune_trials: int) -> str | None:
    """Why a private fit cannot start as asked (None when it can)."""
    import importlib.util

    if not epsilon > 0:
        return t("training.private_epsilon", epsilon=epsilon)
    if tune_trials:
        return t("training.private_tune")
    if importlib.util.find_spec("opacus") is None:
        return t("training.private_missing")
    return None


def progress_line(current: jobs.JobSnapshot) -> str:
    """What the job is doing, with counts: texts encoded of all, or epoch and batch."""
    seconds = f"{current.elapsed:.0f}"
    if current.counted is not None:
        return t("training.progress_counted", stage=say(current.stage), done=current.counted[0],
                 total=current.counted[1], seconds=seconds)
    return t("training.progress", stage=say(current.stage),
             epoch=min(current.epoch + 1, current.epochs), epochs=current.epochs,
             batch=current.batches[0], batches=current.batches[1], seconds=seconds)


def stop_control(job: jobs.TrainingJob, current: jobs.JobSnapshot) -> None:
    """The Stop button of a running job. Once pressed it says at once what happens next and
    cannot be pressed again: the trainer stops after the batch it is on (it checks after
    every batch), then the best weights so far are refit, evaluated and saved; a stop asked
    for once the epochs have ended has nothing left to cut."""
    if current.stopping:
        said = "training.stopping_late" if current.fit_over else "training.stopping"
        st.info(t(said), icon=":material/hourglass_top:")
    st.button(t("training.stopping_button") if current.stopping else t("training.stop"),
              on_click=job.request_stop, key="train_stop", icon=":material/stop:",
              disabled=current.stopping or current.fit_over,
              help=t("training.stop_late_help") if current.fit_over else None)


def job_panel() -> None:
    """Progress and live curves of this session's training job (polled while it runs)."""
    job = st.session_state.get(state.TRAINING_JOB)
    if job is None:
        return
    snap = job.snapshot()
    interval = 1.0 if snap.state == "running" else None

    @st.fragment(run_every=interval)
    def live() -> None:
        current = job.snapshot()
        done = min(1.0, (current.epoch + current.batch_fraction) / max(current.epochs, 1))
        label = progress_line(current)
        if current.counted is not None:  # a counted stage before the epochs (encoding)
            done = min(1.0, current.counted[0] / max(current.counted[1], 1))
        trials = job.spec.tune
        if trials:  # a settings search: progress counts trials
            done = min(1.0, current.trials_done / trials)
            label = t("training.tune_progress", done=current.trials_done, total=trials,
                      seconds=f"{current.elapsed:.0f}")
        if current.state == "running":
            st.progress(done, text=label)
            stop_control(job, current)
        elif current.state == "failed":
            st.error(t("training.failed", message=say(current.message)))
        else:
            done = "training.done_stopped" if current.state == "stopped" else "training.done"
            st.success(t(done, run=current.run_dir.name, seconds=current.elapsed))
        st.plotly_chart(charts.training_curves(pd.DataFrame(current.logs)),
                        key="train_curves")
        if current.state != snap.state:  # finished since the page was drawn: refresh the runs
            st.rerun(scope="app")

    live()


def runs_table() -> pd.DataFrame:
    rows = []
    for entry in state.list_runs():
        metrics = entry.meta.get("metrics") or _eval_metrics(entry.path)
        train = entry.meta.get("train_config") or {}
        rows.append({"run": entry.name, "model": entry.meta.get("model"),
                     "data": entry.meta.get("dataset"), "created": entry.meta.get("created"),
                     "α": _weight(train.get("alpha")), "β": _weight(train.get("beta")),
                     "alpha_range": _alpha_range(train),
                     "privacy": privacy_cell(entry.meta.get("privacy")),
                     **{m: metrics.get(m) for m in SHOWN_METRICS}})
    table = pd.DataFrame(rows)
    if not table.empty:  # a date, not the raw ISO stamp (unreadable stamps stay empty)
        table["created"] = pd.to_datetime(table["created"], errors="coerce", utc=True,
                                          format="ISO8601")
    return table


def run_table_headers() -> dict[str, str]:
    """The run table's column names in the active language (metrics by the vocabulary)."""
    return {"run": t("training.col_run"), "model": t("training.col_model"),
            "data": t("training.col_data"), "created": t("training.col_created"),
            "α": "α", "β": "β", "alpha_range": t("training.alpha_range"),
            "privacy": t("training.col_privacy"),
            **{m: column_label(m) for m in SHOWN_METRICS}}


def privacy_cell(privacy: dict | None) -> str:
    """A run's differential-privacy guarantee in one cell: ε, δ, noise, clip, rate, epochs."""
    return t("training.privacy_cell", **privacy_values(privacy)) if privacy \
        else t("training.not_private")


def _weight(value: float | None) -> str:
    """A loss weight for the table ("—" when the model has none: a baseline)."""
    return "—" if value is None else f"{value:g}"


def _alpha_range(train: dict) -> str:
    """"low–high" for a run trained over a range of α ("—" for one α)."""
    high = train.get("alpha_max")
    return "—" if high is None else f"{train.get('alpha', 0):g}–{high:g}"


def _eval_metrics(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "eval.json").read_text()).get("metrics", {})
    except (OSError, ValueError):
        return {}


def _activate(name: str) -> None:
    st.session_state[state.RUN] = name
    state.remember_run(name)


def runs_section() -> None:
    st.subheader(t("training.runs"))
    table = runs_table()
    if table.empty:
        st.info(t("training.no_runs"))
        return
    headers = run_table_headers()
    st.dataframe(table.rename(columns=headers), hide_index=True, width="stretch",
                 placeholder="—",
                 column_config={headers["created"]: st.column_config.DatetimeColumn(
                     format="YYYY-MM-DD HH:mm"),
                     **{headers[m]: st.column_config.NumberColumn(format="%.4f")
                        for m in SHOWN_METRICS}})
    pick_col, button_col = st.columns([3, 1])
    pick = pick_col.selectbox(t("training.run"), table["run"].tolist(), key="train_pick")
    button_col.button(t("training.activate"), on_click=_activate, args=(pick,),
                      key="train_activate", icon=":material/check_circle:", width="stretch")
    compare = st.multiselect(t("training.compare"), table["run"].tolist(), max_selections=2,
                             key="train_compare", placeholder=t("common.choose"))
    if len(compare) == 2:
        paired_comparison(table, *compare)


def paired_comparison(table: pd.DataFrame, name_a: str, name_b: str) -> None:
    """A − B per metric on the shoppers both runs held out, with its paired 95% interval;
    the chart draws exactly the table's numbers. Runs tested on other shoppers are charted
    from their own evaluations, with the reason they cannot be paired."""
    entries = {entry.name: entry for entry in state.list_runs()}
    a, b = entries.get(name_a), entries.get(name_b)
    if a is None or b is None:
        return
    try:
        with st.spinner(t("training.pairing")):
            rows = state.compare_cached(str(a.path), a.stamp, str(b.path), b.stamp, 10)
    except PrismError as exc:
        own = table.set_index("run").loc[[name_a, name_b], list(SHOWN_METRICS)]
        st.plotly_chart(charts.metric_comparison(own.fillna(0.0).reset_index(), "run"),
                        key="train_compare_chart")
        st.info(t("training.no_pairing", reason=exc))
        return
    rows = [{**row, "metric": column_label(row["metric"])} for row in rows]  # vocabulary
    st.plotly_chart(charts.paired_runs_chart(rows, name_a, name_b), key="train_compare_chart")
    frame = pd.DataFrame(rows)
    frame["verdict"] = [t("training.a_better", run=name_a) if r["ci_low"] > 0 else
                        t("training.b_better", run=name_b) if r["ci_high"] < 0 else
                        t("training.no_clear") for r in rows]
    # the verdict beside the metric: it stays in view however narrow the page is
    headers = {"metric": t("training.col_metric"), "verdict": t("training.col_verdict"),
               "a": name_a, "b": name_b, "diff": t("training.col_diff", a=name_a, b=name_b),
               "ci_low": t("training.col_low"), "ci_high": t("training.col_high")}
    st.dataframe(frame[list(headers)].rename(columns=headers), hide_index=True,
                 width="stretch", key="train_paired_table",
                 column_config={headers[c]: st.column_config.NumberColumn(format="%.4f")
                                for c in ("a", "b", "diff", "ci_low", "ci_high")})
    st.caption(t("training.paired_caption", shoppers=rows[0]["n_shoppers"]))


def main() -> None:
    st.title(t("nav.training"))
    st.caption(t("training.caption"))
    if access.may("train"):
        launch_form()
    else:
        st.info(t("training.read_only", role=t(f"access.role.{access.actor().role}")))
    job_panel()
    runs_section()


main()
