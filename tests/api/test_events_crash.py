"""A `prism serve` killed with SIGKILL during a burst of events loses no acknowledged event —
with the embedded store and one worker, and with two workers sharing PostgreSQL (the master
and both workers killed at once): every event answered 201 is in the store exactly once, an
event stored more than once was sent more than once (the client resent what got no answer),
and the restarted API serves the acknowledged events as history."""

from __future__ import annotations

import collections
import contextlib
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
from postgres_support import fresh_database, postgres_server  # noqa: F401 (fixture)

from engine.events.store import EventStore

pytest_plugins = ["serving_runs"]
pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
CLIENTS = 8
ACKED_BEFORE_KILL = 200
TOKEN = "s3cret"
Event = tuple[str, str]  # (user_id, item_id): each one the burst sends is new


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(run: Path, env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    """`prism serve` in a process group of its own (the master and its workers), once healthy."""
    server = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--run", str(run),
                               "--port", str(port), "--workers", str(workers)], cwd=REPO,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    deadline = time.monotonic() + 300  # a generous upper bound, never a speed check
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    _kill_all(server)
    raise AssertionError(f"prism serve did not come up (exit code {server.poll()})")


def _group_alive(group: int) -> bool:
    """Whether any process of `group` still runs (zombies left to be reaped do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while being read
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def _kill_all(server: subprocess.Popen) -> None:
    """SIGKILL the server's whole process group at once; return when none of it runs."""
    with contextlib.suppress(ProcessLookupError):  # already ended
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    while _group_alive(server.pid):
        time.sleep(0.05)


class Burst:
    """Clients posting new purchases until the server goes away: what was answered 201, and
    the one event each client had in flight when the answers stopped."""

    def __init__(self, url: str, items: list[str]) -> None:
        self.url, self.items = url, items
        self.acked: list[Event] = []
        self.unanswered: list[Event] = []
        self.refused: list[str] = []  # an answer other than 201 (none expected)
        self.enough = threading.Event()

    def client(self, client_id: int) -> None:
        with httpx.Client(timeout=60) as client:
            for n in range(100_000):
                event = (f"burst-{client_id}-{n}", self.items[n % len(self.items)])
                try:
                    answer = client.post(f"{self.url}/events", json={
                        "user_id": event[0], "item_id": event[1], "event": "purchase"})
                except httpx.HTTPError:
                    self.unanswered.append(event)
                    self.enough.set()  # the server went away early: stop waiting for more
                    return
                if answer.status_code != 201:
                    self.refused.append(f"{answer.status_code}: {answer.text[:200]}")
                    self.enough.set()
                    return
                self.acked.append(event)
                if len(self.acked) >= ACKED_BEFORE_KILL:
                    self.enough.set()

    def resend(self) -> None:
        """Send again every event that got no answer (stored or not: the client cannot know)."""
        with httpx.Client(timeout=60) as client:
            for user, item in self.unanswered:
                answer = client.post(f"{self.url}/events", json={
                    "user_id": user, "item_id": item, "event": "purchase"})
                assert answer.status_code == 201, answer.text


def _setup(request: pytest.FixtureRequest, home: Path, shared: bool
           ) -> tuple[dict[str, str], str]:
    """The server's environment and the event store's URL: the Prism home's SQLite file, or
    a fresh PostgreSQL database that the event and policy stores share."""
    env = {**os.environ, "PRISM_HOME": str(home), "PRISM_ADMIN_TOKEN": TOKEN}
    if not shared:
        return env, str(home / "events.sqlite")
    url = fresh_database(request.getfixturevalue("postgres_server"), "crash")
    return {**env, "PRISM_EVENT_STORE": url, "PRISM_POLICY_STORE": url}, url


@pytest.mark.parametrize("workers,shared", [(1, False), (2, True)],
                         ids=["embedded store, one worker", "PostgreSQL, two workers"])
def test_every_acknowledged_event_survives_a_kill(tiny_shop, tmp_path: Path,  # noqa: ANN001
                                                  request: pytest.FixtureRequest,
                                                  workers: int, shared: bool) -> None:
    env, store_url = _setup(request, tmp_path, shared)
    run, port = tiny_shop.ease_run, _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(run, env, port, workers)
    hot = httpx.get(f"{url}/hot", params={"k": 50}, timeout=30).json()
    burst = Burst(url, [row["item_id"] for row in hot["items"]])
    threads = [threading.Thread(target=burst.client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    burst.enough.wait()
    _kill_all(server)  # mid-burst: requests are in flight
    for thread in threads:
        thread.join()
    assert burst.refused == [] and len(burst.acked) >= ACKED_BEFORE_KILL, burst.refused
    store = EventStore(store_url)
    before = collections.Counter((row["user_id"], row["item_id"]) for row in store.events())
    print(f"{workers} worker(s): acknowledged {len(burst.acked)}, stored {before.total()}, "
          f"in flight when killed {len(burst.unanswered)}")
    assert set(burst.acked) <= set(before)  # in flight when killed: stored or not, never acked
    assert set(before) <= set(burst.acked) | set(burst.unanswered)
    assert max(before.values()) == 1
    restarted = _serve(run, env, port, workers)
    try:
        burst.resend()
        after = collections.Counter((row["user_id"], row["item_id"]) for row in store.events())
        sent = collections.Counter(burst.acked + 2 * burst.unanswered)
        assert all(1 <= after[event] <= sent[event] for event in sent), (after, sent)
        assert after.total() == before.total() + len(burst.unanswered)
        for user, item in (burst.acked[0], burst.acked[-1]):  # any worker knows them now
            history = httpx.get(f"{url}/users/{user}/history", timeout=30,
                                headers={"Authorization": f"Bearer {TOKEN}"}).json()
            assert [row["item_id"] for row in history] == [item]
    finally:
        store.close()
        restarted.send_signal(signal.SIGTERM)  # a graceful stop of the master and workers
        try:
            restarted.wait(timeout=120)
        finally:
            _kill_all(restarted)
