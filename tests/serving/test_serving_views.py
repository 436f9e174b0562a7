"""What the studio shows about a list and a catalogue: list metrics, segments, the item map."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.serving.itemmap import item_map_points
from engine.serving.listmetrics import list_metrics, positions, top_categories

pytest_plugins = ["serving_runs"]


def _one_of_each(catalogue, n: int) -> list[str]:  # noqa: ANN001
    """Item ids of the first item of each of the first n categories."""
    primary = catalogue.item_categories.argmax(axis=1)
    picks = [int(np.flatnonzero(primary == c)[0]) for c in np.unique(primary)[:n]]
    return catalogue.items["item_id"].astype(str).iloc[picks].tolist()


def test_list_metrics_hand_checked(twotower_service) -> None:  # noqa: ANN001
    catalogue = twotower_service.catalogue
    ids = _one_of_each(catalogue, 4)
    out = list_metrics(catalogue, ids, truth_ids=[ids[1], "not-an-item"], k=4)
    assert out["category_coverage"] == 4.0
    assert out["category_entropy"] == pytest.approx(math.log(4), abs=1e-6)
    assert out["precision"] == pytest.approx(0.25, abs=1e-12)
    vectors = catalogue.item_vectors[positions(catalogue, ids)]
    sims = vectors @ vectors.T
    expected = float(np.mean([1 - sims[i, j] for i in range(4) for j in range(i + 1, 4)]))
    assert out["ild_vec"] == pytest.approx(expected, abs=1e-5)


def test_list_metrics_of_a_short_list_and_without_vectors(ease_service) -> None:  # noqa: ANN001
    catalogue = ease_service.catalogue
    same = catalogue.items["item_id"].astype(str).iloc[:1].tolist()
    out = list_metrics(catalogue, same, truth_ids=None, k=5)
    assert out == {"category_entropy": pytest.approx(0.0, abs=1e-9), "category_coverage": 1.0,
                   "ild_vec": None, "precision": None}
    assert positions(catalogue, ["nope", same[0]]).tolist() == [-1, 0]


def test_top_categories_name_each_shoppers_main_category(ease_service) -> None:  # noqa: ANN001
    catalogue = ease_service.catalogue
    tops = top_categories(catalogue)
    assert tops.index.tolist() == catalogue.user_index.astype(str).tolist()
    user = 0
    counts = catalogue.item_categories[catalogue.user_items[user]].sum(axis=0)
    assert tops.iloc[user] == catalogue.category_names[int(counts.argmax())]
    assert set(tops) <= set(catalogue.category_names) | {""}


def test_items_without_a_category_count_toward_no_category(ease_service) -> None:  # noqa: ANN001
    """Coverage, entropy and segments ignore the "unknown" category (items without one)."""
    import dataclasses

    from engine.core.columns import UNKNOWN_CATEGORY

    catalogue = ease_service.catalogue
    names = [*catalogue.category_names[:-1], UNKNOWN_CATEGORY]  # the last column: no category
    unknown = np.flatnonzero(catalogue.item_categories[:, -1] > 0)
    known = np.flatnonzero(catalogue.item_categories[:, 0] == 1)
    assert len(unknown) >= 2 and len(known) >= 1
    relabelled = dataclasses.replace(catalogue, category_names=names)
    ids = catalogue.items["item_id"].astype(str).to_numpy()
    out = list_metrics(relabelled, [ids[known[0]], *ids[unknown[:2]]], None, k=3)
    assert out["category_coverage"] == 1.0  # one real category; "unknown" is not a second
    assert out["category_entropy"] == pytest.approx(0.0, abs=1e-12)
    only_unknown = list_metrics(relabelled, list(ids[unknown[:2]]), None, k=2)
    assert only_unknown["category_coverage"] == 0.0
    tops = top_categories(relabelled)
    assert UNKNOWN_CATEGORY not in set(tops)


def test_item_map_is_seeded_and_sampled(twotower_service, ease_service) -> None:  # noqa: ANN001
    catalogue = twotower_service.catalogue
    points = item_map_points(catalogue, max_points=50)
    assert list(points.columns) == ["x", "y", "category", "title"] and len(points) == 50
    assert points.equals(item_map_points(catalogue, max_points=50))
    full = item_map_points(catalogue)
    assert len(full) == catalogue.n_items
    assert full["x"].var() >= full["y"].var() - 1e-9  # the first component spreads most
    assert item_map_points(ease_service.catalogue).empty  # no item vectors, no map


class RowsOnly:
    """A catalogue table that fails the test when read whole: only row lookups are allowed."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        assert isinstance(rows, np.ndarray) and len(rows) <= 10, f"read {rows!r}"
        return self.values[rows]

    def __array__(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN204
        raise AssertionError("the whole table was read")


def test_list_metrics_read_only_the_listed_rows(twotower_service) -> None:  # noqa: ANN001
    """A slider step on a million-item catalogue must not touch every item's row."""
    from types import SimpleNamespace

    catalogue = twotower_service.catalogue
    ids = _one_of_each(catalogue, 4)
    whole = list_metrics(catalogue, ids, truth_ids=[ids[1]], k=4)
    guarded = SimpleNamespace(item_index=catalogue.item_index,
                              category_names=catalogue.category_names,
                              item_categories=RowsOnly(np.asarray(catalogue.item_categories)),
                              item_vectors=RowsOnly(catalogue.item_vectors))
    assert list_metrics(guarded, ids, truth_ids=[ids[1]], k=4) == pytest.approx(whole, abs=1e-9)


def test_brands_are_counted_once_per_catalogue_snapshot(ease_service) -> None:  # noqa: ANN001
    """The Policies page's brand pickers read the snapshot's count, never recount a
    million items on each rerun."""
    catalogue = ease_service.catalogue
    brands = catalogue.brands
    counts = catalogue.items["brand"].dropna().astype(str).value_counts()
    assert brands is catalogue.brands  # the same list: counted once
    assert sorted(brands) == sorted(b for b in counts.index if b)
    shown = [int(counts[b]) for b in brands]
    assert shown == sorted(shown, reverse=True)
