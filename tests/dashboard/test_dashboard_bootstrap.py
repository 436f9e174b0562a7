"""First start and background training: a newcomer gets a run; a job reports and can stop."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from dashboard_support import APP, TIMEOUT
from streamlit.testing.v1 import AppTest

from dashboard import bootstrap, jobs
from engine.core.config import DEFAULT_ALPHA_RANGE
from engine.training import presets
from engine.training.spec import TrainSpec

pytestmark = pytest.mark.slow
SMALL_SHOP = {"n_items": 100, "n_users": 60}


@pytest.fixture
def small_starter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrink the starter shop and model so first start takes seconds in tests."""
    monkeypatch.setattr(presets, "TINY_SHOP", SMALL_SHOP)
    monkeypatch.setattr(bootstrap, "STARTER", {"dim": 8, "use_text": False, "patience": 1})
    monkeypatch.setenv("PRISM_STARTER_EPOCHS", "1")


def test_first_start_builds_a_run_then_shows_the_explorer(prism_home: Path,
                                                          small_starter: None) -> None:
    assert not bootstrap.has_runs()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    run = prism_home / "runs" / bootstrap.BOOTSTRAP_RUN
    assert (prism_home / "data" / "synthetic" / "items.csv").exists()
    meta = json.loads((run / "run.json").read_text())
    serving = meta["models"]["serving"]
    assert serving["refit"] is True and serving["trained_on"] == "every event"
    assert (run / "serving" / "model.safetensors").exists()  # the starter serves a refit
    train = meta["train_config"]  # one model over the default range of α
    assert (train["alpha"], train["alpha_max"]) == DEFAULT_ALPHA_RANGE
    assert serving["train_config"]["alpha_max"] == DEFAULT_ALPHA_RANGE[1]
    assert "Welcome to Prism" not in [title.value for title in at.title]  # banner is gone
    assert at.slider(key="w_model_alpha")  # the Explorer, its model α slider, in the same visit
    assert at.slider(key="w_alpha")  # and the re-rank weight beside it


def _wait(job: jobs.TrainingJob, seconds: float = 120.0) -> jobs.JobSnapshot:
    deadline = time.monotonic() + seconds
    while job.snapshot().state == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    return job.snapshot()


def _spec(home: Path, name: str, epochs: int) -> TrainSpec:
    data_dir = presets.ensure_synthetic_shop(**SMALL_SHOP)
    return presets.quick_run(data_dir=data_dir, out_dir=home / "runs" / name, epochs=epochs,
                             dim=8, use_text=False)


def test_background_job_reports_epochs_and_saves_a_run(prism_home: Path) -> None:
    import threading

    job = jobs.start(_spec(prism_home, "bg", epochs=2), threading.Lock())
    snap = _wait(job)
    assert snap.state == "done", snap.message
    assert snap.run_dir == prism_home / "runs" / "bg" and (snap.run_dir / "run.json").exists()
    assert [row["epoch"] for row in snap.logs] == [1, 2]
    assert {"L_r", "L_d"} <= set(snap.logs[0])


def test_background_job_stops_on_request_and_keeps_best_weights(prism_home: Path) -> None:
    import threading

    job = jobs.start(_spec(prism_home, "stopped", epochs=50), threading.Lock())
    job.request_stop()
    snap = _wait(job)
    assert snap.state == "stopped", snap.message
    assert snap.epoch < 50 and (snap.run_dir / "run.json").exists()


def test_failed_job_reports_the_message(prism_home: Path) -> None:
    import threading

    spec = presets.quick_run(data_dir=prism_home / "missing", out_dir=prism_home / "runs" / "x")
    snap = _wait(jobs.start(spec, threading.Lock()))
    assert snap.state == "failed" and "missing" in snap.message


def test_background_job_chooses_settings_in_counted_trials(prism_home: Path) -> None:
    import json
    import threading
    from dataclasses import replace

    spec = replace(_spec(prism_home, "tuned", epochs=2), tune=2)
    snap = _wait(jobs.start(spec, threading.Lock()))
    assert snap.state == "done", snap.message
    assert snap.trials_done == 2
    tuning = json.loads((snap.run_dir / "run.json").read_text())["selection"]["tuning"]
    assert len(tuning["trial_log"]) == 2 and tuning["best_params"]


def test_a_counted_stage_reaches_the_training_page_and_ends_with_the_stage() -> None:
    job = jobs.TrainingJob(presets.quick_run(data_dir=Path("."), out_dir=Path("."), epochs=2))
    job.on_stage("Encoding 4,344 product texts")
    assert job.snapshot().counted is None
    job.on_progress("Encoding 4,344 product texts", 1024, 4344)
    snapshot = job.snapshot()
    assert snapshot.counted == (1024, 4344) and snapshot.stage.startswith("Encoding")
    job.on_stage("Training twotower")
    assert job.snapshot().counted is None


def test_the_generating_line_goes_once_training_starts(prism_home: Path, small_starter: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The shop is generated, then a training stage is reported (and the fit fails, so the
    status box stays to be read): only the stage is said, not "Generating" any more."""
    from engine.core.errors import RunError
    from engine.training import pipeline

    def stage_then_fail(spec, callbacks=()):  # noqa: ANN001, ANN202 - the train() stand-in
        for callback in callbacks:
            if hasattr(callback, "on_stage"):
                callback.on_stage("refitting twotower on every event")
        raise RunError("the fit stopped")

    monkeypatch.setattr(pipeline, "train", stage_then_fail)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert (prism_home / "data" / "synthetic" / "items.csv").exists()
    said = [m.value for m in at.markdown]
    assert not any("Generating the synthetic shop" in text for text in said), said
    assert at.error  # the failure is said


def _epochs_said() -> None:
    import streamlit as st

    from dashboard import bootstrap

    with st.status("training") as status:
        progress = bootstrap.StatusProgress(status, epochs=2)
        progress.on_epoch_end(0, {"L_r": 0.6931, "L_d": -0.2345, "val_ndcg@10": 0.05234})
        progress.on_epoch_end(1, {"L_r": 0.6, "L_d": -0.3})


def test_the_welcome_screen_says_each_epoch_s_ranking_quality_not_its_losses() -> None:
    at = AppTest.from_function(_epochs_said, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    said = [m.value for m in at.markdown]
    assert any(text.startswith("Epoch 1: NDCG@10 0.052 on held-out purchases") for text in said)
    assert "Epoch 2 done" in said
    assert not any("L_d" in text or "L_r" in text for text in said), said
