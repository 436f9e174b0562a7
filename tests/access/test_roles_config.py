"""roles.toml: e-mail and group claims → roles, API tokens stored as SHA-256, clear errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from engine.access.config import actor_for_token, load_roles, role_for_claims, tokens_configured
from engine.core.errors import ConfigError

ROLES = """
group_claim = "groups"
[users]
"Ana@Shop.test" = "publisher"
"vic@shop.test" = "viewer"
[groups]
"merch" = "editor"
[[tokens]]
name = "reporting"
role = "viewer"
sha256 = "{digest}"
"""


@pytest.fixture
def roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "roles.toml"
    path.write_text(ROLES.format(digest=hashlib.sha256(b"read-only").hexdigest()))
    monkeypatch.setenv("PRISM_ROLES", str(path))
    monkeypatch.delenv("PRISM_ADMIN_TOKEN", raising=False)
    return path


def test_claims_give_the_highest_matching_role(roles: Path):
    assert role_for_claims({"email": "ana@shop.test"}) == "publisher"
    assert role_for_claims({"email": "VIC@shop.test"}) == "viewer"
    assert role_for_claims({"email": "vic@shop.test", "groups": ["merch"]}) == "editor"
    assert role_for_claims({"email": "nobody@shop.test", "groups": "merch"}) == "editor"
    assert role_for_claims({"email": "nobody@shop.test"}) is None
    assert role_for_claims({"email": "ana@shop.test", "email_verified": False}) is None


def test_tokens_map_to_roles_and_the_admin_token_is_a_publisher(roles: Path, monkeypatch):
    assert tokens_configured()
    reporting = actor_for_token("read-only")
    assert reporting is not None and (reporting.name, reporting.role, reporting.source) == (
        "reporting", "viewer", "api")
    assert actor_for_token("guess") is None
    monkeypatch.setenv("PRISM_ADMIN_TOKEN", "s3cret")
    assert actor_for_token("s3cret").role == "publisher"
    monkeypatch.setenv("PRISM_ADMIN_ROLE", "editor")
    assert actor_for_token("s3cret").role == "editor"


def test_without_a_file_nobody_has_a_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PRISM_ROLES", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("PRISM_ADMIN_TOKEN", raising=False)
    assert role_for_claims({"email": "ana@shop.test"}) is None
    assert not tokens_configured() and actor_for_token("") is None


@pytest.mark.parametrize("text, message", [
    ('[users]\n"a@b" = "admin"', r"\[users\] 'a@b': role 'admin' is not one of viewer"),
    ('[[tokens]]\nname = "x"\nrole = "viewer"\nsha256 = "plain-token"',
     r"sha256 must be the 64-hex-digit SHA-256 of the token"),
    ("users = [", "not valid TOML"),
    ('default_role = "boss"', "role 'boss' is not one of"),
])
def test_a_bad_roles_file_says_what_and_where(tmp_path: Path, text: str, message: str):
    path = tmp_path / "roles.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_roles(path)
