"""A `prism serve` process killed with SIGKILL during a burst of events loses no acknowledged
event: every event answered 201 is in the store, and the restarted API serves it as history."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from engine.events.store import EventStore

pytest_plugins = ["serving_runs"]
pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
CLIENTS = 8
ACKED_BEFORE_KILL = 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(run: Path, home: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PRISM_HOME": str(home), "PRISM_ADMIN_TOKEN": "s3cret"}
    server = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--run", str(run),
                               "--port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300  # a generous upper bound, never a speed check
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError(f"prism serve did not come up (exit code {server.poll()})")


def _burst(url: str, items: list[str], acked: list[tuple[str, str]], enough: threading.Event,
           client_id: int) -> None:
    """Post events until the server goes away; record each one answered 201."""
    with httpx.Client(timeout=30) as client:
        for n in range(100_000):
            event = (f"burst-{client_id}-{n}", items[n % len(items)])
            try:
                answer = client.post(f"{url}/events", json={
                    "user_id": event[0], "item_id": event[1], "event": "purchase"})
            except httpx.HTTPError:
                return
            assert answer.status_code == 201, answer.text
            acked.append(event)
            if len(acked) >= ACKED_BEFORE_KILL:
                enough.set()


def test_every_acknowledged_event_survives_a_kill(tiny_shop, tmp_path: Path) -> None:  # noqa: ANN001
    run, port = tiny_shop.ease_run, _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(run, tmp_path, port)
    hot = httpx.get(f"{url}/hot", params={"k": 50}, timeout=30).json()
    items = [row["item_id"] for row in hot["items"]]
    acked: list[tuple[str, str]] = []
    enough = threading.Event()
    threads = [threading.Thread(target=_burst, args=(url, items, acked, enough, i))
               for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    enough.wait()
    server.send_signal(signal.SIGKILL)  # mid-burst: requests are in flight
    server.wait()
    for thread in threads:
        thread.join()
    stored = {(row["user_id"], row["item_id"]) for row in
              EventStore(tmp_path / "events.sqlite").events()}
    print(f"acknowledged {len(acked)}, stored {len(stored)} (in flight when killed: "
          f"{len(stored) - len(acked)})")
    assert len(acked) >= ACKED_BEFORE_KILL
    assert set(acked) <= stored  # in flight when killed: stored or not, never acknowledged
    restarted = _serve(run, tmp_path, port)
    try:
        user, item = acked[-1]
        history = httpx.get(f"{url}/users/{user}/history",
                            headers={"Authorization": "Bearer s3cret"}, timeout=30).json()
        assert [row["item_id"] for row in history] == [item]
    finally:
        restarted.terminate()
        restarted.wait(timeout=60)
