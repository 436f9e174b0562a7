"""The synthetic shop: structure, mess for the cleaning report, and byte-identical output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.core.errors import ConfigError
from engine.data import build_dataset, generate_shop, write_tables
from engine.data.synthetic_text import Vocabulary


@pytest.fixture(scope="module")
def shop() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_shop(n_items=400, n_users=200, seed=11)


def test_vocabulary_has_8_departments_and_40_leaves() -> None:
    vocab = Vocabulary.build()
    assert vocab.n_leaves == 40
    assert len(set(vocab.leaf_dept.tolist())) == 8
    assert len(set(vocab.leaf_paths.tolist())) == 40


def test_sizes_and_columns(shop: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    items, events = shop
    assert len(items) == 400
    assert list(items.columns) == ["item_id", "title", "description", "category", "brand",
                                   "price", "promo"]
    assert list(events.columns) == ["user_id", "item_id", "timestamp", "event"]
    assert 30 * 200 < len(events) < 80 * 200  # about 50 events per shopper
    assert events["user_id"].nunique() == 200
    assert set(events["item_id"]) <= set(items["item_id"])
    span = events["timestamp"].max() - events["timestamp"].min()
    assert 80 * 86_400 < span <= 91 * 86_400


def test_funnel_counts_fall(shop: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    counts = shop[1]["event"].value_counts()
    assert counts["view"] > counts["click"] > counts["cart"] > counts["purchase"] > 0


def test_popularity_is_long_tailed(shop: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    per_item = shop[1]["item_id"].value_counts().to_numpy()
    top_share = per_item[: len(shop[0]) // 10].sum() / per_item.sum()
    assert top_share > 0.3  # the top 10% of items take far more than 10% of events


def test_shoppers_concentrate_on_few_categories(shop: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    items, events = shop
    leaf = events["item_id"].map(items.set_index("item_id")["category"])
    top3 = leaf.groupby(events["user_id"]).agg(
        lambda s: s.value_counts().head(3).sum() / len(s))
    assert top3.median() > 0.6  # a Dirichlet mixture over a few leaves, not uniform over 40


def test_titles_follow_their_category(shop: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    items = shop[0]
    knives = items[items["category"] == "Kitchen > Knives"]
    assert len(knives) and knives["title"].str.contains("Knife|Knives|Santoku", regex=True).all()


def test_deliberate_mess_shows_in_cleaning_report(shop: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    items, events = shop
    assert events.duplicated().sum() >= 3
    assert (items["description"] == "").sum() >= 1
    assert (items["price"] < 0).any() and (items["price"] > 100_000).any()
    assert items["title"].str.contains("&amp;").any()
    report = build_dataset(items, events, name="synthetic").report
    assert report.duplicate_events >= 3
    assert report.bad_prices >= 2
    assert report.html_removed >= 1
    assert report.unknown_item_events == 0 and report.missing_ids == 0


def test_prices_are_log_normal_per_category(shop: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    items = shop[0]
    sane = items[(items["price"] > 0) & (items["price"] < 100_000)]
    medians = sane.groupby("category")["price"].median()
    assert medians.max() / medians.min() > 3  # cameras cost more than plush toys
    assert np.log(sane["price"]).std() < 1.0


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    for fmt in ("csv", "parquet"):
        first = write_tables(*generate_shop(120, 40, seed=5), tmp_path / f"a{fmt}", fmt=fmt)
        second = write_tables(*generate_shop(120, 40, seed=5), tmp_path / f"b{fmt}", fmt=fmt)
        for a, b in zip(first, second, strict=True):
            assert a.read_bytes() == b.read_bytes()
    other = write_tables(*generate_shop(120, 40, seed=6), tmp_path / "c", fmt="csv")
    assert other[1].read_bytes() != (tmp_path / "acsv" / "events.csv").read_bytes()


def test_tiny_shop_and_bad_sizes() -> None:
    items, events = generate_shop(n_items=1, n_users=1, seed=0)
    assert len(items) == 1 and set(events["item_id"]) == {items["item_id"].iloc[0]}
    with pytest.raises(ConfigError, match="n_items and n_users must be >= 1"):
        generate_shop(n_items=0)
