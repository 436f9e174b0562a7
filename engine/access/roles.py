"""Roles, the actions each allows, and the actor who asks (name, role, where from).

    viewer     look at lists, metrics and previews; what-if; read a shopper's history (API)
    editor     everything a viewer does, plus import data, train runs, save policy drafts
    publisher  everything an editor does, plus publish, roll back, put exposure targets live,
               start and stop experiments, refresh the served model

Roles are ordered: each includes the ones below it.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from engine.core.errors import PrismError
from engine.core.messages import Message

ROLES = ("viewer", "editor", "publisher")
SOURCES = ("studio", "api", "cli")
ACTIONS: dict[str, str] = {
    "view": "viewer",
    "read_history": "viewer",
    "import": "editor",
    "train": "editor",
    "save_draft": "editor",
    "publish": "publisher",
    "rollback": "publisher",
    "set_targets": "publisher",
    "start_experiment": "publisher",
    "stop_experiment": "publisher",
    "refresh": "publisher",
}
WHAT = {"view": "look at the studio", "read_history": "read a shopper's history",
        "import": "import data", "train": "train a run", "save_draft": "save a policy draft",
        "publish": "publish a policy", "rollback": "roll a policy back",
        "set_targets": "put exposure targets live", "start_experiment": "start an experiment",
        "stop_experiment": "stop an experiment", "refresh": "refresh the served model"}


class AccessDenied(PrismError):
    """The actor's role does not allow the action (the message names both)."""


@dataclass(frozen=True)
class Actor:
    """Who asks: a name (an e-mail, a token's name, a local user), a role and a source."""

    name: str
    role: str
    source: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; roles: {', '.join(ROLES)}")
        if self.source not in SOURCES:
            raise ValueError(f"unknown source {self.source!r}; sources: {', '.join(SOURCES)}")


def allows(role: str, action: str) -> bool:
    """Whether `role` may do `action` (an unknown action is allowed to nobody)."""
    needed = ACTIONS.get(action)
    return needed is not None and role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def require(actor: Actor, action: str) -> None:
    """Raise AccessDenied unless `actor` may do `action`."""
    if not allows(actor.role, action):
        needed = ACTIONS.get(action)
        raise AccessDenied(Message(
            "may_not", name=actor.name, role=Message(f"role_{actor.role}"),
            what=Message(f"action_{action}") if action in WHAT else action,
            needed=Message(f"role_{needed}") if needed else Message("role_unknown")))


def local_user() -> str:
    """The account running this process: who a local studio or the CLI acts as."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local user"


def local_actor(source: str) -> Actor:
    """Whoever runs Prism on this computer (the CLI, a studio without sign-in): a publisher,
    since they can write $PRISM_HOME's files anyway."""
    return Actor(local_user(), "publisher", source)
