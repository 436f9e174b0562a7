"""Two `prism serve` workers sharing one PostgreSQL server (started here on 127.0.0.1): a
policy published while eight clients send lists and events loses no request and no event,
both the old and the new version answer the clients (no restart), and a purchase taken by
one worker has left the shopper's list on both."""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from postgres_support import fresh_database, postgres_server  # noqa: F401 (fixture)

from engine.events.store import EventStore
from engine.policy.schema import parse_policy
from engine.policy.store import PolicyStore

pytest_plugins = ["serving_runs"]
pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
CLIENTS, BEFORE, AFTER = 8, 120, 120  # answered requests before and after the publish
TOKEN = "s3cret"


def _policy(weight: float):  # noqa: ANN202
    return parse_policy({"name": "spring", "stages": [
        {"kind": "diversify", "method": "mmr", "weight": weight}]})


def _serve(run: Path, home: Path, url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "PRISM_HOME": str(home), "PRISM_ADMIN_TOKEN": TOKEN,
           "PRISM_EVENT_STORE": url, "PRISM_POLICY_STORE": url}
    return subprocess.Popen([sys.executable, "-m", "engine", "serve", "--run", str(run),
                             "--port", str(port), "--workers", "2"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


class Clients:
    """Eight shoppers' loops: a list, then an event on an item of that list, until stopped."""

    def __init__(self, base: str, users: list[str]) -> None:
        self.base, self.users = base, users
        self.stop, self.lock = threading.Event(), threading.Lock()
        self.answered = threading.Condition(self.lock)
        self.statuses: collections.Counter[int] = collections.Counter()
        self.policies: collections.Counter[str] = collections.Counter()
        self.acked = 0
        self.failures: list[str] = []  # a request that got no answer at all

    def _count(self, status: int, policy: str | None = None, acked: bool = False) -> None:
        with self.answered:
            self.statuses[status] += 1
            self.policies[policy or ""] += policy is not None
            self.acked += acked
            self.answered.notify_all()

    def loop(self, client: int) -> None:
        try:
            self._loop(client)
        except httpx.HTTPError as exc:
            with self.answered:
                self.failures.append(f"client {client}: {type(exc).__name__}: {exc}")
                self.stop.set()
                self.answered.notify_all()

    def _loop(self, client: int) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as http:
            n = 0
            while not self.stop.is_set():
                user = self.users[(client * 31 + n) % len(self.users)]
                shown = http.post("/recommend", json={"user_id": user, "k": 5})
                body = shown.json()
                self._count(shown.status_code, body.get("policy"))
                if shown.status_code == 200 and body["items"]:
                    event = http.post("/events", json={
                        "user_id": user, "item_id": body["items"][n % 5]["item_id"],
                        "event": "click", "list_id": body["request_id"]})
                    self._count(event.status_code, acked=event.status_code == 201)
                n += 1

    def total(self) -> int:
        with self.lock:
            return sum(self.statuses.values())

    def wait_for(self, answered: int) -> None:
        with self.answered:
            self.answered.wait_for(lambda: sum(self.statuses.values()) >= answered
                                   or self.stop.is_set())


def test_publishing_under_load_on_two_workers_loses_nothing(tiny_shop, tmp_path: Path,  # noqa: ANN001
                                                            postgres_server: str) -> None:  # noqa: F811
    url = fresh_database(postgres_server, "shop")
    store = PolicyStore(url=url)
    store.publish("spring", store.save(_policy(0.2)).version)
    store.save(_policy(0.6))
    port = _free_port()
    server = _serve(tiny_shop.ease_run, tmp_path, url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, server)
        users = [f"u{n}" for n in range(40)]
        clients = Clients(base, users)
        threads = [threading.Thread(target=clients.loop, args=(c,)) for c in range(CLIENTS)]
        for thread in threads:
            thread.start()
        clients.wait_for(BEFORE)
        published = httpx.post(f"{base}/policies/spring/publish", json={"version": 2},
                               headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
        clients.wait_for(clients.total() + AFTER)
        clients.stop.set()
        for thread in threads:
            thread.join()
        later = _lists_after_a_purchase(base)
    finally:
        server.send_signal(signal.SIGTERM)  # a graceful stop: the workers finish their writes
        _, errors = server.communicate(timeout=120)
    assert clients.failures == [], errors[-2000:]
    assert published.status_code == 200, published.text
    assert set(clients.statuses) == {200, 201}, (clients.statuses, errors[-2000:])
    assert {"spring@1", "spring@2"} <= set(clients.policies)
    bought, lists = later  # whichever worker answers, the purchase has left the list
    assert lists and all(bought not in items for items in lists), (bought, lists)
    stored = EventStore(url)
    print(f"answers {dict(clients.statuses)}, lists by policy {dict(clients.policies)}, "
          f"events acknowledged {clients.acked} + 1 purchase, stored {stored.count()}")
    assert stored.count() == clients.acked + 1 and clients.acked > 0
    stored.close()


def _lists_after_a_purchase(base: str) -> tuple[str, list[list[str]]]:
    """A new shopper buys the first item of their list, then asks for twelve more lists
    (the two workers share them out)."""
    with httpx.Client(base_url=base, timeout=120) as http:
        shown = http.post("/recommend", json={"user_id": "walk-in", "k": 5}).json()
        bought = shown["items"][0]["item_id"]
        assert http.post("/events", json={"user_id": "walk-in", "item_id": bought,
                                          "event": "purchase"}).status_code == 201
        lists = [[row["item_id"] for row in http.post("/recommend", json={
            "user_id": "walk-in", "k": 5}).json()["items"]] for _ in range(12)]
    return bought, lists


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(base: str, server: subprocess.Popen) -> None:
    """Poll /healthz until the server answers (or fail with its output once it exits); between
    tries it waits on the server's exit, briefly, rather than sleeping."""
    while True:
        assert server.poll() is None, server.communicate()[1][-2000:]
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=0.2)
