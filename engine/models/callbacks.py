"""Training callbacks: how progress leaves the trainer (bars, JSON lines, TensorBoard).

The trainer only calls `on_epoch_end` / `on_batch_end`; whoever listens (the CLI's tqdm bar,
the studio's progress, a log file) decides what to do, and may raise `StopTraining`.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from tqdm.auto import tqdm


class Callback(Protocol):
    """What the trainer calls; a callback may define either method (or both).

    `on_epoch_end(epoch, logs)` gets `L`, `L_r`, `L_d` (epoch means), `val_ndcg@K`, `best`,
    `epoch` and `seconds`; `on_batch_end(step, total)` counts batches within an epoch.
    """

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None: ...

    def on_batch_end(self, step: int, total: int) -> None: ...


def notify_epoch(callbacks: Sequence[Any], epoch: int, logs: dict[str, float]) -> None:
    for callback in callbacks:
        if hasattr(callback, "on_epoch_end"):
            callback.on_epoch_end(epoch, dict(logs))


def notify_batch(callbacks: Sequence[Any], step: int, total: int) -> None:
    for callback in callbacks:
        if hasattr(callback, "on_batch_end"):
            callback.on_batch_end(step, total)


def tell(callbacks: Sequence[Any], hook: str, *args: Any) -> None:
    """Call `hook(*args)` on every callback that has it."""
    for callback in callbacks:
        if hasattr(callback, hook):
            getattr(callback, hook)(*args)


def notify_stage(callbacks: Sequence[Any], stage: str) -> None:
    """Tell every callback that has `on_stage` which stage starts now."""
    tell(callbacks, "on_stage", stage)


def notify_progress(callbacks: Sequence[Any], stage: str, done: int, total: int) -> None:
    """Counted progress of a stage: `on_progress`, or else `on_stage` with the count."""
    for callback in callbacks:
        if hasattr(callback, "on_progress"):
            callback.on_progress(stage, done, total)
        elif hasattr(callback, "on_stage"):
            callback.on_stage(f"{stage} ({done:,}/{total:,})")


class JsonLinesLogger:
    """Appends one JSON line per epoch to `<folder>/metrics.jsonl` (flushed each epoch)."""

    def __init__(self, folder: str | Path, filename: str = "metrics.jsonl"):
        self.path = Path(folder) / filename
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"epoch": epoch, **logs}, sort_keys=True) + "\n")


class TensorBoardLogger:
    """Writes epoch scalars as TensorBoard event files; build it with `tensorboard_logger`."""

    def __init__(self, folder: str | Path):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(folder))

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            if key != "epoch":
                self.writer.add_scalar(key, value, epoch)
        self.writer.flush()


def tensorboard_logger(folder: str | Path) -> TensorBoardLogger | None:
    """A TensorBoard callback when the tensorboard package is installed, else None."""
    if importlib.util.find_spec("tensorboard") is None:
        return None
    return TensorBoardLogger(folder)


class ProgressBar:
    """tqdm bar over the batches of each epoch, with the epoch's losses in its postfix."""

    def __init__(self, disable: bool = False):
        self.disable, self.bar = disable, None

    def on_batch_end(self, step: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, disable=self.disable, leave=False, unit="batch")
        self.bar.update(1)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if not self.disable:
            shown = {k: round(v, 4) for k, v in logs.items() if k not in ("epoch", "best")}
            print(f"epoch {epoch}: {shown}", flush=True)
