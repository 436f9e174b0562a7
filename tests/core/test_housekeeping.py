"""What killed writers leave is cleaned and never listed; a swapped folder has one file mode."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from engine.core import files, paths

REPO = Path(__file__).resolve().parents[2]
HANG_IN_IMPORT = """
import sys, time
from pathlib import Path
from engine.core.files import swap_folder
def fill(staging):
    (staging / "events.parquet").write_bytes(b"half")
    Path(sys.argv[1]).write_text("ready")
    while True:
        time.sleep(1)
swap_folder(Path(sys.argv[2]) / "myshop", fill, hidden=True)
"""


def _wait_for(path: Path, process: subprocess.Popen) -> None:
    """Block until the child wrote `path` (no fixed sleep: each wait ends on a condition)."""
    while not path.exists():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.05)  # returns early if the child dies


def test_staging_from_a_killed_import_is_cleaned_and_never_listed(tmp_path, prism_home):
    data = prism_home / "data"
    data.mkdir()
    (data / "kept").mkdir()
    ready = tmp_path / "ready"
    child = subprocess.Popen([sys.executable, "-c", HANG_IN_IMPORT, str(ready), str(data)],
                             env={**os.environ, "PYTHONPATH": str(REPO)},
                             stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(ready, child)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    left = [p.name for p in data.iterdir() if files.STAGING_MARK in p.name]
    assert len(left) == 1 and left[0].startswith(".myshop.tmp-")  # kill -9 left it
    assert [p.name for p in paths.dataset_folders()] == ["kept"]
    assert sorted(p.name for p in data.iterdir()) == ["kept"]  # removed at first use


def test_a_live_writer_keeps_its_staging(tmp_path):
    live = files.staging_name(tmp_path / "shop")  # this process: alive
    live.mkdir()
    legacy = tmp_path / ".shop.tmp-0123456789ab"  # no owner recorded: stale
    legacy.mkdir()
    retired_only_copy = tmp_path / "run.old-0123456789ab"  # its run is gone: keep it
    retired_only_copy.mkdir()
    assert files.clean_stale(tmp_path) == [legacy.name]
    assert live.exists() and retired_only_copy.exists()


def test_hidden_and_temporary_folders_are_not_data_sets(prism_home):
    data = paths.data_dir()
    for name in ("shop", ".shop.tmp-x", ".hidden", "other.old-zz"):
        (data / name).mkdir()
    assert [p.name for p in paths.dataset_folders()] == ["shop"]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_every_file_of_a_swapped_folder_has_one_mode(tmp_path):
    def fill(staging: Path) -> None:
        save_file({"w": np.zeros(3, np.float32)}, str(staging / "model.safetensors"))
        files.write_json_atomic(staging / "run.json", {})
        (staging / "sub").mkdir(mode=0o700)
        (staging / "sub" / "x.txt").write_text("x")
        os.chmod(staging / "sub" / "x.txt", 0o600)

    out = files.swap_folder(tmp_path / "run", fill)
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode)
             for p in out.rglob("*") if p.is_file()}
    assert modes == {"model.safetensors": 0o644, "run.json": 0o644, "sub/x.txt": 0o644}
    assert stat.S_IMODE((out / "sub").stat().st_mode) == 0o755
