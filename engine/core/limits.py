"""Every size limit of a serving request or a policy, in one place, with the checks that say it.

A request within these limits is answered in well under a second on a catalogue of a few
thousand items (docs/api.md has the probe that checks it); one beyond them is refused with a
message that names the limit, never served slowly or echoed back whole.

- `MAX_BODY_BYTES`: an HTTP request body (the API answers 413 above it).
- `MAX_ID_CHARS`: one shopper or item id, a policy reference.
- `MAX_HISTORY`: item ids in a what-if session.
- `MAX_K`, `MAX_CANDIDATES`: list length and candidate pool.
- `MAX_RERANK_WORK`: k × candidates for a re-ranking method (MMR, DPP, calibrated, quota),
  whose greedy passes cost about k × candidates steps; `MAX_DPP_WORK`: k² × candidates for
  DPP, whose incremental Cholesky costs that. A long list comes from a smaller pool.
- `MAX_QUESTION_CHARS`: a shopper's question to `ask`.
- `MAX_STAGES`, `MAX_MATCH_VALUES`, `MAX_TEXT_CHARS`, `MAX_SLOT`, `MAX_VERSION`: a policy.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from engine.core.errors import RequestError

MAX_BODY_BYTES = 1_048_576
MAX_ID_CHARS = 200
MAX_HISTORY = 500
MAX_K = 1000
MAX_CANDIDATES = 5000
MAX_RERANK_WORK = 1_000_000
MAX_DPP_WORK = 50_000_000  # k=100 × 5,000: its Cholesky rows outgrow the CPU caches above
MAX_STAGES = 50
MAX_MATCH_VALUES = 2000
MAX_TEXT_CHARS = 500
MAX_QUESTION_CHARS = 500  # one shopper's question (prism ask, POST /ask)
MAX_SLOT = MAX_K
MAX_VERSION = 999_999_999
MAX_VERSION_DIGITS = len(str(MAX_VERSION))


def check_work(k: int, n_candidates: int, method: str) -> None:
    """Refuse a re-ranked list whose cost is above MAX_RERANK_WORK (MAX_DPP_WORK for DPP)."""
    if method == "none":
        return
    k, pool = int(k), max(int(n_candidates), int(k))
    work = k * pool
    if work > MAX_RERANK_WORK:
        raise RequestError(
            f"k × n_candidates = {k} × {pool} = {work:,} is above the limit of "
            f"{MAX_RERANK_WORK:,} for method {method!r}; ask for a shorter list or fewer "
            f"candidates (e.g. k=200 with up to {MAX_RERANK_WORK // 200:,} candidates)")
    if method == "dpp" and k * work > MAX_DPP_WORK:
        raise RequestError(
            f"k² × n_candidates = {k}² × {pool} = {k * work:,} is above the limit of "
            f"{MAX_DPP_WORK:,} for method 'dpp'; ask for a shorter list or fewer candidates "
            f"(e.g. k=100 with up to {MAX_DPP_WORK // 10_000:,} candidates), or use 'mmr'")


def lone_surrogate(value: Any, where: str = "") -> str | None:
    """Where a string inside `value` (dicts, lists, strings) holds a lone UTF-16 surrogate —
    text no UTF-8 answer can carry — or None when every string is valid Unicode."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where or "text"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key).encode("utf-8", "backslashreplace").decode("utf-8")
            place = f"{where}.{name}" if where else name
            found = lone_surrogate(key, place) or lone_surrogate(item, place)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = lone_surrogate(item, f"{where}.{index}" if where else str(index))
            if found:
                return found
    return None


def check_unicode(value: Any, where: str = "") -> Any:
    """`value` unchanged, or ValueError naming the field that holds a lone surrogate."""
    found = lone_surrogate(value, where)
    if found:
        raise ValueError(f"{found}: holds a lone surrogate (\\ud800–\\udfff), which is not "
                         "valid Unicode text; send the text as UTF-8")
    return value


class StrictModel(BaseModel):
    """Input from outside (a request, a policy): no unknown fields, immutable, and no text
    that can be neither looked up nor answered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: Any) -> Any:
        return check_unicode(data)
