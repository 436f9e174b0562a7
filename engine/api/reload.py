"""A refreshed model goes live without a restart: the API watches its run folder and swaps.

`prism refresh` writes the run's next version; the server notices it within
`PRISM_RELOAD_SECONDS` (default 2; 0 turns the watcher off) or at once on
`POST /model/reload`, which needs a token whose role may refresh the served model (a
publisher: it changes what every shopper sees). The new version loads while the old one keeps
serving; `PinServing` pins each request to the model that was serving when it arrived, so
requests in flight during the swap finish on the old model and none fails.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Header, HTTPException

from engine.api.auth import authorize
from engine.api.errors import error_responses
from engine.core.errors import ConfigError, RunError
from engine.serving.swap import ServingSwap

RELOAD_ENV = "PRISM_RELOAD_SECONDS"
DEFAULT_RELOAD_SECONDS = 2.0


def reload_interval() -> float:
    """Seconds between checks of the run folder ($PRISM_RELOAD_SECONDS; 0: never)."""
    text = os.environ.get(RELOAD_ENV, "").strip()
    if not text:
        return DEFAULT_RELOAD_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ConfigError(f"{RELOAD_ENV} must be a number of seconds >= 0 (0: no watching), "
                          f"got {text!r}")
    return value


class PinServing:
    """ASGI middleware: each request runs on the model serving when it arrived."""

    def __init__(self, app: Any, swap: ServingSwap) -> None:
        self.app, self.swap = app, swap

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = self.swap.pin()
        try:
            await self.app(scope, receive, send)
        finally:
            self.swap.unpin(token)


def watching(swap: ServingSwap, interval: float) -> Callable[[FastAPI], Any]:
    """The app's lifespan: watch the run folder while the server runs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = swap.watch(interval) if interval > 0 else None
        try:
            yield
        finally:
            if stop is not None:
                stop()

    return lifespan


def reload_router(swap: ServingSwap) -> APIRouter:
    router = APIRouter(tags=["model"])

    @router.post("/model/reload", responses=error_responses(401, 403, 409))
    def reload_model(authorization: str | None = Header(None)) -> dict[str, Any]:
        """Swap in the run folder's newest version now (publisher token); `swapped` is false
        when it is already the one served."""
        authorize(authorization, "refresh")
        try:
            return swap.check()
        except RunError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc

    return router
