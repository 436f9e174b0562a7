"""The README's "From Python" example runs as written, on a small synthetic shop."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def python_blocks() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_has_one_python_example() -> None:
    assert len(python_blocks()) == 1


def test_readme_python_example_runs(tmp_path: Path) -> None:
    code = python_blocks()[0]
    # the same code on a smaller shop (C042 exists with 1,000 shoppers) and a short schedule
    assert "TrainConfig(alpha=0.1)" in code
    code = code.replace("TrainConfig(alpha=0.1)", "TrainConfig(alpha=0.1, epochs=2)")
    generate = [sys.executable, "-m", "engine", "data", "generate", "--out", "shop",
                "--items", "300", "--users", "1000", "--seed", "7"]
    env = {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    subprocess.run(generate, cwd=tmp_path, env=env, check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "item_id" in done.stdout and "P" in done.stdout
    assert (tmp_path / "runs" / "shop" / "run.json").exists()
