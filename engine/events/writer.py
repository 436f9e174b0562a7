"""Group commit for the API's writes: every served list and event is committed before it is
answered, but concurrent requests share one transaction instead of each taking its own.

Request threads hand their row to one writer thread and wait; the writer takes everything
queued, writes it in one transaction (lists first, so an event that names a list is never
stored before it) and wakes each waiter with the outcome. Under load this turns many small
commits — and, on SQLite, many threads queueing on the file's write lock — into a few larger
ones, while a request is still acknowledged only once its row is committed: a kill −9 loses
no acknowledged event. If the store refuses a row of a batch (a constraint or a value: the
statement failed, nothing was committed), its rows are written one by one, so one bad row
fails only its own request; any other failure (a lost connection, perhaps after the commit
went through) fails the whole batch, never writing it again: the clients resend what was
not acknowledged, and no row is stored twice behind their backs. The lists it committed
lately stay in memory, so the check of an event that names one of them needs no read.

A served list need not hold up its answer (`lists_wait=False`, one API process): it is
queued and committed with the next group commit, before any event that names it, and an
event that names a list still queued waits for that list's commit (a list that failed is
named by no event, as before). `close` commits everything queued, so a clean shutdown loses
no list; a kill −9 can lose only the lists answered in the last moment, never an acknowledged
event. With several processes sharing the store a list is committed before it is answered,
since an event naming it may reach another process.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import Future, wait
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError

from engine.events.store import EventStore, EventStoreError, ServedList

LOG = logging.getLogger(__name__)
Row = tuple[str, Any, Future]  # ("list", ServedList, done) or ("event", dict, done)
RECENT_LISTS = 20_000  # served lists kept in memory for the checks of the events naming them


def _refused_row(exc: EventStoreError) -> bool:
    """Whether the store refused a row's values (nothing of the batch was committed) rather
    than failing itself, which may happen after the commit went through."""
    return isinstance(exc.__cause__, IntegrityError | DataError)


def _warn_if_failed(done: Future) -> None:
    if done.exception() is not None:
        LOG.warning("served list not logged: %s", done.exception())


class StoreWriter:
    """`log_list` / `add_event` like EventStore's, through one writer thread per process."""

    def __init__(self, store: EventStore, lists_wait: bool = True) -> None:
        self.store = store
        self.lists_wait = lists_wait  # False: log_list returns before the commit
        self._queue: list[Row] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._recent: OrderedDict[str, ServedList] = OrderedDict()  # committed, newest last
        self._pending: dict[str, Future] = {}  # lists queued and not committed yet

    def served_list(self, request_id: str) -> ServedList | None:
        """A served list: one this process logged lately from memory (a list still queued
        once it is committed; None if its commit failed), else from the store."""
        with self._wake:
            found, queued = self._recent.get(request_id), self._pending.get(request_id)
        if found is None and queued is not None:
            if queued.exception() is not None:
                return None
            with self._wake:
                found = self._recent.get(request_id)
        return found if found is not None else self.store.served_list(request_id)

    def log_list(self, served: ServedList, wait: bool | None = None) -> None:
        """Record a served list; returns once it is committed (EventStoreError if not), or
        at once when it need not `wait` (default: `lists_wait`; a failure is then logged)."""
        done = self._submit("list", served)
        if self.lists_wait if wait is None else wait:
            done.result()
        else:
            done.add_done_callback(_warn_if_failed)

    def add_event(self, user_id: str, item_id: str, event: str, timestamp: float,
                  list_id: str | None = None) -> int:
        """Append one event; returns its id once it is committed (EventStoreError if not)."""
        return self._submit("event", {"user_id": user_id, "item_id": item_id, "event": event,
                               "timestamp": float(timestamp), "list_id": list_id}).result()

    def flush(self) -> None:
        """Wait until every list queued so far is committed or has failed."""
        with self._wake:
            queued = list(self._pending.values())
        wait(queued)

    def _submit(self, kind: str, row: Any) -> Future:
        done: Future = Future()
        with self._wake:
            if self._closed:
                raise EventStoreError("the event store is closing; try again")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="event-writer",
                                                daemon=True)
                self._thread.start()
            self._queue.append((kind, row, done))
            if kind == "list":
                self._pending[row.request_id] = done
            self._wake.notify()
        return done

    def close(self) -> None:
        """Write what is queued, then stop the writer thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._queue or self._closed)
                batch, self._queue = self._queue, []
                if not batch and self._closed:
                    return
            self._write(batch)

    def _write(self, batch: list[Row]) -> None:
        error: EventStoreError | None = None
        try:
            ids = iter(self.store.write([row for kind, row, _ in batch if kind == "list"],
                                        [row for kind, row, _ in batch if kind == "event"]))
        except EventStoreError as exc:
            if len(batch) > 1 and _refused_row(exc):  # only that row's request hears of it
                for row in batch:
                    self._write([row])
                return
            error = exc
        except Exception as exc:  # never leave a request waiting forever
            LOG.exception("event writer failed")
            error = EventStoreError(f"the event store failed ({type(exc).__name__}); try again")
        lists = [row for kind, row, _ in batch if kind == "list"]
        with self._wake:
            if error is None:
                self._remember(lists)
            for served in lists:
                self._pending.pop(served.request_id, None)
        for kind, _, done in batch:
            if error is not None:
                done.set_exception(error)
            else:  # an event learns its id (in the order given), a list None
                done.set_result(next(ids) if kind == "event" else None)

    def _remember(self, lists: list[ServedList]) -> None:
        """Keep the newest RECENT_LISTS committed lists, so an event naming one is checked
        without a read (under the lock)."""
        for served in lists:
            self._recent[served.request_id] = served
        while len(self._recent) > RECENT_LISTS:
            self._recent.popitem(last=False)
