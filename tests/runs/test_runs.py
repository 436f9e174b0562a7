"""Run folders: round trip, clear errors for broken runs, and saves that never lose the old run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from model_contract import tiny_train_data

from engine.core.columns import DIV_CATEGORY, ITEM_ID, TITLE, USER_ID
from engine.core.errors import RunError
from engine.models.baselines import EASE, MostPopular
from engine.runs.store import FORMAT_VERSION, load_run, save_run, write_evaluation

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent


def tiny_items() -> pd.DataFrame:
    return pd.DataFrame({ITEM_ID: [f"i{i}" for i in range(8)],
                         TITLE: [f"item {i}" for i in range(8)]})


def save_tiny(out: Path, model_class: type = EASE) -> Path:
    data = tiny_train_data()
    model = model_class().fit(data)
    return save_run(out, model=model, data=data, items=tiny_items(),
                    meta={"dataset": "tiny", "split": "leave-last-out", "seed": 0},
                    epochs=[{"epoch": 1, "L": 0.5}], evaluation={"metrics": {"ndcg@10": 0.5}})


def test_round_trip_restores_model_and_tables(tmp_path: Path) -> None:
    data = tiny_train_data()
    save_tiny(tmp_path / "run")
    run = load_run(tmp_path / "run")
    original = EASE().fit(data)
    users = np.arange(data.n_users)
    np.testing.assert_array_equal(run.model.score_users(users), original.score_users(users))
    assert run.meta["format_version"] == FORMAT_VERSION and run.meta["model"] == "ease"
    assert run.item_ids == data.item_ids and run.user_ids == data.user_ids
    assert run.category_names == ["a", "b"]
    assert run.items[DIV_CATEGORY].tolist() == ["a"] * 4 + ["b"] * 4
    np.testing.assert_array_equal(run.item_categories, data.item_categories)
    np.testing.assert_array_equal(run.item_popularity, data.item_popularity)
    assert run.histories[USER_ID].tolist()[:3] == ["u0", "u0", "u0"]
    assert run.epochs == [{"epoch": 1, "L": 0.5}]
    assert run.evaluation == {"metrics": {"ndcg@10": 0.5}}


def test_no_pickle_only_safe_formats(tmp_path: Path) -> None:
    folder = save_tiny(tmp_path / "run")
    suffixes = {p.suffix for p in folder.iterdir()}
    assert suffixes <= {".json", ".jsonl", ".parquet", ".safetensors"}


def test_run_files_share_one_mode(tmp_path: Path) -> None:
    folder = save_tiny(tmp_path / "run")
    modes = {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()}
    assert set(modes.values()) == {0o644}, modes  # model.safetensors included


def test_missing_files_are_named(tmp_path: Path) -> None:
    folder = save_tiny(tmp_path / "run")
    (folder / "model.safetensors").unlink()
    (folder / "items.parquet").unlink()
    with pytest.raises(RunError, match=r"missing model.safetensors, items.parquet.*prism train"):
        load_run(folder)


def test_incompatible_version_is_refused(tmp_path: Path) -> None:
    folder = save_tiny(tmp_path / "run")
    meta = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(RunError, match="format version 99 .* reads version 1"):
        load_run(folder)


def test_absent_folder_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="does not exist; train one"):
        load_run(tmp_path / "nothing")


def test_failed_save_keeps_previous_run_and_leaves_no_debris(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    save_tiny(tmp_path / "run", MostPopular)

    def broken(self: EASE) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(EASE, "get_state", broken)
    with pytest.raises(KeyboardInterrupt):
        save_tiny(tmp_path / "run", EASE)
    assert load_run(tmp_path / "run").model.name == "pop"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_overwrite_replaces_the_run(tmp_path: Path) -> None:
    save_tiny(tmp_path / "run", MostPopular)
    save_tiny(tmp_path / "run", EASE)
    assert load_run(tmp_path / "run").model.name == "ease"
    write_evaluation(tmp_path / "run", {"metrics": {"ndcg@10": 0.7}})
    assert load_run(tmp_path / "run").evaluation == {"metrics": {"ndcg@10": 0.7}}


KILLED_SAVE = """
import sys, time
from pathlib import Path
from engine.models.baselines import EASE
import test_runs

def slow_state(self):
    Path(sys.argv[2]).touch()  # tell the parent we are inside the save
    time.sleep(60)

EASE.get_state = slow_state
test_runs.save_tiny(Path(sys.argv[1]), EASE)
"""


def test_killed_save_leaves_previous_run_loadable(tmp_path: Path) -> None:
    save_tiny(tmp_path / "run", MostPopular)
    marker = tmp_path / "inside-save"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(TESTS), str(TESTS.parent)])}
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(KILLED_SAVE),
                              str(tmp_path / "run"), str(marker)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the child never reached the save"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert load_run(tmp_path / "run").model.name == "pop"
