"""HTTP routes for policies: read them, and (with an admin token) create and publish them.

`GET /policies`, `GET /policies/{name}` are open. Writes — `POST /policies` (editor),
`POST /policies/{name}/publish` and `/rollback` (publisher) — are off unless a token is set
(`PRISM_ADMIN_TOKEN`, or `[[tokens]]` in roles.toml), and then need
`Authorization: Bearer <token>` whose role allows them (401 without it, 403 with a wrong one
or too small a role); they go through `engine.access.Gate`, which records who published, and a
publish is refused (422) when the policy cannot serve this server's run.
`GET /policies/log` is the audit log (viewer). `policy_recommend` is what `POST /recommend`
calls: it answers from the requested or live policy, or returns None to let the plain path
answer — also when the policy fails while it is applied: then it returns the
`PolicyFallback` to report and count, and the plain ranking answers that request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Body, Header, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from engine.access.gate import Gate
from engine.access.roles import AccessDenied
from engine.api.auth import authorize
from engine.api.errors import error_responses
from engine.core.errors import ConfigError
from engine.core.limits import MAX_VERSION
from engine.policy.checks import require_servable
from engine.policy.schema import Policy, parse_policy
from engine.policy.serving import PolicyFailed, PolicyServer
from engine.policy.store import PolicyConflict, PolicyNotFound, PolicyStoreError
from engine.serving.results import Recommendations

LOG = logging.getLogger(__name__)
FALLBACK_HEADER = "X-Prism-Policy-Fallback"
PLAIN_KNOBS = ("categories", "category_boosts", "target", "quotas")


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, le=MAX_VERSION,
                                description="default: the latest version")


def _not_found(exc: PolicyStoreError | AccessDenied) -> HTTPException:
    code = 403 if isinstance(exc, AccessDenied) else 404 if isinstance(exc, PolicyNotFound) \
        else 409 if isinstance(exc, PolicyConflict) else 400
    return HTTPException(status_code=code, detail=str(exc))


def policy_router(server: PolicyServer) -> APIRouter:
    """The /policies routes over one PolicyServer."""
    router = APIRouter(tags=["policies"])
    store = server.store
    gate = Gate(store)

    @router.get("/policies/log", responses=error_responses(401, 403, 422))
    def policy_log(name: str | None = None, limit: int = Query(100, ge=1, le=10_000),
                   authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        """Publishes, rollbacks and target changes, newest first: who, when, what, where."""
        authorize(authorization, "view")
        return gate.log(name, limit)

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
        actor = authorize(authorization, "view")  # the gate checks the role (and logs)
        try:
            gate.require(actor, "save_draft")  # the role before the body: 403, not 422
            saved = gate.save_draft(actor, parse_policy(body, "body"), base_version)
        except ConfigError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        except (PolicyStoreError, AccessDenied) as exc:
            raise _not_found(exc) from exc
        return {"name": saved.name, "version": saved.version}

    @router.post("/policies/{name}/publish",
                 responses=error_responses(400, 401, 403, 404, 409, 422))
    def publish_policy(name: str, body: PublishRequest | None = None,
                       authorization: str | None = Header(None)) -> dict[str, Any]:
        actor = authorize(authorization, "view")
        try:
            live = gate.publish(actor, name, None if body is None else body.version,
                                check=lambda policy: require_servable(
                                    policy, [server.recommender], store))
        except ConfigError as exc:  # the policy cannot serve this run
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        except (PolicyStoreError, AccessDenied) as exc:
            raise _not_found(exc) from exc
        return {"name": name, "live_version": live}

    @router.post("/policies/{name}/rollback",
                 responses=error_responses(400, 401, 403, 404, 409, 422))
    def rollback_policy(name: str, authorization: str | None = Header(None)) -> dict[str, Any]:
        actor = authorize(authorization, "view")
        try:
            live = gate.rollback(actor, name)
        except (PolicyStoreError, AccessDenied) as exc:
            raise _not_found(exc) from exc
        return {"name": name, "live_version": live}

    return router


@dataclass(frozen=True)
class PolicyFallback:
    """A policy that failed on this request: the plain ranking answers instead."""

    reference: str
    reason: str


def policy_recommend(server: PolicyServer, body: Any) -> Recommendations | PolicyFallback | None:
    """Answer /recommend under the requested (or live) policy, its notice naming the plain
    knobs it ignored; None when there is none, a PolicyFallback when it failed (the caller
    serves the plain ranking and says so)."""
    try:
        policy: Policy | None = server.resolve(body.policy)
    except PolicyNotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    except (PolicyStoreError, ConfigError) as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    if policy is None:
        return None
    ignored = [name for name in PLAIN_KNOBS if getattr(body, name, None)]
    try:
        result = server.serve(policy, body)
    except PolicyFailed as exc:
        LOG.warning("policy %s failed; serving the plain ranking: %s", exc.reference,
                    exc.reason)
        return PolicyFallback(exc.reference, exc.reason)
    if not ignored:
        return result
    extra = f"the policy decides the ranking; ignored {', '.join(ignored)}"
    return replace(result, notice=f"{result.notice}; {extra}" if result.notice else extra)
