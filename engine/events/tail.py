"""Keep one API worker's shopper histories in step with the event store that several workers
write: before a list is made, the events stored since the last look — by any worker — join
the histories, each exactly once.

With `prism serve --workers N` every worker stores events but holds its own in-memory
histories. `EventTail.poll()` reads the rows above the highest id it has taken in (one
indexed range read) and records the new ones; the worker's own `/events` go through the
same poll after their commit, so an event is never recorded twice. A database that hands out
ids before commit (PostgreSQL's sequences) can commit id 11 before id 10: ids not seen yet
below ones already seen are waited for — looked for again on every poll — for `GRACE_S`
seconds, and then given up as rolled back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from engine.core.errors import RequestError
from engine.core.messages import render
from engine.events.store import EventStore

LOG = logging.getLogger(__name__)
GRACE_S = 5.0


class EventTail:
    """Record every stored event with an id above `after` through `record(row)` once."""

    def __init__(self, store: EventStore, record: Callable[[dict[str, Any]], None],
                 after: int) -> None:
        self.store, self._record = store, record
        self._floor = after  # every id up to here is taken in (or given up)
        self._seen: set[int] = set()  # ids above the floor already taken in
        self._gap_since: float | None = None
        self._lock = threading.Lock()
        self.skipped = 0  # events on items this run does not know

    def poll(self) -> int:
        """Take in what was stored since the last poll; returns how many events joined."""
        with self._lock:
            rows = next(iter(self.store.iter_events(after=self._floor)), [])
            fresh = [row for row in rows if row["id"] not in self._seen]
            for row in fresh:
                self._seen.add(row["id"])
                try:
                    self._record(row)
                except RequestError:
                    self.skipped += 1
            self._advance()
            return len(fresh)

    def _advance(self) -> None:
        while self._seen:
            following = self._floor + 1
            if following in self._seen:
                self._seen.discard(following)
                self._floor, self._gap_since = following, None
                continue
            now = time.monotonic()  # a gap below ids already seen: committing, or rolled back
            if self._gap_since is None:
                self._gap_since = now
            if now - self._gap_since < GRACE_S:
                return
            missing = min(self._seen) - following
            LOG.info(render("{n} event {n:id|ids} from {first} never appeared; treating "
                            "{n:it|them} as rolled back", n=missing, first=following))
            self._floor, self._gap_since = following + missing - 1, None
