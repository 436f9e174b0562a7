"""Picker lookups: a few matches by id or title, prefix matches first, never the whole list."""

from __future__ import annotations

from engine.serving.lookup import find_ids

IDS = [f"U{i:05d}" for i in range(1000)]


def test_prefix_matches_come_first_and_the_list_is_capped() -> None:
    found = find_ids(["xU001", *IDS], "u001", limit=200)
    assert found[:100] == [f"U001{d:02d}" for d in range(100)] and found[100:] == ["xU001"]
    assert len(find_ids(IDS, "u", limit=50)) == 50


def test_titles_match_too_and_an_empty_query_gives_the_first_ids() -> None:
    titles = ["red shoe" if i == 7 else "plain" for i in range(1000)]
    assert find_ids(IDS, "RED", titles) == ["U00007"]
    assert find_ids(IDS, "  ", limit=3) == IDS[:3]
    assert find_ids(IDS, "no such thing") == []
