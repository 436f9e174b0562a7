"""Serving: the Recommender over a run folder, split by concern.

`recommender` (the entry point: `Recommender.load(run_dir)`, also importable as
`from engine.serving import Recommender`), `catalogue` (read-only snapshot), `requests`
(validation), `ranking` (filter, boost, re-rank), `explain` (why an item is there),
`trending` (hot items), `coldstart` (adding items), `results` (what callers get back).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.serving.recommender import Recommender

__all__ = ["Recommender"]


def __getattr__(name: str) -> Any:
    """`Recommender` on first use, so importing one serving module never loads them all."""
    if name == "Recommender":
        from engine.serving.recommender import Recommender

        return Recommender
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
