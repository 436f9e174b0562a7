"""Where the shared real data sets live (../shared/data beside the repository), and a skip when
one is absent. A plain module, not a conftest, so test files in any folder import it by name."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_dataset(name: str) -> Path:
    """Path of a shared real data set, or skip the test saying why."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"real data set {name!r} not found at {path} (../shared/data is absent)")
    return path
