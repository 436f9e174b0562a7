"""`POST /events`: shopper events in, stored, and in the shopper's next list at once.

An event is stored first and acknowledged (201) only once it is committed; then it joins the
shopper's live history (`Recommender.record_event`), so their very next `/recommend` is scored
with it. Events are shopper behaviour, not merchandising writes: they need no role.

Every list `/recommend` serves carries a `request_id` and is logged with it (shopper, policy
name@version, method, weights, alpha, items in order). An event's `list_id` must name such a
list, served to the same shopper and holding the item — otherwise 404/409 — so a client cannot
silently tie a click to a list that was never shown, or shown to someone else.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.api.errors import error_responses
from engine.core.errors import RequestError
from engine.core.limits import MAX_ID_CHARS, check_unicode
from engine.core.messages import render
from engine.events.store import EventStore, EventStoreError, ServedList
from engine.events.tail import EventTail
from engine.events.writer import StoreWriter

LOG = logging.getLogger(__name__)
LIST_ID_CHARS = 64


class EventRequest(BaseModel):
    """One shopper event; `timestamp` is now when omitted, UTC when it names no zone."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(..., min_length=1, max_length=MAX_ID_CHARS)
    item_id: str = Field(..., min_length=1, max_length=MAX_ID_CHARS)
    event: Literal["view", "click", "cart", "purchase"]
    timestamp: datetime | None = Field(None, description="ISO 8601 or seconds since the epoch; "
                                                         "default: when it arrives")
    list_id: str | None = Field(None, min_length=1, max_length=LIST_ID_CHARS,
                                description="the request_id of the /recommend list that "
                                            "showed the item")

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: Any) -> Any:
        return check_unicode(data)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a date and time, not true/false")
        return value

    def seconds(self) -> float:
        if self.timestamp is None:
            return datetime.now(UTC).timestamp()
        stamp = self.timestamp
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def _unavailable(exc: EventStoreError) -> HTTPException:
    LOG.warning("event store unavailable: %s", exc)
    return HTTPException(status_code=503, detail=str(exc))


def _check_list(store: StoreWriter, body: EventRequest) -> None:
    if body.list_id is None:
        return
    try:
        shown = store.served_list(body.list_id)
    except EventStoreError as exc:
        raise _unavailable(exc) from exc
    if shown is None:
        raise HTTPException(status_code=404, detail=f"list_id {body.list_id!r} names no list "
                            "this shop served; send the request_id of a /recommend answer, "
                            "or leave list_id out")
    if shown.user_id is not None and shown.user_id != body.user_id:
        raise HTTPException(status_code=409, detail=f"list {body.list_id!r} was served to "
                            "another shopper; send the user_id the list was served to")
    if body.item_id not in shown.items:
        raise HTTPException(status_code=409, detail=f"item {body.item_id!r} is not in list "
                            f"{body.list_id!r}; send the list that showed the item")


def events_router(store: StoreWriter, service: Any, tail: EventTail | None = None
                  ) -> APIRouter:
    """The /events route over one store's writer and the Recommender whose histories it
    updates (through `tail` when several workers share the store)."""
    router = APIRouter(tags=["events"])

    @router.post("/events", status_code=201,
                 responses=error_responses(400, 404, 409, 413, 422, 503))
    def add_event(body: EventRequest) -> dict[str, Any]:
        """Store a shopper event; the shopper's next list already reflects it."""
        if body.item_id not in service.catalogue.item_index:
            raise HTTPException(status_code=404, detail=f"unknown item id {body.item_id!r}; "
                                "use ids from the run's catalogue")
        _check_list(store, body)
        seconds = body.seconds()
        try:
            event_id = store.add_event(body.user_id, body.item_id, body.event, seconds,
                                       body.list_id)
        except EventStoreError as exc:
            raise _unavailable(exc) from exc
        if tail is None:
            service.record_event(body.user_id, body.item_id, body.event, seconds, event_id)
        else:  # the tail takes this event in (with any other worker's), each one once
            catch_up(tail)
        return {"stored": True, "user_id": body.user_id, "item_id": body.item_id,
                "event": body.event, "list_id": body.list_id,
                "timestamp": datetime.fromtimestamp(seconds, UTC).isoformat()}

    return router


def closing_writes(inner: Any) -> Any:
    """`inner` lifespan, then the event writer closed: what is queued is committed before the
    process ends."""
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with inner(app):
                yield
        finally:
            app.state.writer.close()

    return lifespan


def load_histories(store: EventStore, service: Any, follow: bool) -> EventTail | None:
    """Replay the stored events into the shopper histories (at start). With `follow` (several
    workers write the store) also an EventTail that takes in what any worker stores later."""
    upto = store.last_id() if follow else None
    replay(store, service, upto)
    if upto is None:
        return None
    return EventTail(store, lambda row: service.record_event(
        row["user_id"], row["item_id"], row["event"], row["timestamp"], row["id"]), upto)


def catch_up(tail: EventTail | None) -> None:
    """Take in the events other workers stored since the last look (before a list is made);
    a store that cannot be read delays them to the next request, it never fails this one."""
    if tail is None:
        return
    try:
        tail.poll()
    except EventStoreError as exc:
        LOG.warning("events stored by other workers not read yet: %s", exc)


def replay(store: EventStore, service: Any, upto: int | None = None) -> tuple[int, int]:
    """Load the stored events the run has not folded in (after its `events_through`; up to id
    `upto` when given) into the shopper histories (at start); (loaded, skipped): an event on
    an item this run does not know is skipped and counted."""
    loaded = skipped = 0
    for chunk in store.iter_events(after=service.run.events_through, upto=upto):
        for row in chunk:
            try:
                service.record_event(row["user_id"], row["item_id"], row["event"],
                                     row["timestamp"], row["id"])
                loaded += 1
            except RequestError:
                skipped += 1
    if skipped:
        LOG.warning(render("{n} stored {n:event names an item|events name items} this run "
                           "does not know; left out of histories", n=skipped))
    return loaded, skipped


def log_served(store: StoreWriter, user_id: str | None, payload: dict[str, Any],
               wait: bool | None = None) -> str:
    """Give a served list its request id and record it (committed before the answer when
    `wait`, by default when several processes share the store: engine.events.writer);
    returns the id. A store failure is logged and the list is still served (its events then
    cannot name it)."""
    request_id = uuid.uuid4().hex
    payload["request_id"] = request_id
    served = ServedList(request_id=request_id, user_id=user_id, policy=payload.get("policy"),
                        method=str(payload.get("method")),
                        diversity_weight=float(payload.get("diversity_weight") or 0.0),
                        alpha=payload.get("alpha"),
                        items=tuple(str(row["item_id"]) for row in payload.get("items", ())))
    try:
        store.log_list(served, wait)
    except EventStoreError as exc:
        LOG.warning("served list not logged: %s", exc)
    return request_id
