"""One tiny run shared by the dashboard tests (built once per test process, in seconds).

A small synthetic shop and a one-epoch two-tower model without the text encoder are saved
under a private PRISM_HOME; the dashboard tests point PRISM_HOME there.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
RUN_NAME = "tiny"
TIMEOUT = 120  # seconds per AppTest run: the first one loads the model
CONDITIONED_EPOCHS = 1


@contextlib.contextmanager
def prism_home(home: Path) -> Iterator[None]:
    """PRISM_HOME set to `home` inside the block, and restored after it."""
    previous = os.environ.get("PRISM_HOME")
    os.environ["PRISM_HOME"] = str(home)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PRISM_HOME", None)
        else:
            os.environ["PRISM_HOME"] = previous


@functools.cache
def tiny_home() -> Path:
    """PRISM_HOME holding `runs/tiny` (trained on `data/synthetic`)."""
    from engine.training.pipeline import train
    from engine.training.presets import ensure_synthetic_shop, quick_run

    home = Path(tempfile.mkdtemp(prefix="prism_dashboard_"))
    with prism_home(home):
        data_dir = ensure_synthetic_shop(n_items=150, n_users=90, seed=1)
        spec = quick_run(data_dir=data_dir, out_dir=home / "runs" / RUN_NAME,
                         epochs=1, dim=16, use_text=False)
        train(spec)
    return home


def held_out_shoppers() -> int:
    """How many held-out test shoppers the only run under PRISM_HOME has (the most a shopper
    sample of the studio can hold)."""
    from engine.runs.data import load_run_split
    from engine.runs.listing import list_runs

    (entry,) = list_runs()
    _, data = load_run_split(entry.meta, entry.path)
    return len(data.truth(data.test)[0])


CONDITIONED_RUN = "tiny-alpha"


@functools.cache
def conditioned_home() -> Path:
    """PRISM_HOME holding `runs/tiny-alpha`: one two-tower trained over α ∈ [0, 1] (the
    Training page's one-model button), on a synthetic shop of 200 items and 100 shoppers."""
    from engine.training.pipeline import train
    from engine.training.presets import ensure_synthetic_shop, quick_run

    home = Path(tempfile.mkdtemp(prefix="prism_conditioned_"))
    with prism_home(home):
        data_dir = ensure_synthetic_shop(n_items=200, n_users=100, seed=0)
        spec = quick_run(data_dir=data_dir, out_dir=home / "runs" / CONDITIONED_RUN,
                         alpha=0.0, alpha_max=1.0, epochs=CONDITIONED_EPOCHS, dim=16,
                         use_text=False)
        train(spec)
    return home


def tiny_home_copy(folder: Path) -> Path:
    """A copy of the tiny home at `folder` without its stores: its own empty policy, scenario
    and event stores, so a test's writes stay its own."""
    shutil.copytree(tiny_home(), folder, ignore=shutil.ignore_patterns("*.sqlite*"))
    return folder


def use_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    """Point PRISM_HOME at `home` (offline encoders) for one test."""
    monkeypatch.setenv("PRISM_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


def use_tiny_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point PRISM_HOME at the shared tiny home (offline encoders) for one test."""
    home = tiny_home()
    monkeypatch.setenv("PRISM_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


@functools.cache
def concentrated_user(home: Path) -> str:
    """A shopper whose relevance-only top 10 spans few categories (so α has room to act)."""
    from engine.serving.recommender import Recommender

    recommender = Recommender.load(home / "runs" / RUN_NAME)
    best, best_count = None, np.inf
    for user in recommender.user_ids[:40]:
        result = recommender.recommend(user_id=user, k=10, method="mmr", diversity_weight=0.0)
        count = result.table["category"].nunique()
        if count < best_count:
            best, best_count = user, count
    return str(best)


@functools.cache
def alpha_moved_user(home: Path) -> str:
    """A shopper of the conditioned run whose top 10 (no re-ranking) differs at α 0 and 1."""
    from engine.serving.recommender import Recommender

    recommender = Recommender.load(home / "runs" / CONDITIONED_RUN)
    for user in recommender.user_ids:
        lists = [recommender.recommend(user_id=user, k=10, diversity_weight=0.0,
                                       alpha=alpha).table["item_id"].tolist()
                 for alpha in (0.0, 1.0)]
        if lists[0] != lists[1]:
            return str(user)
    raise AssertionError("no shopper's list moves with α: the conditioned model is inert")
