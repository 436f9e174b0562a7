"""PostgreSQL sources only read: a real server, started here on 127.0.0.1 and stopped after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shop_exports as shops
from postgres_support import needs_postgres, running_postgres

from engine.core.errors import DataError
from engine.data.importing import import_source, sql_source
from engine.data.sql_guard import read_only_engine

pytestmark = [pytest.mark.slow, needs_postgres]
psycopg = pytest.importorskip("psycopg", reason="needs the psycopg driver (pip install psycopg)")


SETUP = """
CREATE TABLE products (sku TEXT, name TEXT, category TEXT, price REAL, stock TEXT);
INSERT INTO products VALUES ('A1', 'Lamp', 'Home > Lighting', 30, 'in_stock'),
  ('A2', 'Rug', 'Home > Textiles', 80, 'out_of_stock'), ('A3', 'Mug', 'Kitchen > Cups', 9.5,
  'in_stock');
CREATE TABLE orders (customer TEXT, sku TEXT, ordered_at TEXT);
INSERT INTO orders VALUES ('c1', 'A1', '2024-01-01T10:00:00'), ('c1', 'A3',
  '2024-01-02T10:00:00'), ('c2', 'A2', '2024-01-03T10:00:00'), ('c2', 'A1',
  '2024-01-04T10:00:00');
CREATE SEQUENCE counter;
"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with running_postgres(SETUP) as url:
        yield url


def _orders(url: str) -> int:
    port = url.rsplit(":", 1)[1].split("/")[0]
    with psycopg.connect(f"host=127.0.0.1 port={port} user=shop dbname=postgres") as db:
        return db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]


@pytest.mark.parametrize("query", ["DELETE FROM orders RETURNING *; COMMIT",
                                   "WITH gone AS (DELETE FROM orders RETURNING *) "
                                   "SELECT * FROM gone", "DROP TABLE orders"])
def test_writing_queries_change_nothing(postgres, query):
    with pytest.raises(DataError, match="imports only read|statements") as caught:
        sql_source(postgres, shops.SQL_ITEMS, query)
    assert "s3cret" not in str(caught.value)
    assert _orders(postgres) == 4


def test_the_connection_itself_is_read_only(postgres):
    with pytest.raises(DataError, match="read-only transaction"):
        sql_source(postgres, shops.SQL_ITEMS, "SELECT nextval('counter') AS user_id, "
                   "sku AS item_id FROM orders")
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    engine = read_only_engine(postgres)
    with engine.connect() as connection, pytest.raises(SQLAlchemyError, match="read-only"):
        connection.execute(text("DELETE FROM orders"))
    engine.dispose()
    assert _orders(postgres) == 4


def test_a_reading_import_works(postgres, tmp_path):
    dataset, _ = import_source(sql_source(postgres, shops.SQL_ITEMS, shops.SQL_EVENTS), "pg",
                               home=tmp_path / "home")
    assert len(dataset.events) == 4 and dataset.n_items == 3
