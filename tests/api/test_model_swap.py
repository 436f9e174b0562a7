"""A refreshed run goes live in a running API: swapped whole while requests keep coming, none
lost, and the shopper's events counted once across the swap."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

pytest_plugins = ["serving_runs"]
TOKEN = "swap-admin-token"
CLIENTS = 4


@pytest.fixture
def served(private_twotower_run: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    from engine.api.app import create_app

    monkeypatch.setenv("PRISM_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("PRISM_RELOAD_SECONDS", "0")
    app = create_app(private_twotower_run)
    return app, TestClient(app), private_twotower_run


def _refresh(run: Path) -> None:
    from engine.events.store import EventStore
    from engine.events.transfer import events_after
    from engine.models.finetune import FineTune
    from engine.training.refresh import refresh_run

    refresh_run(run, lambda after: events_after(EventStore(), after), settings=FineTune(1))


def _hammer(client: TestClient, users: list[str], stop: threading.Event,
            seen: list[tuple[int, int]]) -> None:
    """Ask for lists and the served version until told to stop; (status, version) each."""
    n = 0
    while not stop.is_set():
        user = users[n % len(users)]
        answer = client.post("/recommend", json={"user_id": user, "k": 5})
        health = client.get("/healthz")
        seen.append((answer.status_code, health.json().get("version", -1)))
        assert health.status_code == 200
        n += 1


def test_a_refresh_swaps_in_while_clients_hammer_and_no_request_fails(served) -> None:  # noqa: ANN001
    app, client, run = served
    swap = app.state.recommender
    users = swap.user_ids[:20]
    shown = client.post("/recommend", json={"user_id": users[0], "k": 5}).json()
    bought = shown["items"][0]["item_id"]
    assert client.post("/events", json={"user_id": users[0], "item_id": bought,
                                        "event": "purchase"}).status_code == 201
    stop, logs = threading.Event(), [[] for _ in range(CLIENTS)]
    threads = [threading.Thread(target=_hammer, args=(client, users, stop, log))
               for log in logs]
    for thread in threads:
        thread.start()
    while not all(logs):
        time.sleep(0.01)  # until every client has been served by the old version
    _refresh(run)  # written in place while the old version serves
    old, token = swap.current, swap.pin()  # a request in flight when the swap happens
    answer = client.post("/model/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.json()["swapped"], answer.text
    assert swap.current is old  # it finishes on the model it started with
    swap.unpin(token)
    assert swap.current is not old and swap.current.run.meta["version"] == 2
    while not all(any(version == 2 for _, version in log) for log in logs):
        time.sleep(0.01)  # until every client has been served by the new version
    stop.set()
    for thread in threads:
        thread.join()
    statuses = [status for log in logs for status, _ in log]
    versions = {version for log in logs for _, version in log}
    assert statuses and set(statuses) == {200} and versions == {1, 2}
    history = swap.history(users[0])["item_id"].tolist()
    assert history.count(bought) == 1  # folded into the run, no longer a live event too
    after = client.post("/recommend", json={"user_id": users[0], "k": 5}).json()
    assert bought not in [row["item_id"] for row in after["items"]]


def test_the_reload_route_needs_a_publisher_token_and_says_when_nothing_is_new(served) -> None:  # noqa: ANN001
    _, client, _ = served
    assert client.post("/model/reload").status_code == 401
    assert client.post("/model/reload",
                       headers={"Authorization": "Bearer wrong"}).status_code == 403
    answer = client.post("/model/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.json()["swapped"] is False


def test_the_watcher_swaps_a_new_version_in_by_itself(private_twotower_run: Path,  # noqa: ANN001
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.api.app import create_app

    monkeypatch.setenv("PRISM_RELOAD_SECONDS", "0.05")
    app = create_app(private_twotower_run)
    with TestClient(app) as client:  # runs the app's lifespan: the watcher thread
        user = app.state.recommender.user_ids[0]
        item = client.post("/recommend", json={"user_id": user}).json()["items"][0]["item_id"]
        assert client.post("/events", json={"user_id": user, "item_id": item,
                                            "event": "click"}).status_code == 201
        _refresh(private_twotower_run)
        deadline = time.monotonic() + 120
        while client.get("/healthz").json()["version"] != 2:
            assert time.monotonic() < deadline, "the new version was never swapped in"
            time.sleep(0.02)
        assert app.state.recommender.swaps == 1


def test_a_version_that_cannot_load_leaves_the_old_one_serving(served) -> None:  # noqa: ANN001
    import json

    _, client, run = served
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "version": 7}))
    (run / "model.safetensors").write_bytes(b"not a model")
    answer = client.post("/model/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 409 and "still serving version 1" in answer.json()["detail"]
    assert client.get("/healthz").json()["version"] == 1
    assert client.post("/recommend", json={"k": 3}).status_code == 200


def test_stopping_the_watcher_returns_once_its_thread_has_ended(
        served, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """The server's shutdown stops the watcher: a version it is loading is built and freed on
    its thread before the interpreter shuts down, never by a thread still running then."""
    swap = served[0].state.recommender
    ticked, threads = threading.Event(), []

    def poll() -> None:
        threads.append(threading.current_thread())
        ticked.set()

    monkeypatch.setattr(swap, "poll", poll)
    stop = swap.watch(0.001)
    assert ticked.wait(120), "the watcher never ticked"
    stop()
    assert threads[0].name == "prism-run-watch" and not threads[0].is_alive()
