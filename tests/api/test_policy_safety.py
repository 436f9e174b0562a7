"""A bad policy never reaches shoppers: publishing checks it against the served run and tries
it on a sample of shoppers; a live policy that fails anyway falls back to the plain ranking
for that request (a field, a header and a /metrics counter say so); scopes keep a
policy to its run or data set."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.policy.checks import require_servable, sample_shoppers, servable_problems
from engine.policy.schema import parse_policy
from engine.policy.store import PolicyStore

pytest_plugins = ["serving_runs"]
AUTH = {"Authorization": "Bearer s3cret"}
BAD_CAP = {"name": "bad", "stages": [{"kind": "cap", "column": "colour", "max_items": 1}]}


@pytest.fixture
def client(tiny_shop, twotower_service, prism_home, monkeypatch) -> TestClient:  # noqa: ANN001
    monkeypatch.setenv("PRISM_ADMIN_TOKEN", "s3cret")
    return TestClient(create_app(tiny_shop.twotower_run, recommender=twotower_service),
                      raise_server_exceptions=False)


def test_publish_refuses_a_policy_naming_a_column_the_run_lacks(client: TestClient) -> None:
    assert client.post("/policies", json=BAD_CAP, headers=AUTH).status_code == 201
    refused = client.post("/policies/bad/publish", headers=AUTH)
    assert refused.status_code == 422
    assert "'colour' is not an item column" in refused.json()["detail"]
    assert PolicyStore().live_versions() == {}


def test_publish_refuses_brands_and_items_the_run_does_not_carry(client: TestClient) -> None:
    body = {"name": "elsewhere", "stages": [
        {"kind": "boost", "match": {"brands": ["NoSuchBrand"]}, "strength": 0.2},
        {"kind": "pin", "item_id": "no-such-item", "slot": 1}]}
    client.post("/policies", json=body, headers=AUTH)
    detail = client.post("/policies/elsewhere/publish", headers=AUTH).json()["detail"]
    assert "matches no item" in detail and "'no-such-item' is not in this catalogue" in detail


def test_publish_tries_the_policy_on_sampled_shoppers(twotower_service, prism_home,  # noqa: ANN001
                                                      monkeypatch) -> None:
    import engine.policy.serving as serving

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("boom")

    monkeypatch.setattr(serving, "shopper_lists", broken)
    store = PolicyStore()
    store.save(parse_policy({"name": "fine", "stages": [
        {"kind": "diversify", "method": "mmr", "weight": 0.3}]}))
    with pytest.raises(Exception, match=r"failed for 21 of 21 sampled shoppers \(RuntimeError"):
        store.publish("fine", check=lambda p: require_servable(p, [twotower_service], store))
    assert store.live_versions() == {}


def test_a_failing_live_policy_falls_back_to_the_plain_ranking(client: TestClient,
                                                               twotower_service) -> None:  # noqa: ANN001
    store = PolicyStore()  # published without a check, as by an older Prism or another run
    store.save(parse_policy(BAD_CAP))
    store.publish("bad")
    user = twotower_service.user_ids[0]
    plain = client.post("/recommend", json={"user_id": user, "k": 5, "policy": "none"}).json()
    for _ in range(2):
        served = client.post("/recommend", json={"user_id": user, "k": 5})
        assert served.status_code == 200
        assert served.headers["X-Prism-Policy-Fallback"] == "bad@1"
        body = served.json()
        assert body["policy_fallback"].startswith("bad@1: policy 'bad' stage 1 (cap): ")
        assert body["items"] == plain["items"] and body["policy"] is None
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert 'prism_policy_fallbacks_total{policy="bad@1"} 2.0' in metrics.text
    assert "X-Prism-Policy-Fallback" not in client.post(
        "/recommend", json={"user_id": user, "k": 5, "policy": "none"}).headers


def test_a_policy_scoped_to_another_run_does_not_serve_here(client: TestClient,
                                                            tiny_shop,  # noqa: ANN001
                                                            twotower_service) -> None:  # noqa: ANN001
    run_name = tiny_shop.twotower_run.name
    store = PolicyStore()
    store.save(parse_policy({"name": "here", "scope": {"run": run_name}, "stages": [
        {"kind": "diversify", "method": "mmr", "weight": 0.2}]}))
    store.publish("here")
    store.save(parse_policy({"name": "other", "scope": {"run": "another-run"}, "stages": [
        {"kind": "diversify", "method": "dpp", "weight": 0.9}]}))
    store.publish("other")  # published last, but for another run
    user = twotower_service.user_ids[0]
    assert client.post("/recommend", json={"user_id": user}).json()["policy"] == "here@1"
    asked = client.post("/recommend", json={"user_id": user, "policy": "other"})
    assert asked.status_code == 400 and "scoped to run 'another-run'" in asked.json()["detail"]
    refused = client.post("/policies/other/publish", headers=AUTH)
    assert refused.status_code == 422 and "scoped to run 'another-run'" in refused.text


def test_a_dataset_scope_covers_every_run_of_that_data_set(client: TestClient,
                                                           twotower_service) -> None:  # noqa: ANN001
    dataset = twotower_service.run.meta["dataset"]
    client.post("/policies", json={"name": "shop-wide", "scope": {"dataset": dataset},
                                   "stages": [{"kind": "cap", "column": "brand",
                                               "max_items": 2}]}, headers=AUTH)
    assert client.post("/policies/shop-wide/publish", headers=AUTH).status_code == 200
    user = twotower_service.user_ids[0]
    assert client.post("/recommend", json={"user_id": user}).json()["policy"] == "shop-wide@1"


def test_the_shopper_sample_is_spread_and_includes_an_unknown_shopper() -> None:
    ids = [f"u{i}" for i in range(100)]
    sample = sample_shoppers(ids, 5)
    assert sample == ["u0", "u24", "u49", "u74", "u99", None]
    assert sample_shoppers([], 5) == [None]


def test_a_refusal_names_each_stage_as_its_notices_do(twotower_service, prism_home) -> None:  # noqa: ANN001
    """The publish check labels a stage as the notices and attribution do ('pin <item> at 8',
    in the studio's language), not by its position alone ('#1 pin')."""
    item = str(twotower_service.catalogue.columns.ids[0])
    policy = parse_policy({"name": "far", "n_candidates": 5, "stages": [
        {"kind": "pin", "item_id": item, "slot": 8}]})
    problems = [str(p) for p in servable_problems(policy, twotower_service, PolicyStore())]
    assert f"pin {item} at 8: slot 8 is beyond the 5 candidates a list is chosen from" in problems
