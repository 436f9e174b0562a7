"""A training job running in a background thread, observed by the Training page (no `st.*`).

The worker thread only writes into this object (under a lock); the page polls `snapshot()`
from a fragment. Stopping sets a flag that the next trainer callback (after every batch, and
at every epoch's end) turns into `StopTraining`, so the best weights so far are still refit,
evaluated and saved as a run. The stages before the first batch (loading, encoding texts)
and after the fit's epochs (refit, evaluation, saving) run to their end.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import PrismError
from engine.core.messages import Message
from engine.models.trainer import StopTraining
from engine.runs.store import mark_stopped_early
from engine.training.pipeline import train
from engine.training.spec import TrainSpec


@dataclass
class JobSnapshot:
    """A consistent copy of a job's progress for drawing."""

    state: str  # running | done | failed | stopped
    stage: str
    epoch: int
    epochs: int
    batch_fraction: float
    logs: list[dict[str, float]]
    message: str
    run_dir: Path | None
    elapsed: float
    trials_done: int = 0  # settings search: trials finished so far
    counted: tuple[int, int] | None = None  # (done, total) of a counted stage (encoding)
    batches: tuple[int, int] = (0, 0)  # (done, total) batches of the current epoch
    stopping: bool = False  # a stop was asked for and the job still runs
    fit_over: bool = False  # the fit's epochs have ended: a stop has nothing left to cut


@dataclass
class TrainingJob:
    """Progress of one `engine.training.pipeline.train` run in a worker thread."""

    spec: TrainSpec
    state: str = "running"
    stage: str = Message("stage_starting")
    epoch: int = 0
    batch_fraction: float = 0.0
    logs: list[dict[str, float]] = field(default_factory=list)
    message: str = ""
    run_dir: Path | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    stop_requested: bool = False
    stopped_fit: bool = False  # the stop request ended the fit (not a request come too late)
    fit_over: bool = False  # a stage after the fit's epochs has begun
    trials_done: int = 0
    counted: tuple[int, int] | None = None
    batches: tuple[int, int] = (0, 0)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # ---- trainer callbacks (called from the worker thread) ----------------------------
    def on_stage(self, stage: str) -> None:
        with self._lock:
            # the stages run loading, encoding, training, then refit, evaluation, saving
            self.fit_over = self.fit_over or getattr(self.stage, "code", "") == "stage_training"
            self.stage, self.counted = stage, None

    def on_progress(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            self.stage, self.counted = stage, (done, total)

    def on_batch_end(self, step: int, total: int) -> None:
        with self._lock:
            self.batch_fraction, self.counted = step / max(total, 1), None
            self.batches = (step, total)
        self._maybe_stop()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        with self._lock:
            self.epoch += 1
            self.batch_fraction, self.batches = 0.0, (0, self.batches[1])
            self.logs.append({"epoch": self.epoch, **{k: float(v) for k, v in logs.items()
                                                     if isinstance(v, int | float)}})
        self._maybe_stop()

    def on_trial(self, done: int, total: int, record: dict[str, Any]) -> None:
        with self._lock:
            self.trials_done = done

    def _maybe_stop(self) -> None:
        if self.stop_requested:
            self.stopped_fit = True
            raise StopTraining("stopped from the Training page")

    # ---- control (called from the page) ---------------------------------------------------
    def request_stop(self) -> None:
        self.stop_requested = True

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            end = self.finished or time.time()
            return JobSnapshot(self.state, self.stage, self.epoch, self.spec.epochs,
                               self.batch_fraction, [dict(r) for r in self.logs], self.message,
                               self.run_dir, end - self.started, self.trials_done,
                               self.counted, self.batches,
                               self.stop_requested and self.state == "running", self.fit_over)

    def _finish(self, state: str, message: str = "", run_dir: Path | None = None) -> None:
        with self._lock:
            self.state, self.message, self.run_dir = state, message, run_dir
            self.finished = time.time()


def _work(job: TrainingJob, lock: threading.Lock) -> None:
    with lock:
        try:
            run_dir = train(job.spec, callbacks=[job]).path
        except PrismError as exc:
            said = exc.args[0] if len(exc.args) == 1 else str(exc)
            job._finish("failed", said)  # a Message or Listing: said in the page's language
        except Exception as exc:  # noqa: BLE001 - a worker must report, never die silently
            job._finish("failed", Message("training_unexpected", error=repr(exc)))
        else:
            if job.stopped_fit:  # a stop asked for after the epochs ended cut nothing
                mark_stopped_early(run_dir)
            job._finish("stopped" if job.stopped_fit else "done", run_dir=run_dir)


def start(spec: TrainSpec, lock: threading.Lock) -> TrainingJob:
    """Start training in a daemon thread; `lock` keeps one training per server at a time."""
    job = TrainingJob(spec)
    threading.Thread(target=_work, args=(job, lock), name="prism-training", daemon=True).start()
    return job
