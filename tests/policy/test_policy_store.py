"""Policy schema messages, the store (versions, publish, rollback, conflicts) on the embedded
SQLite default and on a real PostgreSQL server (started here on 127.0.0.1, stopped after), and
the migration of a version-1 scenarios database."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from postgres_support import fresh_database, postgres_server  # noqa: F401 (fixture)

from engine.core.errors import ConfigError
from engine.policy.schema import parse_policy, split_reference
from engine.policy.store import PolicyConflict, PolicyNotFound, PolicyStore, PolicyStoreError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"
@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PolicyStore]:
    """An empty store: a SQLite file, or a fresh database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield PolicyStore(tmp_path / "store.sqlite")
        return
    opened = PolicyStore(url=fresh_database(request.getfixturevalue("postgres_server"),
                                            "policies"))
    yield opened
    opened.shared.close()


def policy(name: str = "spring", strength: float = 0.1):
    return parse_policy({"name": name, "stages": [
        {"kind": "boost", "match": {"brands": ["Acme"]}, "strength": strength}]})


@pytest.mark.parametrize("body, message", [
    ({"name": "x", "stages": [{"kind": "boost", "match": {"brands": ["a"]}, "strenght": 1}]},
     r"stages\.0\.strenght: Extra inputs are not permitted"),
    ({"name": "x", "stages": [{"kind": "teleport"}]}, r"does not match any of the expected"),
    ({"name": "x", "stages": [{"kind": "floor"}]}, r"exactly one of quantile or min_relevance"),
    ({"name": "x", "stages": [{"kind": "promote", "match": {}, "share": 0.2}]},
     r"match needs at least one condition"),
    ({"name": "bad name!", "stages": []}, r"name: use 1-64 letters \(of any script\)"),
    ({"name": "x", "stages": [{"kind": "diversify", "method": "mmr", "weight": 0.1},
                              {"kind": "diversify", "method": "dpp", "weight": 0.1}]},
     r"at most one diversify"),
])
def test_invalid_policies_say_what_and_where(body, message):
    with pytest.raises(ConfigError, match=message):
        parse_policy(body, "file.json")


def test_every_example_parses_and_one_uses_every_stage_kind():
    kinds = set()
    for path in sorted(EXAMPLES.glob("*.json")):
        kinds |= {stage.kind for stage in parse_policy(path.read_text(), str(path)).stages}
    assert kinds == {"filter", "boost", "bury", "promote", "cap", "floor", "diversify", "pin"}


def test_references():
    assert split_reference("spring@3") == ("spring", 3)
    assert split_reference("spring") == ("spring", None)
    with pytest.raises(ConfigError, match="name or name@version"):
        split_reference("@3")


def test_versions_are_immutable_and_publish_rollback_walk_back(store: PolicyStore):
    for strength in (0.1, 0.2, 0.3):
        store.save(policy(strength=strength))
    assert [v["version"] for v in store.versions("spring")] == [1, 2, 3]
    assert store.get("spring", 1).stages[0].strength == 0.1
    counter = store.publish_counter()
    for version in (1, 2, 3):
        store.publish("spring", version)
    assert store.publish_counter() == counter + 3
    assert store.live_versions() == {"spring": 3}
    assert store.rollback("spring") == 2
    assert store.rollback("spring") == 1
    with pytest.raises(PolicyStoreError, match="no version older than 1"):
        store.rollback("spring")
    assert store.resolve("spring").version == 1  # the live one
    assert store.resolve("spring@3").version == 3


def test_a_stale_save_is_refused_not_overwritten(store: PolicyStore):
    store.save(policy(), base_version=0)
    first, second = store.get("spring"), store.get("spring")  # two editors open version 1
    store.save(policy(strength=0.5), base_version=first.version)
    with pytest.raises(PolicyConflict, match="moved on: you edited version 1 but the latest "
                                             "is version 2"):
        store.save(policy(strength=0.9), base_version=second.version)
    assert store.get("spring").stages[0].strength == 0.5


def test_unknown_names_and_versions(store: PolicyStore):
    with pytest.raises(PolicyNotFound, match="no policy is stored yet"):
        store.get("nope")
    store.save(policy())
    with pytest.raises(PolicyNotFound, match="known policies: spring"):
        store.get("nope")
    with pytest.raises(PolicyNotFound, match="has no version 7"):
        store.get("spring", 7)


def test_concurrent_saves_and_publishes_keep_one_history(store: PolicyStore):
    """Eight writers at once (as several API workers would be): every save gets its own
    version, every publish counts, and the log holds each one once."""
    store.save(policy())

    def write(n: int) -> None:
        saved = store.save(policy(strength=(n + 1) / 100))
        store.publish("spring", saved.version)

    counter = store.publish_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(24)))
    assert [v["version"] for v in store.versions("spring")] == list(range(1, 26))
    assert store.publish_counter() == counter + 24
    assert sorted(row["version"] for row in store.log("spring")) == list(range(2, 26))
    assert store.live_versions()["spring"] in range(2, 26)


def test_an_unreachable_server_says_where_without_the_password():
    store = PolicyStore(url="postgresql+psycopg://shop:s3cret@127.0.0.1:1/none")
    with pytest.raises(PolicyStoreError, match=r"policy store postgresql\+psycopg://shop:\*\*\*@"
                                               r"127.0.0.1:1/none failed") as caught:
        store.get("spring")
    assert "s3cret" not in str(caught.value)
    assert store.publish_counter() == -2


def test_wal_mode(tmp_path: Path):
    store = PolicyStore(tmp_path / "store.sqlite")
    store.save(policy())
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_version_one_scenarios_survive_and_become_policies(tmp_path: Path):
    path = tmp_path / "scenarios.sqlite"
    with sqlite3.connect(path) as conn:  # the version-1 layout, as saved by older studios
        conn.execute("CREATE TABLE scenarios (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT "
                     "NOT NULL, note TEXT NOT NULL DEFAULT '', created REAL NOT NULL, run TEXT "
                     "NOT NULL, settings TEXT NOT NULL, metrics TEXT NOT NULL)")
        settings = {"user": "u1", "method": "quota", "alpha": 0.4, "k": 10,
                    "targets": {"Tools": {"floor": 1, "cap": 3, "share": None}}}
        conn.execute("INSERT INTO scenarios (name, created, run, settings, metrics) VALUES "
                     "('spring', 1.0, 'tiny', ?, '{}')", (json.dumps(settings),))
        conn.execute("PRAGMA user_version = 1")
    store = PolicyStore(path)
    migrated = store.get("scenario-1")
    assert migrated.stages[0].method == "quota" and migrated.stages[0].quotas == {
        "Tools": (1, 3)}
    assert store.names() == []  # the scenario's own policy, not one a merchandiser saved
    assert [row["name"] for row in store.names(scenarios=True)] == ["scenario-1"]
    from engine.policy.scenarios import ScenarioStore

    kept = ScenarioStore(path).list()
    assert [(s.name, s.settings["alpha"]) for s in kept] == [("spring", 0.4)]
