"""The event store: the same tests against the embedded SQLite default and a real PostgreSQL
server (started here on 127.0.0.1, stopped after)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from postgres_support import fresh_database, postgres_server  # noqa: F401 (fixture)

from engine.cli.main import main
from engine.events.store import EventStore, EventStoreError, ServedList
from engine.events.transfer import export_events, import_events


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """An empty store: a SQLite file, or a fresh database on the PostgreSQL server."""
    if request.param == "sqlite":
        opened = EventStore(tmp_path / "events.sqlite")
    else:
        opened = EventStore(fresh_database(request.getfixturevalue("postgres_server"),
                                           "events"))
    yield opened
    opened.close()


def test_events_and_served_lists_read_back_as_written(store: EventStore) -> None:
    store.log_list(ServedList("r1", "ann", "summer@3", "mmr", 0.4, 0.5, ("A", "B", "C")))
    first = store.add_event("ann", "B", "click", 1_700_000_000.5, "r1")
    second = store.add_event("bob", "A", "purchase", 1_700_000_100.0)
    assert store.count() == 2 and second > first and store.last_id() == second
    assert store.events("ann") == [{"id": first, "user_id": "ann", "item_id": "B",
                                    "event": "click", "timestamp": 1_700_000_000.5,
                                    "list_id": "r1"}]
    assert [row["id"] for chunk in store.iter_events(after=first) for row in chunk] == [second]
    assert store.served_list("r1") == ServedList("r1", "ann", "summer@3", "mmr", 0.4, 0.5,
                                                 ("A", "B", "C"))
    assert store.served_list("r2") is None


def test_concurrent_writers_lose_no_event(store: EventStore) -> None:
    def write(n: int) -> None:
        store.add_event(f"u{n % 7}", f"i{n}", "view", 1_700_000_000.0 + n)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(200)))
    assert store.count() == 200
    assert sorted(row["item_id"] for row in store.events()) == sorted(f"i{n}" for n in range(200))


def test_import_counts_every_row_and_export_gives_them_back(store: EventStore,
                                                            tmp_path: Path) -> None:
    source = tmp_path / "events.csv"
    source.write_text("user_id,item_id,event,timestamp,list_id\n"
                      "ann,A,view,2024-01-01T10:00:00Z,\n"
                      "ann,B,Purchase,1704103200,r9\n"
                      "bob,A,like,2024-01-01T10:00:00,\n"
                      ",A,view,2024-01-01T10:00:00,\n"
                      "bob,C,cart,yesterday,\n", encoding="utf-8")
    count = import_events(source, store)
    assert (count.read, count.kept, count.balanced) == (5, 2, True)
    assert count.dropped == {"no shopper or item id": 1,
                             "event type not view/click/cart/purchase": 1,
                             "unreadable timestamps": 1}
    rows = store.events("ann")
    assert [r["event"] for r in rows] == ["view", "purchase"] and rows[1]["list_id"] == "r9"
    assert rows[0]["timestamp"] == pytest.approx(1_704_103_200.0, abs=1e-6)
    for suffix in (".csv", ".parquet"):
        out = tmp_path / f"out{suffix}"
        assert export_events(store, out) == 2
        back = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
        assert back["item_id"].tolist() == ["A", "B"]
        assert back["timestamp"].tolist()[0] == "2024-01-01T10:00:00+00:00"


def test_cli_import_and_export(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "in.csv"
    source.write_text("user_id,item_id,event,timestamp\nann,A,view,1704103200\n"
                      "ann,B,frown,1704103200\n", encoding="utf-8")
    url = str(tmp_path / "cli.sqlite")
    assert main(["events", "import", str(source), "--store", url]) == 0
    assert "2 read = 1 kept + 1 event type" in capsys.readouterr().out
    assert main(["events", "export", "--out", str(tmp_path / "out.parquet"),
                 "--store", url]) == 0
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == 1
    assert main(["events", "import", str(tmp_path / "in.txt"), "--store", url]) == 2
    assert main(["events", "export", "--out", str(tmp_path / "out.xlsx"), "--store", url]) == 2
    source.write_text("user,item\nann,A\n", encoding="utf-8")
    assert main(["events", "import", str(source), "--store", url]) == 2
    assert "lacks the columns user_id, item_id" in capsys.readouterr().err


def test_a_store_that_cannot_be_opened_says_where(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    with pytest.raises(EventStoreError, match="cannot open the event store"):
        EventStore(tmp_path / "file" / "events.sqlite").count()


def test_postgresql_commits_are_on_disk_before_they_return(postgres_server: str  # noqa: F811
                                                           ) -> None:
    """A database whose default lets COMMIT return before the commit is on disk (a common
    tuning) still gets durable event commits: an acknowledged event survives a server crash."""
    import sqlalchemy as sa

    url = fresh_database(postgres_server, "lazy")
    name = sa.make_url(url).database
    with sa.create_engine(url).connect() as admin:
        admin.execute(sa.text(f"ALTER DATABASE {name} SET synchronous_commit TO off"))
        admin.commit()
        assert admin.execute(sa.text("SHOW synchronous_commit")).scalar() == "on"  # older session
    with sa.create_engine(url).connect() as plain:  # what any new session gets there
        assert plain.execute(sa.text("SHOW synchronous_commit")).scalar() == "off"
    store = EventStore(url)
    store.add_event("ann", "A", "purchase", 1_700_000_000.0)
    shown = store.transaction(lambda c: c.execute(sa.text("SHOW synchronous_commit")).scalar())
    assert shown == "on"
    store.close()
