"""The policy tables in a shared database server (PostgreSQL through SQLAlchemy), so every API
worker — on one host or several — reads and publishes the same policies.

`PRISM_POLICY_STORE` (or `PolicyStore(url=...)`) names the server, e.g.
`postgresql+psycopg://shop@127.0.0.1/shop`. The tables (`POLICY_TABLES`, defined here once
for both) and the statements are the SQLite store's (`engine.policy.store`); this module gives
them a connection that speaks the same `execute(sql, params)` with `?` placeholders, creates
the tables once (under an advisory lock, so workers starting together do not race), and makes
every write transaction take the publish-counter row first — the server-side equivalent of
SQLite's `BEGIN IMMEDIATE`, so two saves or publishes never interleave. Studio scenarios stay
in the local SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from engine.core.sql import LazyEngine

URL_ENV = "PRISM_POLICY_STORE"
SCHEMA_LOCK = 7_331_101  # pg_advisory_xact_lock key while the tables are created
# The policy tables, for SQLite and PostgreSQL alike: only the log's id column differs.
POLICY_TABLES = """
CREATE TABLE IF NOT EXISTS policy_versions (
    name TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL, note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS policy_live (
    name TEXT PRIMARY KEY, version INTEGER NOT NULL, published DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS policy_log (
    id {serial}, name TEXT NOT NULL, version INTEGER NOT NULL,
    action TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, actor TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS policy_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO policy_meta (key, value) VALUES ('publish_counter', 0) ON CONFLICT DO NOTHING
"""
SERIAL = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgresql": "BIGSERIAL PRIMARY KEY"}
COUNTER = "SELECT value FROM policy_meta WHERE key = 'publish_counter'"


def table_statements(dialect: str) -> list[str]:
    """The statements creating the policy tables in `dialect` ('sqlite' or 'postgresql')."""
    return [statement for statement in POLICY_TABLES.format(serial=SERIAL[dialect]).split(";")
            if statement.strip()]


def server_url(path: Any, url: str | None) -> tuple[Any, str | None]:
    """(SQLite path or None, server URL or None) from a store's `path`/`url` arguments and
    $PRISM_POLICY_STORE (read only when neither is given); `sqlite:///file` is a path."""
    given = url or (str(path) if path is not None and "://" in str(path) else None)
    if given is None and path is None:
        given = os.environ.get(URL_ENV) or None
    if given is not None and given.startswith("sqlite:///"):
        return given.removeprefix("sqlite:///"), None
    return (None, given) if given else (path, None)


class SqlConnection:
    """A SQLAlchemy connection answering the SQLite store's `execute(sql, params)` calls."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._connection.exec_driver_sql(sql.replace("?", "%s"), tuple(params))


def _create(url: str) -> sa.Engine:
    """The engine, with the tables created once (workers starting together wait in turn)."""
    engine = sa.create_engine(url, pool_pre_ping=True)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
        for statement in table_statements("postgresql"):
            connection.exec_driver_sql(statement)
    return engine


class SqlPolicyTables(LazyEngine):
    """The policy tables at one SQLAlchemy URL (created on first use); a failure raises the
    store's `failed` error, a write that another writer made first its `conflict` error."""

    def __init__(self, url: str, failed: type[Exception], conflict: type[Exception]) -> None:
        super().__init__(url, _create)
        self.failed, self.conflict = failed, conflict

    @contextmanager
    def connect(self, write: bool = False) -> Iterator[SqlConnection]:
        """One transaction, as `engine.policy.store.sqlite_transaction` gives on a file."""
        try:
            with self.get().begin() as connection:
                if write:  # writers queue on this row, like SQLite's BEGIN IMMEDIATE
                    connection.exec_driver_sql(COUNTER + " FOR UPDATE")
                yield SqlConnection(connection)
        except IntegrityError as exc:
            raise self.conflict(f"the policy store {self.where} refused a write that another "
                           "writer made first; reload and try again") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise self.failed(f"the policy store {self.where} failed ({type(exc).__name__}); "
                         f"check {URL_ENV} and that the server is up") from exc

    def publish_counter(self) -> int:
        try:
            with self.get().connect() as connection:
                row = connection.exec_driver_sql(COUNTER).fetchone()
        except (SQLAlchemyError, OSError):
            return -2  # unreachable: callers re-read and see why
        return 0 if row is None else int(row[0])
