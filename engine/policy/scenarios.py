"""Saved merchandiser scenarios, kept in the policy store's database as policies.

The file is the policy store's (`engine.policy.store`, one transaction per call): saving a
scenario also stores its settings as policy `scenario-<id>` (the migration does the same for
older files), so every scenario can be previewed, published or served like any policy. A
scenario is a named snapshot of the studio's settings (run, shopper sample, method, α, k,
category targets) plus the metrics it produced. Any problem with the file (corrupt, locked,
newer schema) raises `ScenarioStoreError` saying what to do, so the page can keep working.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from engine.core.messages import Message
from engine.policy.store import PolicyStoreError, link_scenario, sqlite_transaction


class ScenarioStoreError(PolicyStoreError):
    """The scenarios database cannot be used; the message says why and what to do."""


@dataclass
class Scenario:
    """One saved set-up. `settings` holds user, sample, method, alpha, k and targets."""

    name: str
    run: str
    settings: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    note: str = ""
    id: int | None = None
    created: float = 0.0


class ScenarioStore:
    """Read and write scenarios in the SQLite file at `path` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # one transaction on the policy store's file (its schema: scenarios + policies)
        self._connect = partial(sqlite_transaction, self.path, error=ScenarioStoreError,
                                codes=("scenarios_cannot_open", "scenarios_unreadable"))

    def save(self, scenario: Scenario) -> int:
        """Insert `scenario`; returns its new id."""
        name = scenario.name.strip()
        if not name:
            raise ScenarioStoreError(Message("scenario_needs_name"))
        settings = json.dumps(scenario.settings, sort_keys=True)
        with self._connect(write=True) as conn:
            cursor = conn.execute(
                "INSERT INTO scenarios (name, note, created, run, settings, metrics) "
                "VALUES (?, ?, ?, ?, ?, ?)", (name, scenario.note, scenario.created or time.time(),
                                              scenario.run, settings,
                                              json.dumps(scenario.metrics, sort_keys=True)))
            scenario_id = int(cursor.lastrowid or 0)
            link_scenario(conn, scenario_id, name, settings, "saved as scenario")
            return scenario_id

    def get(self, scenario_id: int) -> Scenario:
        """The scenario with this id; `ScenarioStoreError` when it does not exist."""
        found = self._select("WHERE id = ?", (int(scenario_id),))
        if not found:
            raise ScenarioStoreError(Message("scenario_unknown", id=scenario_id))
        return found[0]

    def list(self) -> list[Scenario]:
        """All scenarios, newest first."""
        return self._select("ORDER BY created DESC, id DESC")

    def _select(self, clause: str, params: tuple = ()) -> list[Scenario]:
        with self._connect() as conn:
            rows = conn.execute("SELECT id, name, note, created, run, settings, metrics FROM "
                                f"scenarios {clause}", params).fetchall()
        return [Scenario(id=int(i), name=name, note=note, created=float(created), run=run,
                         settings=json.loads(settings), metrics=json.loads(metrics))
                for i, name, note, created, run, settings, metrics in rows]

    def reset(self) -> Path | None:
        """Move an unusable file aside (kept as `*.broken-<time>`) so a fresh one is created."""
        if not self.path.exists():
            return None
        aside = self.path.with_name(f"{self.path.name}.broken-{int(time.time())}")
        self.path.rename(aside)
        return aside


def scenarios_frame(scenarios: list[Scenario]) -> pd.DataFrame:
    """A flat table (one row per scenario: settings and metrics as columns) for display/CSV."""
    rows = []
    for scenario in scenarios:
        row: dict[str, Any] = {
            "id": scenario.id,
            "name": scenario.name,
            "saved": pd.to_datetime(scenario.created, unit="s").strftime("%Y-%m-%d %H:%M"),
            "run": scenario.run,
        }
        for key, value in scenario.settings.items():
            row[key] = json.dumps(value) if isinstance(value, dict | list) else value
        row.update(scenario.metrics)
        row["note"] = scenario.note
        rows.append(row)
    return pd.DataFrame(rows)
