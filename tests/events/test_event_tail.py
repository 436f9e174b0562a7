"""Several workers, one store: each worker's tail takes in every stored event exactly once —
its own and the others' — and waits a while for ids committed out of order before giving
them up (SQLite and a real PostgreSQL server, started here on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from postgres_support import fresh_database, postgres_server  # noqa: F401 (fixture)

from engine.events import tail as tail_module
from engine.events.store import EVENTS, EventStore
from engine.events.tail import EventTail
from engine.events.writer import StoreWriter


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'events.sqlite'}"
    else:
        yield fresh_database(request.getfixturevalue("postgres_server"), "tail")


def _event(n: int) -> dict:
    return {"user_id": f"u{n % 5}", "item_id": f"i{n}", "event": "view",
            "timestamp": 1_700_000_000.0 + n}


def test_two_workers_each_take_in_every_event_once(url: str) -> None:
    first, second = EventStore(url), EventStore(url)
    first.add_event("u0", "old", "view", 1.0)  # stored before the workers started
    taken: dict[str, list[str]] = {"first": [], "second": []}
    tails = {name: EventTail(store, lambda row, n=name: taken[n].append(row["item_id"]),
                             store.last_id())
             for name, store in (("first", first), ("second", second))}
    writers = {"first": StoreWriter(first), "second": StoreWriter(second)}

    def post(n: int) -> None:  # as /events does: commit, then catch up
        name = "first" if n % 2 else "second"
        writers[name].add_event(**_event(n))
        tails[name].poll()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, range(120)))
    for tail in tails.values():
        tail.poll()
    expected = sorted(f"i{n}" for n in range(120))
    assert sorted(taken["first"]) == expected and sorted(taken["second"]) == expected
    for name in writers:
        writers[name].close()
    first.close()
    second.close()


def test_an_id_committed_late_is_taken_in_and_a_lost_one_given_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EventStore(tmp_path / "events.sqlite")
    taken: list[str] = []
    tail = EventTail(store, lambda row: taken.append(row["item_id"]), 0)

    def insert(event_id: int) -> None:  # as two transactions would commit out of id order
        store.transaction(lambda connection: connection.execute(
            sa.insert(EVENTS), [{**_event(event_id), "id": event_id, "received": 0.0}]))

    insert(1)
    insert(3)
    assert tail.poll() == 2 and taken == ["i1", "i3"]
    insert(2)  # id 2 commits after id 3: still taken in, once
    assert tail.poll() == 1 and tail.poll() == 0 and taken == ["i1", "i3", "i2"]
    insert(6)
    assert tail.poll() == 1
    monkeypatch.setattr(tail_module, "GRACE_S", 0.0)  # ids 4 and 5 never come: given up
    tail.poll()
    insert(4)  # too late: below the floor now, like a row rolled back would never appear
    insert(7)
    assert tail.poll() == 1 and taken == ["i1", "i3", "i2", "i6", "i7"]
    store.close()


def test_unknown_items_are_counted_not_raised(tmp_path: Path) -> None:
    from engine.core.errors import RequestError

    store = EventStore(tmp_path / "events.sqlite")
    store.add_event("u", "gone", "view", 1.0)

    def record(row: dict) -> None:
        raise RequestError(f"unknown item {row['item_id']}")

    tail = EventTail(store, record, 0)
    assert tail.poll() == 1 and tail.skipped == 1 and tail.poll() == 0
    store.close()
