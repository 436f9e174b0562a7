"""Bearer tokens → actors for the HTTP routes that write or read a shopper's data.

`authorize(authorization, action)` answers, in this order and before looking at anything the
request names (so an outsider learns nothing about which ids exist): 403 when no token is
configured on the server, 401 without a bearer token, 403 for a token the server does not
know or whose role may not do `action`. It returns the Actor the token stands for (name,
role, source "api"). Tokens: `PRISM_ADMIN_TOKEN` (a publisher unless `PRISM_ADMIN_ROLE` says
otherwise) and `[[tokens]]` in roles.toml (engine/access/config.py).
"""

from __future__ import annotations

import logging

from fastapi import HTTPException

from engine.access.config import ADMIN_TOKEN_ENV, actor_for_token, load_roles, tokens_configured
from engine.access.roles import WHAT, AccessDenied, Actor, require
from engine.core.errors import ConfigError

LOG = logging.getLogger("prism.api")


def authorize(authorization: str | None, action: str) -> Actor:
    """The token's Actor if it may do `action`; else the 401/403 HTTPException."""
    what = WHAT.get(action, action)
    try:
        config = load_roles()
    except ConfigError as exc:
        LOG.error("roles file unreadable: %s", exc)
        raise HTTPException(status_code=403, detail=f"{what} over HTTP is off: the server's "
                                                    "roles file is invalid") from None
    if not tokens_configured(config):
        raise HTTPException(status_code=403, detail=f"{what} over HTTP is off; set "
                                                    f"{ADMIN_TOKEN_ENV} (or add [[tokens]] to "
                                                    "roles.toml) on the server to allow it")
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HTTPException(status_code=401, detail="missing bearer token: send "
                                                    "'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    actor = actor_for_token(authorization.split(" ", 1)[1].strip(), config)
    if actor is None:
        raise HTTPException(status_code=403, detail="wrong token")
    try:
        require(actor, action)
    except AccessDenied as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    return actor
