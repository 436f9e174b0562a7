"""One input, one answer, whatever the door: a constant score row, a text weight and quotas no
list can meet get the same result through `Recommender`, the HTTP API, the CLI and a policy
(each of them calls the one scaler in engine/rerank/scaling.py and the one set of checks in
engine/core/checks.py and engine/rerank/quotas.py)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from fastapi.testclient import TestClient

from engine.cli.main import main
from engine.core.errors import ConfigError, RequestError
from engine.policy.schema import parse_policy
from engine.policy.serving import PolicyServer
from engine.policy.store import PolicyStore
from engine.rerank import rerank
from engine.serving.recommender import Recommender

pytest_plugins = ["serving_runs"]

K = 5
WEIGHT_MESSAGE = "diversity_weight must be a number in [0, 1], got '0.5'"


@pytest.fixture(scope="module")
def client(tiny_shop, ease_service, tmp_path_factory) -> TestClient:  # noqa: ANN001
    from serving_runs import app_with_own_home

    return TestClient(app_with_own_home(tiny_shop.ease_run, ease_service,
                                        tmp_path_factory.mktemp("home")))


@pytest.fixture
def policies(ease_service, tmp_path) -> PolicyServer:  # noqa: ANN001
    return PolicyServer(ease_service, PolicyStore(tmp_path / "policies.db"))


@pytest.fixture
def flat_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every item scores the same for every shopper (a model with nothing to say)."""
    def flat(self, catalogue, user_id, history, alpha=None, focus=None):  # noqa: ANN001, ANN202
        return np.empty(0, dtype=np.int64), np.full(catalogue.n_items, 0.7)

    monkeypatch.setattr(Recommender, "_shopper_scores", flat)


def _ids_and_relevance(rows: list[dict]) -> tuple[list[str], list[float]]:
    return [row["item_id"] for row in rows], [row["relevance"] for row in rows]


def test_a_constant_row_ranks_alike_everywhere(flat_scores, ease_service, client, policies,
                                               tiny_shop, capsys) -> None:  # noqa: ANN001
    user = ease_service.user_ids[0]
    plain = _ids_and_relevance(ease_service.recommend(user, k=K, method="mmr").records())
    assert len(plain[0]) == K
    np.testing.assert_allclose(plain[1], np.ones(K), atol=1e-9)  # as good as the best
    api = client.post("/recommend", json={"user_id": user, "k": K, "method": "mmr",
                                          "policy": "none"})
    assert api.status_code == 200, api.text
    assert _ids_and_relevance(api.json()["items"]) == plain
    assert main(["recommend", "--run", str(tiny_shop.ease_run), "--user", user, "--k", str(K),
                 "--method", "mmr", "--json"]) == 0
    assert _ids_and_relevance(json.loads(capsys.readouterr().out)) == plain
    # a floor at relevance 0.5 keeps every tied item: a constant row is not "all worst"
    policy = parse_policy({"name": "flat", "stages": [
        {"kind": "floor", "min_relevance": 0.5},
        {"kind": "diversify", "method": "mmr", "weight": 0.0}]})
    assert _ids_and_relevance(policies.recommend(policy, user_id=user, k=K).items) == plain


def test_a_text_weight_is_refused_everywhere(ease_service, client, tiny_shop, capsys) -> None:  # noqa: ANN001
    user, expected = ease_service.user_ids[0], re.escape(WEIGHT_MESSAGE)
    with pytest.raises(RequestError, match=expected):
        ease_service.recommend(user, k=K, diversity_weight="0.5")
    with pytest.raises(RequestError, match=expected):
        rerank("mmr", np.arange(6.0), 3, "0.5", item_vectors=np.eye(6))
    response = client.post("/recommend", json={"user_id": user, "diversity_weight": "0.5"})
    assert response.status_code == 422 and WEIGHT_MESSAGE in response.json()["detail"]
    with pytest.raises(ConfigError, match=expected):
        parse_policy({"name": "p", "stages": [
            {"kind": "diversify", "method": "mmr", "weight": "0.5"}]})
    # the CLI reads every value as text: one that is not a number is refused, exit 2
    assert main(["recommend", "--run", str(tiny_shop.ease_run), "--user", user,
                 "--diversity-weight", "half"]) == 2
    assert "--diversity-weight" in capsys.readouterr().err


def test_impossible_quotas_are_refused_everywhere(ease_service, client, policies, tiny_shop,
                                                  capsys, tmp_path) -> None:  # noqa: ANN001
    catalogue = ease_service.catalogue
    largest = np.argsort(-(catalogue.item_categories > 0).sum(axis=0), kind="stable")[:2]
    user, (first, second) = ease_service.user_ids[0], [catalogue.category_names[c]
                                                        for c in largest]
    above = f"quotas[{first!r}]: floor 3 is above cap 1"
    with pytest.raises(RequestError, match=re.escape(above)):
        ease_service.recommend(user, k=K, method="quota", quotas={first: [3, 1]})
    response = client.post("/recommend", json={"user_id": user, "k": K, "method": "quota",
                                               "quotas": {first: [3, 1]}, "policy": "none"})
    assert response.status_code == 400 and above in response.json()["detail"]
    with pytest.raises(ConfigError, match=re.escape(above)):
        parse_policy({"name": "q", "stages": [
            {"kind": "diversify", "method": "quota", "weight": 0.5, "quotas": {first: [3, 1]}}]})
    assert main(["sweep", "--run", str(tiny_shop.ease_run), "--data", str(tiny_shop.data_dir),
                 "--methods", "quota", "--weights", "0.5", "--quotas", f"{first}:3-1",
                 "--json", str(tmp_path / "sweep.json")]) == 2
    assert above in capsys.readouterr().err
    # floors no list of k can hold: the plain request, the API and a policy say the same
    too_many = {first: [3, None], second: [3, None]}
    over = f"quotas: floors add up to 6, more than the list length k={K}"
    with pytest.raises(RequestError, match=re.escape(over)):
        ease_service.recommend(user, k=K, method="quota", quotas=too_many)
    response = client.post("/recommend", json={"user_id": user, "k": K, "method": "quota",
                                               "quotas": too_many, "policy": "none"})
    assert response.status_code == 400 and over in response.json()["detail"]
    policy = parse_policy({"name": "q", "stages": [
        {"kind": "diversify", "method": "quota", "weight": 0.5, "quotas": too_many}]})
    with pytest.raises(RequestError, match=re.escape(over)):
        policies.recommend(policy, user_id=user, k=K)
