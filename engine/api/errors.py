"""The one error body every HTTP route answers with, and its OpenAPI `responses` entries.

Shared by the main app (`engine/api/app.py`) and the routers it includes, so a client generated
from `/openapi.json` can parse every 4xx answer of every route.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from engine.core.field_errors import readable

MEANING = {
    400: "the request is well-formed but cannot be served (unknown id, infeasible quotas, "
         "k above the catalogue size, ...)",
    401: "no bearer token where one is needed (writes, a shopper's history, the audit log)",
    403: "this is off on the server (no token set), the token is wrong, or its role may not "
         "do this",
    404: "no such item, shopper, policy or served list",
    409: "the policy moved on since the version this save was based on, or an event's list "
         "was served to another shopper or does not hold the item",
    413: "the request body is larger than the limit (engine.core.limits.MAX_BODY_BYTES)",
    422: "the request does not match the schema (a readable line, not a list)",
    503: "the event store cannot be reached; the event was not stored, send it again",
}


class ErrorBody(BaseModel):
    """Every 4xx answer: one readable line saying what was wrong and where."""

    detail: str = Field(..., description="what was wrong, e.g. 'k: Input should be greater "
                                         "than or equal to 1'")


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the error statuses a route can answer."""
    return {code: {"model": ErrorBody, "description": MEANING[code]} for code in codes}


def body_problem(errors: Sequence[Mapping[str, Any]]) -> str:
    """One line for a body FastAPI refused: pydantic's errors (`readable`, without the `body`
    prefix), or 'the request body is not valid JSON: Expecting value (at character 0)'."""
    for error in errors:
        if error.get("type") == "json_invalid":  # the body as a whole, never a field path
            reason = (error.get("ctx") or {}).get("error", "it cannot be parsed")
            where = [p for p in error.get("loc", ()) if isinstance(p, int)]
            at = f" (at character {where[0]})" if where else ""
            return f"the request body is not valid JSON: {reason}{at}; send a JSON object"
    return readable([{**error, "loc": tuple(p for p in error.get("loc", ()) if p != "body")}
                     for error in errors])
