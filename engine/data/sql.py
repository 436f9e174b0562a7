"""Items and events from a SQL database through SQLAlchemy (SQLite, DuckDB, PostgreSQL, MySQL).

Only reading: each query must be one SELECT, and the connection is opened read-only
(`engine.data.sql_guard`).

The database URL carries credentials, so it is read from an environment variable or a file
rather than typed where logs and shell history keep it, and it is never shown: every message,
report and metadata field uses `mask_url`, which replaces the password with `***`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from engine.core.errors import DataError
from engine.core.messages import Message
from engine.data.sql_guard import backend, check_read_only, read_only_engine

SQL_FORMAT = "sql"


def resolve_url(url: str | None = None, env: str | None = None,
                file: str | Path | None = None) -> str:
    """The database URL from exactly one of: the value, an environment variable, a file."""
    given = [x for x in (url, env, file) if x]
    if len(given) != 1:
        raise DataError("give the database URL once: --sql URL, --sql-url-env VARIABLE or "
                        "--sql-url-file FILE")
    if env:
        value = os.environ.get(env, "").strip()
        if not value:
            raise DataError(f"environment variable {env} is not set or empty; export it with "
                            "the database URL (e.g. postgresql://user:password@host/db)")
        return value
    if file:
        path = Path(file).expanduser()
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise DataError(f"{path}: cannot read the database URL file "
                            f"({exc.strerror or exc}); check the path") from None
        if not value:
            raise DataError(f"{path}: the database URL file is empty")
        return value
    return str(url).strip()


def mask_url(url: str) -> str:
    """The URL with its password replaced by `***` (unparseable URLs are hidden entirely)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<database URL hidden>"


def _password(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None


def scrub(message: str, url: str) -> str:
    """`message` with the URL and its password removed, for errors shown to the user."""
    message = message.replace(url, mask_url(url))
    password = _password(url)
    if password:
        message = message.replace(str(password), "***")
    return message


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_sql_tables(url: str, items_query: str, events_query: str) -> tuple[pd.DataFrame,
                                                                          pd.DataFrame]:
    """Run both queries and return (items, events) as string tables."""
    from sqlalchemy import text
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    for table, query in (("items", items_query), ("events", events_query)):
        label = Message(f"query_table_{table}")  # "items", "events"
        if not query or not query.strip():
            raise DataError(Message("query_empty", flag=Message(f"query_flag_{table}"),
                                    table=label))
        check_read_only(query, backend(url), label)
    try:
        engine = read_only_engine(url)
    except DataError:
        raise
    except ImportError as exc:
        raise DataError(Message("sql_driver_missing", url=mask_url(url), name=exc.name or str(exc),
                                package=exc.name or Message("sql_the_driver"))) from None
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise DataError(Message("sql_bad_url", url=mask_url(url),
                                error=scrub(_first_line(exc), url))) from None
    tables = []
    try:  # one transaction for both queries, never committed
        with engine.connect() as connection:
            for table, query in (("items", items_query), ("events", events_query)):
                label = Message(f"query_table_{table}")
                try:
                    frame = pd.read_sql_query(text(query), connection)
                except (SQLAlchemyError, pd.errors.DatabaseError) as exc:
                    cause = exc.__cause__ if exc.__cause__ is not None else exc
                    raise DataError(Message("sql_query_failed", url=mask_url(url), label=label,
                                            error=scrub(_first_line(cause), url))) from None
                if frame.empty:
                    raise DataError(Message("sql_no_rows", url=mask_url(url), label=label))
                tables.append(frame)
    except SQLAlchemyError as exc:
        raise DataError(Message("sql_cannot_connect", url=mask_url(url),
                                error=scrub(_first_line(exc), url))) from None
    finally:
        engine.dispose()
    return tables[0], tables[1]
