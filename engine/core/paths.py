"""Where Prism keeps its own files (synthetic shop, runs, encoder cache, scenarios).

The first time a process uses the home, its runs or its data sets, what killed writers left
there (`<name>.tmp-*` staging, see `engine.core.files.clean_stale`) is removed, so an
interrupted import or training never shows up as a data set or a run.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.core.files import clean_stale, is_swap_name

_CLEANED: set[Path] = set()  # folders already swept by this process


def _swept(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if path not in _CLEANED:
        _CLEANED.add(path)
        clean_stale(path)
    return path


def prism_home() -> Path:
    """`$PRISM_HOME` if set, else `~/.prism`; created on first use."""
    return _swept(Path(os.environ.get("PRISM_HOME") or Path.home() / ".prism").expanduser())


def runs_dir() -> Path:
    return _swept(prism_home() / "runs")


def data_dir() -> Path:
    return _swept(prism_home() / "data")


def dataset_folders() -> list[Path]:
    """The data sets under `data_dir()`, by name: complete folders only (never hidden or
    temporary ones a writer is filling or left behind)."""
    return sorted(folder for folder in data_dir().iterdir()
                  if folder.is_dir() and not folder.name.startswith(".")
                  and not is_swap_name(folder.name))


def encoder_cache_dir() -> Path:
    path = prism_home() / "cache" / "encoders"
    path.mkdir(parents=True, exist_ok=True)
    return path
