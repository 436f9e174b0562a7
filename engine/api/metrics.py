"""`GET /metrics`: the server's counters in the Prometheus text format (prometheus_client),
where scrapers look for them; the metric vocabulary (engine.metrics.registry) is
`GET /metrics/vocabulary`.

Each app has its own registry, so several apps in one process (tests) count apart. With
`prism serve --workers N` each worker process counts its own requests.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

PATH = "/metrics"


class ServingMetrics:
    """The counters one app exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.policy_fallbacks = Counter(
            "prism_policy_fallbacks", "Requests answered with the plain ranking because the "
            "policy failed while it was applied", ["policy"], registry=self.registry)

    def router(self) -> APIRouter:
        router = APIRouter(tags=["metrics"])

        @router.get(PATH, response_class=Response,
                    responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                                     "description": "Prometheus text format"}})
        def metrics() -> Response:
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        return router
