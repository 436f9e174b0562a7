"""`prism policy log`: the audit log as a table and as JSON; CLI writes are recorded as the
local user, a publisher, from the CLI."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest

from engine.access import Actor, Gate
from engine.cli.main import main


def test_policy_log_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    policy = tmp_path / "spring.json"
    policy.write_text(json.dumps({"name": "spring", "stages": []}))
    for _ in range(2):
        assert main(["policy", "create", "--file", str(policy)]) == 0
    assert main(["policy", "publish", "spring@1"]) == 0
    Gate().publish(Actor("ana@shop.test", "publisher", "studio"), "spring", 2)
    assert main(["policy", "rollback", "spring"]) == 0
    capsys.readouterr()
    assert main(["policy", "log", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["action"], r["version"], r["actor"], r["role"], r["source"]) for r in rows] == [
        ("rollback", 1, getpass.getuser(), "publisher", "cli"),
        ("publish", 2, "ana@shop.test", "publisher", "studio"),
        ("publish", 1, getpass.getuser(), "publisher", "cli")]
    assert all(r["at"].endswith("+00:00") and r["policy"] == "spring" for r in rows)
    assert main(["policy", "log", "spring", "--limit", "1"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["when", "(UTC)", "policy"] and len(table) == 2
    assert table[1].split()[1:] == ["spring", "1", "rollback", getpass.getuser(), "publisher",
                                    "cli"]


def test_an_empty_log_says_so(capsys: pytest.CaptureFixture[str]):
    assert main(["policy", "log"]) == 0
    assert "the audit log is empty" in capsys.readouterr().out
    assert main(["policy", "log", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
