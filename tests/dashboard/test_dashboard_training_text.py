"""The Training page's "Read product texts" switch: off, the job's spec reads no product text
(no text encoder, no catalogue encoding for Search after the fit) and the saved run says so;
on (the default), the spec reads them. A running job's progress line counts epochs and
batches, in the studio's language."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from dashboard_support import APP, TIMEOUT, tiny_home, use_home
from streamlit.testing.v1 import AppTest

from dashboard import jobs
from dashboard.state import TRAINING_JOB

pytestmark = pytest.mark.slow


def _training_page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/training.py")
    return at.run()


def _start(monkeypatch: pytest.MonkeyPatch, at: AppTest, name: str, read_texts: bool,
           run: bool) -> jobs.TrainingJob:
    """Submit the form with the switch set; the job is started for real only when `run`."""
    started: list[jobs.TrainingJob] = []

    def capture(spec, lock):  # noqa: ANN001, ANN202 - the page's own spec
        job = real_start(spec, lock) if run else jobs.TrainingJob(spec, state="failed")
        started.append(job)
        return job

    real_start = jobs.start
    monkeypatch.setattr(jobs, "start", capture)
    assert at.toggle(key="train_text").label == "Read product texts"
    at.toggle(key="train_text").set_value(read_texts)
    at.text_input(key="train_name").set_value(name)
    at.number_input(key="train_epochs").set_value(1)
    at.selectbox(key="train_dim").set_value(16)
    next(b for b in at.button if b.label == "Train at the α above only").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(started) == 1
    return started[0]


def test_training_without_product_texts_reads_none(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    home = tmp_path / "home"  # a copy: the new run must not join the shared home's runs
    shutil.copytree(tiny_home(), home)
    use_home(monkeypatch, home)
    at = _training_page()
    assert at.toggle(key="train_text").value is True  # reading texts stays the default
    job = _start(monkeypatch, at, "no-texts", read_texts=False, run=True)
    spec = job.spec
    assert spec.model_config.use_text is False
    assert spec.encoder_config is None and spec.search_vectors is False
    deadline = time.monotonic() + 600  # a hang guard only: the worker reports its end
    while job.snapshot().state == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.snapshot().state == "done", job.snapshot().message
    meta = json.loads((home / "runs" / "no-texts" / "run.json").read_text())
    assert meta["model_config"]["use_text"] is False
    assert not (home / "runs" / "no-texts" / "search_vectors.npy").exists()


def test_training_with_product_texts_asks_for_them(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(tiny_home(), home)
    use_home(monkeypatch, home)
    at = _training_page()
    spec = _start(monkeypatch, at, "with-texts", read_texts=True, run=False).spec
    assert spec.model_config.use_text is True
    assert spec.encoder_config is not None and spec.search_vectors is True


@pytest.mark.parametrize(("lang", "line"), [
    ("en", "Training twotower · epoch 2/3 · batch 1,200/2,300 · "),
    ("zh", "正在训练 twotower · 第 2/3 轮 · 第 1,200/2,300 批 · ")])
def test_a_running_job_counts_epochs_and_batches(monkeypatch: pytest.MonkeyPatch, lang: str,
                                                line: str) -> None:
    from engine.core.messages import Message
    from engine.training.presets import quick_run

    home = use_home(monkeypatch, tiny_home())
    job = jobs.TrainingJob(quick_run(data_dir=home / "data" / "synthetic",
                                     out_dir=home / "runs" / "never", epochs=3, use_text=False))
    job.on_stage(Message("stage_training", model="twotower"))  # as the engine names it
    job.on_epoch_end(0, {"loss": 0.5})
    job.on_batch_end(1200, 2300)  # a job observed mid-epoch (no worker thread runs it)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    at.session_state[TRAINING_JOB] = job
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, [e.value for e in at.exception]
    texts = [bar.proto.text for bar in at.get("progress")]
    assert any(text.startswith(line) for text in texts), texts


@pytest.mark.parametrize(("lang", "said"), [
    ("en", "Encoding the texts of 601 products (counted once per distinct text)"),
    ("zh", "正在编码 601 件商品的文本（相同的文本只计一次）")])
def test_the_encoding_stage_says_its_count_is_of_distinct_texts(
        lang: str, said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The encoder counts distinct texts: 601 products, two with the same text, read
    "600 / 600" after the stage's name, which says why the numbers differ."""
    from dashboard.i18n import say
    from engine.core.messages import Message

    monkeypatch.setattr("dashboard.i18n.current", lambda: lang)
    assert say(Message("stage_encoding", n=601)) == said
