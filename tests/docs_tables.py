"""The import tables of docs/importing.md: each row's command and its printed counts."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| (?P<what>[^|]+) \| `(?P<command>prism data import [^`]+)` \| "
                 r"(?P<items>[^|]+) \| (?P<events>[^|]+) \|$")


def import_rows(section: str, expected: int) -> list[dict[str, str]]:
    """The rows of the table under heading `section` (there must be `expected` of them)."""
    text = (REPO / "docs" / "importing.md").read_text(encoding="utf-8")
    block = text[text.index(section):].split("\n## ", 1)[0]
    rows = [m.groupdict() for m in map(ROW.match, block.splitlines()) if m]
    assert len(rows) == expected
    return rows
