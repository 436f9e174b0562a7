"""Every command of docs/importing.md's order-lines/encodings table imports with the counts
it states (rows read = kept + dropped per reason, for items and events)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from engine.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SECTION = "## Order lines, encodings and numbers"
ROW = re.compile(r"^\| (?P<what>[^|]+) \| `(?P<command>prism data import [^`]+)` \| "
                 r"(?P<items>[^|]+) \| (?P<events>[^|]+) \|$")


def _rows() -> list[dict[str, str]]:
    text = (REPO / "docs" / "importing.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION):].split("\n## ", 1)[0]
    rows = [m.groupdict() for m in map(ROW.match, section.splitlines()) if m]
    assert len(rows) == 2
    return rows


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["what"].strip())
def test_documented_import_gives_the_documented_counts(row, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(REPO)
    assert main(shlex.split(row["command"])[1:]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines() if " read = " in line]
    for table in ("items", "events"):
        expected = row[table].strip()
        assert any(line.startswith(f"{table} (") and line.endswith(f": {expected}")
                   for line in lines), (expected, lines)
