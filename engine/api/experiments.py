"""Answer `/recommend` inside the running experiment: the arm's list, sampled when exploring,
logged with its request id, arm and propensities (see engine.experiments.serving)."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from engine.api.events import log_served
from engine.events.writer import StoreWriter
from engine.experiments.serving import ExperimentServing, Plan


def experiment_answer(events: StoreWriter, experiments: ExperimentServing, plan: Plan,
                      user_id: str | None, answer: BaseModel,
                      headers: dict[str, str] | None = None) -> JSONResponse:
    """The answer (the policy's or the plain RankedList) tagged, sampled and logged, as a
    JSONResponse with `headers`."""
    payload = answer.model_dump()
    propensities = experiments.finish(plan, payload)
    # a list in an experiment is committed before its arm is (the report joins the two)
    request_id = log_served(events, user_id, payload, wait=True)
    experiments.log(plan, request_id, propensities)
    return JSONResponse(payload, headers=headers)
