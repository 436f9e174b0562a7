"""Interactions and splits: hand-checked cases, RecBole's rounding, and no leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.errors import ConfigError, DataError
from engine.data import interactions, split_interactions
from engine.data.splits import ratio_counts


def _events(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "weight"])


def _inter(n_per_user: dict[str, int]) -> pd.DataFrame:
    rows = [(u, f"{u}-i{k}", 100 + k, 1.0) for u, n in n_per_user.items() for k in range(n)]
    return interactions(_events(rows))


def test_interactions_collapse_last_time_strongest_weight_and_count() -> None:
    events = _events([("u", "a", 5, 1.0), ("u", "a", 9, 4.0), ("u", "a", 7, 2.0),
                      ("u", "b", 6, 1.0), ("v", "a", 1, 3.0)])
    inter = interactions(events)
    assert inter.to_dict("list") == {
        "user_id": ["u", "u", "v"], "item_id": ["b", "a", "a"], "timestamp": [6, 9, 1],
        "weight": [1.0, 4.0, 3.0], "count": [1, 3, 1]}
    assert inter["timestamp"].dtype == np.int64


def test_interactions_need_event_columns() -> None:
    with pytest.raises(DataError, match="missing column"):
        interactions(pd.DataFrame({"user_id": ["u"], "item_id": ["a"]}))


def test_leave_last_out_by_time() -> None:
    inter = _inter({"u": 4, "v": 2, "w": 3})
    split = split_interactions(inter, "leave-last-out")
    assert split.test.set_index("user_id")["item_id"].to_dict() == {"u": "u-i3", "w": "w-i2"}
    assert split.valid.set_index("user_id")["item_id"].to_dict() == {"u": "u-i2", "w": "w-i1"}
    assert sorted(split.train["item_id"]) == ["u-i0", "u-i1", "v-i0", "v-i1", "w-i0"]
    assert list(split.train.columns) == list(inter.columns)


@pytest.mark.parametrize(("size", "expected"), [
    (1, (1, 0, 0)), (2, (1, 0, 1)), (3, (1, 1, 1)), (9, (7, 1, 1)), (10, (8, 1, 1)),
    (19, (17, 1, 1)), (20, (16, 2, 2)), (25, (21, 2, 2)),
])
def test_ratio_counts_match_recbole_rounding(size: int, expected: tuple[int, int, int]) -> None:
    assert tuple(ratio_counts(np.array([size]))[0]) == expected


def test_random_split_sizes_and_determinism() -> None:
    inter = _inter({"u": 10, "v": 2, "w": 1})
    first = split_interactions(inter, "random", seed=3)
    again = split_interactions(inter, "random", seed=3)
    for a, b in zip((first.train, first.valid, first.test), (again.train, again.valid,
                                                               again.test), strict=True):
        pd.testing.assert_frame_equal(a, b)
    sizes = {name: frame.groupby("user_id").size().to_dict()
             for name, frame in (("train", first.train), ("valid", first.valid),
                                 ("test", first.test))}
    assert sizes == {"train": {"u": 8, "v": 1, "w": 1}, "valid": {"u": 1},
                     "test": {"u": 1, "v": 1}}
    other = split_interactions(_inter({"u": 40}), "random", seed=4)
    assert set(other.test["item_id"]) != set(
        split_interactions(_inter({"u": 40}), "random", seed=5).test["item_id"])


def test_unknown_protocol() -> None:
    with pytest.raises(ConfigError, match="'by-magic' is unknown"):
        split_interactions(_inter({"u": 3}), "by-magic")


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 15), min_size=1, max_size=8),
    protocol=st.sampled_from(["leave-last-out", "random"]),
    seed=st.integers(0, 10_000),
)
def test_splits_partition_without_leakage(sizes: list[int], protocol: str, seed: int) -> None:
    inter = _inter({f"u{k}": n for k, n in enumerate(sizes)})
    split = split_interactions(inter, protocol, seed=seed)
    pairs = [set(zip(f["user_id"], f["item_id"], strict=True))
             for f in (split.train, split.valid, split.test)]
    assert not (pairs[0] & pairs[1]) and not (pairs[0] & pairs[2]) and not (pairs[1] & pairs[2])
    assert len(pairs[0]) + len(pairs[1]) + len(pairs[2]) == len(inter)
    assert set(split.train["user_id"]) == set(inter["user_id"])  # every user keeps training data
    if protocol == "leave-last-out":
        last = inter.groupby("user_id")["timestamp"].max()
        for _, row in split.test.iterrows():
            assert row["timestamp"] == last[row["user_id"]]
