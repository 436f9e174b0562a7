"""Shared fixtures: an isolated PRISM_HOME per test (real data sets: tests/real_data.py)."""

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


@pytest.fixture(autouse=True)
def prism_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("prism_home")
    monkeypatch.setenv("PRISM_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    return home
