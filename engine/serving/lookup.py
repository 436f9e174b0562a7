"""Find shoppers or items by a typed fragment, so a picker lists a few matches, not every id.

`find_ids(ids, query, titles)` gives up to `limit` ids whose id (or title) contains the query,
ignoring case: ids that start with it first, then the rest in catalogue order. An empty query
gives the first `limit` ids. Pickers send only these to the browser, whatever the catalogue size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

PICK_LIMIT = 50


def find_ids(ids: Sequence[str] | pd.Index, query: str, titles: Sequence[str] | None = None,
             limit: int = PICK_LIMIT) -> list[str]:
    """Up to `limit` ids matching `query` (see the module docstring)."""
    text = str(query or "").strip().lower()
    if not text:  # the first ids only: nothing else of a large catalogue is read
        return [str(i) for i in ids[:limit]]
    values = pd.Index(ids).astype(str)
    lowered = values.str.lower()
    hit = np.asarray(lowered.str.contains(text, regex=False), dtype=bool)
    if titles is not None:
        hit |= np.asarray(pd.Index(titles).astype(str).str.lower().str.contains(
            text, regex=False), dtype=bool)
    positions = np.flatnonzero(hit)
    starts = np.asarray(lowered[positions].str.startswith(text), dtype=bool)
    ordered = np.concatenate([positions[starts], positions[~starts]])[:limit]
    return values[ordered].tolist()
