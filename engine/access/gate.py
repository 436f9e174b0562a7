"""The one door for writes that change what shoppers see.

    gate = Gate()                               # over the policy store in $PRISM_HOME
    gate.save_draft(actor, policy, base)        # editor: a new version, not live
    gate.publish(actor, "spring", 3)            # publisher: live now, recorded in the log
    gate.rollback(actor, "spring")              # publisher: the version live before
    gate.set_targets(actor, "spring", prices)   # publisher: exposure targets live
    gate.require(actor, "import")               # editor: before an import or a training job
    gate.start_experiment(actor, experiment, experiments)  # publisher: split traffic now
    gate.stop_experiment(actor, "spring-test", experiments) # publisher: everyone back to live

Each method checks the actor's role before touching anything (AccessDenied names who, what
and the role needed); publishes, rollbacks and target changes land in the store's audit log
with the actor's name, role and source, and so does every refused attempt at one of them
('publish refused', 'rollback refused', 'targets refused'; a refused experiment start or stop
is logged under 'experiment NAME'). An experiment records who started and stopped it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.access.roles import AccessDenied, Actor, require
from engine.experiments.assign import Experiment
from engine.experiments.pinning import pin_arms
from engine.experiments.store import ExperimentStore
from engine.policy.schema import ExposureTargetsStage, Policy, parse_policy
from engine.policy.store import PolicyNotFound, PolicyStore

LOGGED = {"set_targets": "targets", "start_experiment": "experiment start",
          "stop_experiment": "experiment stop"}  # the log's word for an action, where it differs


class Gate:
    """Role-checked writes over one PolicyStore (the default one when none is given)."""

    def __init__(self, store: PolicyStore | str | Path | None = None) -> None:
        self.store = store if isinstance(store, PolicyStore) else PolicyStore(store)

    @staticmethod
    def require(actor: Actor, action: str) -> None:
        """AccessDenied unless `actor` may do `action` (see engine.access.roles.ACTIONS)."""
        require(actor, action)

    def save_draft(self, actor: Actor, policy: Policy, base_version: int | None = None,
                   note: str = "") -> Policy:
        """A new version of the policy (not live); a stale `base_version` is refused."""
        require(actor, "save_draft")
        return self.store.save(policy, base_version, note)

    def publish(self, actor: Actor, name: str, version: int | None = None,
                check: Callable[[Policy], None] | None = None) -> int:
        """Make `version` (default: the latest) live; returns the live version. `check`
        refuses a policy that cannot serve its runs (engine.policy.checks.require_servable)."""
        self._require_logged(actor, "publish", name, version)
        return self.store.publish(name, version, by=actor, check=check)

    def rollback(self, actor: Actor, name: str) -> int:
        """Re-publish the version that was live before; returns it."""
        self._require_logged(actor, "rollback", name, None)
        return self.store.rollback(name, by=actor)

    def _require_logged(self, actor: Actor, action: str, name: str,
                        version: int | None) -> None:
        """require(), and a refused attempt to change what is live lands in the log too."""
        try:
            require(actor, action)
        except AccessDenied:
            self.store.record_refusal(name, version, LOGGED.get(action, action), actor)
            raise

    def set_targets(self, actor: Actor, name: str, prices: Any, note: str = "") -> int:
        """Put fitted exposure prices live in policy `name`: a new version of its live one (the
        latest when none is live; a new policy when `name` has none) with its
        exposure_targets stage replaced or added, published at once. An unpublished draft
        never goes live this way. Returns the live version."""
        self._require_logged(actor, "set_targets", name, None)
        try:
            base: int | None = self.store.get(name).version
            source = self.store.get(name, self.store.live_versions().get(name))
        except PolicyNotFound:
            source, base = parse_policy({"name": name}, "the new policy"), None
        body = source.to_json()
        body.pop("version", None)
        stage = ExposureTargetsStage(kind="exposure_targets", prices=prices)
        body["stages"] = [s for s in body["stages"] if s["kind"] != "exposure_targets"] + \
            [stage.model_dump(mode="json", exclude_none=True)]
        policy = parse_policy(body, f"policy {name} with exposure targets")
        saved = self.store.save(policy, base, note or "exposure targets")
        return self.store.publish(name, saved.version, by=actor, action="targets")

    def start_experiment(self, actor: Actor, experiment: Experiment,
                         experiments: ExperimentStore) -> Experiment:
        """Start splitting shoppers between the experiment's arms, each arm's policy pinned
        to a version (a name alone: its live version)."""
        self._require_logged(actor, "start_experiment", f"experiment {experiment.name}", None)
        pinned = pin_arms(experiment, self.store)
        return experiments.create(pinned, by=_who(actor))

    def stop_experiment(self, actor: Actor, name: str,
                        experiments: ExperimentStore) -> Experiment:
        """Stop experiment `name`: every shopper is served the live policy again."""
        self._require_logged(actor, "stop_experiment", f"experiment {name}", None)
        return experiments.stop(name, by=_who(actor))

    def log(self, name: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """The audit log, newest first (see PolicyStore.log)."""
        return self.store.log(name, limit)


def _who(actor: Actor) -> str:
    return f"{actor.name} ({actor.role}, {actor.source})"
