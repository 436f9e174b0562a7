"""Who gets which role: `roles.toml` (sign-in claims and API tokens) and the admin token.

The file is `$PRISM_ROLES`, else `$PRISM_HOME/roles.toml`; without it nobody signed in has a
role and only `PRISM_ADMIN_TOKEN` opens the API. Example (docs/deploy.md explains it):

    group_claim = "groups"          # the ID-token claim that lists a person's groups
    default_role = ""               # role of a signed-in person listed nowhere ("" = none)

    [users]                         # e-mail → role
    "ana@shop.example" = "publisher"

    [groups]                        # group → role (the highest of a person's groups wins)
    "merchandising" = "editor"

    [[tokens]]                      # API tokens: only their SHA-256 is stored
    name = "reporting"
    role = "viewer"
    sha256 = "9f86d081884c7d65..."

`PRISM_ADMIN_TOKEN` is a publisher unless `PRISM_ADMIN_ROLE` names another role.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.access.roles import ROLES, Actor
from engine.core.errors import ConfigError
from engine.core.paths import prism_home

ROLES_ENV = "PRISM_ROLES"
ADMIN_TOKEN_ENV = "PRISM_ADMIN_TOKEN"
ADMIN_ROLE_ENV = "PRISM_ADMIN_ROLE"


@dataclass(frozen=True)
class Token:
    name: str
    role: str
    sha256: str


@dataclass(frozen=True)
class RolesConfig:
    users: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    group_claim: str = "groups"
    default_role: str = ""
    tokens: tuple[Token, ...] = ()


def roles_path() -> Path:
    return Path(os.environ.get(ROLES_ENV) or prism_home() / "roles.toml").expanduser()


def _role(value: Any, where: str) -> str:
    if value not in ROLES:
        raise ConfigError(f"{where}: role {value!r} is not one of {', '.join(ROLES)}")
    return str(value)


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, str]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [{key}] must be a table of name = \"role\"")
    return {str(k).strip().lower(): _role(v, f"{where} [{key}] {k!r}") for k, v in table.items()}


def _tokens(data: dict[str, Any], where: str) -> tuple[Token, ...]:
    out = []
    for i, row in enumerate(data.get("tokens", []), start=1):
        place = f"{where} [[tokens]] #{i}"
        digest = str(row.get("sha256", "")).strip().lower() if isinstance(row, dict) else ""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ConfigError(f"{place}: sha256 must be the 64-hex-digit SHA-256 of the token "
                              "(e.g. `printf %s TOKEN | sha256sum`), never the token itself")
        out.append(Token(str(row.get("name") or f"token-{i}"), _role(row.get("role"), place),
                         digest))
    return tuple(out)


def load_roles(path: str | Path | None = None) -> RolesConfig:
    """The roles file as a RolesConfig (empty when the file does not exist)."""
    source = Path(path) if path is not None else roles_path()
    if not source.is_file():
        return RolesConfig()
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc}); fix the file") from None
    default = str(data.get("default_role", "") or "")
    return RolesConfig(users=_table(data, "users", str(source)),
                       groups=_table(data, "groups", str(source)),
                       group_claim=str(data.get("group_claim", "groups")),
                       default_role=_role(default, str(source)) if default else "",
                       tokens=_tokens(data, str(source)))


def role_for_claims(claims: Mapping[str, Any], config: RolesConfig | None = None) -> str | None:
    """The highest role a signed-in person's claims give (e-mail, then groups), or None."""
    config = config if config is not None else load_roles()
    found = []
    email = str(claims.get("email") or "").strip().lower()
    if email and claims.get("email_verified") is not False and email in config.users:
        found.append(config.users[email])
    groups = claims.get(config.group_claim) or []
    for group in [groups] if isinstance(groups, str) else groups:
        role = config.groups.get(str(group).strip().lower())
        if role:
            found.append(role)
    if not found and config.default_role:
        found.append(config.default_role)
    return max(found, key=ROLES.index) if found else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def tokens_configured(config: RolesConfig | None = None) -> bool:
    config = config if config is not None else load_roles()
    return bool(os.environ.get(ADMIN_TOKEN_ENV)) or bool(config.tokens)


def actor_for_token(token: str, config: RolesConfig | None = None) -> Actor | None:
    """The API actor a bearer token stands for, or None. Every comparison is constant-time
    and every configured token is compared, so timing says nothing about which matched."""
    config = config if config is not None else load_roles()
    digest = _digest(token).encode()
    found: Actor | None = None
    admin = os.environ.get(ADMIN_TOKEN_ENV, "")
    if admin and hmac.compare_digest(digest, _digest(admin).encode()):
        found = Actor("admin token", _role(os.environ.get(ADMIN_ROLE_ENV) or "publisher",
                                           ADMIN_ROLE_ENV), "api")
    for entry in config.tokens:
        if hmac.compare_digest(digest, entry.sha256.encode()) and found is None:
            found = Actor(entry.name, entry.role, "api")
    return found
