"""The server's heap, settled once the run is loaded: what lives as long as the server is kept
out of the cyclic garbage collector's full passes.

A full collection walks every object the collector tracks. With a run and the query encoder
loaded that is about half a million objects, and a pass takes 0.4–0.6 s on a busy 2-core
machine, paid by whichever request happens to trigger it. `gc.freeze()` moves every object
alive now to a permanent generation that collections skip, so they only walk what requests
allocate. `prism serve` settles the heap when it starts, again once the query encoder has
loaded in the background, and after each model swap — unfreezing first, so that the
version swapped out can be collected.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI


def settle() -> None:
    """Collect what is garbage now, then freeze every object still alive."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def settled(inner: Callable[[FastAPI], Any],
            loading: Callable[[], threading.Thread | None]) -> Callable[[FastAPI], Any]:
    """`inner` lifespan, with the heap settled at start and again once the thread that
    `loading()` returns (the query encoder's warm-up, or None) has finished."""
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            settle()
            warming = loading()
            if warming is not None:
                threading.Thread(target=lambda: (warming.join(), settle()),
                                 name="prism-heap-settle", daemon=True).start()
            yield

    return lifespan
