"""The studio, started the way scripts/studio.sh starts it, listens on loopback only; the
studio's pages write only through the gate, never the policy store directly."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from browser_support import free_port, wait_healthy

REPO = Path(__file__).resolve().parents[2]
STORE_WRITES = {"save", "create", "publish", "rollback", "unpublish"}
LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp*


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as the kernel writes them) with a listening socket on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == LISTEN:
                found.add(address)
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1


def test_the_config_binds_the_studio_to_this_computer() -> None:
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert "server.address" not in (REPO / "scripts" / "studio.sh").read_text()


@pytest.mark.slow
def test_a_started_studio_listens_on_loopback_only(tmp_path: Path) -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux /proc/net/tcp to see which address a socket listens on")
    port = free_port()
    env = {**os.environ, "PRISM_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(  # as scripts/studio.sh: no address given on the command line
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port",
         str(port)], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(port, process)
        addresses = listening_addresses(port)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert addresses and addresses <= LOOPBACK, addresses


def _store_writes(path: Path) -> list[str]:
    """`<something store-like>.save(...)` and kin in one source file (saved what-if
    scenarios change nothing shoppers see: their store is left out)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in STORE_WRITES:
            target = ast.unparse(node.func.value)
            if "store" in target.lower() and "scenario" not in target.lower():
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_studio_api_and_cli_write_policies_only_through_the_gate() -> None:
    files = [*(REPO / "dashboard").rglob("*.py"), *(REPO / "engine" / "api").rglob("*.py"),
             *(REPO / "engine" / "cli").rglob("*.py")]
    assert [hit for path in files for hit in _store_writes(path)] == []
    assert _store_writes(REPO / "engine" / "access" / "gate.py")  # the check sees real calls
