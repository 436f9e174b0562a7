"""Policies in the SQLite store in $PRISM_HOME: immutable versions, one live version each.

The store shares the studio's scenarios database (`<home>/scenarios.sqlite`), in WAL mode so
the studio and the API read it while the other writes. Schema version 2 adds the policy
tables to version 1 (scenarios only), linking each scenario to a policy made from its
settings (`scenario-<id>`); version 3 adds who did it to the audit log (`policy_log`: the
actor's name, role and source of every publish, rollback and target change, and of every
attempt the gate refused). Callers write through `engine.access.Gate`, which checks
the actor's role first. `PRISM_POLICY_STORE` (or `url=`) keeps the policy tables in a shared
server instead (PostgreSQL, `engine.policy.sqlstore`), so several API workers publish and
serve as one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from engine.core.errors import ConfigError, PrismError
from engine.core.messages import Message
from engine.core.paths import prism_home
from engine.policy.schema import Policy, parse_policy, split_reference
from engine.policy.sqlstore import COUNTER, SqlPolicyTables, server_url, table_statements
from engine.rerank.methods import SWEEP_METHODS
from engine.rerank.quotas import default_quotas, quotas_from_targets

SCHEMA_VERSION = 3
DB_NAME = "scenarios.sqlite"

SCENARIOS_V1 = """CREATE TABLE IF NOT EXISTS scenarios (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL, run TEXT NOT NULL, settings TEXT NOT NULL, metrics TEXT NOT NULL)"""
ADDED_COLUMNS = (  # version 2: the scenario's policy; 3: who logged, as what, from where
    ("scenarios", "policy TEXT"),  # log entries from before version 3 keep '' (not recorded)
    *(("policy_log", f"{who} TEXT NOT NULL DEFAULT ''") for who in ("actor", "role", "source")))


class Author(Protocol):
    """Who a write is recorded for (engine.access.Actor is one)."""

    name: str
    role: str
    source: str


class PolicyStoreError(PrismError):
    """The store cannot answer (unknown policy or version, unreadable file)."""


class PolicyNotFound(PolicyStoreError):
    """No such policy or version."""


class PolicyConflict(PolicyStoreError):
    """A save based on a version that is no longer the latest."""


def _latest(conn: Any, name: str) -> int:
    """The latest stored version of `name` (0 when none)."""
    return int(conn.execute("SELECT MAX(version) FROM policy_versions WHERE name = ?",
                            (name,)).fetchone()[0] or 0)


def scenario_policy(scenario_id: int, name: str, settings: dict[str, Any],
                    category_names: Sequence[str] | None = None) -> dict[str, Any]:
    """A scenario's settings (method, alpha, quota targets) as a policy body.

    Quotas without floors or caps set rank as the studio showed them: every category capped
    at `default_cap(k)` — which needs the run's `category_names`.
    """
    method = str(settings.get("method", "none"))
    stage = {"kind": "diversify", "method": method, "weight": float(settings.get("alpha", 0.0))}
    if method == "quota":
        stage["quotas"] = quotas_from_targets({category: row for category, row in (
            settings.get("targets") or {}).items() if isinstance(row, dict)})
        if not stage["quotas"] and category_names:
            stage["quotas"] = default_quotas(category_names, int(settings.get("k", 10)))
    usable = stage.get("quotas") or method in SWEEP_METHODS  # no stage for 'none'
    return {"name": f"scenario-{scenario_id}",
            "description": f"from the saved scenario {name!r} (#{scenario_id})",
            "stages": [stage] if usable else []}


def migrate(conn: sqlite3.Connection, error: type[PrismError] = PolicyStoreError) -> None:
    """Bring a scenarios database of any older version to SCHEMA_VERSION in place."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise error(Message("store_too_new", version=version, reads=SCHEMA_VERSION))
    if version >= SCHEMA_VERSION:
        return
    for statement in [SCENARIOS_V1, *table_statements("sqlite")]:
        conn.execute(statement)  # one by one: executescript would commit the open transaction
    for table, column in ADDED_COLUMNS:
        if column.split()[0] not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
    for scenario_id, name, settings in conn.execute(
            "SELECT id, name, settings FROM scenarios WHERE policy IS NULL").fetchall():
        link_scenario(conn, int(scenario_id), name, settings)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def link_scenario(conn: sqlite3.Connection, scenario_id: int, name: str, settings: str,
                  note: str = "migrated from scenario") -> None:
    """Store the scenario's settings as version 1 of policy `scenario-<id>` and link it."""
    try:
        body = scenario_policy(scenario_id, name, json.loads(settings))
        policy = parse_policy(body, f"scenario #{scenario_id}")
    except (ConfigError, ValueError, TypeError):
        return  # unusual settings: the scenario stays as it is, unlinked
    conn.execute("INSERT OR IGNORE INTO policy_versions (name, version, body, created, note) "
                 "VALUES (?, 1, ?, ?, ?)",
                 (policy.name, json.dumps(policy.to_json()), time.time(),
                  f"{note} #{scenario_id}"))
    conn.execute("UPDATE scenarios SET policy = ? WHERE id = ?",
                 (f"{policy.name}@1", scenario_id))


@contextmanager
def sqlite_transaction(path: Path, write: bool = False, error: type[PrismError] = PolicyStoreError,
                       codes: tuple[str, str] = ("store_cannot_open", "store_unreadable"),
                       ) -> Iterator[sqlite3.Connection]:
    """One transaction (BEGIN IMMEDIATE to write) on the SQLite file at `path`, migrated to
    SCHEMA_VERSION first; a file that cannot be opened or read is an `error` with the
    message `codes` (cannot open, unreadable)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    except (sqlite3.Error, OSError) as exc:
        raise error(Message(codes[0], path=str(path), error=str(exc))) from exc
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            conn.execute("PRAGMA journal_mode=WAL")  # persistent: set once per file
            write = True
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        migrate(conn, error)
        yield conn
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.DatabaseError):
            raise error(Message(codes[1], path=str(path), error=str(exc))) from exc
        raise
    finally:
        conn.close()


class PolicyStore:
    """Policies in the SQLite file at `path`, or the server at `url` / $PRISM_POLICY_STORE."""

    def __init__(self, path: str | Path | None = None, url: str | None = None) -> None:
        path, url = server_url(path, url)
        self.shared = SqlPolicyTables(url, PolicyStoreError, PolicyConflict) if url else None
        self.path = Path(path) if path is not None else prism_home() / DB_NAME
        # one transaction (`write`: for writing) on the server or the SQLite file
        self._connect: Callable[..., AbstractContextManager[Any]] = (
            partial(sqlite_transaction, self.path) if self.shared is None else
            self.shared.connect)
        self._reader: sqlite3.Connection | None = None
        self._reader_lock = threading.Lock()

    def exists(self) -> bool:  # a server always; a file once created
        return self.shared is not None or self.path.exists()

    # ---- reads ----------------------------------------------------------------------------

    def names(self, scenarios: bool = False) -> list[dict[str, Any]]:
        """One row per policy: name, latest version, live version (or None), description.

        A saved scenario's own policy (`scenario-<id>`, made when the scenario is saved or
        compared) is the studio's, not a merchandiser's: left out unless `scenarios` or it
        was published."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT v.name, MAX(v.version), l.version FROM policy_versions v "
                "LEFT JOIN policy_live l ON l.name = v.name GROUP BY v.name ORDER BY v.name"
            ).fetchall()
            linked = set() if self.shared is not None else {  # a server keeps no scenarios
                str(link).partition("@")[0] for (link,) in conn.execute(
                    "SELECT policy FROM scenarios WHERE policy IS NOT NULL").fetchall()}
        out = []
        for name, latest, live in rows:
            if name in linked and live is None and not scenarios:
                continue
            policy = self.get(name, int(latest))
            out.append({"name": name, "latest": int(latest),
                        "live": None if live is None else int(live),
                        "description": policy.description, "stages": len(policy.stages)})
        return out

    def versions(self, name: str) -> list[dict[str, Any]]:
        with self._connect() as conn:
            rows = conn.execute("SELECT version, created, note FROM policy_versions "
                                "WHERE name = ? ORDER BY version", (name,)).fetchall()
        if not rows:
            raise PolicyNotFound(self._unknown(name))
        return [{"version": int(v), "created": float(c), "note": n} for v, c, n in rows]

    def get(self, name: str, version: int | None = None) -> Policy:
        """A stored version (latest when None), with its `version` set."""
        which = ("", ()) if version is None else (" AND version = ?", (int(version),))
        with self._connect() as conn:
            row = conn.execute(f"SELECT body, version FROM policy_versions WHERE name = ?"
                               f"{which[0]} ORDER BY version DESC LIMIT 1",
                               (name, *which[1])).fetchone()
        if row is None:
            raise PolicyNotFound(self._unknown(name) if version is None else
                                 Message("policy_no_version", name=name, version=version))
        body = json.loads(row[0])
        body["version"] = int(row[1])
        return parse_policy(body, f"stored policy {name}@{row[1]}", stored=True)

    def resolve(self, reference: str) -> Policy:
        """'name' (its live version, else the latest) or 'name@version'."""
        name, version = split_reference(reference)
        if version is None:
            version = self.live_versions().get(name)
        return self.get(name, version)

    def live_versions(self) -> dict[str, int]:
        with self._connect() as conn:
            rows = conn.execute("SELECT name, version FROM policy_live ORDER BY published DESC"
                                ).fetchall()
        return {name: int(version) for name, version in rows}

    def publish_counter(self) -> int:
        """Bumped by every publish and rollback: a cheap 'did anything go live?' check."""
        if self.shared is not None:
            return self.shared.publish_counter()
        with self._reader_lock:
            try:
                if self._reader is None:
                    if not self.path.exists():
                        return 0
                    self._reader = sqlite3.connect(self.path, check_same_thread=False,
                                                   isolation_level=None)
                row = self._reader.execute(COUNTER).fetchone()
            except sqlite3.Error:
                self._reader = None
                return -2  # not migrated yet or unreadable: callers re-read and see why
        return 0 if row is None else int(row[0])

    def _unknown(self, name: str) -> Message:
        with self._connect() as conn:
            known = [r[0] for r in conn.execute(
                "SELECT DISTINCT name FROM policy_versions ORDER BY name LIMIT 20")]
        return Message("policy_unknown", name=name, known=", ".join(known)) if known else \
            Message("policy_none_stored", name=name)

    # ---- writes ---------------------------------------------------------------------------

    def save(self, policy: Policy, base_version: int | None = None, note: str = "") -> Policy:
        """Store `policy` as the next version of its name; returns it with `version` set.

        `base_version` is the version the edit started from (None for a new policy, or to
        append without a check). A stale base raises PolicyConflict.
        """
        with self._connect(write=True) as conn:
            latest = _latest(conn, policy.name)
            if base_version is not None and base_version != latest:
                raise PolicyConflict(Message("policy_moved_on", name=policy.name,
                                             base=base_version, latest=latest))
            body = policy.model_copy(update={"version": None}).to_json()
            conn.execute("INSERT INTO policy_versions (name, version, body, created, note) "
                         "VALUES (?, ?, ?, ?, ?)",
                         (policy.name, latest + 1, json.dumps(body), time.time(), note))
        return policy.model_copy(update={"version": latest + 1})

    def publish(self, name: str, version: int | None = None, *, by: Author | None = None,
                action: str = "publish", check: Callable[[Policy], None] | None = None) -> int:
        """Make `version` (default: the latest) live; returns it. `by` is recorded in the
        audit log with `action` ('publish', or 'targets' for a target change). `check(policy)`
        runs first and raises to refuse it (engine.policy.checks: the runs it will serve)."""
        policy = self.get(name, version)
        if check is not None:
            check(policy)
        with self._connect(write=True) as conn:
            self._go_live(conn, name, int(policy.version), action, by)
        return int(policy.version)

    def rollback(self, name: str, *, by: Author | None = None) -> int:
        """Re-publish the newest earlier version that was live before; returns it.

        Repeated rollbacks walk back (3 → 2 → 1)."""
        with self._connect(write=True) as conn:
            history = [int(v) for (v,) in conn.execute(  # the versions that went live
                "SELECT version FROM policy_log WHERE name = ? AND action IN "
                "('publish', 'rollback', 'targets') ORDER BY id DESC", (name,)).fetchall()]
            if not history:
                raise PolicyNotFound(Message("never_published", name=name))
            earlier = [v for v in history if v < history[0]]
            if not earlier:
                raise PolicyStoreError(Message("no_older_live", name=name, version=history[0]))
            self._go_live(conn, name, earlier[0], "rollback", by)
        return earlier[0]

    def record_refusal(self, name: str, version: int | None, action: str, by: Author) -> None:
        """Log an attempt the gate refused ('<action> refused'); nothing else changes."""
        with self._connect(write=True) as conn:
            version = _latest(conn, name) if version is None else int(version)
            self._record(conn, name, version, f"{action} refused", time.time(), by)

    def log(self, name: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """The audit log, newest first: when, policy, version, action, actor, role, source."""
        where = "" if name is None else " WHERE name = ?"
        most = "" if limit is None else f" LIMIT {int(limit)}"
        with self._connect() as conn:
            rows = conn.execute("SELECT at, name, version, action, actor, role, source FROM "
                                f"policy_log{where} ORDER BY id DESC{most}",
                                () if name is None else (name,)).fetchall()
        keys = ("at", "policy", "version", "action", "actor", "role", "source")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    @staticmethod
    def _go_live(conn: sqlite3.Connection, name: str, version: int, action: str,
                 by: Author | None) -> None:
        now = time.time()
        conn.execute("INSERT INTO policy_live (name, version, published) VALUES (?, ?, ?) "
                     "ON CONFLICT(name) DO UPDATE SET version = excluded.version, "
                     "published = excluded.published", (name, version, now))
        PolicyStore._record(conn, name, version, action, now, by)
        conn.execute("UPDATE policy_meta SET value = value + 1 WHERE key = 'publish_counter'")

    @staticmethod
    def _record(conn: sqlite3.Connection, name: str, version: int, action: str, at: float,
                by: Author | None) -> None:
        who = ("", "", "") if by is None else (by.name, by.role, by.source)
        conn.execute("INSERT INTO policy_log (name, version, action, at, actor, role, source) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", (name, version, action, at, *who))
