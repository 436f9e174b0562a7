"""Stopping a training job: the Training page says at once that the stop was asked for and
what happens next, and the button cannot be pressed twice; the trainer stops after the batch
it is on; a stop asked for once the epochs have ended cuts nothing and marks nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from dashboard_support import APP, TIMEOUT, tiny_home, use_home
from streamlit.testing.v1 import AppTest

from dashboard import jobs
from dashboard.state import TRAINING_JOB
from engine.core.messages import Message
from engine.models.trainer import StopTraining
from engine.training.presets import quick_run


def _job(home: Path) -> jobs.TrainingJob:
    """A job observed mid-epoch (no worker thread runs it)."""
    job = jobs.TrainingJob(quick_run(data_dir=home / "data" / "synthetic",
                                     out_dir=home / "runs" / "never", epochs=3, use_text=False))
    job.on_stage(Message("stage_training", model="twotower"))
    job.on_batch_end(12, 40)
    return job


def _training_page(job: jobs.TrainingJob, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    at.session_state[TRAINING_JOB] = job
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "said", "button"), [
    ("en", "Stopping after the current training batch", "Stopping…"),
    ("zh", "将在当前这一批训练结束后停止", "正在停止…")])
def test_pressing_stop_is_said_at_once_and_cannot_be_pressed_twice(
        monkeypatch: pytest.MonkeyPatch, lang: str, said: str, button: str) -> None:
    job = _job(use_home(monkeypatch, tiny_home()))
    at = _training_page(job, lang)
    assert not at.button(key="train_stop").disabled
    assert not any(said in info.value for info in at.info)
    at.button(key="train_stop").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert job.stop_requested and job.snapshot().state == "running"  # the job has not ended
    assert any(said in info.value for info in at.info), [i.value for i in at.info]
    stop = at.button(key="train_stop")
    assert stop.disabled and stop.label == button
    with pytest.raises(StopTraining):  # the trainer's next batch ends the fit
        job.on_batch_end(13, 40)


@pytest.mark.slow
def test_after_the_epochs_there_is_nothing_left_to_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    job = _job(use_home(monkeypatch, tiny_home()))
    job.on_stage(Message("stage_evaluating"))
    at = _training_page(job)
    assert at.button(key="train_stop").disabled
    assert "nothing is left to stop" in at.button(key="train_stop").help


def _fake_train(job: jobs.TrainingJob, stop_at: str, run_dir: Path):  # noqa: ANN202
    """A `train` that walks the stages a real one announces, a stop asked for at `stop_at`."""

    def train(spec, callbacks):  # noqa: ANN001, ANN202
        for stage in ("stage_loading", "stage_training", "stage_evaluating", "stage_saving"):
            if stage == stop_at:
                job.request_stop()
            job.on_stage(Message(stage, model="twotower"))
            if stage == "stage_training":
                try:
                    for step in (1, 2, 3):
                        job.on_batch_end(step, 3)
                    job.on_epoch_end(1, {"L_r": 1.0})
                except StopTraining:
                    pass  # as the trainer does: the best weights so far are kept
        (run_dir / "run.json").write_text("{}")
        return type("Result", (), {"path": run_dir})()

    return train


@pytest.mark.parametrize(("stop_at", "state", "epochs"), [
    ("stage_loading", "stopped", 0),  # asked for before training: its first batch stops it
    ("stage_evaluating", "done", 1),  # asked for once the epochs ended: nothing cut
    (None, "done", 1)])
def test_the_job_is_stopped_only_when_the_stop_cut_the_fit(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, stop_at: str | None, state: str,
        epochs: int) -> None:
    job = jobs.TrainingJob(quick_run(data_dir=tmp_path, out_dir=tmp_path / "run", epochs=1))
    monkeypatch.setattr(jobs, "train", _fake_train(job, stop_at, tmp_path))
    marked: list[Path] = []
    monkeypatch.setattr(jobs, "mark_stopped_early", marked.append)
    jobs._work(job, threading.Lock())
    snap = job.snapshot()
    assert (snap.state, snap.epoch, bool(marked)) == (state, epochs, state == "stopped")
    assert not snap.stopping  # the job has ended: nothing is being stopped any more
