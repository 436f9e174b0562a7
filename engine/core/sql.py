"""The one lazily opened SQLAlchemy engine that the event store and the shared policy tables
hold: created on first use under a lock, named without its password in messages."""

from __future__ import annotations

import threading
from collections.abc import Callable

import sqlalchemy as sa


class LazyEngine:
    """The engine at `url`, made by `create(url)` on first `get()` and disposed by `close()`."""

    def __init__(self, url: str, create: Callable[[str], sa.Engine]) -> None:
        self.url, self._create = url, create
        self._engine: sa.Engine | None = None
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        """The database's location without a password, for messages."""
        return sa.make_url(self.url).render_as_string(hide_password=True)

    def get(self) -> sa.Engine:
        with self._lock:
            if self._engine is None:
                self._engine = self._create(self.url)
            return self._engine

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
