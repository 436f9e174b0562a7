"""Session-state keys and every cache of the studio (one place); the view's controls and
the URL live in dashboard.view_state.

Caching rules: `st.cache_resource` only for shared read-only objects (a loaded Recommender,
held-out items, locks), never mutated after creation; `st.cache_data` with `max_entries` for
small results (sweeps, exposure). Cache keys carry the run folder and its `run.json`
modification time, so a retrained run under the same name is picked up.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import view_state
from dashboard.i18n import cached, show_error
from dashboard.view_state import (  # noqa: F401 - the pages read the view's keys through state
    ALPHA,
    DEFAULTS,
    K_MAX,
    K_MIN,
    METHOD,
    METHOD_LABELS,
    POLICY,
    RUN,
    SAMPLE_SIZE,
    SEGMENT,
    SEGMENT_TARGETS,
    TARGETS,
    TARGETS_VERSION,
    USER,
    USER_RUN,
    K,
    parse_view_params,
    rerank_extras,
    seed_from_url,
    segment_targets,
    targets,
    write_url,
)
from dashboard.view_state import value as setting  # noqa: F401
from engine.core import paths
from engine.core.errors import PrismError
from engine.exposure.context import ExposureContext
from engine.policy.preview import load_inputs
from engine.policy.scenarios import ScenarioStore
from engine.runs.data import (  # noqa: F401 - run_data_path: the pages read it through state
    load_run_split_report,
    run_data_path,
)
from engine.runs.listing import (  # noqa: F401 - the sidebar and pages read runs through state
    RunEntry,
    default_run,
    list_runs,
    remember_run,
    remembered_run,
    run_entry,
)

WHATIF_ADD, WHATIF_REMOVE = "whatif_add", "whatif_remove"
TRAINING_JOB = "training_job"


def ensure_view_defaults(user_ids: list[str], run_name: str | None = None) -> str | None:
    """Give the shared view settings a value before any page reads them.

    After a run switch, a shopper the new run does not know is replaced by its first shopper
    (a typed or linked id on the same run is kept: the page says it is unknown). Returns a
    notice when the shopper was replaced.
    """
    notice = None
    current = st.session_state.get(USER)
    switched = run_name is not None and st.session_state.get(USER_RUN) not in (None, run_name)
    if not current or (switched and current not in set(user_ids)):
        st.session_state[USER] = user_ids[0] if user_ids else ""
        if current and switched:
            notice = (f"Shopper {current!r} is not in run {run_name!r}; showing "
                      f"{st.session_state[USER]!r} instead.")
    if run_name is not None:
        st.session_state[USER_RUN] = run_name
    view_state.ensure_defaults()
    return notice


# ---- runs (listing, stamps and the remembered choice live in engine.runs.listing) --------
def active_run() -> RunEntry:
    """The run picked in the sidebar; RunError (shown by the page) when it vanished."""
    return run_entry(str(st.session_state.get(RUN)))


@cached(st.cache_resource, "spinner.model", max_entries=4)
def _load_recommender(run_dir: str, stamp: float, model: str = "serving") -> Any:
    from engine.serving.recommender import Recommender

    service = Recommender.load(run_dir, model=model, torch_threads=1)  # as `prism serve`
    if model == "serving":
        service.warm_search()  # the query encoder loads while the shopper looks at the Explorer
    return service


def recommender(run: RunEntry | None = None) -> Any:
    """The shared, read-only Recommender of the active run (loaded once per run version):
    what shoppers are served (the model refit on every event, every event as history)."""
    run = run or active_run()
    return _load_recommender(str(run.path), run.stamp)


@st.cache_resource(max_entries=4)
def _load_asker(run_dir: str, stamp: float) -> Any:
    from engine.serving.ask import Asker

    return Asker(_load_recommender(run_dir, stamp))


def asker(run: RunEntry) -> Any:
    """The shared Asker of the active run: its serving Recommender and its data's FAQ."""
    return _load_asker(str(run.path), run.stamp)


def evaluation_recommender(run: RunEntry | None = None) -> Any:
    """The run's evaluation model as a Recommender: the one that never saw the held-out
    events, for every held-out number (precision, sweeps, exposure, comparisons). The
    serving one itself for a run without a separate serving part."""
    from engine.runs.store import has_serving_part

    run = run or active_run()
    if not has_serving_part(run.path):
        return recommender(run)
    return _load_recommender(str(run.path), run.stamp, "evaluation")


def active_recommender() -> tuple[RunEntry, Any]:
    """The active run and its Recommender; on a PrismError the page shows it and stops."""
    try:
        run = active_run()
        return run, recommender(run)
    except PrismError as exc:
        show_error(exc)
        st.stop()
        raise  # st.stop() ends the script run; this line is never reached


def add_cold_items(run: RunEntry, items: pd.DataFrame) -> pd.DataFrame:
    """Append cold-start items to the run folder through a private Recommender.

    The cached instance is never mutated: the engine rewrites the run folder, which changes
    its stamp, so the next page run loads a fresh Recommender that includes the new items.
    """
    from engine.serving.recommender import Recommender

    added = Recommender.load(run.path).add_items(items)
    _load_recommender.clear()
    return added


def _run_meta(run_dir: str) -> dict[str, Any]:
    return json.loads((Path(run_dir) / "run.json").read_text())


@cached(st.cache_resource, "spinner.run_data", max_entries=2)
def _run_data(run_dir: str, stamp: float
              ) -> tuple[Any, Any, list[tuple[str, int, str]], int] | None:
    """(Split, TrainData, cleaning rows, items added since training) of the run's data, read
    and cleaned once per run version (engine.runs.data); None when the data folder is gone."""
    catalogue = _load_recommender(run_dir, stamp).catalogue  # every part has the run's table
    return load_run_split_report(_run_meta(run_dir), run_dir, (
        catalogue.item_index, catalogue.item_categories, catalogue.category_names))


def _evaluation_data(run_dir: str, stamp: float) -> tuple[Any, Any] | None:
    """(Split, TrainData) of the run's data with its split settings; None when the data
    folder is gone (precision and the trade-off are then not available)."""
    prepared = _run_data(run_dir, stamp)
    return None if prepared is None else prepared[:2]


def evaluation_data(run: RunEntry) -> tuple[Any, Any] | None:
    """The active run's (Split, TrainData), read once per run version."""
    return _evaluation_data(str(run.path), run.stamp)


@st.cache_resource(max_entries=4)
def _heldout(run_dir: str, stamp: float) -> dict[str, list[str]] | None:
    prepared = _evaluation_data(run_dir, stamp)
    return None if prepared is None else prepared[0].heldout_by_user()


@st.cache_resource(max_entries=4)
def _test_shoppers(run_dir: str, stamp: float) -> int | None:
    prepared = _evaluation_data(run_dir, stamp)
    return None if prepared is None else len(prepared[1].truth(prepared[1].test)[0])


def test_shoppers(run: RunEntry) -> int | None:
    """How many held-out test shoppers the run has: the most a shopper sample can hold
    (None when the data folder is gone)."""
    return _test_shoppers(str(run.path), run.stamp)


def heldout(run: RunEntry) -> dict[str, list[str]] | None:
    """Validation + test item ids per shopper (None when the data folder is gone)."""
    return _heldout(str(run.path), run.stamp)


def _evaluation_run(run_dir: str, stamp: float) -> Any:
    """The loaded run with its evaluation model (engine.runs.store), for held-out numbers."""
    return evaluation_recommender(RunEntry(Path(run_dir).name, Path(run_dir), stamp, {})).run


SWEEP_RESAMPLES = 1000  # bootstrap resamples of the Trade-off points' 95% intervals


@st.cache_data(max_entries=8, show_spinner=False)
def compare_cached(dir_a: str, stamp_a: float, dir_b: str, stamp_b: float,
                   k: int) -> list[dict[str, Any]]:
    """Two runs on their shared test shoppers: paired differences with 95% intervals."""
    from engine.evaluation.compare import compare_runs

    return compare_runs(_evaluation_run(dir_a, stamp_a), _evaluation_run(dir_b, stamp_b), k=k)


@st.cache_data(max_entries=32, show_spinner=False)
def sweep_cached(run_dir: str, stamp: float, method: str, weights: tuple[float, ...],
                 n_users: int, k: int, model_alpha: float | None = None) -> pd.DataFrame:
    """One method's trade-off curve over a shopper sample (cached per run, method, weights).

    Method ALPHA_METHOD: `weights` are alphas of a loss-conditioned model, its own curve with
    no re-ranking. `model_alpha`: the re-ranker works on the model scored at that alpha."""
    import dataclasses

    from engine.evaluation.sweep import ALPHA_METHOD, sweep

    run = _evaluation_run(run_dir, stamp)
    if model_alpha is not None:
        run = dataclasses.replace(run, model=run.model.at_alpha(model_alpha))
    _, data = _evaluation_data(run_dir, stamp)
    if method == ALPHA_METHOD:
        return sweep(run, data, [], [], k=k, n_users=n_users, seed=0,
                     intervals=SWEEP_RESAMPLES, alphas=list(weights))
    return sweep(run, data, [method], list(weights), k=k, n_users=n_users, seed=0,
                 intervals=SWEEP_RESAMPLES)


@st.cache_data(max_entries=16, show_spinner=False)
def exposure_cached(run_dir: str, stamp: float, method: str, weight: float, n_users: int,
                    k: int, model_alpha: float | None = None) -> np.ndarray:
    """(n_items,) recommendation slots per item over the sample, for one setting (a
    conditioned run's model scored at `model_alpha` when given)."""
    from engine.exposure.slots import sample_slots

    model = _evaluation_run(run_dir, stamp).model
    if model_alpha is not None:
        model = model.at_alpha(model_alpha)
    _, data = _evaluation_data(run_dir, stamp)
    return sample_slots(model, data, method, weight, n_users=n_users, k=k, seed=0)


@st.cache_resource(max_entries=4)
def _segments(run_dir: str, stamp: float) -> pd.Series:
    """Each training shopper's top category (for the Explorer's segment filter)."""
    from engine.serving.listmetrics import top_categories

    return top_categories(_load_recommender(run_dir, stamp).catalogue)


def segments(run: RunEntry) -> pd.Series:
    return _segments(str(run.path), run.stamp)


@st.cache_resource(max_entries=16)
def _segment_finder(run_dir: str, stamp: float, segment: str) -> Any:
    from engine.serving.lookup import IdFinder

    shoppers = _segments(run_dir, stamp)
    return IdFinder(shoppers.index[shoppers == segment])


def segment_finder(run: RunEntry, segment: str) -> Any:
    """The find index (engine.serving.lookup) over one segment's shoppers, once per run."""
    return _segment_finder(str(run.path), run.stamp, segment)


def segment_names(run: RunEntry) -> list[str]:
    """Sorted segment names (top categories) of the run's shoppers."""
    return sorted(name for name in segments(run).unique() if name)


@st.cache_resource(max_entries=8)
def search_lock(run_dir: str) -> threading.Lock:
    """One lock per run: a fast tokenizer shared across session threads is not re-entrant."""
    return threading.Lock()


@st.cache_resource
def training_lock() -> threading.Lock:
    """Only one training at a time per server: the machine has few cores."""
    return threading.Lock()


@st.cache_resource
def static_json(path: str) -> Any:
    """A JSON file that does not change while the studio runs (a language's messages, a
    benchmark report), read once per process; never mutated by callers."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


@st.cache_resource
def bootstrap_lock() -> threading.Lock:
    """One starter run at a time, whichever tab asks first."""
    return threading.Lock()


@cached(st.cache_resource, "spinner.test_shoppers", max_entries=2)
def preview_inputs(run_dir: str, stamp: float) -> Any:
    """The run and its held-out shoppers, loaded once per run version for policy previews."""
    return load_inputs(run_dir)


@st.cache_resource(max_entries=4)
def _groupings(run_dir: str, stamp: float) -> dict[str, Any]:
    """The run's item groupings (engine.exposure.groups), built once per run version and
    spec whatever the ledger's sample size; each Grouping is read-only once built."""
    return {}


@cached(st.cache_resource, "spinner.shopper_sample", max_entries=4)
def exposure_context(run_dir: str, stamp: float, n_users: int) -> Any:
    """The run with a fixed shopper sample, its candidate pools scored once (read-only after);
    None when the run's data is gone."""
    entry = RunEntry(Path(run_dir).name, Path(run_dir), stamp, {})
    run = evaluation_recommender(entry).run
    prepared = evaluation_data(entry)
    if prepared is None:
        return None
    full = ExposureContext.from_data(run, prepared[1])
    full.groupings = _groupings(run_dir, stamp)  # every sample size shares the run's groupings
    ctx = full.subset(full.sample(n_users, seed=0))
    ctx.pool()
    return ctx


# ---- scenarios --------------------------------------------------------------------------
def scenario_store() -> ScenarioStore:
    return ScenarioStore(paths.prism_home() / "scenarios.sqlite")


# ---- catalogue views ----------------------------------------------------------------------
@cached(st.cache_data, "spinner.item_map", max_entries=4)
def _item_map_points(run_dir: str, stamp: float) -> pd.DataFrame:
    from engine.serving.itemmap import item_map_points as project

    return project(_load_recommender(run_dir, stamp).catalogue)


def item_map_points(run: RunEntry) -> pd.DataFrame:
    """The run's item vectors in 2-D (engine.serving.itemmap), once per run version."""
    return _item_map_points(str(run.path), run.stamp)


@st.cache_data(max_entries=4, show_spinner=False)
def _category_counts(run_dir: str, stamp: float, n_items: int) -> pd.DataFrame:
    from engine.serving import itemmap

    return itemmap.category_counts(_load_recommender(run_dir, stamp).catalogue.items, "category")


def category_counts(run: RunEntry, recommender: Any) -> pd.DataFrame:
    """Items per category path of the served catalogue (engine.serving.itemmap.category_counts),
    once per run version and catalogue size (cold-start items grow it)."""
    return _category_counts(str(run.path), run.stamp, recommender.catalogue.n_items)


def added_items(run: RunEntry) -> int | None:
    """How many of the run's items its data set lacks (cold-start items added since
    training), from the same read of the data; None when the data folder is gone."""
    prepared = _run_data(str(run.path), run.stamp)
    return None if prepared is None else prepared[3]


def cleaning_rows(run: RunEntry) -> list[tuple[str, int, str]] | None:
    """(rule, count, action) of the run's data cleaning, from the same read of the data as
    the held-out split; None when the data folder is gone."""
    prepared = _run_data(str(run.path), run.stamp)
    return None if prepared is None else prepared[2]
