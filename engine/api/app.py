"""HTTP API over the Recommender (FastAPI): recommend, search, ask, hot items, item lookup.

`create_app(run_dir)` loads the run once; every request shares that one read-only Recommender
(sync endpoints run in FastAPI's thread pool, the text encoder guards its own tokenizer).
Bad requests answer 422 (malformed body, with a readable `detail`) or 400/404 (a RequestError's
message), never a traceback. Every error body is `ErrorBody` (`{"detail": "..."}`), and each
route's OpenAPI entry lists the error statuses it can answer with that schema, so a client
generated from `/openapi.json` parses every response. OpenAPI docs are served at `/docs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import (
    BaseModel,
    Field,
)
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from engine import __version__
from engine.api import heap
from engine.api.auth import authorize
from engine.api.errors import body_problem, error_responses
from engine.api.events import (
    catch_up,
    closing_writes,
    events_router,
    load_histories,
    log_served,
)
from engine.api.experiments import experiment_answer
from engine.api.exposure import router as exposure_router
from engine.api.limits import BodyLimit
from engine.api.metrics import ServingMetrics
from engine.api.policies import FALLBACK_HEADER, PolicyFallback, policy_recommend, policy_router
from engine.api.reload import PinServing, reload_interval, reload_router, watching
from engine.api.weights import DEFAULT_WEIGHT
from engine.core.errors import RequestError
from engine.core.limits import (
    MAX_BODY_BYTES,
    MAX_ID_CHARS,
    MAX_K,
    MAX_QUESTION_CHARS,
)
from engine.events.store import EventStore
from engine.events.writer import StoreWriter
from engine.experiments.serving import ExperimentServing
from engine.experiments.store import ExperimentStore
from engine.metrics.registry import as_json
from engine.policy.serving import PolicyServer
from engine.policy.store import PolicyStore
from engine.rerank.methods import QuotaFreeMethod
from engine.serving.ask import Asker
from engine.serving.recommender import Recommender
from engine.serving.requests import (
    INCLUDE_HELP,
    UNSERVABLE,
    ListRequest,
    RecommendRequest,
    Whole,
)
from engine.serving.results import Recommendations
from engine.serving.swap import ServingSwap

ListMethod = QuotaFreeMethod  # no quotas to give: no 'quota'


class _ListRequest(ListRequest):
    """What every text-driven list takes besides its text: the engine's list request (shopper,
    length, re-ranking), without the quota method since such a list has no quotas to give."""

    method: ListMethod = "mmr"


class SearchRequest(_ListRequest):
    """A text query, optionally personalised for a shopper."""

    query: str = Field(..., min_length=1, max_length=500)


class RankedItem(BaseModel):
    rank: int
    item_id: str
    title: str
    category: str
    price: float | None
    relevance: float
    diversity_gain: float
    score: float
    explanation: str
    attribution: list[str] = Field(default_factory=list, description="policy stages that "
                                                                     "touched the item")


class RankedList(BaseModel):
    items: list[RankedItem]
    notice: str | None
    method: str
    diversity_weight: float
    alpha: float | None = Field(None, description="the model's loss weight alpha the list was "
                                                  "scored at (loss-conditioned runs only)")
    policy: str | None = None
    removed: dict[str, int] | None = None
    unavailable_left_out: int = Field(0, description="items left out because they cannot be "
                                                     "bought now (out of stock, draft, archived)")
    request_id: str | None = Field(None, description="this list's id: send it as list_id "
                                                     "with the events it leads to")
    policy_fallback: str | None = Field(
        None, description="set when the policy failed on this request: name@version and why; "
                          "the list is then the plain ranking (also in the "
                          f"{FALLBACK_HEADER} header)")
    experiment: str | None = Field(None, description="the running experiment that chose "
                                                     "this list's policy")
    arm: str | None = Field(None, description="the shopper's arm of that experiment")


class AskRequest(_ListRequest):
    """A shopper's question, optionally personalised for a shopper (k: products to return)."""

    question: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS)
    n_faq: Whole = Field(3, ge=1, le=MAX_K, description="FAQ entries to return")


class FaqEntry(BaseModel):
    rank: int
    faq_id: str
    question: str
    answer: str
    relevance: float
    text_match: float
    affinity: float = Field(description="share of the shopper's purchases among the entry's "
                                        "linked products and categories (0 when unknown)")
    item_ids: list[str]
    categories: list[str]
    explanation: str


class AskAnswer(BaseModel):
    faq: list[FaqEntry]
    products: RankedList
    notice: str | None = Field(None, description="why the FAQ part is weak or missing")
    good_faq_match: bool


def _response(result: Recommendations) -> RankedList:
    return RankedList(items=[RankedItem(**row) for row in result.records()], notice=result.notice,
                      method=result.method, diversity_weight=result.diversity_weight,
                      alpha=result.alpha, policy=result.policy, removed=result.removed,
                      unavailable_left_out=result.unavailable_left_out)


def _json(model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    """A response model as the JSON FastAPI would send, serialised once: built from the
    engine's values here, it is not validated a second time on the way out."""
    return Response(model.model_dump_json(), media_type="application/json", headers=headers)


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every HTTP method some route of `app` answers on `path` (for a 405's Allow header)."""
    scope = {"type": "http", "path": path, "method": ""}
    methods: set[str] = set()
    for route in app.routes:
        match, _ = route.matches(scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def create_app(run_dir: str | Path, recommender: Recommender | None = None,
               torch_threads: int | None = None, warm_search: bool = False,
               retrieval: str = "auto", candidates: int | None = None,
               follow_store: bool = False, settle_heap: bool = False) -> FastAPI:
    """The API app for one run folder (loaded now, once); pass `recommender` to reuse one.
    `follow_store` (several workers): events any worker stored join this one's histories
    before each list (engine.events.tail).

    With `warm_search` the query encoder starts loading in the background, so the first
    `/search` does not wait for it (`prism serve` asks for this). A new version of the run
    (`prism refresh`) is swapped in while serving (engine/api/reload.py). `settle_heap` (`prism
    serve`) keeps what the run loaded out of the garbage collector's passes (api/heap.py)."""
    def load() -> Recommender:
        loaded = Recommender.load(run_dir, retrieval=retrieval, candidates=candidates)
        if warm_search:
            loaded.warm_search()
        return loaded

    first = recommender if recommender is not None else Recommender.load(
        run_dir, torch_threads=torch_threads, retrieval=retrieval, candidates=candidates)
    warming = first.warm_search() if warm_search else None
    service = ServingSwap(first, run_dir, load, on_swap=heap.settle if settle_heap else None)
    lifespan = closing_writes(watching(service, reload_interval()))
    # /docs and /redoc from the assets fastapi-offline ships: they work without the internet
    app = FastAPIOffline(
        title="Prism recommendation API", version=__version__,
        description="Diversity-aware recommendations, search and trending items.",
        lifespan=heap.settled(lifespan, lambda: warming) if settle_heap else lifespan)
    app.state.recommender = service
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(PinServing, swap=service)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()  # 400: a body that is no JSON, or valid fields that cannot be
        # served together
        whole = all(error.get("type") in (UNSERVABLE, "json_invalid") for error in errors)
        return JSONResponse(status_code=400 if whole else 422,
                            content={"detail": body_problem(errors)})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # list every method of the path, not only the first route's
            headers["Allow"] = ", ".join(_allowed_methods(app, request.url.path))
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail},
                            headers=headers)

    @app.exception_handler(RequestError)
    async def request_error(request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    policies = PolicyServer(service, PolicyStore())
    counters = ServingMetrics()
    app.state.counters = counters
    app.state.events = events = EventStore()
    # lists and events in group commits; one process answers a list before its commit
    app.state.writer = writer = StoreWriter(events, lists_wait=follow_store)
    app.state.tail = tail = load_histories(events, service, follow_store)
    app.include_router(policy_router(policies))
    app.include_router(counters.router())
    app.include_router(events_router(writer, service, tail))
    experiments = ExperimentServing(ExperimentStore(events))
    _add_routes(app, service, policies, counters, writer, experiments)
    app.include_router(exposure_router)
    app.include_router(reload_router(service))
    _add_ask_route(app, Asker(service))
    return app


def _add_routes(app: FastAPI, service: Recommender, policies: PolicyServer,
                counters: ServingMetrics, events: StoreWriter,
                experiments: ExperimentServing) -> None:
    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        catalogue = service.catalogue
        return {"status": "ok", "model": service.model.name, "n_items": catalogue.n_items,
                "n_users": len(catalogue.user_index), "run": service.run.path.name,
                "version": int(service.run.meta.get("version") or 1),
                **service.retrieval.describe()}

    @app.get("/metrics/vocabulary")
    def metric_vocabulary() -> list[dict[str, str]]:
        """The metric vocabulary: each metric column's name, definition and meaning."""
        return as_json()

    @app.post("/recommend", response_model=RankedList,
              responses=error_responses(400, 404, 413, 422))
    def recommend(body: RecommendRequest) -> Any:
        catch_up(app.state.tail)
        plan = experiments.plan(body.user_id, body.policy, body.k)
        if plan is not None:  # the shopper's arm decides the policy (and the pool size)
            body = body.model_copy(update={"policy": plan.arm.policy, "k": plan.k_request})
        served = policy_recommend(policies, body)
        fallback = served if isinstance(served, PolicyFallback) else None
        answer = _response(service.serve(body) if served is None or fallback else served)
        headers = {}
        if fallback is not None:
            counters.policy_fallbacks.labels(policy=fallback.reference).inc()
            answer.policy_fallback = f"{fallback.reference}: {fallback.reason}"
            headers[FALLBACK_HEADER] = fallback.reference
        if plan is not None:
            return experiment_answer(events, experiments, plan, body.user_id, answer, headers)
        answer.request_id = log_served(events, body.user_id, answer.model_dump())
        return _json(answer, headers)

    @app.post("/search", response_model=RankedList, responses=error_responses(400, 413, 422))
    def search(body: SearchRequest) -> RankedList:
        return _response(service.search(**body.model_dump()))

    @app.get("/hot", response_model=RankedList, responses=error_responses(400, 422))
    def hot(k: int = Query(10, ge=1, le=MAX_K),
            diversity_weight: float | None = Query(None, ge=0.0, le=1.0,
                                                   description="serve-time re-rank weight"),
            method: ListMethod = "mmr",
            half_life_days: float = Query(7.0, gt=0.0, le=3650.0),
            include_unavailable: bool = Query(False, description=INCLUDE_HELP)) -> RankedList:
        weight = DEFAULT_WEIGHT if diversity_weight is None else diversity_weight
        return _response(service.hot_items(k=k, diversity_weight=weight, method=method,
                                           half_life_days=half_life_days,
                                           include_unavailable=include_unavailable))

    @app.get("/items/{item_id}", responses=error_responses(404, 422))
    def item(item_id: str = PathParam(..., max_length=MAX_ID_CHARS)) -> dict[str, Any]:
        try:
            return service.item(item_id)
        except RequestError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    @app.get("/users/{user_id}/history", responses=error_responses(401, 403, 404, 422))
    def history(user_id: str = PathParam(..., max_length=MAX_ID_CHARS),
                authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        """A shopper's past events: needs a token whose role may read them (viewer or above);
        the token is checked before the id, so outsiders cannot tell who is a customer."""
        authorize(authorization, "read_history")
        catch_up(app.state.tail)
        try:
            frame = service.history(user_id)
        except RequestError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        frame["timestamp"] = frame["timestamp"].map(lambda t: t.isoformat())
        return frame.to_dict(orient="records")


def _add_ask_route(app: FastAPI, asker: Asker) -> None:
    @app.post("/ask", response_model=AskAnswer, responses=error_responses(400, 413, 422))
    def ask(body: AskRequest) -> AskAnswer:
        """The FAQ entries and products answering a shopper's question, each with why."""
        answer = asker.ask(**body.model_dump())
        return AskAnswer(faq=[FaqEntry(**row) for row in answer.records()["faq"]],
                         products=_response(answer.products), notice=answer.notice,
                         good_faq_match=answer.good_faq_match)
