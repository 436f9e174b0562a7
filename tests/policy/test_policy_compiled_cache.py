"""A policy server compiles a stored version once per catalogue snapshot, and never serves one
snapshot's compiled policy against another (a cold-start add or a swap makes a new one)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from policy_support import make_catalogue

from engine.policy.schema import parse_policy
from engine.policy.serving import PolicyFailed, PolicyServer, applying

STAGES = [{"kind": "boost", "match": {"brands": ["b1"]}, "strength": 0.5}]


def server_and_catalogue() -> tuple[PolicyServer, SimpleNamespace]:
    service = SimpleNamespace(catalogue=make_catalogue(["b0", "b1"] * 5, ["c0", "c1"] * 5))
    return PolicyServer(service, store=None), service


def test_a_stored_version_compiles_once_per_snapshot() -> None:
    server, service = server_and_catalogue()
    policy = parse_policy({"name": "p", "version": 1, "stages": STAGES})
    first = server.compiled(policy)
    assert server.compiled(policy) is first
    old = service.catalogue
    service.catalogue = old.with_items(
        pd.DataFrame({"item_id": ["n1"], "title": ["new"], "brand": ["b1"]}),
        old.item_categories[:1], None)
    again = server.compiled(policy)
    assert again is not first and len(again.boost_vector) == service.catalogue.n_items == 11
    assert len(server.compiled(policy, old).boost_vector) == 10  # the snapshot asked for


def test_a_draft_is_compiled_from_what_it_holds_not_from_its_name() -> None:
    server, _ = server_and_catalogue()
    boost = server.compiled(parse_policy({"name": "draft", "stages": STAGES}))
    bury = server.compiled(parse_policy({"name": "draft", "stages": [
        {**STAGES[0], "kind": "bury"}]}))
    assert boost.boost_vector.max() > 0 and bury.boost_vector.max() <= 0


def test_a_policy_the_engine_refuses_fails_with_the_engines_own_message() -> None:
    """The reason a failed policy gives is the engine's coded message (so the studio says it
    in its language), not an error class name and English text."""
    server, _ = server_and_catalogue()
    policy = parse_policy({"name": "bad", "version": 1, "stages": [
        {"kind": "diversify", "method": "mmr", "weight": 0.5, "quotas": {"Nope": [1, 2]}}]})
    with pytest.raises(PolicyFailed) as failed, applying(policy):
        server.compiled(policy)
    assert failed.value.reason.code == "stage_failed"
    assert "Error:" not in failed.value.reason and "unknown category" in failed.value.reason
