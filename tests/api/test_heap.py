"""`prism serve` settles its heap: garbage collected, the survivors frozen out of the
collector's passes, at start and again once the background loading has finished."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.api import heap


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # give the rest of the test run its ordinary collector back


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _walked(*objects: object) -> bool:
    """Whether a collection pass still walks any of `objects` (frozen ones it skips)."""
    ids = {id(found) for found in gc.get_objects()}
    return any(id(one) in ids for one in objects)


def test_settle_collects_cycles_and_freezes_what_lives() -> None:
    first, second = _Node(), _Node()
    first.other, second.other = second, first  # a cycle: only the collector frees it
    gone = weakref.ref(first)
    kept = [[n] for n in range(100)]
    del first, second
    assert _walked(*kept)
    heap.settle()
    assert gone() is None and not _walked(*kept)


def test_the_lifespan_settles_at_start_and_after_the_loading_thread() -> None:
    release, loaded = threading.Event(), []

    def load() -> None:
        release.wait()
        loaded.extend([n] for n in range(100))  # what the background load keeps

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    before = [[n] for n in range(100)]

    @asynccontextmanager
    async def inner(app: FastAPI) -> AsyncIterator[None]:
        yield

    with TestClient(FastAPI(lifespan=heap.settled(inner, lambda: loader))):
        assert not _walked(*before)
        settling = next(t for t in threading.enumerate() if t.name == "prism-heap-settle")
        release.set()
        settling.join()
        assert len(loaded) == 100 and not _walked(*loaded)
