"""The Recommender service on tiny trained runs, plus hand-checked trend math."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.errors import RequestError
from engine.serving.recommender import Recommender
from engine.serving.results import TABLE_COLUMNS
from engine.serving.trending import trending_scores

pytest_plugins = ["serving_runs"]


def _first_user(service: Recommender) -> str:
    return service.user_ids[0]


def _seen(service: Recommender, user_id: str) -> set[str]:
    return set(service.history(user_id)["item_id"])


# ---- recommend ----------------------------------------------------------------------------

def test_recommend_table_shape_and_no_seen_items(ease_service: Recommender) -> None:
    user = _first_user(ease_service)
    result = ease_service.recommend(user_id=user, k=7, method="mmr", diversity_weight=0.4)
    assert list(result.table.columns) == list(TABLE_COLUMNS)
    assert result.table["rank"].tolist() == list(range(1, 8))
    assert result.table["item_id"].is_unique
    assert not set(result.table["item_id"]) & _seen(ease_service, user)
    assert result.notice is None
    assert result.table["explanation"].str.len().gt(0).all()


@pytest.mark.parametrize("method", ["none", "mmr", "dpp", "calibrated"])
def test_weight_zero_gives_the_relevance_order(ease_service: Recommender, method: str) -> None:
    result = ease_service.recommend(user_id=_first_user(ease_service), k=10, method=method,
                                    diversity_weight=0.0)
    assert result.table["item_id"].tolist() == result.relevance_only["item_id"].tolist()


def test_diversity_weight_raises_category_variety(twotower_service: Recommender) -> None:
    user = _first_user(twotower_service)
    plain = twotower_service.recommend(user_id=user, k=10, method="mmr", diversity_weight=0.0)
    diverse = twotower_service.recommend(user_id=user, k=10, method="mmr", diversity_weight=0.9)
    assert diverse.table["category"].nunique() >= plain.table["category"].nunique()


def test_include_seen_items_widens_the_pool(ease_service: Recommender) -> None:
    user = _first_user(ease_service)
    result = ease_service.recommend(user_id=user, k=5, exclude_seen=False)
    assert result.n_candidates == ease_service.catalogue.n_items


def test_what_if_history_equals_the_users_own_history_for_ease(ease_service: Recommender) -> None:
    user = _first_user(ease_service)
    history = ease_service.history(user)["item_id"].tolist()
    own = ease_service.recommend(user_id=user, k=8, method="dpp", diversity_weight=0.3)
    what_if = ease_service.recommend(history=history, k=8, method="dpp", diversity_weight=0.3)
    pd.testing.assert_frame_equal(own.table, what_if.table)


def test_what_if_history_changes_with_the_session(twotower_service: Recommender) -> None:
    items = twotower_service.catalogue.items["item_id"].tolist()
    first = twotower_service.recommend(history=items[:3], k=5)
    second = twotower_service.recommend(history=items[100:103], k=5)
    assert first.table["item_id"].tolist() != second.table["item_id"].tolist()
    assert not set(first.table["item_id"]) & set(items[:3])


def test_unknown_history_ids_are_listed(ease_service: Recommender) -> None:
    with pytest.raises(RequestError, match=r"2 unknown item ids: 'nope', 'gone'"):
        ease_service.recommend(history=["nope", ease_service.catalogue.items["item_id"][0], "gone"])
    many = [f"x{i}" for i in range(12)]  # ten are named, then how many more
    with pytest.raises(RequestError, match=r"12 unknown item ids: 'x0', .*'x9' and 2 more;"):
        ease_service.recommend(history=many)


@pytest.mark.parametrize("user_id, history, notice", [
    ("no-such-shopper", None, "unknown shopper 'no-such-shopper'"),
    (None, None, "no shopper or history given"),
    (None, [], "the history is empty"),
])
def test_unknown_or_missing_shopper_falls_back_to_trending(
        ease_service: Recommender, user_id: str | None, history: list | None, notice: str) -> None:
    result = ease_service.recommend(user_id=user_id, history=history, k=5)
    assert notice in result.notice
    hot = ease_service.hot_items(k=5)
    assert result.table["item_id"].tolist() == hot.table["item_id"].tolist()


@pytest.mark.parametrize("changes, message", [
    ({"k": 0}, "k: Input should be greater than or equal to 1"),
    ({"k": 201}, "k must be between 1 and the catalogue size 200"),
    ({"k": 2.5}, "k: Input should be a valid integer"),
    ({"k": "5"}, "k: must be a number, not text, got '5'"),
    ({"diversity_weight": 1.5}, r"diversity_weight must be in \[0, 1\]"),
    ({"diversity_weight": float("nan")}, r"diversity_weight must be in \[0, 1\]"),
    ({"method": "random"}, "method: Input should be 'none', 'mmr'"),
    ({"method": "quota"}, "method 'quota' needs quotas"),
    ({"categories": ["Nope"]}, r"categories: unknown category \['Nope'\]"),
    ({"target": {"Nope": 1.0}, "method": "calibrated"}, "target: unknown category"),
    ({"target": {}, "method": "mmr"}, "target applies to method 'calibrated' only"),
    ({"n_candidates": 0}, "n_candidates: Input should be greater than or equal to 1"),
    ({"promo_boost": float("inf")}, "promo_boost: Input should be a finite number"),
    ({"history": "P001"}, "history: Input should be a valid list"),
    ({"target_mix": 1.5}, r"target_mix must be in \[0, 1\]"),
    ({"target_mix": float("nan")}, r"target_mix must be in \[0, 1\]"),
    ({"target_mix": "half"}, r"target_mix must be a number in \[0, 1\]"),
])
def test_bad_requests_are_rejected(ease_service: Recommender, changes: dict,
                                   message: str) -> None:
    with pytest.raises(RequestError, match=message):
        ease_service.recommend(user_id=_first_user(ease_service), **changes)


def test_impossible_quotas_are_rejected(ease_service: Recommender) -> None:
    counts = (ease_service.catalogue.item_categories > 0).sum(axis=0)
    big = [ease_service.category_names[c] for c in np.argsort(-counts, kind="stable")[:2]]
    names = ease_service.category_names
    user = _first_user(ease_service)
    with pytest.raises(RequestError, match="floors add up to 6, more than the list length k=5"):
        ease_service.recommend(user_id=user, k=5, method="quota",
                               quotas={big[0]: [3, None], big[1]: [3, None]})
    with pytest.raises(RequestError, match="floor 3 is above cap 1"):
        ease_service.recommend(user_id=user, method="quota", quotas={names[0]: [3, 1]})
    scarce = int(np.argmin(counts))  # a floor above what the catalogue holds of a category
    with pytest.raises(RequestError, match=f"floor {counts[scarce] + 1} but only"):
        ease_service.recommend(user_id=user, k=int(counts[scarce]) + 1, method="quota",
                               quotas={names[scarce]: [int(counts[scarce]) + 1, None]})


def test_quota_floors_and_caps_hold(ease_service: Recommender) -> None:
    names = ease_service.category_names
    result = ease_service.recommend(user_id=_first_user(ease_service), k=10, method="quota",
                                    diversity_weight=0.2,
                                    quotas={names[0]: [3, None], names[1]: [None, 1]})
    counts = result.table["category"].value_counts()
    assert counts.get(names[0], 0) >= 3
    assert counts.get(names[1], 0) <= 1


def test_category_filter_and_boosts(ease_service: Recommender) -> None:
    user = _first_user(ease_service)
    name = ease_service.category_names[2]
    filtered = ease_service.recommend(user_id=user, k=3, categories=[name])
    assert set(filtered.table["category"]) == {name}
    boosted = ease_service.recommend(user_id=user, k=3, category_boosts={name: 5.0})
    assert set(boosted.table["category"]) == {name}
    assert boosted.table["explanation"].str.contains("boosted +5.00", regex=False).all()


def test_promo_boost_lifts_promoted_items(ease_service: Recommender) -> None:
    promo = ease_service.catalogue.promo
    result = ease_service.recommend(user_id=_first_user(ease_service), k=3, promo_boost=5.0)
    positions = ease_service.catalogue.item_index.get_indexer(result.table["item_id"])
    assert promo.sum() >= 3
    assert promo[positions].all()


def test_calibrated_with_a_merchandiser_target(ease_service: Recommender) -> None:
    name = ease_service.category_names[0]
    result = ease_service.recommend(user_id=_first_user(ease_service), k=10, method="calibrated",
                                    diversity_weight=1.0, target={name: 1.0})
    assert (result.table["category"] == name).sum() >= 5
    assert np.isfinite(result.table["diversity_gain"]).all()


def _calibrated_ids(service: Recommender, **changes: object) -> list[str]:
    result = service.recommend(user_id=_first_user(service), k=10, method="calibrated",
                               diversity_weight=1.0, **changes)
    return result.table["item_id"].tolist()


@pytest.mark.parametrize("target_mix", [0.0, 0.3, 1.0])
def test_target_mix_blends_history_and_catalogue(ease_service: Recommender,
                                                 target_mix: float) -> None:
    # the blended target must give the same list as spelling it out as a merchandiser target
    catalogue = ease_service.catalogue
    position = catalogue.user_index.get_indexer([_first_user(ease_service)])[0]
    history = catalogue.history_distribution(catalogue.user_items[position])
    blended = (1 - target_mix) * history + target_mix * catalogue.category_prior
    spelled = {name: float(share) for name, share in zip(ease_service.category_names, blended,
                                                         strict=True)}
    assert _calibrated_ids(ease_service, target_mix=target_mix) == \
        _calibrated_ids(ease_service, target=spelled)


def test_target_mix_default_and_explicit_target(ease_service: Recommender) -> None:
    assert _calibrated_ids(ease_service) == _calibrated_ids(ease_service, target_mix=0.5)
    assert _calibrated_ids(ease_service, target_mix=0.0) != \
        _calibrated_ids(ease_service, target_mix=1.0)
    target = {ease_service.category_names[0]: 1.0}  # a merchandiser's target stays as given
    assert _calibrated_ids(ease_service, target=target, target_mix=0.0) == \
        _calibrated_ids(ease_service, target=target, target_mix=1.0)


def test_category_prior_is_the_mean_item_row(ease_service: Recommender) -> None:
    catalogue = ease_service.catalogue
    # one category per item here: the prior is each category's share of the items
    assert (catalogue.item_categories.max(axis=1) == 1).all()
    counts = np.bincount(catalogue.item_categories.argmax(axis=1),
                         minlength=len(catalogue.category_names))
    np.testing.assert_allclose(catalogue.category_prior, counts / catalogue.n_items, rtol=1e-6,
                               atol=1e-9)
    assert catalogue.category_prior.sum() == pytest.approx(1.0)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=st.integers(1, 30), weight=st.floats(0, 1),
       method=st.sampled_from(["none", "mmr", "dpp", "calibrated"]), user=st.integers(0, 80))
def test_lists_are_unique_unseen_and_of_length_k(ease_service: Recommender, k: int,
                                                  weight: float, method: str, user: int) -> None:
    user_id = ease_service.user_ids[user]
    result = ease_service.recommend(user_id=user_id, k=k, method=method, diversity_weight=weight)
    assert len(result.table) == k
    assert result.table["item_id"].is_unique
    assert not set(result.table["item_id"]) & _seen(ease_service, user_id)


# ---- trending, history, search -----------------------------------------------------------

def test_trending_decays_by_half_life() -> None:
    day = 86_400
    events = pd.DataFrame({"item_idx": [0, 1, 1], "timestamp": [10 * day, 3 * day, 10 * day],
                           "weight": [1.0, 2.0, 0.5]})
    np.testing.assert_allclose(trending_scores(events, 3, half_life_days=7), [1.0, 1.5, 0.0],
                               atol=1e-6)
    with pytest.raises(RequestError, match="half_life_days must be a number > 0"):
        trending_scores(events, 3, half_life_days=0)


def test_hot_items_follow_the_trend_at_weight_zero(ease_service: Recommender) -> None:
    catalogue = ease_service.catalogue
    trend = trending_scores(catalogue.events, catalogue.n_items, 7.0)
    result = ease_service.hot_items(k=5, half_life_days=7.0)
    positions = catalogue.item_index.get_indexer(result.table["item_id"])
    assert np.all(np.diff(trend[positions]) <= 0)
    assert trend[positions[0]] == trend.max()
    assert result.table["explanation"].str.contains("popular lately").all()


def test_history_lists_the_training_events_in_time_order(ease_service: Recommender) -> None:
    user = _first_user(ease_service)
    frame = ease_service.history(user)
    assert list(frame.columns) == ["item_id", "title", "category", "timestamp", "weight"]
    expected = ease_service.run.histories
    expected = expected[expected["user_id"] == user]
    assert sorted(frame["item_id"]) == sorted(expected["item_id"])
    assert frame["timestamp"].is_monotonic_increasing
    with pytest.raises(RequestError, match="unknown shopper 'ghost'"):
        ease_service.history("ghost")


def test_search_finds_an_item_by_its_title(ease_service: Recommender, encoder_cache) -> None:  # noqa: ANN001
    title = ease_service.catalogue.items["title"].iloc[17]
    result = ease_service.search(title, k=5)
    assert result.table["title"].iloc[0] == title
    assert "text match" in result.table["explanation"].iloc[0]
    personal = ease_service.search(title, user_id=_first_user(ease_service), k=5)
    assert personal.notice is None and len(personal.table) == 5
    stranger = ease_service.search(title, user_id="ghost", k=5)
    assert "not personalised" in stranger.notice
    with pytest.raises(RequestError, match="query is empty"):
        ease_service.search("   ")


def test_item_lookup(ease_service: Recommender) -> None:
    item_id = ease_service.catalogue.items["item_id"].iloc[3]
    record = ease_service.item(item_id)
    assert record["item_id"] == item_id and "diversity_category" in record
    with pytest.raises(RequestError, match="unknown item id 'zzz'"):
        ease_service.item("zzz")


# ---- cold start ---------------------------------------------------------------------------

def _new_items(service: Recommender) -> pd.DataFrame:
    categories = service.catalogue.items["category"]
    return pd.DataFrame({"item_id": ["NEW1", "NEW2"],
                         "title": ["Quantum Flux Capacitor Widget", "Aurora Glass Teapot"],
                         "description": ["", "<p>hand-blown&nbsp;<b>glass</b></p>"],
                         "category": [categories.iloc[0], categories.iloc[5]],
                         "brand": ["Acme", "Acme"], "price": ["19.5", ""],
                         "promo": ["true", "false"]})


def test_cold_start_items_are_servable_and_persisted(private_twotower_run) -> None:  # noqa: ANN001
    service = Recommender.load(private_twotower_run)
    added = service.add_items(_new_items(service))
    assert added["item_id"].tolist() == ["NEW1", "NEW2"]
    assert added["description"].tolist() == ["", "hand-blown glass"]  # as the import reads it
    assert service.catalogue.n_items == 202
    found = service.search("Quantum Flux Capacitor Widget", k=3)
    assert found.table["item_id"].iloc[0] == "NEW1"
    what_if = service.recommend(history=["NEW1"], k=5)
    assert "NEW1" not in set(what_if.table["item_id"])
    reloaded = Recommender.load(service.run.path)
    assert reloaded.catalogue.n_items == 202
    assert reloaded.item("NEW1")["promo"] is True
    assert reloaded.item("NEW2")["price"] is None
    np.testing.assert_allclose(reloaded.catalogue.item_vectors, service.catalogue.item_vectors,
                               atol=1e-5)


def test_cold_start_rejects_bad_tables(private_twotower_run, ease_service) -> None:  # noqa: ANN001
    service = Recommender.load(private_twotower_run)
    existing = service.catalogue.items["item_id"].iloc[0]
    with pytest.raises(RequestError, match="already in the catalogue"):
        service.add_items(pd.DataFrame({"item_id": [existing], "title": ["x"]}))
    with pytest.raises(RequestError, match=r"the table of new items lacks the column title"):
        service.add_items(pd.DataFrame({"item_id": ["N9"]}))
    with pytest.raises(RequestError, match="'N9' has no category and the run has no 'unknown'"):
        service.add_items(pd.DataFrame({"item_id": ["N9"], "title": ["a"]}))
    with pytest.raises(RequestError, match="category 'Mars > Rocks' is not one of the run's"):
        service.add_items(pd.DataFrame({"item_id": ["N9"], "title": ["a"],
                                        "category": ["Mars > Rocks > Red"]}))
    with pytest.raises(RequestError, match="repeated"):
        service.add_items(pd.DataFrame({"item_id": ["N9", "N9"], "title": ["a", "b"]}))
    with pytest.raises(RequestError, match="cannot score items it never saw"):
        ease_service.add_items(pd.DataFrame({"item_id": ["N9"], "title": ["a"]}))
    assert service.catalogue.n_items == 200


def test_cold_start_reads_prices_and_flags_as_the_import_does(private_twotower_run) -> None:  # noqa: ANN001
    service = Recommender.load(private_twotower_run)
    category = service.catalogue.items["category"].iloc[0]

    def table(price: str, promo: str, item: str = "N1") -> pd.DataFrame:
        return pd.DataFrame({"item_id": [item], "title": ["Lamp"], "category": [category],
                             "price": [price], "promo": [promo]})

    for price in ("12,5x", "1,299", "-3"):  # not one amount; either mark; below zero
        with pytest.raises(RequestError, match=rf"1 price cannot be read.*N1: '{price}'"):
            service.add_items(table(price, "yes"))
    with pytest.raises(RequestError, match="'promo' has values that are not a yes/no flag"):
        service.add_items(table("3", "maybe"))
    assert service.catalogue.n_items == 200  # nothing was added by a refused table
    added = service.add_items(table("1.299,50 €", "Yes"))
    assert added["price"].tolist() == [pytest.approx(1299.5, abs=1e-9)]
    assert added["promo"].tolist() == [True]
