"""Picker lookups: a few matches by id or title, prefix matches first, never the whole list."""

from __future__ import annotations

from collections.abc import Sequence

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


class FirstIdsOnly(Sequence):
    """A million ids that fail the test when more than the first few are read."""

    def __len__(self) -> int:
        return 1_000_000

    def __getitem__(self, index):  # noqa: ANN001, ANN204
        if isinstance(index, slice) and not index.start and (index.stop or 0) <= 100:
            return [f"I{i}" for i in range(index.stop)]
        raise AssertionError(f"read {index!r} of a million ids")


def test_an_empty_query_reads_only_the_first_ids_of_a_large_catalogue() -> None:
    assert find_ids(FirstIdsOnly(), "", limit=3) == ["I0", "I1", "I2"]


def test_a_picker_titles_only_the_ids_it_shows() -> None:
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd

    from dashboard.pickers import titles_of

    class Titles(np.ndarray):
        read: list = []

        def __getitem__(self, index):  # noqa: ANN001, ANN204
            Titles.read.append(index)
            return super().__getitem__(index)

    ids = np.array([f"I{i}" for i in range(20_000)], dtype=object)
    titles = np.array([f"title {i}" for i in range(20_000)], dtype=object).view(Titles)
    catalogue = SimpleNamespace(columns=SimpleNamespace(ids=ids, titles=titles),
                                item_index=pd.Index(ids))
    assert titles_of(catalogue, ["I7", "gone", "I19999"]) == {"I7": "title 7",
                                                              "I19999": "title 19999"}
    assert Titles.read == [7, 19999]
