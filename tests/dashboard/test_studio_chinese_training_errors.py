"""A training job that fails inside `train()` is said in Chinese on the Training page
(AppTest, `?lang=zh`): a text-encoder folder that holds no model stops the job at the
encoding stage, and the page's error reads in Chinese with no English word outside data (the
folder's path and the loader's own reason)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from chinese_scan import data_words, english_words
from dashboard_support import APP, TIMEOUT, tiny_home, use_home
from streamlit.testing.v1 import AppTest

from dashboard import jobs
from dashboard.state import TRAINING_JOB


def test_a_broken_text_encoder_stops_training_in_chinese(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    from engine.training.presets import quick_run

    home = use_home(monkeypatch, tiny_home())
    broken = tmp_path / "broken-model"  # a model folder with no model in it
    broken.mkdir()
    monkeypatch.setattr("engine.text.encoders.bundled_model_path", lambda: str(broken))
    job = jobs.TrainingJob(quick_run(data_dir=home / "data" / "synthetic",
                                     out_dir=tmp_path / "never", epochs=1, use_text=True))
    jobs._work(job, threading.Lock())  # the worker's own body, here in the test's thread
    failed = job.snapshot()
    assert failed.state == "failed" and failed.message.code == "encoder_cannot_load", failed
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = "zh"
    monkeypatch.setattr("dashboard.i18n.current", lambda: "zh")
    at.session_state[TRAINING_JOB] = job
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, [e.value for e in at.exception]
    said = [e.value for e in at.error if "训练失败" in e.value]
    assert len(said) == 1 and "无法加载文本编码器" in said[0], [e.value for e in at.error]
    reason = failed.message.values["error"]
    words = data_words(broken, reason)
    assert not english_words(said, words), (english_words(said, words), said)
