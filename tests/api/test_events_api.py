"""POST /events: stored, in the shopper's next list at once, and joined to the list shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.events.store import EventStore

pytest_plugins = ["serving_runs"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("events-home")


@pytest.fixture(scope="module")
def service(tiny_shop):  # noqa: ANN001, ANN201 - its own Recommender: events change histories
    from engine.serving.recommender import Recommender

    return Recommender.load(tiny_shop.twotower_run)


@pytest.fixture(scope="module")
def client(tiny_shop, service, home: Path) -> TestClient:  # noqa: ANN001
    from serving_runs import app_with_own_home

    return TestClient(app_with_own_home(tiny_shop.twotower_run, service, home))


def _list(client: TestClient, **body) -> dict:  # noqa: ANN003
    answer = client.post("/recommend", json={"k": 10, **body})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_purchase_leaves_the_next_list_and_is_in_the_history(client, service, home) -> None:  # noqa: ANN001
    user = service.user_ids[3]
    shown = _list(client, user_id=user)
    bought = shown["items"][0]["item_id"]
    answer = client.post("/events", json={"user_id": user, "item_id": bought,
                                          "event": "purchase", "list_id": shown["request_id"]})
    assert answer.status_code == 201, answer.text
    after = _list(client, user_id=user)
    assert bought not in [row["item_id"] for row in after["items"]]
    assert after["request_id"] != shown["request_id"]
    history = service.history(user)
    assert history["item_id"].iloc[-1] == bought and history["weight"].iloc[-1] == 4.0
    stored = EventStore(home / "events.sqlite").events(user)
    assert stored[-1]["item_id"] == bought and stored[-1]["list_id"] == shown["request_id"]
    served = EventStore(home / "events.sqlite").served_list(shown["request_id"])
    assert served.user_id == user and served.items[0] == bought


def test_a_new_shopper_is_served_from_their_first_event(client, service) -> None:  # noqa: ANN001
    before = _list(client, user_id="walk-in-1")
    assert before["notice"]  # trending, said so
    viewed = str(service.catalogue.columns.ids[0])
    assert client.post("/events", json={"user_id": "walk-in-1", "item_id": viewed,
                                        "event": "view"}).status_code == 201
    after = _list(client, user_id="walk-in-1")
    what_if = _list(client, history=[viewed])
    assert after["notice"] is None and viewed not in [r["item_id"] for r in after["items"]]
    assert [r["item_id"] for r in after["items"]] == [r["item_id"] for r in what_if["items"]]


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"user_id": "u", "item_id": "nope", "event": "view"}, 404, "unknown item"),
    ({"user_id": "u", "item_id": "ITEM", "event": "like"}, 422, "event"),
    ({"user_id": "u", "item_id": "ITEM", "event": "view", "extra": 1}, 422, "extra"),
    ({"user_id": "u", "item_id": "ITEM", "event": "view", "timestamp": True}, 422, "timestamp"),
    ({"user_id": "u" * 201, "item_id": "ITEM", "event": "view"}, 422, "user_id"),
    ({"user_id": "u", "item_id": "ITEM", "event": "view", "list_id": "forged"}, 404,
     "no list"),
])
def test_bad_events_are_refused_and_not_stored(client, service, home, body, status,  # noqa: ANN001
                                               words) -> None:
    if body["item_id"] == "ITEM":
        body = {**body, "item_id": service.catalogue.columns.ids[5]}
    before = EventStore(home / "events.sqlite").count()
    answer = client.post("/events", json=body)
    assert answer.status_code == status and words in answer.json()["detail"]
    assert EventStore(home / "events.sqlite").count() == before


def test_a_list_id_must_be_the_shoppers_list_holding_the_item(client, service) -> None:  # noqa: ANN001
    user, other = service.user_ids[5], service.user_ids[6]
    shown = _list(client, user_id=user)
    shown_ids = [row["item_id"] for row in shown["items"]]
    unshown = next(str(i) for i in service.catalogue.columns.ids if str(i) not in shown_ids)
    theirs = client.post("/events", json={"user_id": other, "item_id": shown_ids[0],
                                          "event": "click", "list_id": shown["request_id"]})
    assert theirs.status_code == 409 and "another shopper" in theirs.json()["detail"]
    off_list = client.post("/events", json={"user_id": user, "item_id": unshown,
                                            "event": "click", "list_id": shown["request_id"]})
    assert off_list.status_code == 409 and "not in list" in off_list.json()["detail"]


def test_a_restarted_api_reads_the_stored_events_back(tiny_shop, client, home) -> None:  # noqa: ANN001
    from serving_runs import app_with_own_home

    from engine.serving.recommender import Recommender

    assert client.post("/events", json={"user_id": "walk-in-2", "item_id": "missing",
                                        "event": "cart"}).status_code == 404
    item = _list(client, user_id="walk-in-2")["items"][0]["item_id"]  # this test's own event:
    assert client.post("/events", json={"user_id": "walk-in-2", "item_id": item,  # it may run
                                        "event": "view"}).status_code == 201  # alone
    fresh = Recommender.load(tiny_shop.twotower_run)
    app_with_own_home(tiny_shop.twotower_run, fresh, home)
    stored = EventStore(home / "events.sqlite").events()
    assert stored and len(fresh.live) == len(stored)


def test_a_list_served_under_a_policy_is_logged_with_its_version(tiny_shop, service,  # noqa: ANN001
                                                                  tmp_path, monkeypatch) -> None:
    from serving_runs import app_with_own_home

    monkeypatch.setenv("PRISM_ADMIN_TOKEN", "s3cret")
    auth = {"Authorization": "Bearer s3cret"}
    policy = {"name": "lively", "stages": [{"kind": "diversify", "method": "mmr",
                                            "weight": 0.3}]}
    with TestClient(app_with_own_home(tiny_shop.twotower_run, service, tmp_path)) as client:
        assert client.post("/policies", json=policy, headers=auth).status_code == 201
        assert client.post("/policies/lively/publish", headers=auth).status_code == 200
        user = service.user_ids[8]
        shown = _list(client, user_id=user)
        assert shown["policy"] == "lively@1" and shown["request_id"]
        client.app.state.writer.flush()  # one process answers before the list's commit
        served = EventStore(tmp_path / "events.sqlite").served_list(shown["request_id"])
        assert served.policy == "lively@1" and served.user_id == user
        assert list(served.items) == [row["item_id"] for row in shown["items"]]
        click = client.post("/events", json={"user_id": user, "event": "click",
                                             "item_id": shown["items"][1]["item_id"],
                                             "list_id": shown["request_id"]})
        assert click.status_code == 201
