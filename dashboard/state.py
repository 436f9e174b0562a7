"""Session-state keys, URL query parameters and every cache of the studio (one place).

Caching rules: `st.cache_resource` only for shared read-only objects (a loaded Recommender,
held-out items, locks), never mutated after creation; `st.cache_data` with `max_entries` for
small results (sweeps, exposure). Cache keys carry the run folder and its `run.json`
modification time, so a retrained run under the same name is picked up.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.scenarios import ScenarioStore
from engine.core import paths
from engine.core.errors import PrismError, RunError
from engine.rerank.methods import DIVERSIFY_METHODS
from engine.rerank.methods import METHOD_LABELS as ENGINE_METHOD_LABELS

# ---- session-state keys (widget keys double as URL query parameters) -------------------
USER, ALPHA, METHOD, K = "user", "alpha", "method", "k"
RUN = "run"  # sidebar run picker
URL_KEYS = (RUN, USER, ALPHA, METHOD, K)
USER_RUN = "_user_run"  # the run the current shopper id was picked on
SEGMENT = "segment"  # Explorer: filter shoppers by top category
WHATIF_ADD, WHATIF_REMOVE = "whatif_add", "whatif_remove"
SAMPLE_SIZE = "sample_size"
TARGETS = "targets"  # {category: {"floor": int|None, "cap": int|None, "share": float|None}}
SEGMENT_TARGETS = "segment_targets"  # {segment: {category: row}}: override for that segment
TARGETS_VERSION = "targets_version"  # bumps to reset the targets editor (scenario reload)
TRAINING_JOB = "training_job"
URL_SEEDED = "_url_seeded"
# widget values that must survive a page switch (Streamlit drops state of unrendered widgets)
PERSISTENT = (USER, ALPHA, METHOD, K, SAMPLE_SIZE, SEGMENT)

METHOD_LABELS = {m: ENGINE_METHOD_LABELS[m] for m in DIVERSIFY_METHODS}  # the Explorer's choices
DEFAULTS: dict[str, Any] = {ALPHA: 0.5, METHOD: "mmr", K: 10, SAMPLE_SIZE: 500}
K_MIN, K_MAX = 3, 30


def keep_widget_state() -> None:
    """Re-assign persistent widget values so they outlive pages where the widget is absent."""
    for key in PERSISTENT:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


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
    for key in (ALPHA, METHOD, K, SAMPLE_SIZE):
        st.session_state.setdefault(key, DEFAULTS[key])
    return notice


def setting(key: str) -> Any:
    """Current value of a shared setting (widget value, else its default)."""
    return st.session_state.get(key, DEFAULTS.get(key))


# ---- URL <-> widgets --------------------------------------------------------------------
def parse_view_params(params: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Validate `user/alpha/method/k` from a URL; returns clean values and warnings to show."""
    values: dict[str, Any] = {}
    warnings: list[str] = []
    if params.get(RUN):
        values[RUN] = str(params[RUN]).strip()
    if params.get(USER):
        values[USER] = str(params[USER]).strip()
    if ALPHA in params:
        try:
            alpha = float(params[ALPHA])
            if math.isnan(alpha):
                raise ValueError
        except ValueError:
            warnings.append(f"α={params[ALPHA]!r} in the link is not a number; using "
                            f"{DEFAULTS[ALPHA]}.")
        else:
            clamped = min(1.0, max(0.0, alpha))
            if clamped != alpha:
                warnings.append(f"α={alpha:g} in the link is outside [0, 1]; using {clamped:g}.")
            values[ALPHA] = round(clamped, 2)
    if METHOD in params:
        if params[METHOD] in METHOD_LABELS:
            values[METHOD] = params[METHOD]
        else:
            warnings.append(f"method {params[METHOD]!r} in the link is unknown; choose one of "
                            f"{', '.join(METHOD_LABELS)}. Using {DEFAULTS[METHOD]}.")
    if K in params:
        try:
            k = int(params[K])
        except ValueError:
            warnings.append(f"k={params[K]!r} in the link is not a whole number; using "
                            f"{DEFAULTS[K]}.")
        else:
            clamped_k = min(K_MAX, max(K_MIN, k))
            if clamped_k != k:
                warnings.append(f"k={k} in the link is outside {K_MIN}..{K_MAX}; using "
                                f"{clamped_k}.")
            values[K] = clamped_k
    return values, warnings


def seed_from_url() -> list[str]:
    """Once per session, copy valid URL parameters into the widgets; returns warnings."""
    if st.session_state.get(URL_SEEDED):
        return []
    st.session_state[URL_SEEDED] = True
    values, warnings = parse_view_params(st.query_params.to_dict())
    values.pop(RUN, None)  # the sidebar's run picker applies the run (it knows the runs)
    for key, value in values.items():
        st.session_state[key] = value
    if USER in values:  # a linked shopper belongs to the linked (or current) run
        st.session_state[USER_RUN] = st.session_state.get(RUN)
    return warnings


def write_url() -> None:
    """Mirror the current view into the URL so it can be shared as a link."""
    wanted = {key: str(st.session_state[key]) for key in URL_KEYS
              if st.session_state.get(key) not in (None, "")}
    if any(st.query_params.get(key) != value for key, value in wanted.items()):
        st.query_params.update(wanted)


# ---- runs -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunEntry:
    """A run folder as listed in the sidebar (read from run.json only, cheap)."""

    name: str
    path: Path
    stamp: float  # run.json mtime: part of every cache key
    meta: dict[str, Any]


STUDIO_FILE = "studio.json"  # in $PRISM_HOME: the run the merchandiser last chose


def remembered_run() -> str | None:
    """The run last chosen in the studio (any session), or None."""
    import json

    try:
        value = json.loads((paths.prism_home() / STUDIO_FILE).read_text()).get("last_run")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def remember_run(name: str) -> None:
    """Persist the chosen run so the next visit (and a link without run=) opens it."""
    from engine.core.files import write_json_atomic

    with contextlib.suppress(OSError):  # a read-only home loses the convenience, not the page
        write_json_atomic(paths.prism_home() / STUDIO_FILE, {"last_run": name}, indent=None)


def default_run(runs: list[RunEntry]) -> str | None:
    """The run a visit opens: the last one chosen, else the newest run trained to the end."""
    names = [entry.name for entry in runs]
    chosen = remembered_run()
    if chosen in names:
        return chosen
    finished = [entry.name for entry in runs if not entry.meta.get("stopped_early")]
    return (finished or names or [None])[0]


def run_stamp(folder: Path) -> float:
    """A run's version for cache keys: run.json or the item table, whichever changed last
    (a cold-start add rewrites the items but copies run.json with its old time)."""
    stamp = (folder / "run.json").stat().st_mtime
    try:
        return max(stamp, (folder / "items.parquet").stat().st_mtime)
    except OSError:
        return stamp


def list_runs() -> list[RunEntry]:
    """Complete run folders under the runs directory, newest first."""
    import json

    entries = []
    for folder in paths.runs_dir().iterdir():
        run_json = folder / "run.json"
        if not folder.is_dir() or ".tmp-" in folder.name or ".old-" in folder.name:
            continue
        try:
            meta = json.loads(run_json.read_text())
            stamp = run_stamp(folder)
        except (OSError, ValueError):
            continue
        entries.append(RunEntry(folder.name, folder, stamp, meta if isinstance(meta, dict) else {}))
    return sorted(entries, key=lambda entry: entry.stamp, reverse=True)


def active_run() -> RunEntry:
    """The run picked in the sidebar; RunError (shown by the page) when it vanished."""
    name = st.session_state.get(RUN)
    folder = paths.runs_dir() / str(name)
    try:
        stamp = run_stamp(folder)
    except OSError as exc:
        raise RunError(f"run {name!r} is gone from {paths.runs_dir()} (deleted or renamed "
                       "while the studio was open); pick another run in the sidebar or train "
                       "one on the Training page.") from exc
    return RunEntry(str(name), folder, stamp, {})


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def _load_recommender(run_dir: str, stamp: float) -> Any:
    from engine.serving.recommender import Recommender

    service = Recommender.load(run_dir)
    service.warm_search()  # the query encoder loads while the shopper looks at the Explorer
    return service


def recommender(run: RunEntry | None = None) -> Any:
    """The shared, read-only Recommender of the active run (loaded once per run version)."""
    run = run or active_run()
    return _load_recommender(str(run.path), run.stamp)


def active_recommender() -> tuple[RunEntry, Any]:
    """The active run and its Recommender; on a PrismError the page shows it and stops."""
    try:
        run = active_run()
        return run, recommender(run)
    except PrismError as exc:
        st.error(str(exc))
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
    import json

    return json.loads((Path(run_dir) / "run.json").read_text())


def run_data_path(meta: Mapping[str, Any]) -> Path | None:
    """The data folder a run was trained on, when it still exists."""
    value = meta.get("data_path") or meta.get("data_dir")
    return Path(value) if isinstance(value, str) and Path(value).is_dir() else None


def _run_dataset(meta: Mapping[str, Any], run_dir: str | None = None) -> Any:
    """The run's dataset re-loaded with its data settings, or None when the folder is gone.

    With `run_dir`, items added to the run since training (cold start, no events yet) are
    appended in the run's order, so the data's catalogue is the run's catalogue again.
    """
    from engine.core.config import DataConfig
    from engine.data import load_dataset

    folder = run_data_path(meta)
    if folder is None:
        return None
    config = meta.get("data_config")
    dataset = load_dataset(folder, config=DataConfig.from_dict(config) if config else None)
    return dataset if run_dir is None else _with_added_items(dataset, Path(run_dir))


def _with_added_items(dataset: Any, run_dir: Path) -> Any:
    """The dataset plus the run's items it lacks (cold-start additions), in the run's order."""
    import dataclasses

    from engine.core.columns import ITEM_ID
    from engine.runs.store import ITEMS

    run_items = pd.read_parquet(run_dir / ITEMS)
    known = set(dataset.items[ITEM_ID].astype(str))
    added = run_items[~run_items[ITEM_ID].astype(str).isin(known)]
    if added.empty:
        return dataset
    columns = [column for column in dataset.items.columns if column in added.columns]
    items = pd.concat([dataset.items, added[columns]], ignore_index=True)
    return dataclasses.replace(dataset, items=items)


@st.cache_resource(max_entries=2, show_spinner="Re-reading the run's data split…")
def _evaluation_data(run_dir: str, stamp: float) -> tuple[Any, Any] | None:
    """(Split, TrainData) recomputed from the run's data folder with the run's split settings.

    Runs store training histories only; held-out items and sweeps need the split. None when
    the data folder is gone (precision and the trade-off are then not available).
    """
    from engine.evaluation.protocol import prepare_data

    meta = _run_meta(run_dir)
    dataset = _run_dataset(meta, run_dir)
    if dataset is None:
        return None
    split, data = prepare_data(dataset, str(meta.get("split") or "leave-last-out"),
                               seed=int(meta.get("seed") or 0))
    return split, data


def evaluation_data(run: RunEntry) -> tuple[Any, Any] | None:
    return _evaluation_data(str(run.path), run.stamp)


@st.cache_resource(max_entries=4)
def _heldout(run_dir: str, stamp: float) -> dict[str, list[str]] | None:
    from dashboard.measures import heldout_by_user

    prepared = _evaluation_data(run_dir, stamp)
    return None if prepared is None else heldout_by_user(prepared[0])


def heldout(run: RunEntry) -> dict[str, list[str]] | None:
    """Validation + test item ids per shopper (None when the data folder is gone)."""
    return _heldout(str(run.path), run.stamp)


@st.cache_data(max_entries=32, show_spinner=False)
def sweep_cached(run_dir: str, stamp: float, method: str, weights: tuple[float, ...],
                 n_users: int, k: int) -> pd.DataFrame:
    """One method's trade-off curve over a shopper sample (cached per run, method, weights)."""
    from engine.evaluation.sweep import sweep

    run = _load_recommender(run_dir, stamp).run
    _, data = _evaluation_data(run_dir, stamp)
    return sweep(run, data, [method], list(weights), k=k, n_users=n_users, seed=0)


@st.cache_data(max_entries=16, show_spinner=False)
def exposure_cached(run_dir: str, stamp: float, method: str, weight: float, n_users: int,
                    k: int) -> np.ndarray:
    """(n_items,) recommendation slots per item over the sample, for one setting."""
    from engine.evaluation.protocol import RerankSpec, rank_users
    from engine.evaluation.sweep import sample_users

    model = _load_recommender(run_dir, stamp).model
    _, data = _evaluation_data(run_dir, stamp)
    users = sample_users(data, n_users, seed=0)
    rerank = None if method == "none" or weight == 0 else RerankSpec(method, weight)
    topk = rank_users(model, data, users, k=k, rerank=rerank)
    return np.bincount(topk[topk >= 0].ravel(), minlength=data.n_items)


@st.cache_resource(max_entries=4)
def _segments(run_dir: str, stamp: float) -> pd.Series:
    """Each training shopper's top category (for the Explorer's segment filter)."""
    from dashboard.measures import top_category

    catalogue = _load_recommender(run_dir, stamp).catalogue
    return pd.Series(top_category(catalogue), index=catalogue.user_index.astype(str))


def segments(run: RunEntry) -> pd.Series:
    return _segments(str(run.path), run.stamp)


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


# ---- scenarios --------------------------------------------------------------------------
def scenario_store() -> ScenarioStore:
    return ScenarioStore(paths.prism_home() / "scenarios.sqlite")


# ---- category targets -------------------------------------------------------------------
def targets(segment: str | None = None) -> dict[str, dict[str, Any]]:
    """Category targets for a segment when it has its own, else everyone's."""
    if segment:
        own = (st.session_state.get(SEGMENT_TARGETS) or {}).get(segment)
        if own:
            return dict(own)
    return dict(st.session_state.get(TARGETS) or {})


def segment_targets() -> dict[str, dict[str, dict[str, Any]]]:
    return {name: dict(rows) for name, rows in
            (st.session_state.get(SEGMENT_TARGETS) or {}).items() if rows}


def quotas_from_targets(target_rows: Mapping[str, Mapping[str, Any]]) -> dict[str, list]:
    """{category: [floor, cap]} for the quota re-ranker (categories with a bound only)."""
    quotas = {}
    for category, row in target_rows.items():
        floor, cap = row.get("floor"), row.get("cap")
        if floor is not None or cap is not None:
            quotas[category] = [None if floor is None else int(floor),
                                None if cap is None else int(cap)]
    return quotas


def shares_from_targets(target_rows: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """{category: share} for the calibrated re-ranker (categories with a positive share)."""
    return {category: float(row["share"]) for category, row in target_rows.items()
            if row.get("share") not in (None, 0) and float(row["share"]) > 0}


def rerank_extras(method: str, segment: str | None = None) -> dict[str, Any]:
    """The `target=` / `quotas=` arguments a method takes from the merchandiser's panel."""
    rows = targets(segment)
    if method == "quota" and quotas_from_targets(rows):
        return {"quotas": quotas_from_targets(rows)}
    if method == "calibrated" and shares_from_targets(rows):
        return {"target": shares_from_targets(rows)}
    return {}


# ---- catalogue views ----------------------------------------------------------------------
MAP_POINTS = 4000


@st.cache_data(max_entries=4, show_spinner="Projecting item vectors…")
def _item_map_points(run_dir: str, stamp: float) -> pd.DataFrame:
    """PCA of the run's item vectors to 2-D (a seeded sample of at most MAP_POINTS items)."""
    from sklearn.decomposition import PCA

    catalogue = _load_recommender(run_dir, stamp).catalogue
    vectors = catalogue.item_vectors
    if vectors is None or len(vectors) < 3:
        return pd.DataFrame(columns=["x", "y", "category", "title"])
    items = catalogue.items
    sample = items.sample(min(MAP_POINTS, len(items)), random_state=0).index.to_numpy()
    xy = PCA(n_components=2, random_state=0).fit_transform(vectors[sample])
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1],
                         "category": [catalogue.category_label(int(i)) for i in sample],
                         "title": items["title"].astype(str).to_numpy()[sample]})


def item_map_points(run: RunEntry) -> pd.DataFrame:
    return _item_map_points(str(run.path), run.stamp)


@st.cache_data(max_entries=4, show_spinner=False)
def _cleaning_rows(run_dir: str, stamp: float) -> list[tuple[str, int, str]] | None:
    dataset = _run_dataset(_run_meta(run_dir))
    return None if dataset is None else dataset.report.rows()


def cleaning_rows(run: RunEntry) -> list[tuple[str, int, str]] | None:
    """(rule, count, action) of the run's data cleaning; None when the data folder is gone."""
    return _cleaning_rows(str(run.path), run.stamp)
