"""Each cleaning rule: what it fixes, what it counts, and when it refuses the input."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.core.config import DataConfig
from engine.core.errors import DataError
from engine.data import CleaningReport, build_dataset
from engine.data.event_cleaning import parse_timestamps


def _items(**extra: list) -> pd.DataFrame:
    base = {"item_id": ["a", "b", "c"], "title": ["A", "B", "C"]}
    return pd.DataFrame({**base, **extra})


def _events(users: list[str], items: list[str], times: list, **extra: list) -> pd.DataFrame:
    return pd.DataFrame({"user_id": users, "item_id": items, "timestamp": times, **extra})


def test_contract_columns_and_dtypes() -> None:
    ds = build_dataset(_items(), _events(["u2", "u1"], ["a", "b"], ["20", "10"]))
    assert list(ds.items.columns[:7]) == ["item_id", "title", "description", "category",
                                          "brand", "price", "promo"]
    assert list(ds.events.columns) == ["user_id", "item_id", "timestamp", "event", "weight"]
    assert ds.events["timestamp"].dtype == "int64"
    assert ds.events["weight"].dtype == "float64"
    assert ds.items["promo"].dtype == bool
    assert ds.events["user_id"].tolist() == ["u1", "u2"]  # sorted by user, time
    assert ds.events["event"].tolist() == ["purchase", "purchase"]
    assert ds.events["weight"].tolist() == [4.0, 4.0]
    assert ds.report == CleaningReport()


def test_duplicate_events_are_dropped_and_counted() -> None:
    events = _events(["u", "u", "u"], ["a", "a", "a"], [1, 1, 2],
                     event=["view", "view", "view"])
    ds = build_dataset(_items(), events)
    assert len(ds.events) == 2
    assert ds.report.duplicate_events == 1


def test_same_time_different_event_type_is_not_a_duplicate() -> None:
    events = _events(["u", "u"], ["a", "a"], [1, 1], event=["view", "click"])
    ds = build_dataset(_items(), events)
    assert len(ds.events) == 2
    assert ds.events["weight"].tolist() == [1.0, 2.0]


def test_custom_event_weights_and_given_weights() -> None:
    config = DataConfig(event_weights={"view": 0.5, "click": 1, "cart": 2, "purchase": 9})
    ds = build_dataset(_items(), _events(["u"], ["a"], [1], event=["VIEW "]), config=config)
    assert ds.events["event"].tolist() == ["view"]
    assert ds.events["weight"].tolist() == [0.5]
    given = build_dataset(_items(), _events(["u"], ["a"], [1], weight=["2.5"]))
    assert given.events["weight"].tolist() == [2.5]


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(DataError, match=r"unknown type 'like'"):
        build_dataset(_items(), _events(["u"], ["a"], [1], event=["like"]))


def test_unknown_items_dropped_and_counted_when_few() -> None:
    events = _events(["u", "u", "u"], ["a", "b", "zzz"], [1, 2, 3])
    ds = build_dataset(_items(), events)
    assert ds.report.unknown_item_events == 1
    assert set(ds.events["item_id"]) == {"a", "b"}


def test_mostly_unknown_items_is_a_wrong_file() -> None:
    events = _events(["u", "u", "u"], ["a", "x", "y"], [1, 2, 3])
    with pytest.raises(DataError, match=r"2 of 3 events have item ids that are not in the items"):
        build_dataset(_items(), events)


def test_missing_ids_are_dropped_and_counted() -> None:
    items = pd.DataFrame({"item_id": ["a", " ", "b"], "title": ["A", "X", "B"]})
    events = _events(["u", "", "u"], ["a", "a", None], [1, 2, 3])
    ds = build_dataset(items, events)
    assert ds.report.missing_ids == 3
    assert ds.items["item_id"].tolist() == ["a", "b"]


def test_identical_duplicate_items_deduplicated() -> None:
    items = pd.DataFrame({"item_id": ["a", "a", "b"], "title": ["A", "A", "B"]})
    ds = build_dataset(items, _events(["u"], ["a"], [1]))
    assert ds.items["item_id"].tolist() == ["a", "b"]
    assert ds.report.duplicate_items == 1


def test_conflicting_duplicate_items_name_the_ids() -> None:
    items = pd.DataFrame({"item_id": ["a", "a", "b"], "title": ["A", "Other", "B"]})
    with pytest.raises(DataError, match=r"item id 'a' appears more than once with different"):
        build_dataset(items, _events(["u"], ["a"], [1]))
    ids = list("abcdefg")  # seven ids with two titles each: five are named, then how many more
    items = pd.DataFrame({"item_id": ids * 2, "title": ids + [i.upper() for i in ids]})
    with pytest.raises(DataError, match=r"ids 'a', 'b', 'c', 'd', 'e' and 2 more appear"):
        build_dataset(items, _events(["u"], ["a"], [1]))


def test_empty_titles_filled_with_id_and_counted() -> None:
    ds = build_dataset(_items(title=["A", "", " "]), _events(["u"], ["a"], [1]))
    assert ds.items["title"].tolist() == ["A", "b", "c"]
    assert ds.report.empty_titles == 2


def test_html_entities_unescaped_and_counted() -> None:
    items = _items(title=["Tom &amp; Jerry", "AT&T phone", "B"],
                   brand=["Q&amp;A", "", "&#169; Co"], description=["a &lt; b", "", ""])
    ds = build_dataset(items, _events(["u"], ["a"], [1]))
    assert ds.items["title"].tolist() == ["Tom & Jerry", "AT&T phone", "B"]
    assert ds.items["brand"].tolist() == ["Q&A", "", "© Co"]
    assert ds.report.html_removed == 4


def test_bad_prices_become_unknown_and_are_counted() -> None:
    items = _items(price=["12.5", "-3", "9999999"])
    ds = build_dataset(items, _events(["u"], ["a"], [1]))
    assert ds.items["price"].iloc[0] == 12.5
    assert ds.items["price"].iloc[1:].isna().all()
    assert ds.report.bad_prices == 2
    assert build_dataset(_items(price=["", "x", "1"]), _events(["u"], ["a"], [1])
                         ).report.bad_prices == 1


def test_promo_flags_parsed_and_bad_flags_refused() -> None:
    ds = build_dataset(_items(promo=["1", "false", "Yes"]), _events(["u"], ["a"], [1]))
    assert ds.items["promo"].tolist() == [True, False, True]
    with pytest.raises(DataError, match="'promo'.*'maybe'"):
        build_dataset(_items(promo=["maybe", "1", "0"]), _events(["u"], ["a"], [1]))


def test_a_number_column_of_promo_flags_reads_its_ones_and_zeros() -> None:
    # a Parquet column of 1.0 / 0.0 with gaps: 1 is a promotion, 0 and a gap are not
    ds = build_dataset(_items(promo=[1.0, None, 0.0]), _events(["u"], ["a"], [1]))
    assert ds.items["promo"].tolist() == [True, False, False]
    with pytest.raises(DataError, match="'promo'.*'0.5'"):
        build_dataset(_items(promo=[0.5, 1.0, 0.0]), _events(["u"], ["a"], [1]))


def test_timestamps_unix_iso_and_milliseconds() -> None:
    parsed = parse_timestamps(pd.Series(["86400", "1970-01-02T00:00:00", "1970-01-02", ""]))
    assert parsed.tolist()[:3] == [86400.0, 86400.0, 86400.0]
    assert pd.isna(parsed.iloc[3])
    millis = parse_timestamps(pd.Series([1_700_000_000_000, 1_700_000_001_000]))
    assert millis.tolist() == [1_700_000_000.0, 1_700_000_001.0]
    with_zone = parse_timestamps(pd.Series(["2020-01-01T01:00:00+01:00"]))
    assert with_zone.tolist() == [1_577_836_800.0]


def test_a_few_unparseable_timestamps_are_dropped_and_counted() -> None:
    events = _events(["u", "u", "u"], ["a", "b", "c"], ["1", "2", "yesterday"])
    ds = build_dataset(_items(), events)
    assert ds.report.unparseable_timestamps == 1
    assert len(ds.events) == 2


def test_mostly_unparseable_timestamps_are_refused() -> None:
    events = _events(["u", "u"], ["a", "b"], ["yesterday", "today"])
    with pytest.raises(DataError, match="2 of 2 events have timestamps that do not parse"):
        build_dataset(_items(), events)


def test_missing_timestamp_column_keeps_row_order() -> None:
    events = pd.DataFrame({"user_id": ["u", "u"], "item_id": ["b", "a"]})
    ds = build_dataset(_items(), events)
    assert ds.events["item_id"].tolist() == ["b", "a"]


def test_min_count_filter_is_iterative_and_counted() -> None:
    # u1 has 2 events, u2 one; item c is only used by u2
    events = _events(["u1", "u1", "u2", "u3", "u3"], ["a", "b", "c", "a", "b"], [1, 2, 3, 4, 5])
    ds = build_dataset(_items(), events, config=DataConfig(min_user_events=2,
                                                            min_item_events=2))
    assert set(ds.events["user_id"]) == {"u1", "u3"}
    assert ds.report.filtered_users == 1
    assert ds.report.filtered_items == 1
    assert ds.report.filtered_events == 1
    assert len(ds.items) == 3  # the catalogue keeps items without events


def test_inputs_are_not_modified() -> None:
    items = _items(title=["A &amp; B", "", "C"], price=["-1", "2", "3"])
    events = _events(["u", "u"], ["a", "a"], ["1", "1"])
    items_copy, events_copy = items.copy(), events.copy()
    build_dataset(items, events)
    pd.testing.assert_frame_equal(items, items_copy)
    pd.testing.assert_frame_equal(events, events_copy)


def test_missing_required_column_names_column_and_source() -> None:
    with pytest.raises(DataError, match=r"items: missing required column title"):
        build_dataset(pd.DataFrame({"item_id": ["a"]}), _events(["u"], ["a"], [1]))
    with pytest.raises(DataError, match=r"events: missing required column user_id"):
        build_dataset(_items(), pd.DataFrame({"item_id": ["a"]}))


def test_column_map_in_build_dataset() -> None:
    items = pd.DataFrame({"sku": ["a"], "name": ["A"]})
    events = pd.DataFrame({"customer": ["u"], "sku": ["a"]})
    ds = build_dataset(items, events, column_map={"item_id": "sku", "title": "name",
                                                   "user_id": "customer"})
    assert ds.items["title"].tolist() == ["A"]
    assert ds.events["user_id"].tolist() == ["u"]


def test_report_rows_list_every_rule() -> None:
    rows = CleaningReport(duplicate_events=2).rows()
    assert ("duplicate events", 2, "events dropped") in rows
    assert len(rows) == 15


# ---- markup-leftover titles and a shared category root --------------------------------------
def _markup_items(titles: list[str], descriptions: list[str],
                  categories: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"item_id": [f"i{n}" for n in range(len(titles))], "title": titles,
                         "description": descriptions, "category": categories})


def test_markup_only_titles_take_the_description_or_are_dropped() -> None:
    from engine.core.config import DataConfig
    from engine.data.cleaning import CleaningReport, clean_items

    raw = _markup_items(
        ["Industrial & Scientific />.", "Caliper 6 inch,iGaging />.", "Plain Lamp",
         "<br> />."],
        ["Steel blue layout fluid. It coats metal.", "Digital caliper.", "", ""],
        ["Industrial & Scientific > Tools"] * 4)
    report = CleaningReport()
    items = clean_items(raw, DataConfig(), report)
    assert items["title"].tolist() == ["Steel blue layout fluid", "Caliper 6 inch,iGaging",
                                       "Plain Lamp"]
    assert report.markup_titles == 2 and report.markup_titles_dropped == 1
    assert "markup titles dropped" in [rule for rule, _, _ in report.rows()]


def test_long_description_titles_are_cut_at_a_word() -> None:
    from engine.data.cleaning import _first_sentence

    text = "word " * 40
    cut = _first_sentence(text)
    assert cut.endswith("…") and len(cut) <= 81 and " wor…" not in cut


def test_labels_drop_a_root_every_item_shares() -> None:
    from engine.data.cleaning import drop_shared_root

    names = ["Shop > Lamps", "Shop > Tools", "unknown"]
    assert drop_shared_root(names) == ["Lamps", "Tools", "unknown"]
    assert drop_shared_root(["Home > Lamps", "Garden > Tools"]) == ["Home > Lamps",
                                                                   "Garden > Tools"]
    assert drop_shared_root(["Shop", "Shop > Tools"]) == ["Shop", "Shop > Tools"]


def test_dataset_category_names_leave_out_the_shared_root() -> None:
    from engine.core.config import DataConfig
    from engine.data.cleaning import CleaningReport, clean_items
    from engine.data.schema import Dataset

    report = CleaningReport()
    items = clean_items(_markup_items(["a", "b", "c"], ["", "", ""],
                               ["Shop > Lamps > Desk", "Shop > Tools", "Shop > Lamps"]),
                        DataConfig(), report)
    matrix, names = Dataset("t", items, pd.DataFrame()).category_matrix()
    assert names == ["Lamps", "Tools"] and matrix.shape == (3, 2)
    assert report.shared_category_root == 3


def test_integer_ids_written_as_floats_are_normalised() -> None:
    items = pd.DataFrame({"item_id": ["1.0", "2.0"], "title": ["A", "B"]})
    events = pd.DataFrame({"user_id": ["17850.0", "13047.0"], "item_id": ["1.0", "2.0"]})
    ds = build_dataset(items, events)
    assert ds.items["item_id"].tolist() == ["1", "2"]
    assert sorted(ds.events["user_id"]) == ["13047", "17850"]
    mixed = build_dataset(pd.DataFrame({"item_id": ["1.0", "1.5"], "title": ["A", "B"]}),
                          pd.DataFrame({"user_id": ["u"], "item_id": ["1.5"]}))
    assert mixed.items["item_id"].tolist() == ["1.0", "1.5"]  # not all whole: kept as written


@pytest.mark.parametrize(("paths", "counted"), [
    (["Shop > Lamps", "Shop > Tools > Saws", None, ""], 2),
    (["Shop", "Shop > Tools"], 0),  # one path has no second level
    (["Home > Lamps", "Garden > Tools"], 0),
    (["Shop > Lamps", "Shopping > Tools"], 0),  # a root that starts like another is not it
    ([None, ""], 0),
])
def test_shared_root_is_counted_only_when_every_path_has_it(paths: list, counted: int) -> None:
    from engine.data.cleaning import CleaningReport, count_shared_root

    report = CleaningReport()
    count_shared_root(pd.Series(paths, dtype="str"), report)
    assert report.shared_category_root == counted
