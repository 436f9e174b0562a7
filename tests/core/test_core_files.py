"""engine.core.files: atomic file and folder writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from engine.core.files import (
    staged_file,
    swap_folder,
    write_bytes_atomic,
    write_json_atomic,
    write_text_atomic,
)

PAYLOAD_BYTES = 256 * 1024  # large enough that a torn write would show up as a short file


def _payload(writer: int) -> bytes:
    return bytes([writer % 256]) * PAYLOAD_BYTES


REPO = Path(__file__).resolve().parents[2]
# A writer is its own interpreter (not a multiprocessing child, which re-imports the test
# runner's main module): it writes `rounds` whole files of its byte.
WRITER = """
import sys
from engine.core.files import write_bytes_atomic
path, writer, rounds, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for _ in range(rounds):
    write_bytes_atomic(path, bytes([writer % 256]) * size)
"""


def _writer(path: Path, writer: int, rounds: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(writer), str(rounds),
                             str(PAYLOAD_BYTES)], env=env)


def _is_whole(data: bytes) -> bool:
    return len(data) == PAYLOAD_BYTES and data == bytes([data[0]]) * PAYLOAD_BYTES


def test_concurrent_process_writers_never_leave_a_half_file(tmp_path: Path) -> None:
    target = tmp_path / "shared.bin"
    write_bytes_atomic(target, _payload(0))
    workers = [_writer(target, n, 20) for n in (1, 2, 3)]
    seen = 0
    while any(worker.poll() is None for worker in workers) or seen == 0:
        assert _is_whole(target.read_bytes())  # a reader only ever sees one writer's file
        seen += 1
    assert [worker.wait() for worker in workers] == [0, 0, 0]
    assert _is_whole(target.read_bytes())
    assert [p.name for p in tmp_path.iterdir()] == ["shared.bin"]  # no temp file left behind


def test_concurrent_thread_writers_use_distinct_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for round_ in range(30):
                write_json_atomic(target, {"writer": n, "round": round_, "pad": "x" * 5000})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert json.loads(target.read_text())["pad"] == "x" * 5000
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    target = write_text_atomic(tmp_path / "notes.txt", "old content\n")
    with pytest.raises(RuntimeError, match="disk full"), staged_file(target) as staging:
        staging.write_text("new but hal")
        raise RuntimeError("disk full")
    assert target.read_text() == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_unserialisable_json_leaves_the_old_file_whole(tmp_path: Path) -> None:
    target = write_json_atomic(tmp_path / "eval.json", {"ndcg": 0.5})
    with pytest.raises(TypeError, match="object is not JSON serialisable"):
        write_json_atomic(target, {"ndcg": object()})
    assert json.loads(target.read_text()) == {"ndcg": 0.5}


def test_json_writes_numpy_values_and_paths_as_plain_values(tmp_path: Path) -> None:
    value = {"n": np.int64(3), "x": np.float32(0.5), "v": np.arange(2), "p": Path("a/b")}
    target = write_json_atomic(tmp_path / "sub" / "meta.json", value)  # parent is created
    assert json.loads(target.read_text()) == {"n": 3, "x": 0.5, "v": [0, 1], "p": "a/b"}
    assert target.read_text().endswith("}\n")


def test_swap_folder_replaces_whole_or_keeps_the_old(tmp_path: Path) -> None:
    out = tmp_path / "run"
    swap_folder(out, lambda staging: (staging / "a.txt").write_text("first"))
    assert (out / "a.txt").read_text() == "first"

    def broken(staging: Path) -> None:
        (staging / "a.txt").write_text("second")
        raise OSError("interrupted")

    with pytest.raises(OSError, match="interrupted"):
        swap_folder(out, broken)
    assert (out / "a.txt").read_text() == "first"
    swap_folder(out, lambda staging: (staging / "b.txt").write_text("added"),
                copy_existing=True)
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_hidden_swap_stages_under_a_dot_name(tmp_path: Path) -> None:
    names: list[str] = []
    swap_folder(tmp_path / "shop", lambda staging: names.append(staging.name), hidden=True)
    assert names[0].startswith(".shop.tmp-")
    assert [p.name for p in tmp_path.iterdir()] == ["shop"]
