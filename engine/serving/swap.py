"""The Recommender a running API serves, swapped whole when its run folder gets a new version.

`ServingSwap` stands where the Recommender stood: every attribute it does not have itself is
read from the Recommender serving now. Each request is pinned to the Recommender that was
current when it arrived (`pin`, which the API's middleware calls), so a request that started
on the old model finishes on it whatever it reads, and none sees half of each.

A new version is noticed by `check()`: it reads the run's run.json and compares its identity
(`created`, `version`: `prism refresh` raises the version, a retrain changes `created`) with
the one served. The API calls it from a background thread every few seconds and from
`POST /model/reload`. The new version is loaded beside the old one, which keeps serving
meanwhile; the swap itself is one assignment. Both share one live history: each reads only
the events after the last one its run learned from (`events_through`), so an event is neither
lost nor counted twice across the swap.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from contextvars import ContextVar, Token
from pathlib import Path
from typing import Any

from engine.core.errors import PrismError, RunError
from engine.runs.store import RUN_JSON
from engine.serving.recommender import Recommender

LOG = logging.getLogger("prism.api")


def run_identity(meta: dict[str, Any]) -> tuple[str, int]:
    """What tells two versions of a run folder apart: (created, version)."""
    return str(meta.get("created")), int(meta.get("version") or 1)


def read_identity(run_dir: Path) -> tuple[str, int]:
    """The identity of the version on disk now (RunError while it cannot be read)."""
    try:
        meta = json.loads((run_dir / RUN_JSON).read_text())
    except (OSError, ValueError) as exc:
        raise RunError(f"{run_dir / RUN_JSON} cannot be read now ({exc})") from exc
    if not isinstance(meta, dict):
        raise RunError(f"{run_dir / RUN_JSON} is not a run description")
    return run_identity(meta)


class ServingSwap:
    """The current Recommender of one run folder, and the swap to its next version."""

    def __init__(self, recommender: Recommender, run_dir: str | Path,
                 loader: Callable[[], Recommender],
                 on_swap: Callable[[], None] | None = None) -> None:
        self._current = recommender
        self._on_swap = on_swap  # called after each swap (the API settles its heap)
        self.run_dir, self._loader = Path(run_dir), loader
        self._pinned: ContextVar[Recommender | None] = ContextVar("served", default=None)
        self._lock = threading.Lock()  # one load at a time
        self._failed: tuple[str, int] | None = None  # a version that would not load
        self.swaps = 0

    @property
    def current(self) -> Recommender:
        """The request's pinned Recommender, else the one serving now."""
        return self._pinned.get() or self._current

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current, name)

    def pin(self) -> Token:
        """Pin this request (context) to the Recommender serving now."""
        return self._pinned.set(self._current)

    def unpin(self, token: Token) -> None:
        self._pinned.reset(token)

    def check(self) -> dict[str, Any]:
        """Swap in the version on disk if it is not the one served; says what happened.
        RunError when the new version cannot be loaded (the old one keeps serving)."""
        with self._lock:
            before = run_identity(self._current.run.meta)
            on_disk = read_identity(self.run_dir)
            if on_disk == before:
                return self._answer(False, before)
            try:
                fresh = self._loader()
            except PrismError as exc:
                self._failed = on_disk
                raise RunError(f"version {on_disk[1]} of run {self.run_dir.name} cannot be "
                               f"loaded ({exc}); still serving version {before[1]}") from exc
            fresh.live = self._current.live  # one history: each reads past its own run
            self._current, self._failed = fresh, None
            self.swaps += 1
        LOG.info("run %s: version %d swapped in (was %d)", self.run_dir.name, on_disk[1],
                 before[1])
        if self._on_swap is not None:
            self._on_swap()
        return self._answer(True, before)

    def _answer(self, swapped: bool, before: tuple[str, int]) -> dict[str, Any]:
        run = self._current.run
        return {"swapped": swapped, "version": run_identity(run.meta)[1],
                "previous": before[1], "events_through": run.events_through}

    def poll(self) -> None:
        """One watcher tick: `check`, quietly skipping a version that already failed to load
        and a run.json caught mid-write."""
        try:
            on_disk = read_identity(self.run_dir)
        except RunError:
            return  # mid-swap or mid-write: the next tick reads it whole
        if on_disk == self._failed:
            return
        try:
            self.check()
        except RunError as exc:
            LOG.warning("%s", exc)

    def watch(self, interval: float) -> Callable[[], None]:
        """Call `poll` every `interval` seconds in a daemon thread; returns its stop, which
        returns once the thread has ended: a version loading when the server stops is never
        still being built or freed by that thread while the interpreter shuts down (freeing
        torch tensors then aborts the process; see engine/models/tower_pass.py)."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(interval):
                self.poll()

        thread = threading.Thread(target=loop, name="prism-run-watch", daemon=True)
        thread.start()

        def end() -> None:
            stop.set()
            thread.join()

        return end
