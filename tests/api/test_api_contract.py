"""The API keeps its published contract: schemathesis, all checks, against `prism serve`."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.data import generate_shop, write_tables

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ease_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic shop and an EASE run on it (no training epochs: seconds)."""
    root = tmp_path_factory.mktemp("contract")
    items, events = generate_shop(n_items=300, n_users=150, seed=7)
    write_tables(items, events, root / "shop")
    assert main(["train", "--data", str(root / "shop"), "--out", str(root / "run"),
                 "--model", "ease", "--quiet"]) == 0
    return root / "run"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, seconds: float = 180.0) -> None:
    """Poll /healthz (a generous upper bound, never a speed check)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"prism serve did not come up (exit code {server.poll()})")


@pytest.fixture(scope="module")
def served(ease_run: Path):
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--run", str(ease_run),
                               "--port", str(port)], cwd=REPO, env=dict(os.environ),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def test_openapi_documents_every_error_answer(served: str) -> None:
    with urllib.request.urlopen(f"{served}/openapi.json", timeout=30) as response:
        schema = json.load(response)
    paths = schema["paths"]
    for path in ("/items/{item_id}", "/users/{user_id}/history"):
        assert "404" in paths[path]["get"]["responses"], path
    for path, method in (("/recommend", "post"), ("/search", "post"), ("/hot", "get")):
        responses = paths[path][method]["responses"]
        assert {"400", "422"} <= set(responses), path
        ref = responses["422"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorBody")
    detail = schema["components"]["schemas"]["ErrorBody"]["properties"]["detail"]
    assert detail["type"] == "string"


@pytest.mark.slow
def test_schemathesis_all_checks_find_nothing(served: str, tmp_path: Path) -> None:
    pytest.importorskip("schemathesis", reason="schemathesis (dev extra) is not installed")
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    done = subprocess.run(
        [cli, "--config-file", str(REPO / "schemathesis.toml"), "run",
         f"{served}/openapi.json", "--checks", "all", "--max-examples", "10", "--seed", "1",
         "--request-timeout", "120", "--no-color", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path)
    summary = done.stdout[-3000:]
    assert done.returncode == 0, summary
    assert "failure" not in summary.splitlines()[-1], summary
    assert " passed" in summary
