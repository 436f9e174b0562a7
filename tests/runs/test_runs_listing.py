"""Listing run folders, their version stamps, and the studio's remembered run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.core.errors import RunError
from engine.runs.listing import (
    STUDIO_FILE,
    RunEntry,
    default_run,
    list_runs,
    remember_run,
    remembered_run,
    run_entry,
    run_stamp,
)


def _run(folder: Path, name: str, stamp: int, **meta: object) -> RunEntry:
    path = folder / name
    path.mkdir(parents=True)
    (path / "run.json").write_text(json.dumps(meta))
    os.utime(path / "run.json", (stamp, stamp))
    return RunEntry(name, path, float(stamp), dict(meta))


def test_list_runs_is_newest_first_and_skips_staging_and_broken_folders(prism_home: Path) -> None:
    runs = prism_home / "runs"
    _run(runs, "older", 100, model="ease")
    _run(runs, "newer", 200, model="pop")
    _run(runs, "newer.tmp-1a2b3c4d", 300)  # a save still writing
    _run(runs, "older.old-1a2b3c4d", 300)  # a save retiring the old folder
    (runs / "broken").mkdir()
    (runs / "broken" / "run.json").write_text("{not json")
    (runs / "empty").mkdir()
    (runs / "stray.txt").write_text("not a run")
    listed = list_runs()
    assert [(entry.name, entry.stamp, entry.meta) for entry in listed] == [
        ("newer", 200.0, {"model": "pop"}), ("older", 100.0, {"model": "ease"})]
    assert list_runs(runs) == listed  # an explicit folder reads the same


def test_run_stamp_follows_the_item_table_after_a_cold_start_add(tmp_path: Path) -> None:
    entry = _run(tmp_path, "run", 100)
    assert run_stamp(entry.path) == 100.0
    (entry.path / "items.parquet").write_bytes(b"")
    os.utime(entry.path / "items.parquet", (250, 250))
    assert run_stamp(entry.path) == 250.0
    with pytest.raises(OSError):
        run_stamp(tmp_path / "missing")


def test_run_entry_names_the_run_that_is_gone(prism_home: Path) -> None:
    _run(prism_home / "runs", "shop", 100)
    assert run_entry("shop") == RunEntry("shop", prism_home / "runs" / "shop", 100.0, {})
    with pytest.raises(RunError, match="run 'gone' is gone from .*pick another run"):
        run_entry("gone")


def test_default_run_is_remembered_else_newest_finished(prism_home: Path) -> None:
    runs = [_run(prism_home / "runs", "stopped", 300, stopped_early=True),
            _run(prism_home / "runs", "newer", 200), _run(prism_home / "runs", "older", 100)]
    assert default_run(runs) == "newer"  # a run stopped early is not the default
    assert remember_run("older") is True
    assert remembered_run() == "older" and default_run(runs) == "older"
    remember_run("deleted-since")
    assert default_run(runs) == "newer"
    assert default_run(runs[:1]) == "stopped" and default_run([]) is None


def test_remembered_run_survives_a_bad_file_and_leaves_no_staging(prism_home: Path) -> None:
    assert remembered_run() is None
    (prism_home / STUDIO_FILE).write_text("[1, 2]")
    assert remembered_run() is None
    remember_run("shop")
    assert json.loads((prism_home / STUDIO_FILE).read_text()) == {"last_run": "shop"}
    assert sorted(path.name for path in prism_home.iterdir()
                  if path.name.startswith(f".{STUDIO_FILE}")) == []


def test_remember_run_that_cannot_write_only_loses_the_convenience(prism_home: Path) -> None:
    (prism_home / STUDIO_FILE).mkdir()  # in the way of the file (as a read-only home would be)
    assert remember_run("shop") is False
    assert remembered_run() is None
    assert [path.name for path in prism_home.iterdir() if path.name.startswith(".")] == []


def test_trained_loss_weights_come_from_the_train_config() -> None:
    from engine.runs.listing import trained_loss_weights

    assert trained_loss_weights({"train_config": {"alpha": 0.3, "beta": 1, "epochs": 5}}) == (
        0.3, 1.0)
    assert trained_loss_weights({"model": "ease"}) is None  # a baseline: not recorded
    assert trained_loss_weights({"train_config": {"alpha": 0.3}}) is None
    assert trained_loss_weights({"train_config": {"alpha": True, "beta": 1.0}}) is None
    assert trained_loss_weights({"train_config": "alpha=0.3"}) is None
