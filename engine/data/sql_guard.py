"""Read-only SQL: one `SELECT`/`WITH` query, on a connection that cannot write.

An import only reads, so two independent guards stand between a query and the shop's
database. First the query is parsed (sqlglot, in the database's own dialect) and refused
unless it is a single `SELECT`, `WITH … SELECT` or set operation of them, with no writing
part anywhere inside it (a data-modifying `WITH`, `SELECT … INTO`, `FOR UPDATE`, `COPY`,
`ATTACH`, `PRAGMA`, `SET`, a transaction statement). Then the connection itself is opened
read-only for each supported database: SQLite with `PRAGMA query_only`, DuckDB with
`access_mode=READ_ONLY` and file access off (so `read_csv('/etc/passwd')` and `COPY … TO`
fail), PostgreSQL and MySQL/MariaDB with read-only transactions. Other databases are refused,
because Prism cannot open them read-only.
"""

from __future__ import annotations

import logging
from typing import Any

from engine.core.errors import DataError
from engine.core.messages import Message

# SQLAlchemy backend name -> sqlglot dialect
DIALECTS = {"sqlite": "sqlite", "duckdb": "duckdb", "postgresql": "postgres",
            "mysql": "mysql", "mariadb": "mysql"}
# run on every new DBAPI connection, before any query
READ_ONLY_ON_CONNECT = {
    "sqlite": "PRAGMA query_only = ON",
    "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "mariadb": "SET SESSION TRANSACTION READ ONLY",
}
DUCKDB_READ_ONLY = {"read_only": True, "config": {
    "access_mode": "READ_ONLY", "enable_external_access": False,
    "autoinstall_known_extensions": False, "autoload_known_extensions": False,
    "allow_community_extensions": False, "lock_configuration": True}}
SUPPORTED = "SQLite, DuckDB, PostgreSQL or MySQL/MariaDB"


def backend(url: str) -> str:
    """The database kind of a SQLAlchemy URL (`sqlite`, `duckdb`, `postgresql`, ...)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        return ""


def _writing_nodes() -> tuple[type, ...]:
    from sqlglot import exp

    names = ("DML", "DDL", "Command", "Into", "Lock", "Copy", "Pragma", "Set", "Attach",
             "Detach", "Transaction", "Commit", "Rollback", "Use", "Merge", "Insert",
             "Update", "Delete", "Create", "Drop", "Alter", "Grant", "Revoke", "Analyze")
    return tuple(getattr(exp, name) for name in names if isinstance(getattr(exp, name, None),
                                                                    type))


def _statement_name(node: Any) -> str:
    key = getattr(node, "key", "") or type(node).__name__
    return str(key).upper().replace("_", " ")


def check_read_only(query: str, dialect: str, label: str) -> None:
    """Refuse `query` unless it is one reading statement (see the module note)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # no "falling back" chatter
    try:
        statements = [s for s in sqlglot.parse(query, read=DIALECTS.get(dialect)) if s]
    except SqlglotError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(Message("sql_unreadable", label=label, error=first)) from None
    if len(statements) != 1:
        raise DataError(Message("sql_statements", label=label, n=len(statements)))
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise DataError(Message("sql_not_query", label=label, kind=_statement_name(statement)))
    writing = next((n for n in statement.walk() if isinstance(n, _writing_nodes())), None)
    if writing is not None:
        raise DataError(Message("sql_writes", label=label, kind=_statement_name(writing)))


def read_only_engine(url: str) -> Any:
    """A SQLAlchemy engine whose connections cannot write (DataError for other databases)."""
    from sqlalchemy import create_engine, event

    kind = backend(url)
    if not kind:
        return create_engine(url)  # raises the URL's own error, shown masked by the caller
    if kind not in DIALECTS:
        raise DataError(Message("sql_kind", kind=kind, supported=SUPPORTED))
    if kind == "duckdb":
        return create_engine(url, connect_args=DUCKDB_READ_ONLY)
    engine = create_engine(url)
    statement = READ_ONLY_ON_CONNECT[kind]

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(statement)
        finally:
            cursor.close()
        dbapi_connection.commit()  # a SET inside a transaction rolled back would not last

    return engine
