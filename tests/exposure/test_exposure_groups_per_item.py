"""Groupings read per distinct value equal the per-item definition (one label list per item)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.exposure.groups import NO_VALUE, GroupSpec, _from_labels, build_grouping

ITEMS = pd.DataFrame({
    "item_id": [f"i{n}" for n in range(12)],
    "brand": ["Acme", " Acme ", None, "", "Zed", "beta", "Acme", "Zed", "Ω", "beta", "x", "Acme"],
    "category": ["Shop > Tools > Saws", "Shop > Garden", "Shop > Tools | Shop > Garden", None,
                 "", "Shop > Tools", "Shop", "Shop > Kitchen > Pans", "Shop > Garden",
                 "Shop > Tools", "Shop > Kitchen", "Shop > Tools > Saws"],
    "price": [1.0, 2.5, np.nan, 10.0, 3.0, 7.5, 2.0, np.nan, 9.0, 4.0, 5.0, 6.0],
    "promo": [True, False, None, True, False, False, True, False, False, True, False, False],
})
INTERACTIONS = pd.DataFrame({"item_id": ["i0", "i1", "i2", "i0", "i5"],
                             "timestamp": [0, 86_400 * 40, 86_400 * 50, 86_400 * 60, 86_400 * 61]})
POPULARITY = np.array([3, 0, 1, 1, 5, 2, 0, 0, 4, 1, 2, 9], dtype=float)


def _per_item(by: str, grouping) -> list[list[str]]:  # noqa: ANN001 - the fast Grouping
    """Each item's labels written out one item at a time, from the definitions."""
    if by == "brand":
        return [[str(v).strip()] if isinstance(v, str) and v.strip() else [NO_VALUE]
                for v in ITEMS["brand"]]
    if by == "promo":
        return [["promo" if v is True else "regular"] for v in ITEMS["promo"]]
    if by == "top_category":  # every path starts with "Shop": the level below it
        out = []
        for value in ITEMS["category"].fillna(""):
            paths = [[x.strip() for x in p.split(">")] for p in value.split("|") if p.strip()]
            out.append(sorted({p[min(1, len(p) - 1)] for p in paths}) or [NO_VALUE])
        return out
    # price bands, popularity deciles, new: one label per item, read back from the matrix
    dense = grouping.membership.toarray()
    return [[grouping.labels[int(np.argmax(row))]] for row in dense]


@pytest.mark.parametrize("by", ["brand", "promo", "top_category", "price_band", "popularity",
                                "new"])
def test_fast_grouping_equals_the_per_item_one(by: str) -> None:
    spec = GroupSpec(by=by)
    fast = build_grouping(spec, ITEMS, INTERACTIONS, POPULARITY)
    reference = _from_labels(fast.spec, _per_item(by, fast), fast.note)
    assert fast.labels == reference.labels
    np.testing.assert_allclose(fast.membership.toarray(), reference.membership.toarray(),
                               atol=1e-12)
    np.testing.assert_allclose(fast.membership.sum(axis=1), 1.0, atol=1e-12)


def test_one_label_groupings_keep_their_labels() -> None:
    bands = build_grouping(GroupSpec(by="price_band", n_bands=2), ITEMS, INTERACTIONS, POPULARITY)
    assert bands.labels == sorted(bands.labels) and NO_VALUE in bands.labels
    deciles = build_grouping(GroupSpec(by="popularity"), ITEMS, INTERACTIONS, POPULARITY)
    assert deciles.labels[-1] == "D10" and deciles.membership[11, deciles.labels.index("D10")] == 1
    new = build_grouping(GroupSpec(by="new", new_days=15), ITEMS, INTERACTIONS, POPULARITY)
    column = new.labels.index("new")  # first seen within 15 days of the last, or never seen
    assert [bool(new.membership[i, column]) for i in range(12)] == [
        False, False, True, True, True, True, True, True, True, True, True, True]


def test_a_label_no_item_carries_is_no_group() -> None:
    every_promo = build_grouping(GroupSpec(by="promo"), ITEMS.assign(promo=True), INTERACTIONS,
                                 POPULARITY)
    assert every_promo.labels == ["promo"]
    named = build_grouping(GroupSpec(by="brand"), ITEMS.assign(brand="Acme"), INTERACTIONS,
                           POPULARITY)
    assert named.labels == ["Acme"] and named.membership.shape == (12, 1)


@pytest.mark.parametrize(("by", "english", "chinese"), [
    ("top_category", "every path starts with 'Shop'; grouped by the level below",
     "所有类目路径都以 'Shop' 开头；按它的下一级分组"),
    ("new", "new = first seen in the 30 days up to the last training interaction",
     "新品 = 在最后一次训练交互之前的 30 天内首次出现")])
def test_a_grouping_note_reads_in_english_and_chinese(by: str, english: str,
                                                      chinese: str) -> None:
    """The Ledger's note on how it grouped carries a code the studio says in Chinese."""
    from dashboard.i18n import translate

    note = build_grouping(GroupSpec(by=by, new_days=30), ITEMS, INTERACTIONS, POPULARITY).note
    assert note == english
    assert translate(f"engine.{note.code}", "zh", **note.values) == chinese


def test_price_bands_are_named_in_prices_and_split_as_the_quantiles_do() -> None:
    """Quantile edges such as 20.186 are named as prices (20.19, two decimals), and a price
    in cents lands in the band it would with the raw quantile edge."""
    prices = np.round(np.random.default_rng(0).uniform(1, 100, 200), 2)
    items = pd.DataFrame({"item_id": [f"i{n}" for n in range(200)], "price": prices})
    bands = build_grouping(GroupSpec(by="price_band"), items, INTERACTIONS, POPULARITY)
    assert [label for label in bands.labels if label != NO_VALUE] == [
        "P1 < 23.97", "P2 23.97–44.74", "P3 44.74–65.49", "P4 65.49–86.45", "P5 ≥ 86.45"]
    raw = np.quantile(prices, np.linspace(0, 1, 6))[1:-1]
    assert not np.allclose(raw, np.round(raw, 2), atol=1e-9, rtol=0)  # edges between cents
    np.testing.assert_array_equal(bands.membership.toarray().argmax(axis=1),
                                  np.searchsorted(raw, prices, side="right"))
    fitted = GroupSpec(by="price_band", price_edges=[20.186, 46.366, 69.96])
    assert build_grouping(fitted, items, INTERACTIONS, POPULARITY).labels[:4] == [
        "P1 < 20.19", "P2 20.19–46.37", "P3 46.37–69.96", "P4 ≥ 69.96"]


def test_ten_or_more_price_bands_are_numbered_to_sort_in_price_order() -> None:
    """With 12 bands the names are P01 … P12, so a table sorted by name lists them cheapest
    first (P10 would otherwise sort before P2)."""
    items = pd.DataFrame({"item_id": [f"i{n}" for n in range(120)],
                          "price": np.arange(1, 121, dtype=float)})
    bands = build_grouping(GroupSpec(by="price_band", n_bands=12), items, INTERACTIONS,
                           POPULARITY)
    named = [label for label in bands.labels if label != NO_VALUE]
    assert len(named) == 12 and named[0].startswith("P01 <") and named[-1].startswith("P12 ≥")
    assert sorted(named) == named
