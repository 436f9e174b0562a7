"""Answer `/recommend` inside the running experiment: the arm's list, sampled when exploring,
logged with its request id, arm and propensities (see engine.experiments.serving)."""

from __future__ import annotations

import json

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from engine.api.events import log_served
from engine.events.writer import StoreWriter
from engine.experiments.serving import ExperimentServing, Plan


def experiment_answer(events: StoreWriter, experiments: ExperimentServing, plan: Plan | None,
                      user_id: str | None, answer: JSONResponse | BaseModel,
                      headers: dict[str, str] | None = None) -> JSONResponse:
    """The answer (a policy's JSONResponse, or the plain RankedList) tagged, sampled and
    logged, as a JSONResponse (a policy's keeps its status) with `headers`."""
    if isinstance(answer, JSONResponse):
        payload = json.loads(bytes(answer.body))
    else:
        payload = answer.model_dump()
    propensities = experiments.finish(plan, payload) if plan is not None else None
    # a list in an experiment is committed before its arm is (the report joins the two)
    request_id = log_served(events, user_id, payload, wait=True if plan is not None else None)
    if plan is not None:
        experiments.log(plan, request_id, propensities)
    status = answer.status_code if isinstance(answer, JSONResponse) else 200
    return JSONResponse(payload, status_code=status, headers=headers)
