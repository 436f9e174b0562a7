"""The serve-time re-rank methods: the one list the engine, CLI, API, policies and studio read.

- `none`: plain relevance order (the model's top-k).
- `mmr`: maximal marginal relevance over item vectors.
- `dpp`: greedy determinantal point process over item vectors.
- `calibrated`: matches the list's category mix to a target distribution.
- `quota`: MMR under per-category [floor, cap] slot quotas.

Every method but `none` takes a `diversity_weight` in [0, 1] (0 = the relevance order).
"""

from __future__ import annotations

from typing import Literal

from engine.core.errors import RequestError

METHODS: tuple[str, ...] = ("none", "mmr", "dpp", "calibrated", "quota")
DIVERSIFY_METHODS = tuple(m for m in METHODS if m != "none")  # those that change the list
QUOTA_FREE_METHODS = tuple(m for m in METHODS if m != "quota")  # need no per-category quotas
SWEEP_METHODS = tuple(m for m in DIVERSIFY_METHODS if m != "quota")  # a trade-off's defaults
NEEDS_SIMILARITY = ("mmr", "dpp", "quota")  # read item-item similarity (vectors)
METHOD_LABELS = {"none": "None", "mmr": "MMR", "dpp": "DPP", "calibrated": "Calibrated",
                 "quota": "Quotas"}

# Pydantic/FastAPI field types built from the tuples above (Literal accepts a tuple).
Method = Literal[METHODS]  # type: ignore[valid-type]
DiversifyMethod = Literal[DIVERSIFY_METHODS]  # type: ignore[valid-type]
QuotaFreeMethod = Literal[QUOTA_FREE_METHODS]  # type: ignore[valid-type]


def check_method(method: object) -> str:
    """`method` if it is one of `METHODS`, else a `RequestError` listing the choices."""
    if not isinstance(method, str) or method not in METHODS:
        raise RequestError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    return method
