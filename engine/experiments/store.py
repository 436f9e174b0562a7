"""Experiments and the arm of every list served in one, kept in the event store's database.

Living beside `served_lists` and `events` (SQLite by default, PostgreSQL when
`PRISM_EVENT_STORE` names it) means every API worker reads the same running experiment and a
report joins lists, arms and events in one place.

- `experiments`: one row per experiment — its definition (arms, shares, metric, exploration)
  as JSON, its status, and who started and stopped it, when.
- `list_arms`: one row per served list in an experiment (request id, experiment, arm) with
  the propensity of each shown item when the list was randomised.

Writes come through `engine.access.Gate` (start / stop need the publisher role).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from engine.core.errors import PrismError
from engine.core.messages import Message
from engine.events.store import EVENTS, SERVED_LISTS, EventStore
from engine.experiments.assign import Arm, Experiment, Exploration

TABLES = sa.MetaData()
EXPERIMENTS = sa.Table(
    "experiments", TABLES,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("stopped", sa.Float, nullable=True),
    sa.Column("stopped_by", sa.String(200), nullable=True),
)
LIST_ARMS = sa.Table(
    "list_arms", TABLES,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("experiment", sa.String(64), nullable=False, index=True),
    sa.Column("arm", sa.String(64), nullable=False),
    sa.Column("propensities", sa.Text, nullable=True),  # JSON, aligned with the list's items
)


class ExperimentError(PrismError):
    """No such experiment, or one that cannot be started or stopped as asked."""


@dataclass(frozen=True)
class ServedArm:
    """A list served in an experiment: shopper, items in order, arm, propensities."""

    request_id: str
    user_id: str | None
    items: tuple[str, ...]
    arm: str
    propensities: tuple[float, ...] | None
    served: float


def _experiment(row: Any) -> Experiment:
    body = json.loads(row["body"])
    exploration = body.get("exploration")
    info = {"created": row["created"], "created_by": row["created_by"],
            "stopped": row["stopped"], "stopped_by": row["stopped_by"]}
    return Experiment(name=row["name"], arms=tuple(Arm(**arm) for arm in body["arms"]),
                      metric=body["metric"], status=row["status"], info=info,
                      exploration=None if exploration is None else Exploration(**exploration))


class ExperimentStore:
    """Experiments in the database of `events` (the default event store when None)."""

    def __init__(self, events: EventStore | None = None) -> None:
        self.events = events if events is not None else EventStore()
        self._ready = False

    def _run(self, work: Any) -> Any:
        if not self._ready:
            self.events.transaction(lambda connection: TABLES.create_all(connection))
            self._ready = True
        return self.events.transaction(work)

    def create(self, experiment: Experiment, by: str) -> Experiment:
        """Start `experiment`; refused while another one runs or when the name is taken."""
        running = self.running()
        if running is not None:
            raise ExperimentError(Message("experiment_running", name=running.name))
        if any(e.name == experiment.name for e in self.list()):
            raise ExperimentError(Message("experiment_exists", name=experiment.name))
        body = experiment.to_json()
        for key in ("name", "status", "info"):
            body.pop(key)
        row = {"name": experiment.name, "body": json.dumps(body), "status": "running",
               "created": time.time(), "created_by": by}
        self._run(lambda connection: connection.execute(sa.insert(EXPERIMENTS), row))
        return self.get(experiment.name)

    def stop(self, name: str, by: str) -> Experiment:
        experiment = self.get(name)
        if experiment.status != "running":
            raise ExperimentError(Message("experiment_stopped", name=name))
        update = sa.update(EXPERIMENTS).where(EXPERIMENTS.c.name == name).values(
            status="stopped", stopped=time.time(), stopped_by=by)
        self._run(lambda connection: connection.execute(update))
        return self.get(name)

    def get(self, name: str) -> Experiment:
        query = sa.select(EXPERIMENTS).where(EXPERIMENTS.c.name == name)
        row = self._run(lambda connection: connection.execute(query).mappings().first())
        if row is None:
            known = ", ".join(e.name for e in self.list()) or Message("experiments_none_yet")
            raise ExperimentError(Message("experiment_unknown", name=name, known=known))
        return _experiment(row)

    def list(self) -> list[Experiment]:
        """Every experiment, newest first."""
        query = sa.select(EXPERIMENTS).order_by(EXPERIMENTS.c.created.desc())
        rows = self._run(lambda connection: connection.execute(query).mappings().all())
        return [_experiment(row) for row in rows]

    def running(self) -> Experiment | None:
        query = sa.select(EXPERIMENTS).where(EXPERIMENTS.c.status == "running")
        row = self._run(lambda connection: connection.execute(query).mappings().first())
        return None if row is None else _experiment(row)

    def log_arm(self, request_id: str, experiment: str, arm: str,
                propensities: list[float] | None) -> None:
        row = {"request_id": request_id, "experiment": experiment, "arm": arm,
               "propensities": None if propensities is None else json.dumps(propensities)}
        self._run(lambda connection: connection.execute(sa.insert(LIST_ARMS), row))

    def served(self, name: str) -> list[ServedArm]:
        """Every list served in experiment `name`, in the order served."""
        query = sa.select(SERVED_LISTS.c.request_id, SERVED_LISTS.c.user_id,
                          SERVED_LISTS.c["items"], SERVED_LISTS.c.served, LIST_ARMS.c.arm,
                          LIST_ARMS.c.propensities).join(
            LIST_ARMS, LIST_ARMS.c.request_id == SERVED_LISTS.c.request_id).where(
            LIST_ARMS.c.experiment == name).order_by(SERVED_LISTS.c.served)
        rows = self._run(lambda connection: connection.execute(query).mappings().all())
        return [ServedArm(request_id=row["request_id"], user_id=row["user_id"],
                          items=tuple(json.loads(row["items"])), arm=row["arm"],
                          propensities=None if row["propensities"] is None
                          else tuple(json.loads(row["propensities"])), served=row["served"])
                for row in rows]

    def list_events(self, name: str) -> list[dict[str, Any]]:
        """The events that name a list of experiment `name`: list id, item, event type."""
        query = sa.select(EVENTS.c.list_id, EVENTS.c.item_id, EVENTS.c.event).join(
            LIST_ARMS, LIST_ARMS.c.request_id == EVENTS.c.list_id).where(
            LIST_ARMS.c.experiment == name).order_by(EVENTS.c.id)
        rows = self._run(lambda connection: connection.execute(query).mappings().all())
        return [dict(row) for row in rows]
