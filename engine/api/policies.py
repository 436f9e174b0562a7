"""HTTP routes for policies: read them, and (with an admin token) create and publish them.

`GET /policies`, `GET /policies/{name}` are open. Writes — `POST /policies`,
`POST /policies/{name}/publish`, `POST /policies/{name}/rollback` — are off unless
`PRISM_ADMIN_TOKEN` is set, and then need `Authorization: Bearer <token>` (401 without it,
403 with a wrong one). `policy_recommend` is what `POST /recommend` calls: it answers from the
requested or live policy, or returns None to let the plain path answer.
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from fastapi import APIRouter, Body, Header, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from engine.api.errors import error_responses
from engine.core.errors import ConfigError
from engine.policy.schema import Policy, parse_policy
from engine.policy.serving import PolicyResult, PolicyServer
from engine.policy.store import PolicyConflict, PolicyNotFound, PolicyStoreError

ADMIN_TOKEN_ENV = "PRISM_ADMIN_TOKEN"
PLAIN_KNOBS = ("categories", "category_boosts", "target", "quotas")


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, description="default: the latest version")


def check_admin(authorization: str | None) -> None:
    """401 without a bearer token, 403 with a wrong one or when writes are off."""
    expected = os.environ.get(ADMIN_TOKEN_ENV, "")
    if not expected:
        raise HTTPException(status_code=403, detail=f"policy writes over HTTP are off; set "
                                                    f"{ADMIN_TOKEN_ENV} on the server to allow "
                                                    "them")
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HTTPException(status_code=401, detail="missing bearer token: send "
                                                    "'Authorization: Bearer <admin token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    given = authorization.split(" ", 1)[1].strip()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status_code=403, detail="wrong admin token")


def _not_found(exc: PolicyStoreError) -> HTTPException:
    code = 404 if isinstance(exc, PolicyNotFound) else 409 if isinstance(exc, PolicyConflict) \
        else 400
    return HTTPException(status_code=code, detail=str(exc))


def policy_router(server: PolicyServer) -> APIRouter:
    """The /policies routes over one PolicyServer."""
    router = APIRouter(tags=["policies"])
    store = server.store

    @router.get("/policies")
    def list_policies() -> list[dict[str, Any]]:
        return store.names()

    @router.get("/policies/{name}", responses=error_responses(404, 422))
    def show_policy(name: str) -> dict[str, Any]:
        try:
            versions = store.versions(name)
            live = store.live_versions().get(name)
            policy = store.get(name, live)
        except PolicyStoreError as exc:
            raise _not_found(exc) from exc
        return {"name": name, "live_version": live, "versions": versions,
                "policy": policy.to_json()}

    @router.post("/policies", status_code=201,
                 responses=error_responses(400, 401, 403, 404, 409, 422))
    def create_policy(body: dict[str, Any] = Body(...), base_version: int | None = None,
                      authorization: str | None = Header(None)) -> dict[str, Any]:
        check_admin(authorization)
        try:
            saved = store.save(parse_policy(body, "body"), base_version)
        except ConfigError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        except PolicyStoreError as exc:
            raise _not_found(exc) from exc
        return {"name": saved.name, "version": saved.version}

    @router.post("/policies/{name}/publish",
                 responses=error_responses(400, 401, 403, 404, 409, 422))
    def publish_policy(name: str, body: PublishRequest | None = None,
                       authorization: str | None = Header(None)) -> dict[str, Any]:
        check_admin(authorization)
        try:
            live = store.publish(name, None if body is None else body.version)
        except PolicyStoreError as exc:
            raise _not_found(exc) from exc
        return {"name": name, "live_version": live}

    @router.post("/policies/{name}/rollback",
                 responses=error_responses(400, 401, 403, 404, 409, 422))
    def rollback_policy(name: str, authorization: str | None = Header(None)) -> dict[str, Any]:
        check_admin(authorization)
        try:
            live = store.rollback(name)
        except PolicyStoreError as exc:
            raise _not_found(exc) from exc
        return {"name": name, "live_version": live}

    return router


def _response(result: PolicyResult, ignored: list[str]) -> JSONResponse:
    notice = result.notice
    if ignored:
        extra = f"the policy decides the ranking; ignored {', '.join(ignored)}"
        notice = f"{notice}; {extra}" if notice else extra
    return JSONResponse({"items": result.items, "notice": notice, "method": result.method,
                         "diversity_weight": result.diversity_weight, "policy": result.policy,
                         "removed": result.removed})


def policy_recommend(server: PolicyServer, body: Any) -> JSONResponse | None:
    """Answer /recommend under the requested (or live) policy; None when there is none."""
    try:
        policy: Policy | None = server.resolve(body.policy)
    except PolicyNotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except (PolicyStoreError, ConfigError) as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    if policy is None:
        return None
    ignored = [name for name in PLAIN_KNOBS if getattr(body, name, None)]
    result = server.recommend(policy, user_id=body.user_id, history=body.history, k=body.k,
                              exclude_seen=body.exclude_seen)
    return _response(result, ignored)
