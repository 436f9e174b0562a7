"""Every command of docs/importing.md's platform-export table imports with the counts it states."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from engine.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SECTION = "## Platform exports"
ROW = re.compile(r"^\| (?P<what>[^|]+) \| `(?P<command>prism data import [^`]+)` \| "
                 r"(?P<items>[^|]+) \| (?P<events>[^|]+) \|$")


def _rows() -> list[dict[str, str]]:
    text = (REPO / "docs" / "importing.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION):].split("\n## ", 1)[0]
    rows = [m.groupdict() for m in map(ROW.match, section.splitlines()) if m]
    assert len(rows) == 7
    return rows


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["what"].strip())
def test_documented_import_gives_the_documented_counts(row, monkeypatch, capsys):  # noqa: ANN001
    monkeypatch.chdir(REPO)
    argv = shlex.split(row["command"])[1:]
    assert main(argv) == 0
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines() if " read = " in line]
    items = row["items"].strip()
    events = row["events"].strip().removesuffix(" (line items)")
    assert any(line.startswith("items (") and line.endswith(f": {items}") for line in lines), \
        (items, lines)
    assert any(line.startswith("events (") and line.endswith(f": {events}") for line in lines), \
        (events, lines)


def test_inspect_uses_the_depth_the_dataset_was_imported_with(monkeypatch, capsys, prism_home):  # noqa: ANN001
    monkeypatch.chdir(REPO)
    assert main(["data", "import", "examples/exports/shopify", "--name", "deep",
                 "--depth", "3"]) == 0
    assert "note: At category depth" not in capsys.readouterr().out
    folder = str(prism_home / "data" / "deep")
    assert main(["data", "inspect", folder]) == 0
    assert "diversity depth 3: 6 categories" in capsys.readouterr().out
    assert main(["data", "inspect", folder, "--depth", "2"]) == 0
    out = capsys.readouterr().out
    assert "diversity depth 2: 4 categories" in out and "--depth 3" in out
