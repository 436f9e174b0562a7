"""The API's group-commit writer: every write returns only once committed, concurrent writes
share transactions, and a row the store refuses fails only its own request."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.events.store import EventStore, EventStoreError, ServedList
from engine.events.writer import StoreWriter


def test_concurrent_writes_are_all_committed_with_their_ids(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.sqlite")
    writer = StoreWriter(store)

    def post(n: int) -> int:
        writer.log_list(ServedList(f"r{n}", f"u{n}", None, "mmr", 0.2, None, (f"i{n}",)))
        return writer.add_event(f"u{n}", f"i{n}", "click", 1_700_000_000.0 + n, f"r{n}")

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(post, range(100)))
    assert len(set(ids)) == 100 and store.count() == 100  # committed before answering
    by_id = {row["id"]: row for row in store.events()}
    assert all(by_id[i]["item_id"] == f"i{n}" for n, i in enumerate(ids))
    assert store.served_list("r7").items == ("i7",) == writer.served_list("r7").items
    writer.close()
    store.close()


def test_a_refused_row_fails_its_own_request_only(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.sqlite")
    writer = StoreWriter(store)

    def post(n: int) -> str:
        try:  # n == 3 has no shopper: the store's NOT NULL refuses that row
            writer.add_event(None if n == 3 else f"u{n}", f"i{n}", "view", 1.0)
        except EventStoreError:
            return "refused"
        return "stored"

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(16)))
    assert answers.count("refused") == 1 and answers[3] == "refused"
    assert sorted(row["item_id"] for row in store.events()) == sorted(
        f"i{n}" for n in range(16) if n != 3)
    writer.close()
    with pytest.raises(EventStoreError, match="closing"):
        writer.add_event("u", "i", "view", 1.0)
    store.close()


class LostAnswers(EventStore):
    """A store whose batches of several events commit and then fail as if the connection
    dropped before COMMIT's answer came back; the first write waits until `release`."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.release, self.writes = threading.Event(), 0

    def write(self, lists, events):  # noqa: ANN001, ANN201
        self.writes += 1
        if self.writes == 1:
            self.release.wait()
        ids = super().write(lists, events)
        if len(events) > 1:
            lost = sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))
            raise EventStoreError("the event store failed: OperationalError") from lost
        return ids


def test_a_batch_whose_commit_answer_was_lost_is_not_written_again(tmp_path: Path) -> None:
    store = LostAnswers(tmp_path / "events.sqlite")
    writer = StoreWriter(store)

    def post(n: int) -> str:
        try:
            writer.add_event(f"u{n}", f"i{n}", "view", 1.0)
        except EventStoreError:
            return "unanswered"
        return "stored"

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(post, 0)  # holds the writer, so the next three queue as one batch
        while store.writes == 0:
            time.sleep(0.01)
        rest = [pool.submit(post, n) for n in (1, 2, 3)]
        while len(writer._queue) < 3:  # noqa: SLF001 (the batch is queued)
            time.sleep(0.01)
        store.release.set()
        answers = [first.result()] + [future.result() for future in rest]
    assert answers == ["stored"] + ["unanswered"] * 3  # the clients will send those again
    assert sorted(row["user_id"] for row in store.events()) == ["u0", "u1", "u2", "u3"]
    writer.close()
    store.close()


def test_lists_answered_before_their_commit_are_all_committed_and_checkable(
        tmp_path: Path) -> None:
    """Without waiting: every list is findable at once (an event naming it waits for its
    commit), stored before any event naming it, and all are committed by close."""
    store = EventStore(tmp_path / "events.sqlite")
    writer = StoreWriter(store, lists_wait=False)

    def post(n: int) -> int:
        writer.log_list(ServedList(f"r{n}", f"u{n}", None, "mmr", 0.2, None, (f"i{n}",)))
        assert writer.served_list(f"r{n}").items == (f"i{n}",)
        return writer.add_event(f"u{n}", f"i{n}", "click", 1_700_000_000.0 + n, f"r{n}")

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(post, range(60)))
    assert len(set(ids)) == 60 and store.served_list("r59").items == ("i59",)
    for n in range(60, 90):  # never waited on, never named: committed by close
        writer.log_list(ServedList(f"r{n}", None, None, "none", 0.0, None, ("x",)))
    writer.close()
    assert all(store.served_list(f"r{n}") is not None for n in range(90))
    store.close()


def test_a_list_whose_commit_failed_is_named_by_no_event(tmp_path: Path, caplog,  # noqa: ANN001
                                                          monkeypatch) -> None:  # noqa: ANN001
    store = EventStore(tmp_path / "events.sqlite")
    writer = StoreWriter(store, lists_wait=False)
    real_write = store.write

    def write(lists, events):  # noqa: ANN001, ANN202 - the store fails on list "bad"
        if any(served.request_id == "bad" for served in lists):
            raise EventStoreError("the disk is full")
        return real_write(lists, events)

    monkeypatch.setattr(store, "write", write)
    writer.log_list(ServedList("bad", "u", None, "mmr", 0.2, None, ("a",)))
    assert writer.served_list("bad") is None  # waits for the outcome of its commit
    writer.log_list(ServedList("good", "u", None, "mmr", 0.2, None, ("b",)))
    writer.flush()
    assert writer.served_list("good").items == ("b",) and store.served_list("bad") is None
    assert "served list not logged: the disk is full" in caplog.text
    writer.close()
    store.close()
