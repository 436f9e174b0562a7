"""The write gate: roles decide who may save, publish, roll back and set targets; every
publish, rollback and target change lands in the audit log with who, as what, from where."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from engine.access import AccessDenied, Actor, Gate, allows
from engine.exposure.prices import ExposurePrices
from engine.policy.schema import parse_policy
from engine.policy.store import SCHEMA_VERSION, PolicyStore


def prices(**by_group: float) -> ExposurePrices:
    return ExposurePrices(group={"by": "brand"}, prices=by_group, targets={
        "by": "brand", "targets": [{"group": "Acme", "min": 0.1}]})


VIEWER = Actor("vera@shop.test", "viewer", "studio")
EDITOR = Actor("ed@shop.test", "editor", "api")
PUBLISHER = Actor("pia@shop.test", "publisher", "cli")


def boost(name: str = "spring", strength: float = 0.1):
    return parse_policy({"name": name, "stages": [
        {"kind": "boost", "match": {"brands": ["Acme"]}, "strength": strength}]})


@pytest.mark.parametrize("role, allowed", [
    ("viewer", {"view", "read_history"}),
    ("editor", {"view", "read_history", "import", "train", "save_draft"}),
    ("publisher", {"view", "read_history", "import", "train", "save_draft", "publish",
                   "rollback", "set_targets", "start_experiment", "stop_experiment",
                   "refresh"}),
])
def test_each_role_allows_its_own_actions_and_those_below(role: str, allowed: set[str]):
    from engine.access import ACTIONS

    assert {action for action in ACTIONS if allows(role, action)} == allowed
    assert not allows(role, "delete_everything")


def test_unknown_roles_and_sources_are_refused():
    with pytest.raises(ValueError, match="unknown role 'admin'"):
        Actor("x", "admin", "api")
    with pytest.raises(ValueError, match="unknown source 'web'"):
        Actor("x", "viewer", "web")


def test_a_viewer_changes_nothing_and_is_told_why(tmp_path: Path):
    gate = Gate(tmp_path / "store.sqlite")
    gate.save_draft(PUBLISHER, boost())
    for write in (lambda: gate.save_draft(VIEWER, boost()),
                  lambda: gate.publish(VIEWER, "spring"),
                  lambda: gate.rollback(VIEWER, "spring")):
        with pytest.raises(AccessDenied, match=r"vera@shop\.test \(viewer\) may not .* needs "
                                               r"the (editor|publisher) role"):
            write()
    assert gate.store.live_versions() == {} and len(gate.store.versions("spring")) == 1
    assert [(e["action"], e["version"], e["actor"], e["role"]) for e in gate.log()] == [
        ("rollback refused", 1, "vera@shop.test", "viewer"),
        ("publish refused", 1, "vera@shop.test", "viewer")]  # a draft save is not logged


def test_an_editor_drafts_but_does_not_publish(tmp_path: Path):
    gate = Gate(tmp_path / "store.sqlite")
    assert gate.save_draft(EDITOR, boost()).version == 1
    with pytest.raises(AccessDenied, match="needs the publisher role"):
        gate.publish(EDITOR, "spring")
    with pytest.raises(AccessDenied, match="put exposure targets live"):
        gate.set_targets(EDITOR, "spring", prices())
    assert gate.store.live_versions() == {}
    assert [e["action"] for e in gate.log()] == ["targets refused", "publish refused"]
    # refusals never count as versions that were live:
    with pytest.raises(Exception, match="never published"):
        gate.rollback(PUBLISHER, "spring")


def test_publishes_rollbacks_and_targets_are_logged_with_who_and_where(tmp_path: Path):
    gate = Gate(tmp_path / "store.sqlite")
    gate.save_draft(EDITOR, boost())
    gate.save_draft(EDITOR, boost(strength=0.3))
    before = time.time()
    assert gate.publish(PUBLISHER, "spring", 1) == 1
    assert gate.publish(Actor("ops", "publisher", "api"), "spring") == 2
    assert gate.rollback(Actor("pia@shop.test", "publisher", "studio"), "spring") == 1
    assert gate.set_targets(PUBLISHER, "spring", prices(Acme=0.05)) == 3
    log = gate.log()
    assert [(e["action"], e["version"], e["actor"], e["role"], e["source"]) for e in log] == [
        ("targets", 3, "pia@shop.test", "publisher", "cli"),
        ("rollback", 1, "pia@shop.test", "publisher", "studio"),
        ("publish", 2, "ops", "publisher", "api"),
        ("publish", 1, "pia@shop.test", "publisher", "cli")]
    assert all(e["policy"] == "spring" and e["at"] >= before for e in log)
    live = gate.store.get("spring", 3)  # the live version 1 plus targets, not draft 2
    assert [s.kind for s in live.stages] == ["boost", "exposure_targets"]
    assert live.stages[0].strength == pytest.approx(0.1, abs=1e-12)
    assert gate.store.live_versions() == {"spring": 3}
    assert gate.log("other") == [] and len(gate.log(limit=2)) == 2


def test_new_targets_replace_the_old_ones(tmp_path: Path):
    gate = Gate(tmp_path / "store.sqlite")
    assert gate.set_targets(PUBLISHER, "fair", prices(Acme=0.05)) == 1  # a new policy
    assert gate.set_targets(PUBLISHER, "fair", prices(Bolt=0.02)) == 2
    stages = gate.store.get("fair", 2).stages
    assert len(stages) == 1 and stages[0].prices.prices == {"Bolt": 0.02}
    assert gate.store.rollback("fair", by=PUBLISHER) == 1  # a target change rolls back too


def test_a_version_two_store_keeps_its_log_and_gains_the_who_columns(tmp_path: Path):
    path = tmp_path / "scenarios.sqlite"
    store = PolicyStore(path)
    store.save(boost())
    store.publish("spring")
    with sqlite3.connect(path) as conn:  # back to the version-2 log layout
        conn.execute("CREATE TABLE old_log AS SELECT id, name, version, action, at "
                     "FROM policy_log")
        conn.execute("DROP TABLE policy_log")
        conn.execute("ALTER TABLE old_log RENAME TO policy_log")
        conn.execute("PRAGMA user_version = 2")
    log = PolicyStore(path).log()
    assert [(e["action"], e["version"], e["actor"]) for e in log] == [("publish", 1, "")]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
