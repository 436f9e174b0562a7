"""The API's serve-time re-rank weight is `diversity_weight`; the old `alpha` is still read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytest_plugins = ["serving_runs"]


@pytest.fixture(scope="module")
def client(tiny_shop, twotower_service, tmp_path_factory) -> TestClient:  # noqa: ANN001
    from serving_runs import app_with_own_home

    return TestClient(app_with_own_home(tiny_shop.twotower_run, twotower_service,
                                        tmp_path_factory.mktemp("home")))


def _ids(response) -> list[str]:  # noqa: ANN001
    assert response.status_code == 200, response.text
    return [item["item_id"] for item in response.json()["items"]]


def test_alpha_in_a_body_means_diversity_weight(client: TestClient, twotower_service) -> None:  # noqa: ANN001
    body = {"user_id": twotower_service.user_ids[0], "k": 4, "method": "mmr"}
    new = client.post("/recommend", json={**body, "diversity_weight": 0.7})
    old = client.post("/recommend", json={**body, "alpha": 0.7})
    assert _ids(old) == _ids(new)
    assert old.json()["diversity_weight"] == pytest.approx(0.7, abs=1e-12)


def test_alpha_in_a_query_string_means_diversity_weight(client: TestClient) -> None:
    new = client.get("/hot", params={"k": 5, "diversity_weight": 0.6})
    old = client.get("/hot", params={"k": 5, "alpha": 0.6})
    assert _ids(old) == _ids(new)
    assert old.json()["diversity_weight"] == pytest.approx(0.6, abs=1e-12)


def test_with_both_names_diversity_weight_wins(client: TestClient) -> None:
    both = client.get("/hot", params={"k": 5, "alpha": 0.9, "diversity_weight": 0.0})
    assert _ids(both) == _ids(client.get("/hot", params={"k": 5}))
    assert both.json()["diversity_weight"] == 0.0
    body = client.post("/recommend", json={"k": 3, "alpha": 0.9, "diversity_weight": 0.2})
    assert body.json()["diversity_weight"] == pytest.approx(0.2, abs=1e-12)


def test_the_alias_keeps_the_range_check(client: TestClient) -> None:
    response = client.post("/recommend", json={"alpha": 2})
    assert response.status_code == 422
    assert "diversity_weight" in response.text
    assert client.get("/hot", params={"alpha": 2}).status_code == 422
