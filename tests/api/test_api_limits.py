"""Request limits: oversized bodies, ids and lists, costly re-ranks, huge policy versions and
invalid Unicode are refused with a 4xx that names the limit, never a 500 or an echo."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.core.limits import (
    MAX_BODY_BYTES,
    MAX_DPP_WORK,
    MAX_HISTORY,
    MAX_ID_CHARS,
    MAX_RERANK_WORK,
)

pytest_plugins = ["serving_runs"]


@pytest.fixture(scope="module")
def client(tiny_shop, twotower_service, tmp_path_factory) -> TestClient:  # noqa: ANN001
    from serving_runs import app_with_own_home

    app = app_with_own_home(tiny_shop.twotower_run, twotower_service,
                            tmp_path_factory.mktemp("home"))
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("reference", ["a@99999999999999999999", "a@" + "9" * 5000,
                                       "a@" + "0" * 4999 + "1"])
def test_huge_policy_versions_are_a_4xx(client: TestClient, reference: str) -> None:
    response = client.post("/recommend", json={"policy": reference})
    assert response.status_code in (400, 422), response.text
    assert len(response.text) < 400  # the reference is not echoed whole


def test_a_huge_version_is_refused_with_its_range(client: TestClient) -> None:
    response = client.post("/recommend", json={"policy": "a@99999999999999999999"})
    assert response.status_code == 400
    assert "from 1 to 999,999,999" in response.json()["detail"]


@pytest.mark.parametrize("body", [b'{"history": ["\\ud800"]}', b'{"user_id": "\\udfff"}',
                                  b'{"user_id": "u", "category_boosts": {"\\ud800": 1}}'])
def test_a_lone_surrogate_is_a_422(client: TestClient, body: bytes) -> None:
    response = client.post("/recommend", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert "lone surrogate" in response.json()["detail"]


def test_a_lone_surrogate_in_a_search_is_a_422(client: TestClient) -> None:
    response = client.post("/search", content=b'{"query": "glue \\ud800"}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 422 and "query" in response.json()["detail"]


def test_long_ids_are_refused_not_echoed(client: TestClient) -> None:
    response = client.post("/recommend", json={"user_id": "x" * (MAX_ID_CHARS + 1)})
    assert response.status_code == 422
    assert f"at most {MAX_ID_CHARS} characters" in response.json()["detail"]
    assert len(response.text) < 400
    history = client.post("/recommend", json={"history": ["i1"] * (MAX_HISTORY + 1)})
    assert history.status_code == 422 and f"at most {MAX_HISTORY}" in history.text
    item = client.get("/items/" + "x" * (MAX_ID_CHARS + 1))
    assert item.status_code == 422


def test_a_body_over_the_limit_is_413(client: TestClient) -> None:
    big = b'{"user_id": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = client.post("/recommend", content=big,
                           headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert f"{MAX_BODY_BYTES:,} bytes" in response.json()["detail"]

    def chunks():  # no Content-Length: read up to the limit, then refused
        for _ in range(3):
            yield b" " * (MAX_BODY_BYTES // 2)

    streamed = client.post("/recommend", content=chunks(),
                           headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_a_small_body_still_works_through_the_limit(client: TestClient,
                                                    twotower_service) -> None:  # noqa: ANN001
    user = twotower_service.user_ids[0]
    response = client.post("/recommend", json={"user_id": user, "k": 3})
    assert response.status_code == 200 and len(response.json()["items"]) == 3


def test_costly_reranks_are_refused_with_the_limit(tiny_shop) -> None:  # noqa: ANN001
    from engine.core.errors import RequestError
    from engine.core.limits import check_work

    check_work(1000, 5000, "none")  # no re-rank: no cost limit
    check_work(200, 5000, "mmr")  # exactly at the limit
    check_work(100, 5000, "dpp")  # exactly at the DPP limit
    with pytest.raises(RequestError, match=f"{MAX_RERANK_WORK:,}"):
        check_work(1000, 5000, "mmr")
    with pytest.raises(RequestError, match=f"{MAX_DPP_WORK:,}"):
        check_work(150, 3000, "dpp")
