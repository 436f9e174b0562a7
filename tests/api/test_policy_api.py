"""Policies end to end on the tiny shop: HTTP routes and tokens, live publishing without a
restart, attribution in /recommend, the CLI, and the preview report."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.cli.main import main
from engine.policy.preview import load_inputs, preview
from engine.policy.schema import parse_policy

pytest_plugins = ["serving_runs"]


def pin_policy(item_id: str, name: str = "pins", slot: int = 2) -> dict:
    return {"name": name, "stages": [
        {"kind": "cap", "column": "brand", "max_items": 2},
        {"kind": "diversify", "method": "mmr", "weight": 0.3},
        {"kind": "pin", "item_id": item_id, "slot": slot}]}


@pytest.fixture
def client(tiny_shop, twotower_service, prism_home) -> TestClient:  # noqa: ANN001
    return TestClient(create_app(tiny_shop.twotower_run, recommender=twotower_service))


def test_writes_need_the_admin_token(client, monkeypatch, twotower_service):  # noqa: ANN001
    body = pin_policy(twotower_service.catalogue.columns.ids[5])
    assert client.post("/policies", json=body).status_code == 403  # writes off
    monkeypatch.setenv("PRISM_ADMIN_TOKEN", "s3cret")
    assert client.post("/policies", json=body).status_code == 401
    wrong = client.post("/policies", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    auth = {"Authorization": "Bearer s3cret"}
    assert client.post("/policies", json=body, headers=auth).json() == {"name": "pins",
                                                                        "version": 1}
    bad = client.post("/policies", json={"name": "x", "stages": [{"kind": "nope"}]},
                      headers=auth)
    assert bad.status_code == 422 and "stages.0" in bad.json()["detail"]
    stale = client.post("/policies?base_version=0", json=body, headers=auth)
    assert stale.status_code == 409 and "moved on" in stale.json()["detail"]


def test_published_policy_is_served_without_restart(client, monkeypatch,  # noqa: ANN001
                                                    twotower_service):
    monkeypatch.setenv("PRISM_ADMIN_TOKEN", "s3cret")
    auth = {"Authorization": "Bearer s3cret"}
    ids = twotower_service.catalogue.columns.ids
    user = twotower_service.user_ids[0]
    plain = client.post("/recommend", json={"user_id": user, "k": 5}).json()
    assert plain["policy"] is None
    pinned = next(i for i in ids[::-1] if i not in {r["item_id"] for r in plain["items"]})
    client.post("/policies", json=pin_policy(str(pinned)), headers=auth)
    assert client.post("/policies/pins/publish", headers=auth).json()["live_version"] == 1
    served = client.post("/recommend", json={"user_id": user, "k": 5}).json()
    assert served["policy"] == "pins@1"
    assert served["items"][1]["item_id"] == pinned
    assert served["items"][1]["attribution"] == ["pinned at 2"]
    assert set(served) == set(plain)  # one answer shape, with a policy or without
    assert {key for row in served["items"] for key in row} == set(plain["items"][0])
    assert client.get("/policies").json()[0]["live"] == 1
    assert client.get("/policies/pins").json()["live_version"] == 1
    missing = client.post("/recommend", json={"user_id": user, "policy": "nope"})
    assert missing.status_code == 404 and "unknown policy 'nope'" in missing.json()["detail"]
    assert client.get("/policies/nope").status_code == 404
    assert client.post("/recommend", json={"user_id": user, "policy": "none"}).json()[
        "policy"] is None


def test_cli_create_publish_show_export(tmp_path, capsys, tiny_shop,  # noqa: ANN001
                                        twotower_service):  # noqa: ANN001
    path = tmp_path / "p.json"
    path.write_text(json.dumps(pin_policy(twotower_service.catalogue.columns.ids[3])))
    assert main(["policy", "create", "--file", str(path)]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "pins", "stages": [
        {"kind": "cap", "column": "colour", "max_items": 1}]}))
    assert main(["policy", "create", "--file", str(bad)]) == 0
    assert main(["policy", "publish", "pins@2", "--run", str(tiny_shop.twotower_run)]) == 2
    assert "'colour' is not an item column" in capsys.readouterr().err
    assert main(["policy", "publish", "pins@1"]) == 0  # no run in this home: not checked
    assert "was not checked; pass --run RUN" in capsys.readouterr().err
    assert main(["policy", "publish", "pins@1", "--run", str(tiny_shop.twotower_run)]) == 0
    assert main(["policy", "list"]) == 0
    assert "pins" in capsys.readouterr().out
    out = tmp_path / "out.json"
    assert main(["policy", "export", "pins@1", "--out", str(out)]) == 0
    assert parse_policy(out.read_text()).name == "pins"
    assert main(["policy", "create", "--file", str(path), "--base", "0"]) == 2
    assert "moved on" in capsys.readouterr().err
    assert main(["policy", "show", "ghost"]) == 2


def test_preview_report_has_intervals_and_pins_hold(tiny_shop, twotower_service):  # noqa: ANN001
    inputs = load_inputs(tiny_shop.twotower_run, tiny_shop.data_dir)
    item = str(twotower_service.catalogue.columns.ids[7])
    policy = parse_policy(pin_policy(item, slot=1))
    report = preview(inputs, policy, None, k=5, n_resamples=200)
    names = {row["metric"] for row in report["metrics"]}
    assert {"ndcg@5", "recall@5", "precision@5", "hit@5", "category_coverage@5",
            "category_entropy@5", "ild@5", "catalog_coverage@5", "gini@5",
            "tail_share@5"} <= names
    for row in report["metrics"] + report["exposure"]["brand"] + report["rules"]:
        assert row["ci_low"] <= row["ci_high"]
    assert report["n_users"] == len(inputs.users) and report["lists_changed"]["n"] > 0
    assert report["rules"][0]["rule"] == f"pin {item} at 1"
    from engine.policy.compile import compile_policy
    from engine.policy.preview import replay

    lists = replay(inputs, [compile_policy(policy, inputs.catalogue)], 5)[0]
    bought = inputs.seen[:, 7].toarray().ravel() > 0
    assert (lists.items[~bought, 0] == 7).all() and not (lists.items[bought] == 7).any()


def test_cli_preview_writes_the_report(tiny_shop, tmp_path, capsys,  # noqa: ANN001
                                       twotower_service):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(pin_policy(twotower_service.catalogue.columns.ids[3])))
    out = tmp_path / "impact.json"
    assert main(["policy", "preview", "--run", str(tiny_shop.twotower_run), "--policy",
                 str(path), "--against", "none", "--users", "30", "--k", "5", "--data",
                 str(tiny_shop.data_dir), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["n_users"] == 30 and report["against"] == "none"
    assert all("ci_low" in row for row in report["metrics"])
    assert "ndcg@5" in capsys.readouterr().out
    assert main(["policy", "preview", "--run", str(tiny_shop.twotower_run), "--policy",
                 str(path), "--against", "live", "--json", str(out)]) == 2
    assert "no live version" in capsys.readouterr().err


def test_unknown_shopper_and_what_if_history_under_a_policy(twotower_service):  # noqa: ANN001
    from engine.policy.serving import PolicyServer
    from engine.policy.store import PolicyStore

    server = PolicyServer(twotower_service, PolicyStore())
    assert server.resolve(None) is None and not PolicyStore().path.exists()
    ids = [str(i) for i in twotower_service.catalogue.columns.ids[:3]]
    policy = parse_policy(pin_policy(ids[2], slot=1))
    trending = server.recommend(policy, user_id="nobody", k=4)
    assert "unknown shopper 'nobody'" in trending.notice
    assert trending.records()[0]["item_id"] == ids[2]
    # the trending items say why they are there as a plain request's do; the pin does not
    assert all("popular lately" in row["explanation"] for row in trending.records()[1:])
    session = server.recommend(policy, history=ids[:2], k=4)
    assert [row["attribution"] for row in session.records()][0] == ["pinned at 1"]
    assert not {row["item_id"] for row in session.records()} & set(ids[:2])


def test_a_chinese_named_policy_saves_publishes_and_serves(client, monkeypatch, capsys,  # noqa: ANN001
                                                           tiny_shop, twotower_service):
    """Policy names are letters of any script: the API, the store, serving and the CLI take
    "春季促销" as they take "spring-sale"; punctuation other than - _ . stays refused."""
    monkeypatch.setenv("PRISM_ADMIN_TOKEN", "s3cret")
    auth = {"Authorization": "Bearer s3cret"}
    user = twotower_service.user_ids[0]
    pinned = str(twotower_service.catalogue.columns.ids[-1])
    saved = client.post("/policies", json=pin_policy(pinned, name="春季促销"), headers=auth)
    assert saved.json() == {"name": "春季促销", "version": 1}
    published = client.post("/policies/春季促销/publish", headers=auth)
    assert published.json()["live_version"] == 1
    served = client.post("/recommend", json={"user_id": user, "k": 5}).json()
    assert served["policy"] == "春季促销@1" and served["items"][1]["item_id"] == pinned
    asked = client.post("/recommend", json={"user_id": user, "k": 5, "policy": "春季促销@1"})
    assert asked.json()["items"][1]["attribution"] == ["pinned at 2"]
    assert client.get("/policies/春季促销").json()["live_version"] == 1
    refused = client.post("/policies", json=pin_policy(pinned, name="春季 促销!"), headers=auth)
    assert refused.status_code == 422 and "letters (of any script)" in refused.json()["detail"]
    assert main(["policy", "publish", "春季促销@1", "--run", str(tiny_shop.twotower_run)]) == 0
    assert "春季促销@1 is live" in capsys.readouterr().out
    assert main(["policy", "show", "春季促销"]) == 0
    assert '"春季促销"' in capsys.readouterr().out
