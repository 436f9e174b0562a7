"""Declared dependency floors exclude releases with known code-execution flaws, and the
minimum-versions environment (constraints/min.txt) installs exactly those floors."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
# first release without a known code-execution flaw, and the advisory that sets it
FIXED = {
    "pyarrow": ("14.0.1", "CVE-2023-47248: arbitrary code execution reading untrusted Parquet"),
    "tqdm": ("4.66.3", "CVE-2024-34062: eval of command-line arguments"),
    "torch": ("2.10", "CVE-2025-32434, CVE-2026-24747: torch.load(weights_only=True)"),
    "transformers": ("5.5", "CVE-2024-11392..4, CVE-2025-14920..30, CVE-2026-5241"),
    "setuptools": ("78.1.1", "CVE-2024-6345, CVE-2025-47273: package index downloads"),
}


def _floors() -> dict[str, Version]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    declared = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    for extra in project["project"]["optional-dependencies"].values():
        declared += extra
    floors = {}
    for text in declared:
        requirement = Requirement(text)
        lows = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        if lows:
            floors[requirement.name.lower()] = max(lows)
    return floors


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (REPO / "constraints" / "min.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = Version(version.strip())
    return pins


def test_floors_exclude_known_code_execution_releases():
    floors = _floors()
    for name, (fixed, advisory) in FIXED.items():
        assert name in floors, f"{name} has no declared floor"
        assert floors[name] >= Version(fixed), f"{name}>={floors[name]} admits {advisory}"


def test_minimum_versions_environment_installs_the_declared_floors():
    floors, pins = _floors(), _pins()
    for name, pinned in pins.items():
        assert floors.get(name) is not None, f"constraints/min.txt pins {name}, not declared"
        assert pinned.release[:len(floors[name].release)] == floors[name].release, (
            f"{name}: min.txt pins {pinned}, pyproject.toml declares >={floors[name]}")
        if name in FIXED:
            assert pinned >= Version(FIXED[name][0]), f"{name}=={pinned}: {FIXED[name][1]}"
