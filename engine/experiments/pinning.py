"""An arm names a published policy; at the start of an experiment it is pinned to a version,
so publishing a new version later does not change an arm halfway through."""

from __future__ import annotations

import dataclasses

from engine.core.errors import ConfigError
from engine.experiments.assign import Arm, Experiment
from engine.policy.schema import split_reference
from engine.policy.store import PolicyNotFound, PolicyStore

PLAIN = "none"  # the arm serves the plain ranking (no policy)


def pin(reference: str, store: PolicyStore) -> str:
    """'name' → 'name@<live version>' (refused when it is not live); 'name@v' checked to
    exist; 'none' kept."""
    if reference == PLAIN:
        return reference
    name, version = split_reference(reference)
    if version is None:
        version = store.live_versions().get(name)
        if version is None:
            raise ConfigError(f"policy {name!r} is not published; publish it first or name a "
                              f"version ({name}@N)")
    try:
        store.get(name, version)
    except PolicyNotFound as exc:
        raise ConfigError(str(exc)) from exc
    return f"{name}@{version}"


def pin_arms(experiment: Experiment, store: PolicyStore) -> Experiment:
    arms = tuple(Arm(arm.name, pin(arm.policy, store), arm.share) for arm in experiment.arms)
    return dataclasses.replace(experiment, arms=arms)
