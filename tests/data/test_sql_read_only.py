"""SQL sources only read: one SELECT per query, on a connection that cannot write."""

from __future__ import annotations

import sqlite3

import pytest
import shop_exports as shops

from engine.core.errors import DataError
from engine.data.importing import sql_source
from engine.data.sql_guard import check_read_only

WRITING = [
    "DELETE FROM orders RETURNING *",
    "DELETE FROM orders RETURNING *; COMMIT",
    "SELECT * FROM orders; DELETE FROM orders",
    "WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone",
    "DROP TABLE orders",
    "SELECT * INTO copy FROM orders",
    "SELECT * FROM orders FOR UPDATE",
    "UPDATE orders SET sku = 'x'",
    "INSERT INTO orders SELECT * FROM orders",
    "COPY orders TO '/tmp/prism-leak.csv'",
    "PRAGMA query_only = OFF",
    "SET enable_external_access = true",
    "CALL something()",
    "COMMIT",
]


@pytest.mark.parametrize("query", WRITING)
@pytest.mark.parametrize("dialect", ["sqlite", "duckdb", "postgresql", "mysql"])
def test_writing_statements_are_refused_before_connecting(query, dialect):
    with pytest.raises(DataError, match="imports only read|statements|cannot be read"):
        check_read_only(query, dialect, "items")


@pytest.mark.parametrize("query", [
    "SELECT sku FROM products", "WITH p AS (SELECT sku FROM products) SELECT * FROM p",
    "SELECT sku FROM products UNION SELECT sku FROM orders", "select 1;"])
def test_reading_statements_pass(query):
    check_read_only(query, "postgresql", "items")


def _count(db_path) -> int:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]


def test_sqlite_delete_returning_commit_leaves_the_table(tmp_path):
    db = shops.write_sqlite(tmp_path / "shop.db")
    url = f"sqlite:///{db}"
    for query in ("DELETE FROM orders RETURNING *; COMMIT", "DROP TABLE orders"):
        with pytest.raises(DataError, match="imports only read|statements"):
            sql_source(url, shops.SQL_ITEMS, query)
    assert _count(db) == 4


def test_sqlite_connection_is_read_only_even_past_the_parser(tmp_path):
    """A write that a SELECT could trigger still fails: the connection is query-only."""
    from engine.data.sql_guard import read_only_engine

    db = shops.write_sqlite(tmp_path / "shop.db")
    engine = read_only_engine(f"sqlite:///{db}")
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    with engine.connect() as connection, pytest.raises(SQLAlchemyError, match="readonly"):
        connection.execute(text("DELETE FROM orders"))
    engine.dispose()
    assert _count(db) == 4


def test_duckdb_cannot_read_or_write_files(tmp_path):
    url = f"duckdb:///{shops.write_duckdb(tmp_path / 'shop.duckdb')}"
    with pytest.raises(DataError, match="file system operations are disabled"):
        sql_source(url, "SELECT * FROM read_csv('/etc/passwd')", shops.SQL_EVENTS)
    leak = tmp_path / "leak.csv"
    with pytest.raises(DataError, match="imports only read"):
        sql_source(url, shops.SQL_ITEMS, f"COPY orders TO '{leak}'")
    assert not leak.exists()


def test_duckdb_connection_is_read_only(tmp_path):
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from engine.data.sql_guard import read_only_engine

    engine = read_only_engine(f"duckdb:///{shops.write_duckdb(tmp_path / 'shop.duckdb')}")
    with engine.connect() as connection, pytest.raises(SQLAlchemyError, match="read-only"):
        connection.execute(text("DELETE FROM orders"))
    engine.dispose()
    sql_source(f"duckdb:///{tmp_path / 'shop.duckdb'}", shops.SQL_ITEMS, shops.SQL_EVENTS)


def test_databases_that_cannot_be_opened_read_only_are_refused():
    with pytest.raises(DataError, match="Prism imports from SQLite, DuckDB, PostgreSQL"):
        sql_source("mssql+pyodbc://u:p@host/db", "SELECT 1", "SELECT 1")
