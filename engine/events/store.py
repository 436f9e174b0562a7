"""Shopper events and the lists they were shown, in one store: SQLite by default, PostgreSQL
when configured.

The default is `<home>/events.sqlite` in WAL mode (like the policy store), so the API appends
while the studio or `prism events export` reads. `PRISM_EVENT_STORE` (or `url=`) names any
SQLAlchemy URL instead, e.g. `postgresql+psycopg://user@127.0.0.1/shop`; the same tables and
queries serve both.

- `served_lists`: one row per list served by `/recommend` — its request id, the shopper, the
  policy (name@version), method, diversity weight, alpha, and the item ids in position order —
  so every click joins to what was shown.
- `events`: one row per shopper event (view, click, cart, purchase), with the list id it came
  from when the client gave one. `add_event` returns only after the row is committed: an
  acknowledged event survives the process being killed (SQLite's WAL with synchronous=NORMAL
  is durable across a process crash; only an operating-system crash can lose the last commits;
  PostgreSQL sessions commit with `synchronous_commit = on`, so a commit is on the server's
  disk before it returns even where the server's default is off).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from engine.core.columns import EVENT_TYPES
from engine.core.errors import PrismError
from engine.core.paths import prism_home
from engine.core.sql import LazyEngine

DB_NAME = "events.sqlite"
URL_ENV = "PRISM_EVENT_STORE"
__all__ = ["EVENT_TYPES", "EventStore", "EventStoreError", "ServedList"]
EVENT_COLUMNS = ("user_id", "item_id", "event", "timestamp", "list_id")

METADATA = sa.MetaData()
EVENTS = sa.Table(
    "events", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(200), nullable=False, index=True),
    sa.Column("item_id", sa.String(200), nullable=False),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("timestamp", sa.Float, nullable=False),  # seconds since the epoch, UTC
    sa.Column("list_id", sa.String(64), nullable=True),
    sa.Column("received", sa.Float, nullable=False),
)
SERVED_LISTS = sa.Table(
    "served_lists", METADATA,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("served", sa.Float, nullable=False),
    sa.Column("user_id", sa.String(200), nullable=True),
    sa.Column("policy", sa.String(220), nullable=True),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("diversity_weight", sa.Float, nullable=False),
    sa.Column("alpha", sa.Float, nullable=True),
    sa.Column("items", sa.Text, nullable=False),  # JSON list of item ids, position 1 first
)


class EventStoreError(PrismError):
    """The event store cannot be opened, read or written."""


@dataclass(frozen=True)
class ServedList:
    """A list as it was shown: request id, shopper, policy, knobs and items in order."""

    request_id: str
    user_id: str | None
    policy: str | None
    method: str
    diversity_weight: float
    alpha: float | None
    items: tuple[str, ...]


def default_url() -> str:
    """`$PRISM_EVENT_STORE` when set, else the SQLite file in the Prism home."""
    return os.environ.get(URL_ENV) or f"sqlite:///{prism_home() / DB_NAME}"


def _durable_commits(connection: Any, _record: Any) -> None:
    """A PostgreSQL session whose COMMIT returns only once the commit is on disk, whatever the
    server's or database's default (`synchronous_commit = off` is a common tuning that lets a
    server crash lose commits already acknowledged to shoppers' clients)."""
    cursor = connection.cursor()
    cursor.execute("SET synchronous_commit TO on")
    cursor.close()
    connection.commit()  # a session setting, not undone when the pool rolls back


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _create(url: str) -> sa.Engine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": 30.0})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = sa.create_engine(parsed, pool_pre_ping=True)
        if parsed.get_backend_name() == "postgresql":
            sa.event.listen(engine, "connect", _durable_commits)
    METADATA.create_all(engine)
    return engine


class EventStore:
    """Append and read events and served lists at `url` (tables created on first use)."""

    def __init__(self, url: str | Path | None = None) -> None:
        url = default_url() if url is None else str(url)
        if "://" not in url:  # a plain path: a SQLite file
            url = f"sqlite:///{Path(url)}"
        self.url = url
        self._sql = LazyEngine(url, _create)
        self.where = self._sql.where

    def _open(self) -> sa.Engine:
        try:
            return self._sql.get()
        except (SQLAlchemyError, OSError, ValueError) as exc:
            raise EventStoreError(f"cannot open the event store {self.where}: {exc}; "
                                  f"check {URL_ENV} and that the place is writable") from exc

    def _run(self, work: Any) -> Any:
        """`work(connection)` in one transaction; store failures become EventStoreError."""
        engine = self._open()
        try:
            with engine.begin() as connection:
                return work(connection)
        except SQLAlchemyError as exc:
            raise EventStoreError(f"the event store {self.where} failed: "
                                  f"{type(exc).__name__}; try again, or check the database"
                                  ) from exc

    def transaction(self, work: Any) -> Any:
        """`work(connection)` in one transaction, for tables other modules keep in this
        database (engine.experiments.store)."""
        return self._run(work)

    def close(self) -> None:
        self._sql.close()

    # ---- writes ---------------------------------------------------------------------------

    def add_events(self, rows: Sequence[dict[str, Any]]) -> int:
        """Append events (dicts with EVENT_COLUMNS; list_id may be None); returns the count."""
        if rows:
            self.write([], rows)
        return len(rows)

    def add_event(self, user_id: str, item_id: str, event: str, timestamp: float,
                  list_id: str | None = None) -> int:
        """Append one event; returns its id once it is committed."""
        return self.write([], [{"user_id": user_id, "item_id": item_id, "event": event,
                                "timestamp": float(timestamp), "list_id": list_id}])[0]

    def log_list(self, served: ServedList) -> None:
        """Record a served list under its request id."""
        self.write([served], [])

    def write(self, lists: Sequence[ServedList], events: Sequence[dict[str, Any]]
              ) -> list[int]:
        """Served lists, then events (dicts with EVENT_COLUMNS), in one transaction; returns
        the events' ids in the order given."""
        now = time.time()
        rows = [{"request_id": served.request_id, "served": now, "user_id": served.user_id,
                 "policy": served.policy, "method": served.method,
                 "diversity_weight": float(served.diversity_weight),
                 "alpha": None if served.alpha is None else float(served.alpha),
                 "items": json.dumps(list(served.items))} for served in lists]
        values = [{**{c: row.get(c) for c in EVENT_COLUMNS}, "received": now} for row in events]

        def work(connection: Any) -> list[int]:
            if rows:
                connection.execute(sa.insert(SERVED_LISTS), rows)
            if not values:
                return []
            inserted = sa.insert(EVENTS).returning(EVENTS.c.id, sort_by_parameter_order=True)
            return [int(i) for i in connection.execute(inserted, values).scalars()]

        return self._run(work)

    # ---- reads ----------------------------------------------------------------------------

    def served_list(self, request_id: str) -> ServedList | None:
        query = sa.select(SERVED_LISTS).where(SERVED_LISTS.c.request_id == request_id)
        row = self._run(lambda connection: connection.execute(query).mappings().first())
        if row is None:
            return None
        return ServedList(request_id=row["request_id"], user_id=row["user_id"],
                          policy=row["policy"], method=row["method"],
                          diversity_weight=float(row["diversity_weight"]), alpha=row["alpha"],
                          items=tuple(json.loads(row["items"])))

    def count(self) -> int:
        query = sa.select(sa.func.count()).select_from(EVENTS)
        return int(self._run(lambda connection: connection.execute(query).scalar_one()))

    def events(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Events in the order they were stored (one shopper's when `user_id` is given)."""
        return [row for chunk in self.iter_events(user_id=user_id) for row in chunk]

    def last_id(self) -> int:
        """The id of the newest stored event (0 when there is none): ids grow with each
        event, so `iter_events(after=...)` reads what came since."""
        query = sa.select(sa.func.max(EVENTS.c.id))
        return int(self._run(lambda connection: connection.execute(query).scalar()) or 0)

    def iter_events(self, chunk: int = 10_000, user_id: str | None = None, after: int = 0,
                    upto: int | None = None) -> Iterator[list[dict[str, Any]]]:
        """Events in stored order, `chunk` rows at a time (exports stream through this); each
        row also carries its `id`; `after` skips the events up to that id, `upto` (when
        given) those above it."""
        last = int(after)
        while True:
            query = sa.select(EVENTS.c.id, *(EVENTS.c[c] for c in EVENT_COLUMNS)).where(
                EVENTS.c.id > last).order_by(EVENTS.c.id).limit(chunk)
            if upto is not None:
                query = query.where(EVENTS.c.id <= upto)
            if user_id is not None:
                query = query.where(EVENTS.c.user_id == user_id)
            rows = self._run(lambda connection, q=query: connection.execute(q).mappings().all())
            if not rows:
                return
            last = int(rows[-1]["id"])
            yield [{"id": int(row["id"]), **{c: row[c] for c in EVENT_COLUMNS}} for row in rows]
