"""Every command of docs/importing.md's order-lines/encodings table imports with the counts
it states (rows read = kept + dropped per reason, for items and events)."""

from __future__ import annotations

import shlex

import pytest
from docs_tables import REPO, import_rows

from engine.cli.main import main


@pytest.mark.parametrize("row", import_rows("## Order lines, encodings and numbers", 2),
                         ids=lambda r: r["what"].strip())
def test_documented_import_gives_the_documented_counts(row, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRISM_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(REPO)
    assert main(shlex.split(row["command"])[1:]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines() if " read = " in line]
    for table in ("items", "events"):
        expected = row[table].strip()
        assert any(line.startswith(f"{table} (") and line.endswith(f": {expected}")
                   for line in lines), (expected, lines)
