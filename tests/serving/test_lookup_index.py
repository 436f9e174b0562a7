"""The pickers' find index answers exactly what scanning every id and title answers."""

from __future__ import annotations

import numpy as np

from engine.serving import lookup
from engine.serving.lookup import IdFinder


def _scan(ids: list[str], titles: list[str], query: str, limit: int) -> list[str]:
    """The definition, one id at a time: id or title contains the query (any case); ids that
    start with it first, each part in list order."""
    text = query.strip().lower()
    if not text:
        return ids[:limit]
    hits = [i for i, (id_, title) in enumerate(zip(ids, titles, strict=True))
            if text in id_.lower() or text in title.lower()]
    first = [i for i in hits if ids[i].lower().startswith(text)]
    return [ids[i] for i in (first + [i for i in hits if i not in set(first)])[:limit]]


def test_every_query_equals_the_scan(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(lookup, "CHUNK", 7)  # many chunks, so stopping early is exercised
    rng = np.random.default_rng(0)
    letters = list("abAB01é")
    ids = ["".join(rng.choice(letters, size=rng.integers(1, 6))) for _ in range(400)]
    titles = ["".join(rng.choice([*letters, " "], size=rng.integers(0, 9))) for _ in range(400)]
    finder = IdFinder(np.asarray(ids, dtype=object), titles)
    queries = ["", " ", "a", "A", "ab", "É", "0b", "zz", "b1a", ids[17], ids[17].upper()]
    for query in queries:
        for limit in (1, 5, 50, 1000):
            assert finder.find(query, limit) == _scan(ids, titles, query, limit), (query, limit)


def test_ids_without_titles_and_the_plain_function_agree() -> None:
    ids = [f"U{i:04d}" for i in range(300)] + ["xU0010"]
    finder = IdFinder(ids)
    assert finder.find("u001", 20) == [f"U001{d}" for d in range(10)] + ["xU0010"]
    assert lookup.find_ids(finder, "u001", limit=20) == lookup.find_ids(ids, "u001", limit=20)
    assert finder.find("nothing") == []
