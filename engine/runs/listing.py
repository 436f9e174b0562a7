"""Which runs exist under `$PRISM_HOME/runs`, their version stamps, and the remembered choice.

A run folder is listed once it is complete (its `run.json` is readable); the staging and
retired folders a save leaves while it swaps (`<name>.tmp-*`, `<name>.old-*`, see
`engine.core.files.swap_folder`) are never listed, and those a killed save left are removed
when the process first opens the runs folder. `run_stamp` is a run's version for caches:
it changes whenever the run is retrained or gains cold-start items. The studio remembers the
run a merchandiser last chose in `$PRISM_HOME/studio.json`, so the next visit opens it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core import paths
from engine.core.errors import RunError
from engine.core.files import is_swap_name, write_json_atomic
from engine.runs.store import ITEMS, RUN_JSON

STUDIO_FILE = "studio.json"  # in $PRISM_HOME: the run the merchandiser last chose


@dataclass(frozen=True)
class RunEntry:
    """A run folder as listed (read from run.json only, cheap)."""

    name: str
    path: Path
    stamp: float  # see run_stamp: part of every cache key
    meta: dict[str, Any] = field(default_factory=dict)


def run_stamp(folder: Path) -> float:
    """A run's version: the modification time of run.json or of the item table, whichever is
    later (a cold-start add rewrites the items but copies run.json with its old time).
    OSError when the folder has no run.json."""
    stamp = (folder / RUN_JSON).stat().st_mtime
    try:
        return max(stamp, (folder / ITEMS).stat().st_mtime)
    except OSError:
        return stamp


def list_runs(runs_dir: Path | None = None) -> list[RunEntry]:
    """Complete run folders under `runs_dir` (default `$PRISM_HOME/runs`), newest first."""
    folder_root = paths.runs_dir() if runs_dir is None else Path(runs_dir)
    entries = []
    for folder in folder_root.iterdir():
        if not folder.is_dir() or is_swap_name(folder.name):
            continue
        try:
            meta = json.loads((folder / RUN_JSON).read_text())
            stamp = run_stamp(folder)
        except (OSError, ValueError):
            continue
        entries.append(RunEntry(folder.name, folder, stamp, meta if isinstance(meta, dict) else {}))
    return sorted(entries, key=lambda entry: entry.stamp, reverse=True)


def run_entry(name: str) -> RunEntry:
    """The run called `name` under `$PRISM_HOME/runs` with its stamp (meta left empty: read
    it from the loaded run); RunError when the folder is gone."""
    folder = paths.runs_dir() / str(name)
    try:
        stamp = run_stamp(folder)
    except OSError as exc:
        raise RunError(f"run {name!r} is gone from {paths.runs_dir()} (deleted or renamed "
                       "while the studio was open); pick another run in the sidebar or train "
                       "one on the Training page.") from exc
    return RunEntry(str(name), folder, stamp, {})


def remembered_run() -> str | None:
    """The run last chosen in the studio (any session), or None."""
    try:
        value = json.loads((paths.prism_home() / STUDIO_FILE).read_text()).get("last_run")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def remember_run(name: str) -> bool:
    """Persist the chosen run so the next visit (and a link without run=) opens it.

    Written atomically (a reader never sees half a file, two sessions never collide).
    Returns False when the home is read-only: that only loses the convenience, never the page.
    """
    try:
        write_json_atomic(paths.prism_home() / STUDIO_FILE, {"last_run": name}, indent=None)
    except OSError:
        return False
    return True


def default_run(runs: Sequence[RunEntry]) -> str | None:
    """The run a visit opens: the last one chosen, else the newest run trained to the end,
    else the newest run; None when there are no runs."""
    names = [entry.name for entry in runs]
    chosen = remembered_run()
    if chosen in names:
        return chosen
    finished = [entry.name for entry in runs if not entry.meta.get("stopped_early")]
    return (finished or names or [None])[0]


def trained_loss_weights(meta: dict[str, Any]) -> tuple[float, float] | None:
    """(α, β) of the joint loss L = α·L_d + β·L_r the run's model was trained with, from
    run.json's `train_config`; None when not recorded (baselines have no such loss).

    These act in training (they shaped the model); the serve-time diversity weight that
    re-ranks a list is a request setting, not part of the run.
    """
    train = meta.get("train_config")
    if not isinstance(train, dict):
        return None
    alpha, beta = train.get("alpha"), train.get("beta")
    if not all(isinstance(value, int | float) and not isinstance(value, bool)
               for value in (alpha, beta)):
        return None
    return float(alpha), float(beta)
