"""`prism refresh`: fold the events stored since a run was trained into it, without a full fit.

The events after the run's `events_through` (the last event id it learned from; 0 for a run
never refreshed, as the API counts every stored event as new to it) join the shoppers'
histories the way training collapses events (one interaction per shopper and item, the
strongest event's weight, the latest time). The served model is then fine-tuned on them
(engine/models/finetune.py: only the rows of the shoppers and items they touch, a replay
sample of old interactions beside them) and saved as the run's next version: the serving
part is replaced, run.json gains `version` + 1, `events_through` and a `refreshes` record; the
evaluation model, its metrics and the held-out split stay as they were. A running API swaps the
new version in when it sees the version change (engine/serving/swap.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.core.columns import DEFAULT_EVENT_WEIGHTS, ITEM_ID, TIMESTAMP, USER_ID, WEIGHT
from engine.core.errors import RunError
from engine.core.messages import Message, render
from engine.data import interactions
from engine.models.base import ITEM_IDX, USER_IDX, TrainData
from engine.models.callbacks import notify_stage
from engine.models.finetune import FineTune, FineTuned, check_refreshable, fine_tune
from engine.retrieval.ann import faiss_available
from engine.retrieval.runindex import (
    index_vectors,
    read_index_info,
    refreshed_index,
    save_item_index,
)
from engine.runs.store import Run, load_run, save_refreshed

EVENT_COLUMNS = ("id", USER_ID, ITEM_ID, "event", TIMESTAMP)


@dataclass
class Refreshed:
    """What a refresh did, with the counts the CLI and the benchmark report."""

    path: Path
    version: int
    events: int  # events read since the run's last one
    skipped: int  # of them, on items the run does not know
    interactions: int  # shopper-item pairs new or renewed by them
    events_through: int
    tuned: FineTuned
    seconds: float
    notes: tuple[str, ...] = ()
    index: Any = None  # the new candidate index's IndexInfo, when the run has an index
    index_updated: int | None = None  # items it re-encoded; None: built again

    def record(self) -> dict[str, Any]:
        index = {} if self.index is None else {"index": {
            "kind": self.index.kind, "recall": self.index.recall, "tune_n": self.index.tune_n,
            "seconds": self.index.build_seconds, "updated_items": self.index_updated}}
        return {"version": self.version, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "events": self.events, "skipped": self.skipped,
                "interactions": self.interactions, "events_through": self.events_through,
                **self.tuned.record(), **index, "seconds": round(self.seconds, 3)}


def event_weights(meta: dict[str, Any]) -> dict[str, float]:
    """The weight of each event type the run was trained with (its data settings)."""
    config = meta.get("data_config") or {}
    return {**DEFAULT_EVENT_WEIGHTS, **(config.get("event_weights") or {})}


def fold_events(run: Run, events: pd.DataFrame) -> tuple[TrainData, np.ndarray, int]:
    """(every interaction as training data, which of its rows the events made, events on
    unknown items): the run's histories with `events` collapsed into them."""
    known = events[ITEM_ID].astype(str).isin(set(run.item_ids))
    new = events[known]
    weights = event_weights(run.meta)
    rows = pd.DataFrame({USER_ID: new[USER_ID].astype(str), ITEM_ID: new[ITEM_ID].astype(str),
                         TIMESTAMP: new[TIMESTAMP].astype(float).astype(np.int64),
                         WEIGHT: new["event"].map(weights).fillna(1.0).astype(float)})
    old = run.histories[[USER_ID, ITEM_ID, TIMESTAMP, WEIGHT]]
    every = interactions(pd.concat([old, rows], ignore_index=True))
    data = TrainData.from_interactions(every, run.item_ids, run.item_categories,
                                       run.category_names)
    users = pd.Index(data.user_ids).get_indexer(rows[USER_ID])
    items = pd.Index(data.item_ids).get_indexer(rows[ITEM_ID])
    codes = data.train[USER_IDX].to_numpy() * data.n_items + data.train[ITEM_IDX].to_numpy()
    fresh = np.isin(codes, users.astype(np.int64) * data.n_items + items)
    return data, fresh, int((~known).sum())


def _check_events(events: pd.DataFrame, path: Path, through: int) -> None:
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise RunError(Message("refresh_columns", missing=", ".join(missing), n=len(missing)))
    if events.empty:
        raise RunError(Message("refresh_no_events", path=str(path), through=through))


def refresh_run(run_dir: str | Path, new_events: Callable[[int], pd.DataFrame], *,
                out: str | Path | None = None, settings: FineTune = FineTune(),
                callbacks: Sequence[Any] = ()) -> Refreshed:
    """Fine-tune run `run_dir`'s served model on `new_events(after)` (id, user_id, item_id,
    event, timestamp of the stored events after id `after`, the run's `events_through`) and
    save the next version at `out` (default: the run's own folder, swapped in whole).
    RunError for an unknown or incompatible run, or no new events on items it knows."""
    started = time.perf_counter()
    run = load_run(run_dir, model="serving")
    check_refreshable(run.model)
    through = run.events_through
    events = new_events(through)
    _check_events(events, run.path, through)
    events = events[events["id"] > through]
    _check_events(events, run.path, through)
    data, fresh, skipped = fold_events(run, events)
    if not fresh.any():
        raise RunError(Message("refresh_unknown_items", n=len(events), path=str(run.path)))
    notify_stage(callbacks, Message("stage_finetune", model=run.model.name,
                                    interactions=int(fresh.sum()), events=len(events)))
    before = _indexed_vectors(run)
    tuned = fine_tune(run.model, data, run.user_ids, fresh, settings, callbacks)
    version = int(run.meta.get("version") or 1) + 1
    result = Refreshed(path=Path(out) if out is not None else run.path, version=version,
                       events=len(events), skipped=skipped, interactions=int(fresh.sum()),
                       events_through=int(events["id"].max()), tuned=tuned, seconds=0.0)
    index, result.index_updated = _refreshed_index(run, before, len(data.user_ids), callbacks)
    result.index = None if index is None else index.info
    notify_stage(callbacks, Message("stage_saving_version", version=version))
    result.seconds = time.perf_counter() - started
    meta = {**run.meta, "version": version, "events_through": result.events_through,
            "refreshes": [*run.meta.get("refreshes", []), result.record()]}
    notes = save_refreshed(run, result.path, model=run.model, data=data, meta=meta,
                           epochs=[*run.epochs, *tuned.logs],
                           purchases=_purchases(run, events),
                           index=None if index is None else partial(save_item_index,
                                                                    built=index))
    result.notes = tuple(notes) + _index_note(result)
    return result


def _indexed_vectors(run: Run) -> np.ndarray | None:
    """A copy of the item table the run's candidate index holds (before fine-tuning moves
    it), or None when the run has no index or FAISS is missing (the new version then has no
    index, and the refresh's note says how to build one)."""
    if read_index_info(run.path) is None or not faiss_available():
        return None
    return np.array(index_vectors(run.model), copy=True)


def _refreshed_index(run: Run, before: np.ndarray | None, n_users: int,
                     callbacks: Sequence[Any]) -> tuple[Any, int | None]:
    """(the run's candidate index over the fine-tuned item vectors, items re-encoded — None
    when built again), or (None, None) without one: the new version is served through an
    index as the old one was, never through one that ranks by the old vectors."""
    if before is None:
        return None, None
    notify_stage(callbacks, Message("stage_index"))
    return refreshed_index(run.path, run.model, n_users, before, run.part)


def _index_note(result: Refreshed) -> tuple[str, ...]:
    info = result.index
    if info is None:
        return ()
    how = "rebuilt" if result.index_updated is None else \
        render("updated ({n:,} changed {n:item|items} re-encoded)", n=result.index_updated)
    return (f"candidate index {info.kind} {how} over the fine-tuned item vectors: "
            f"recall@{info.tune_n} {info.recall:.3f} on {info.tune_queries} shoppers, "
            f"in {info.build_seconds:.1f}s",)


def _purchases(run: Run, events: pd.DataFrame) -> pd.DataFrame | None:
    """The run's purchase table with the new purchases on items it knows (buy again), or
    None when the run keeps no purchase table."""
    if run.purchases is None:
        return None
    bought = events[(events["event"] == "purchase")
                    & events[ITEM_ID].astype(str).isin(set(run.item_ids))]
    rows = pd.DataFrame({USER_ID: bought[USER_ID].astype(str),
                         ITEM_ID: bought[ITEM_ID].astype(str),
                         TIMESTAMP: bought[TIMESTAMP].astype(float).astype(np.int64)})
    every = pd.concat([run.purchases[[USER_ID, ITEM_ID, TIMESTAMP]], rows], ignore_index=True)
    return every.sort_values([USER_ID, TIMESTAMP, ITEM_ID], kind="stable").reset_index(drop=True)
