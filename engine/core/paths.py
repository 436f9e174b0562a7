"""Where Prism keeps its own files (synthetic shop, runs, encoder cache, scenarios)."""

from __future__ import annotations

import os
from pathlib import Path


def prism_home() -> Path:
    """`$PRISM_HOME` if set, else `~/.prism`; created on first use."""
    home = Path(os.environ.get("PRISM_HOME") or Path.home() / ".prism").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def runs_dir() -> Path:
    path = prism_home() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    path = prism_home() / "data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def encoder_cache_dir() -> Path:
    path = prism_home() / "cache" / "encoders"
    path.mkdir(parents=True, exist_ok=True)
    return path
