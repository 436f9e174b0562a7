"""GPU check: clocks, stage time limits and the per-batch training clock."""

from __future__ import annotations

import contextlib
import signal
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from engine.models.trainer import StopTraining

WARM_BATCHES = 3  # first batches of an epoch left out of the steady per-batch time


class StageTimeout(BaseException):  # noqa: N818 - raised by the alarm; not an Exception
    """A stage ran past its time limit (BaseException so library code cannot swallow it)."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise StageTimeout in this (main) thread after `seconds` of wall time."""
    def fire(signum: int, frame: Any) -> None:
        raise StageTimeout(f"stopped after its {seconds:.0f} s limit")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, work: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of `work()`, the device drained before and after."""
    sync(device)
    started = time.perf_counter()
    result = work()
    sync(device)
    return time.perf_counter() - started, result


def ratio(slow: float | None, fast: float | None) -> float | None:
    if not slow or not fast:
        return None
    return round(slow / fast, 2)


class BatchClock:
    """Callback: per-batch wall times; raises StopTraining past `soft_s` when one is given
    (or at epoch end)."""

    def __init__(self, soft_s: float | None, stop_at_epoch_end: bool):
        self.soft_s, self.stop_at_epoch_end = soft_s, stop_at_epoch_end
        self.started = time.perf_counter()
        self.epochs: list[list[float]] = []  # batch end times, one list per epoch
        self.total = 0
        self.epoch_ends: list[dict[str, float]] = []
        self.stopped_early = False

    def on_batch_end(self, step: int, total: int) -> None:
        now = time.perf_counter()
        if step == 1:
            self.epochs.append([])
        self.epochs[-1].append(now)
        self.total = total
        if step == total and self.stop_at_epoch_end:
            raise StopTraining
        if self.soft_s is not None and now - self.started > self.soft_s and step < total:
            self.stopped_early = True
            raise StopTraining

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        now = time.perf_counter()
        start = now - logs["seconds"]
        train_end = self.epochs[-1][-1]
        self.epoch_ends.append({"epoch": epoch, "train_seconds": round(train_end - start, 3),
                                "validation_seconds": round(now - train_end, 3),
                                "seconds": round(logs["seconds"], 3)})

    def summary(self) -> dict[str, Any]:
        rates = []
        for times in self.epochs:
            skip = min(WARM_BATCHES, len(times) - 2)  # batches left out as warm-up
            if skip >= 0:
                rates.append((times[-1] - times[skip]) / (len(times) - 1 - skip))
        steady = rates[1:] if len(rates) > 1 else rates  # epoch 1 carries the warm-up
        per_batch = statistics.median(steady) if steady else None
        batches = sum(len(times) for times in self.epochs)
        complete = any(len(times) == self.total for times in self.epochs)
        return {"batches_per_epoch": self.total, "batches_run": batches,
                "seconds_per_batch": None if per_batch is None else round(per_batch, 5),
                "epoch_train_seconds": None if per_batch is None
                else round(per_batch * self.total, 2),
                "extrapolated": not complete,
                "epochs": self.epoch_ends,
                "note": "epoch_train_seconds = median steady seconds per batch (epochs after the "
                        "first when there are any; the first batches of each epoch left out) x "
                        "batches per epoch; validation is timed separately"
                        + ("" if not self.stopped_early else
                           "; stopped at the time cap in epoch "
                           f"{len(self.epochs)} after {len(self.epochs[-1])} batches"
                           + ("" if complete else ", so the epoch is extrapolated"))}
