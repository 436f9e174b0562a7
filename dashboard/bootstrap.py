"""First start: with no run yet, generate the synthetic shop and train a small model, visibly.

The starter is one two-tower trained over Prism's default range of α (engine.core.config.
DEFAULT_ALPHA_RANGE), so the Explorer's α slider moves the model itself from the first visit.

A newcomer who opens the studio on an empty machine sees a status box with a progress bar
driven by the trainer's callbacks, then a working Explorer. The starter trains until early
stopping (validation NDCG stops improving) or until its time budget is spent, whichever comes
first, keeping the best weights: demos show the model near its best, not after 4 epochs.
`PRISM_STARTER_EPOCHS` / `PRISM_STARTER_BUDGET_S` override the epoch cap and the budget (tests
use a tiny epoch count). One server-wide lock makes two tabs opened at once train one model.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from dashboard import state
from dashboard.i18n import say, show_error, t
from engine.core import paths
from engine.core.errors import PrismError
from engine.training import presets

BOOTSTRAP_RUN = "synthetic-starter"
STARTER = {"dim": 32, "use_text": True, "patience": 3}
STARTER_EPOCHS = 60  # a cap: early stopping usually ends the fit well before it
STARTER_BUDGET_S = 240.0  # the promise on the welcome screen: at most ~4 minutes of training


def starter_epochs() -> int:
    """Epoch cap for the starter model (`PRISM_STARTER_EPOCHS` overrides it)."""
    value = os.environ.get("PRISM_STARTER_EPOCHS", "")
    return int(value) if value.strip().isdigit() and int(value) > 0 else STARTER_EPOCHS


def starter_budget() -> float:
    """Training time budget in seconds (`PRISM_STARTER_BUDGET_S` overrides it)."""
    try:
        value = float(os.environ.get("PRISM_STARTER_BUDGET_S", STARTER_BUDGET_S))
    except ValueError:
        return STARTER_BUDGET_S
    return value if value > 0 else STARTER_BUDGET_S


class TimeBudget:
    """Trainer callback: stop after the epoch that crosses the budget (best weights kept)."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.started = seconds, time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if time.monotonic() - self.started > self.seconds:
            from engine.models.trainer import StopTraining

            raise StopTraining(f"time budget of {self.seconds:.0f} s reached")


class StatusProgress:
    """Trainer callbacks that draw into an `st.status` box (runs in the script thread)."""

    def __init__(self, status: st.delta_generator.DeltaGenerator, epochs: int) -> None:
        self.status, self.epochs = status, epochs
        self.bar = status.progress(0.0, text=t("bootstrap.starting"))
        self.epoch = 0

    def on_stage(self, stage: str) -> None:
        # `expanded` every time: an update without it folds the box shut in the browser
        self.status.update(label=t("bootstrap.stage", stage=say(stage).lower()), expanded=True)
        self.bar.progress(min(1.0, self.epoch / self.epochs), text=say(stage))

    def on_progress(self, stage: str, done: int, total: int) -> None:
        """A counted stage (encoding the product texts): the bar moves with its count."""
        self.status.update(label=t("bootstrap.stage", stage=say(stage).lower()), expanded=True)
        self.bar.progress(min(1.0, done / max(total, 1)),
                          text=f"{say(stage)}: {done:,} / {total:,}")

    def on_batch_end(self, step: int, total: int) -> None:
        done = (self.epoch + step / max(total, 1)) / self.epochs
        self.bar.progress(min(1.0, done), text=t("bootstrap.batch", epoch=self.epoch + 1,
                                                 epochs=self.epochs, step=step, total=total))

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """Said in a merchandiser's terms: the held-out ranking quality, not the losses."""
        self.epoch += 1  # counted here: the trainer's numbering may start at 0 or 1
        quality = next(((key, value) for key, value in logs.items()
                        if key.startswith("val_")), None)
        if quality is None:
            self.status.write(t("bootstrap.epoch_done", epoch=self.epoch))
            return
        self.status.write(t("bootstrap.epoch", epoch=self.epoch,
                            measure=quality[0].removeprefix("val_").upper(), value=quality[1]))


def has_runs() -> bool:
    return any((folder / "run.json").exists() for folder in paths.runs_dir().iterdir())


def ensure_starter_run() -> bool:
    """Make sure at least one run exists; True when the studio can continue."""
    if has_runs():
        return True
    with state.bootstrap_lock():
        if has_runs():  # another tab finished it while we waited
            return True
        welcome = st.empty()
        with welcome.container():
            if not _train_starter():
                return False
        welcome.empty()  # the banner goes once the studio is ready: the Explorer follows
    return True


def _train_starter() -> bool:
    """Generate the shop and train the starter inside a status box; False on failure."""
    budget = starter_budget()
    st.title(t("bootstrap.welcome"))
    st.write(t("bootstrap.intro", minutes=budget / 60))
    spec = presets.starter_spec(paths.runs_dir() / BOOTSTRAP_RUN, starter_epochs(), **STARTER)
    with st.status(t("bootstrap.setting_up"), expanded=True) as status:
        try:
            step = status.empty()  # said while the shop is generated, gone once it is
            step.write(t("bootstrap.generating"))
            from engine.training.pipeline import train

            presets.ensure_synthetic_shop(**presets.TINY_SHOP)
            step.empty()
            train(spec,
                  callbacks=[StatusProgress(status, spec.epochs), TimeBudget(budget)])
        except PrismError as exc:
            status.update(label=t("bootstrap.failed"), state="error")
            show_error(exc, "bootstrap.fix")
            return False
        status.update(label=t("bootstrap.ready"), state="complete", expanded=False)
    return True
