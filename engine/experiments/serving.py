"""The experiment's hook into serving: which arm answers a request, and what is logged.

`plan()` runs before a list is made: when an experiment is running and the request names a
shopper but no policy, the shopper's arm (sticky, keyed hash) decides the policy, and with
exploration on the ranking is asked for its top `pool` instead of k. `finish()` runs on the
answer: it samples the shown list (exploration), numbers the ranks again and tags the answer
with the experiment and arm; `log()` records the arm and the propensities beside the served
list, so every event that names the list joins to its arm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.core.keys import shopper_key
from engine.events.store import EventStoreError
from engine.experiments.assign import Arm, Experiment, arm_for
from engine.experiments.explore import explore_list
from engine.experiments.store import ExperimentStore

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """How one request is served in the running experiment."""

    experiment: Experiment
    arm: Arm
    k: int  # the list length the shopper asked for
    k_request: int  # what the ranking is asked for (the pool when exploring)


class ExperimentServing:
    """Assign, randomise and log for the running experiment of `store`."""

    def __init__(self, store: ExperimentStore, key: bytes | None = None,
                 rng: np.random.Generator | None = None) -> None:
        self.store = store
        self.key = key if key is not None else shopper_key()
        self.rng = rng if rng is not None else np.random.default_rng()

    def plan(self, user_id: str | None, policy: str | None, k: int) -> Plan | None:
        """The arm for this request, or None (no experiment, no shopper, or the request
        named its own policy)."""
        if user_id is None or policy is not None:
            return None
        try:
            experiment = self.store.running()
        except EventStoreError as exc:
            LOG.warning("experiment not read; serving without it: %s", exc)
            return None
        if experiment is None:
            return None
        arm = arm_for(experiment, user_id, self.key)
        pool = experiment.exploration.pool if experiment.exploration else k
        return Plan(experiment, arm, k, max(k, pool))

    def finish(self, plan: Plan, payload: dict[str, Any]) -> list[float] | None:
        """Tag the answer with experiment and arm; sample it when exploring. Returns the
        shown items' propensities (None without exploration)."""
        payload["experiment"], payload["arm"] = plan.experiment.name, plan.arm.name
        exploration = plan.experiment.exploration
        if exploration is None or not payload.get("items"):
            return None
        shown, propensities = explore_list(payload["items"], plan.k, exploration.temperature,
                                           self.rng)
        for rank, row in enumerate(shown, start=1):
            row["rank"] = rank
        payload["items"] = shown
        return propensities

    def log(self, plan: Plan, request_id: str, propensities: list[float] | None) -> None:
        """Record the list's arm; a store failure is logged and the list still served."""
        try:
            self.store.log_arm(request_id, plan.experiment.name, plan.arm.name, propensities)
        except EventStoreError as exc:
            LOG.warning("arm of list %s not logged: %s", request_id, exc)
