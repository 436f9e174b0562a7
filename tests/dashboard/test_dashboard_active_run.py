"""The active run changes only when the merchandiser picks one: a run trained later (in the
studio or the CLI) never takes over the sidebar, in this session or the next."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from dashboard_support import APP, RUN_NAME, TIMEOUT, tiny_home, use_home
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the tiny home (the test adds a run to it)."""
    copy = tmp_path / "home"
    shutil.copytree(tiny_home(), copy)
    (copy / "studio.json").unlink(missing_ok=True)
    return use_home(monkeypatch, copy)


def _sidebar_run(at: AppTest) -> str:
    return str(at.session_state["run"])


def test_a_newer_finished_run_never_becomes_the_active_run(home: Path) -> None:
    first = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert _sidebar_run(first) == RUN_NAME
    newer = home / "runs" / "trained-later"
    shutil.copytree(home / "runs" / RUN_NAME, newer)
    later = (home / "runs" / RUN_NAME / "run.json").stat().st_mtime + 60
    for name in ("run.json", "items.parquet"):
        if (newer / name).exists():
            os.utime(newer / name, (later, later))
    first.run()  # the job finished: the same session keeps its run
    assert _sidebar_run(first) == RUN_NAME
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()  # a new visit
    assert not fresh.exception
    assert _sidebar_run(fresh) == RUN_NAME
    picker = fresh.selectbox(key="w_run")
    assert picker.value == RUN_NAME
    assert any(option.startswith("trained-later") for option in picker.options)
