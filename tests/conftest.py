"""Shared fixtures: an isolated PRISM_HOME per test and the location of ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every machine and run (set
# PRISM_HYPOTHESIS_PROFILE=explore to search with fresh random examples while developing).
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("PRISM_HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def prism_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("prism_home")
    monkeypatch.setenv("PRISM_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    return home


def shared_dataset(name: str) -> Path:
    """Path of a shared real data set, or skip the test saying why."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"real data set {name!r} not found at {path} (../shared/data is absent)")
    return path
