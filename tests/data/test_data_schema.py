"""Column map, category paths/levels, the category matrix and the encoder text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.config import DataConfig
from engine.core.errors import DataError
from engine.data import Dataset, build_dataset, parse_column_map
from engine.data.schema import (
    apply_column_map,
    category_counts_by_depth,
    category_matrix,
    path_label,
)


def test_parse_column_map_reads_cli_pairs() -> None:
    assert parse_column_map("item_id=sku,title=name") == {"item_id": "sku", "title": "name"}
    assert parse_column_map(["item_id=sku", "user_id=customer"]) == {
        "item_id": "sku", "user_id": "customer"}
    assert parse_column_map(None) == {}


def test_parse_column_map_rejects_unknown_target_listing_valid_names() -> None:
    with pytest.raises(DataError, match=r"unknown target column 'sku_id'.*item_id"):
        parse_column_map("sku_id=sku")


def test_parse_column_map_rejects_malformed_entry() -> None:
    with pytest.raises(DataError, match="TARGET=SOURCE"):
        parse_column_map("item_id")


def test_apply_column_map_renames_in_every_table() -> None:
    tables = {"items": pd.DataFrame({"sku": ["a"], "name": ["A"]}),
              "events": pd.DataFrame({"customer": ["u"], "sku": ["a"]})}
    out = apply_column_map(tables, {"item_id": "sku", "title": "name", "user_id": "customer"})
    assert list(out["items"].columns) == ["item_id", "title"]
    assert list(out["events"].columns) == ["user_id", "item_id"]
    assert list(tables["items"].columns) == ["sku", "name"]  # input untouched


def test_apply_column_map_names_a_missing_source_column() -> None:
    with pytest.raises(DataError, match="no column 'nope'"):
        apply_column_map({"items": pd.DataFrame({"a": [1]})}, {"title": "nope"})


@pytest.mark.parametrize(("path", "depth", "label"), [
    ("A > B > C", 2, "A > B"),
    ("A > B > C", 5, "A > B > C"),
    ("A", 2, "A"),
    ("  A>B  ", 1, "A"),
    ("", 2, "unknown"),
])
def test_path_label_uses_deepest_level_when_short(path: str, depth: int, label: str) -> None:
    assert path_label(path, depth) == label


def test_category_matrix_one_hot_multi_label_and_unknown() -> None:
    categories = pd.Series(["A > X > 1", "A > Y", "B", "", "A > X | B"])
    matrix, names = category_matrix(categories, depth=2)
    assert names == ["A > X", "A > Y", "B", "unknown"]
    expected = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1],
                         [0.5, 0, 0.5, 0]], dtype=np.float32)
    np.testing.assert_allclose(matrix, expected, atol=1e-12)
    assert matrix.dtype == np.float32


def test_category_matrix_repeated_label_counts_once() -> None:
    matrix, names = category_matrix(pd.Series(["A > X | A > Y"]), depth=1)
    assert names == ["A"]
    np.testing.assert_allclose(matrix, [[1.0]], atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.lists(st.sampled_from(["A", "B", "C", " "]), max_size=4),
                         max_size=3), min_size=1, max_size=12),
       st.integers(1, 4))
def test_category_matrix_rows_always_sum_to_one(paths: list[list[list[str]]],
                                                depth: int) -> None:
    categories = pd.Series([" | ".join(" > ".join(p) for p in item) for item in paths])
    matrix, names = category_matrix(categories, depth)
    assert matrix.shape == (len(categories), len(names))
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=1e-6, atol=1e-12)
    assert names == sorted(set(names))


def test_category_counts_by_depth() -> None:
    counts = category_counts_by_depth(pd.Series(["A > X > 1", "A > Y", "B", ""]), 4)
    assert counts == [(1, 2, 3), (2, 2, 2), (3, 1, 1)]


def _tiny() -> Dataset:
    items = pd.DataFrame({"item_id": ["a", "b"], "title": ["Red Mug.", "Blue Pan"],
                          "category": ["Kitchen > Mugs", ""], "brand": ["Acme", ""],
                          "description": ["x" * 1000, ""]})
    events = pd.DataFrame({"user_id": ["u", "u"], "item_id": ["a", "b"],
                           "timestamp": [1, 2]})
    return build_dataset(items, events, config=DataConfig(category_depth=1))


def test_dataset_item_text_joins_parts_and_truncates_description() -> None:
    text = _tiny().item_text()
    assert text[0].startswith("Red Mug. Kitchen > Mugs. Acme. xxx")
    assert len(text[0]) < 500
    assert text[1] == "Blue Pan"


def test_dataset_category_matrix_uses_config_depth() -> None:
    dataset = _tiny()
    assert dataset.category_matrix()[1] == ["Kitchen", "unknown"]
    # every categorised item shares the root "Kitchen": labels drop it below the first level
    assert dataset.category_matrix(depth=2)[1] == ["Mugs", "unknown"]
    assert dataset.n_users == 1 and dataset.n_items == 2


def test_category_labels_keep_a_root_not_every_item_shares() -> None:
    items = pd.DataFrame({"item_id": ["a", "b"], "title": ["Red Mug", "Hammer"],
                          "category": ["Kitchen > Mugs", "Tools > Hammers"]})
    events = pd.DataFrame({"user_id": ["u", "u"], "item_id": ["a", "b"], "timestamp": [1, 2]})
    dataset = build_dataset(items, events, config=DataConfig(category_depth=2))
    assert dataset.category_matrix()[1] == ["Kitchen > Mugs", "Tools > Hammers"]
