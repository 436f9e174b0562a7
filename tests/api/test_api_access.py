"""Who may do what over HTTP: a shopper's history needs a token (checked before the id, so no
404-vs-200 oracle), tokens carry roles, and API writes land in the audit log."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app

pytest_plugins = ["serving_runs"]
VIEWER_TOKEN, EDITOR_TOKEN = "look-only", "draft-only"


@pytest.fixture
def client(tiny_shop, twotower_service, prism_home) -> TestClient:  # noqa: ANN001
    return TestClient(create_app(tiny_shop.twotower_run, recommender=twotower_service))


@pytest.fixture
def tokens(prism_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, str]]:
    rows = "".join(f'[[tokens]]\nname = "{name}"\nrole = "{name}"\nsha256 = '
                   f'"{hashlib.sha256(token.encode()).hexdigest()}"\n'
                   for name, token in (("viewer", VIEWER_TOKEN), ("editor", EDITOR_TOKEN)))
    (prism_home / "roles.toml").write_text(rows)
    monkeypatch.setenv("PRISM_ADMIN_TOKEN", "s3cret")
    return {role: {"Authorization": f"Bearer {token}"} for role, token in (
        ("viewer", VIEWER_TOKEN), ("editor", EDITOR_TOKEN), ("publisher", "s3cret"))}


def test_history_is_closed_without_a_token_and_tells_no_one_who_is_a_customer(
        client: TestClient, twotower_service, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("PRISM_ADMIN_TOKEN", raising=False)
    known, ghost = twotower_service.user_ids[0], "ghost"
    for user in (known, ghost):  # no token configured on the server: off for everyone
        answer = client.get(f"/users/{user}/history")
        assert answer.status_code == 403 and "off" in answer.json()["detail"]
    monkeypatch.setenv("PRISM_ADMIN_TOKEN", "s3cret")
    for user in (known, ghost):  # same answer whether the id exists or not
        assert client.get(f"/users/{user}/history").status_code == 401
        wrong = client.get(f"/users/{user}/history", headers={"Authorization": "Bearer no"})
        assert wrong.status_code == 403 and wrong.json() == {"detail": "wrong token"}


def test_a_viewer_token_reads_but_cannot_write(client: TestClient, tokens,  # noqa: ANN001
                                               twotower_service) -> None:  # noqa: ANN001
    user = twotower_service.user_ids[0]
    assert client.get(f"/users/{user}/history", headers=tokens["viewer"]).status_code == 200
    body = {"name": "spring", "stages": []}
    refused = client.post("/policies", json=body, headers=tokens["viewer"])
    assert refused.status_code == 403 and "needs the editor role" in refused.json()["detail"]
    malformed = client.post("/policies", json={"stages": 3}, headers=tokens["viewer"])
    assert malformed.status_code == 403  # the role is checked before the body is read
    assert client.post("/policies", json=body, headers=tokens["editor"]).status_code == 201
    refused = client.post("/policies/spring/publish", headers=tokens["editor"])
    assert refused.status_code == 403 and "needs the publisher role" in refused.json()["detail"]
    assert client.get("/policies/spring").json()["live_version"] is None
    log = client.get("/policies/log", headers=tokens["viewer"]).json()
    assert [(e["action"], e["actor"], e["role"], e["source"]) for e in log] == [
        ("publish refused", "editor", "editor", "api")]


def test_api_publishes_are_in_the_audit_log(client: TestClient, tokens) -> None:  # noqa: ANN001
    for _ in range(2):
        client.post("/policies", json={"name": "spring", "stages": []},
                    headers=tokens["editor"])
    assert client.post("/policies/spring/publish", json={"version": 1},
                       headers=tokens["publisher"]).json()["live_version"] == 1
    client.post("/policies/spring/publish", headers=tokens["publisher"])
    assert client.post("/policies/spring/rollback",
                       headers=tokens["publisher"]).json()["live_version"] == 1
    assert client.get("/policies/log").status_code == 401
    log = client.get("/policies/log", headers=tokens["viewer"]).json()
    assert [(e["action"], e["version"], e["actor"], e["role"], e["source"]) for e in log] == [
        ("rollback", 1, "admin token", "publisher", "api"),
        ("publish", 2, "admin token", "publisher", "api"),
        ("publish", 1, "admin token", "publisher", "api")]
    assert len(client.get("/policies/log?limit=1", headers=tokens["viewer"]).json()) == 1
