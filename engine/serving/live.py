"""Events that arrived after the run was trained: each shopper's history as of now.

The Recommender keeps one `LiveHistory`; `POST /events` adds to it after the event is stored,
and the shopper's very next request is scored from their run history plus these events
(`model.score_histories`, no retraining), so a purchase leaves the list and similar items
rise. Shoppers the run never saw get a personal list from their first event on.

Each event keeps its id in the event store. A run folded in by `prism refresh` records the last
event id it learned from (`events_through` in run.json), so a Recommender over it reads only
the events after that id: one LiveHistory can be shared by the old and the refreshed model
while the API swaps them, and no event is counted twice or lost in between.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.core.columns import CATEGORY, DEFAULT_EVENT_WEIGHTS, ITEM_ID, TIMESTAMP, TITLE, WEIGHT


@dataclass(frozen=True)
class LiveEvent:
    """One event since the run: catalogue position, seconds since the epoch, event type, and
    its id in the event store (None for an event that was not stored)."""

    position: int
    timestamp: float
    event: str
    event_id: int | None = None

    def after(self, through: int) -> bool:
        """Whether a run that folded in the events up to id `through` has not seen this one."""
        return self.event_id is None or self.event_id > through


class LiveHistory:
    """Per shopper, the events added since the run, in arrival order (thread-safe)."""

    def __init__(self) -> None:
        self._events: dict[str, list[LiveEvent]] = {}
        self._lock = threading.Lock()

    def add(self, user_id: str, position: int, timestamp: float, event: str,
            event_id: int | None = None) -> None:
        with self._lock:
            self._events.setdefault(str(user_id), []).append(LiveEvent(
                int(position), float(timestamp), str(event),
                None if event_id is None else int(event_id)))

    def events(self, user_id: str | None, through: int = 0) -> list[LiveEvent]:
        """The shopper's events after id `through` (what a run folded in up to it lacks)."""
        if user_id is None:
            return []
        with self._lock:
            return [e for e in self._events.get(str(user_id), ()) if e.after(through)]

    def positions(self, user_id: str | None, through: int = 0) -> np.ndarray:
        """(n,) catalogue positions of the shopper's new events, oldest first."""
        return np.array([e.position for e in self.events(user_id, through)], dtype=np.int64)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(rows) for rows in self._events.values())


def history_frame(columns, trained: pd.DataFrame, new: list[LiveEvent]  # noqa: ANN001
                  ) -> pd.DataFrame:
    """A shopper's history as served: their run events (`trained`: item_idx, timestamp,
    weight) then their new ones (weighted by event type): item_id, title, category,
    timestamp (UTC), weight."""
    positions = np.concatenate([trained["item_idx"].to_numpy(),
                                [row.position for row in new]]).astype(np.int64)
    seconds = np.concatenate([trained[TIMESTAMP].to_numpy(), [row.timestamp for row in new]])
    weights = np.concatenate([trained[WEIGHT].to_numpy(),
                              [DEFAULT_EVENT_WEIGHTS.get(row.event, 1.0) for row in new]])
    return pd.DataFrame({
        ITEM_ID: columns.ids[positions], TITLE: columns.titles[positions],
        CATEGORY: columns.labels[positions],
        TIMESTAMP: pd.to_datetime(seconds, unit="s", utc=True), WEIGHT: weights,
    })
