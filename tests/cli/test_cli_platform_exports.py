"""Every command of docs/importing.md's platform-export table imports with the counts it states."""

from __future__ import annotations

import shlex

import pytest
from docs_tables import REPO, import_rows

from engine.cli.main import main


@pytest.mark.parametrize("row", import_rows("## Platform exports", 7),
                         ids=lambda r: r["what"].strip())
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
