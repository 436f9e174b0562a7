"""The HTTP API: routes, validation (422 / 400 / 404 with readable messages), concurrency."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app

pytest_plugins = ["serving_runs"]


@pytest.fixture(scope="module")
def client(tiny_shop, twotower_service, tmp_path_factory) -> TestClient:  # noqa: ANN001
    from serving_runs import app_with_own_home

    return TestClient(app_with_own_home(tiny_shop.twotower_run, twotower_service,
                                        tmp_path_factory.mktemp("home")))


@pytest.fixture(scope="module")
def user_id(twotower_service) -> str:  # noqa: ANN001
    return twotower_service.user_ids[0]


def test_healthz(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["model"] == "twotower"
    assert body["n_items"] == 200 and body["n_users"] > 0
    assert body["run"] and not any(sep in str(body) for sep in "/\\")  # no server folder


def test_metrics_vocabulary(client: TestClient) -> None:
    from engine.metrics.registry import METRICS

    rows = {row["key"]: row for row in client.get("/metrics/vocabulary").json()}
    assert set(rows) == set(METRICS)
    assert rows["ild"]["name"] != rows["ild_vec"]["name"]


def test_create_app_loads_the_run_itself(tiny_shop) -> None:  # noqa: ANN001
    with TestClient(create_app(tiny_shop.ease_run)) as fresh:
        assert fresh.get("/healthz").json()["model"] == "ease"


def test_recommend(client: TestClient, user_id: str) -> None:
    response = client.post("/recommend", json={"user_id": user_id, "k": 4, "method": "dpp",
                                               "diversity_weight": 0.5})
    assert response.status_code == 200
    body = response.json()
    assert [row["rank"] for row in body["items"]] == [1, 2, 3, 4]
    assert set(body["items"][0]) == {"rank", "item_id", "title", "category", "price",
                                     "relevance", "diversity_gain", "score", "explanation",
                                     "attribution"}
    assert body["notice"] is None and body["method"] == "dpp"


def test_what_if_history_and_unknown_ids(client: TestClient, twotower_service) -> None:  # noqa: ANN001
    ids = twotower_service.catalogue.items["item_id"].tolist()[:2]
    ok = client.post("/recommend", json={"history": ids, "k": 3})
    assert ok.status_code == 200 and len(ok.json()["items"]) == 3
    bad = client.post("/recommend", json={"history": [ids[0], "nope"]})
    assert bad.status_code == 400
    assert bad.json() == {"detail": "history holds 1 unknown item id: 'nope'; use ids from "
                                    "the run's catalogue"}


def test_unknown_user_gets_trending_with_a_notice(client: TestClient) -> None:
    body = client.post("/recommend", json={"user_id": "ghost", "k": 3}).json()
    assert body["notice"] == "unknown shopper 'ghost': showing trending items instead"
    assert len(body["items"]) == 3


@pytest.mark.parametrize("payload, fragment", [
    ({"k": 0}, "k: Input should be greater than or equal to 1"),
    ({"diversity_weight": 2}, "diversity_weight: diversity_weight must be in [0, 1], got 2"),
    ({"method": "best"}, "method: Input should be 'none', 'mmr', 'dpp', 'calibrated' or 'quota'"),
    ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ({"quotas": {"X": [1]}}, "quotas.X"),
])
def test_malformed_bodies_get_readable_422(client: TestClient, user_id: str, payload: dict,
                                           fragment: str) -> None:
    response = client.post("/recommend", json={"user_id": user_id, **payload})
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_request_errors_are_400(client: TestClient, user_id: str) -> None:
    response = client.post("/recommend", json={"user_id": user_id, "k": 500})
    assert response.status_code == 400
    assert response.json()["detail"] == "k must be between 1 and the catalogue size 200, got 500"
    response = client.post("/recommend", json={"user_id": user_id, "method": "quota",
                                               "quotas": {"Nowhere": [1, 2]}})
    assert response.status_code == 400 and "unknown category ['Nowhere']" in response.text


def test_search(client: TestClient, twotower_service) -> None:  # noqa: ANN001
    title = twotower_service.catalogue.items["title"].iloc[42]
    body = client.post("/search", json={"query": title, "k": 3}).json()
    assert body["items"][0]["title"] == title
    assert client.post("/search", json={"query": ""}).status_code == 422
    blank = client.post("/search", json={"query": "   "})
    assert blank.status_code == 400 and "query is empty" in blank.json()["detail"]


def test_search_takes_the_engine_list_request(client: TestClient, twotower_service) -> None:  # noqa: ANN001
    title = twotower_service.catalogue.items["title"].iloc[42]
    calibrated = {"query": title, "k": 4, "method": "calibrated", "diversity_weight": 0.5,
                  "target_mix": 0.9, "n_candidates": 40}
    response = client.post("/search", json=calibrated)
    assert response.status_code == 200 and len(response.json()["items"]) == 4
    for bad in ({"n_candidates": 0}, {"target_mix": 2.0}, {"method": "quota"},
                {"diversity_weight": "0.5"}):
        assert client.post("/search", json={"query": title, **bad}).status_code == 422, bad


def test_hot_items_and_item_lookup(client: TestClient, twotower_service) -> None:  # noqa: ANN001
    hot = client.get("/hot", params={"k": 5, "diversity_weight": 0.3, "method": "mmr"})
    assert hot.status_code == 200 and len(hot.json()["items"]) == 5
    assert client.get("/hot", params={"half_life_days": 0}).status_code == 422
    item_id = twotower_service.catalogue.items["item_id"].iloc[0]
    assert client.get(f"/items/{item_id}").json()["item_id"] == item_id
    missing = client.get("/items/nope")
    assert missing.status_code == 404 and missing.json() == {"detail": "unknown item id 'nope'"}


def test_user_history(client: TestClient, user_id: str,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRISM_ADMIN_TOKEN", "s3cret")
    auth = {"Authorization": "Bearer s3cret"}
    rows = client.get(f"/users/{user_id}/history", headers=auth).json()
    assert rows and {"item_id", "title", "timestamp"} <= set(rows[0])
    assert client.get("/users/ghost/history", headers=auth).status_code == 404


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_their_assets_from_the_api_itself(client: TestClient, page: str) -> None:
    html = client.get(page).text
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets and not any(a.startswith(("http:", "https:", "//")) for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_a_body_that_is_not_json_gets_one_plain_400(client: TestClient) -> None:
    response = client.post("/recommend", content=b"user_id=u1&k=3",
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("the request body is not valid JSON: ") and "0:" not in detail
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/healthz", "/recommend", "/search", "/hot", "/items/{item_id}"} <= set(paths)


def test_concurrent_requests_all_succeed(client: TestClient, user_id: str,
                                         twotower_service) -> None:  # noqa: ANN001
    users = twotower_service.user_ids[:20]
    titles = twotower_service.catalogue.items["title"].tolist()[:20]

    def call(i: int) -> int:
        if i % 2:
            response = client.post("/search", json={"query": titles[i % 20], "k": 5,
                                                    "diversity_weight": 0.3})
        else:
            response = client.post("/recommend", json={"user_id": users[i % 20], "k": 5,
                                                       "method": "dpp", "diversity_weight": 0.4})
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(call, range(64)))
    assert codes == [200] * 64


def test_lists_are_worked_out_one_at_a_time(client: TestClient, twotower_service,  # noqa: ANN001
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent /recommend calls, plain and what-if, take turns on the Recommender's lock:
    no two shoppers' lists are ever worked out at once (parallelism is worker processes)."""
    inside, most, count = [0], [0], threading.Lock()
    shopper = twotower_service.shopper

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        with count:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            return shopper(*args, **kwargs)
        finally:
            with count:
                inside[0] -= 1

    monkeypatch.setattr(twotower_service, "shopper", counted)
    users = twotower_service.user_ids[:16]
    items = twotower_service.catalogue.items["item_id"].tolist()[:16]

    def call(i: int) -> int:
        body = {"user_id": users[i]} if i % 2 else {"history": items[i:i + 3]}
        return client.post("/recommend", json={**body, "k": 5, "method": "mmr",
                                               "diversity_weight": 0.4}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(call, range(16)))
    assert codes == [200] * 16
    assert most[0] == 1
