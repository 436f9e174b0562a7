"""Find shoppers or items by a typed fragment, so a picker lists a few matches, not every id.

An `IdFinder` is built once per list of ids (a catalogue keeps one for its items and one for
its shoppers) and answers every keystroke from that index: up to `limit` ids whose id (or
title) contains the query, ignoring case — ids that start with it first, then the rest, each
in list order. An empty query gives the first `limit` ids. Ids that start with the query come
from a sorted copy of the lowercased ids (binary search, no scan); the others are looked for
only when those are fewer than `limit`, in Arrow chunk by chunk, stopping once enough are
found. Pickers send only these to the browser, whatever the catalogue size.
`find_ids(ids, query, titles)` answers one query over a list without keeping an index.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

PICK_LIMIT = 50
CHUNK = 1 << 16  # rows searched at a time for matches inside an id or a title


def _lowered(values: Sequence[object]) -> pa.Array:
    """Each value as text in lower case (Python's `str.lower`, as the query is lowered)."""
    return pa.array([str(value).lower() for value in values], type=pa.large_string())


class IdFinder:
    """The find index over one list of ids (and their titles), built on the first query that
    is not empty (an empty one reads the first ids only); read-only once built."""

    def __init__(self, ids: Sequence[str] | pd.Index | np.ndarray,
                 titles: Sequence[str] | None = None) -> None:
        self.ids = ids if isinstance(ids, np.ndarray) and ids.dtype == object else \
            np.asarray([str(i) for i in ids], dtype=object)  # a catalogue's ids are text already
        self._raw_titles = titles
        self._built: tuple[pa.Array, pa.Array | None, np.ndarray, pa.Array] | None = None
        self._lock = threading.Lock()

    def _index(self) -> tuple[pa.Array, pa.Array | None, np.ndarray, pa.Array]:
        """(lowercased ids, lowercased titles, sort order, sorted lowercased ids), once."""
        with self._lock:
            if self._built is None:
                lower = _lowered(self.ids)
                titles = None if self._raw_titles is None else _lowered(self._raw_titles)
                order = pc.sort_indices(lower).to_numpy()  # UTF-8 bytes sort as code points
                self._built = (lower, titles, order, lower.take(pa.array(order)))
            return self._built

    def __len__(self) -> int:
        return len(self.ids)

    def _starting(self, text: str) -> np.ndarray:
        """Positions (list order) of the ids that start with `text`."""
        _, _, order, ordered = self._index()

        def prefix(value: pa.Scalar) -> str:  # read only where bisect looks: ~log2(n) ids
            return value.as_py()[:len(text)]

        low = bisect.bisect_left(ordered, text, key=prefix)
        return np.sort(order[low:bisect.bisect_right(ordered, text, lo=low, key=prefix)])

    def _containing(self, text: str, wanted: int) -> np.ndarray:
        """The first `wanted` positions (list order) whose id or title contains `text`, but
        whose id does not start with it (`_starting` finds those)."""
        lower, titles, _, _ = self._index()
        found: list[np.ndarray] = []
        for start in range(0, len(self.ids), CHUNK):
            ids = lower.slice(start, CHUNK)
            hit = pc.match_substring(ids, text)
            if titles is not None:
                hit = pc.or_(hit, pc.match_substring(titles.slice(start, CHUNK), text))
            hit = pc.and_(hit, pc.invert(pc.starts_with(ids, text)))
            found.append(start + np.flatnonzero(hit.to_numpy(zero_copy_only=False)))
            if sum(len(part) for part in found) >= wanted:
                break
        return np.concatenate(found)[:wanted] if found else np.zeros(0, np.int64)

    def find(self, query: str, limit: int = PICK_LIMIT) -> list[str]:
        """Up to `limit` ids matching `query` (see the module docstring)."""
        text = str(query or "").strip().lower()
        if not text:
            return self.ids[:limit].tolist()
        positions = self._starting(text)[:limit]
        if len(positions) < limit:
            positions = np.concatenate([positions, self._containing(text, limit - len(positions))])
        return self.ids[positions.astype(np.int64)].tolist()


def find_ids(ids: Sequence[str] | pd.Index | IdFinder, query: str,
             titles: Sequence[str] | None = None, limit: int = PICK_LIMIT) -> list[str]:
    """Up to `limit` ids matching `query` (see the module docstring); an `IdFinder` answers
    from its index, a plain list is indexed for this one query."""
    if isinstance(ids, IdFinder):
        return ids.find(query, limit)
    if not str(query or "").strip():  # the first ids only: nothing else of a large list is read
        return [str(i) for i in ids[:limit]]
    return IdFinder(ids, titles).find(query, limit)
