"""Policy stages on hand-made catalogues: each stage's guarantee, by example and by property."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_support import make_catalogue

from engine.core.errors import ConfigError
from engine.policy.attribution import list_attribution, removal_counts
from engine.policy.compile import compile_policy
from engine.policy.schema import parse_policy
from engine.rerank.pipeline import ShopperBatch, apply_policy

N_ITEMS = 30


def catalogue(seed: int = 0, n: int = N_ITEMS, n_brands: int = 4):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, 6)).astype(np.float32)
    return make_catalogue([f"b{j % n_brands}" for j in range(n)],
                          [f"c{j % 3}" for j in range(n)],
                          prices=[float(p) for p in rng.uniform(1, 100, n)],
                          promo=[j % 5 == 0 for j in range(n)],
                          vectors=vectors / np.linalg.norm(vectors, axis=1, keepdims=True))


def batch(scores: np.ndarray, seen: list[list[int]] | None = None,
          top: list[int] | None = None) -> ShopperBatch:
    n_users, n_items = scores.shape
    seen = seen or [[] for _ in range(n_users)]
    rows = [r for r, s in enumerate(seen) for _ in s]
    cols = [c for s in seen for c in s]
    return ShopperBatch(scores=scores, seen=sp.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(n_users, n_items)),
        top_category=np.array(top if top is not None else [-1] * n_users))


def run(stages: list[dict], scores: np.ndarray, k: int = 5, **kwargs):
    compiled = compile_policy(parse_policy({"name": "t", "stages": stages}), catalogue())
    return compiled, apply_policy(compiled, batch(scores, **kwargs), k, count_removed=True)


def descending(n_users: int = 1) -> np.ndarray:
    """Scores where item j beats item j + 1 (relevance order is 0, 1, 2, ...)."""
    return np.tile(-np.arange(N_ITEMS, dtype=np.float64), (n_users, 1))


def test_no_stages_is_the_model_top_k_without_seen_items():
    _, lists = run([], descending(), seen=[[0, 2]])
    assert lists.items[0].tolist() == [1, 3, 4, 5, 6]


def test_filter_by_brand_and_price_keeps_only_passing_items():
    compiled, lists = run([{"kind": "filter", "keep": {"brands": ["b1"]}, "price_max": 60}],
                          descending())
    shown = lists.items[0][lists.items[0] >= 0]
    assert all(j % 4 == 1 for j in shown)
    assert removal_counts(lists, 0)["filter #1"] > 0


def test_boost_moves_a_brand_up_and_says_so():
    compiled, lists = run([{"kind": "boost", "match": {"brands": ["b3"]}, "strength": 0.5}],
                          descending())
    assert lists.items[0][0] == 3
    assert list_attribution(compiled, lists, 0)[0] == ["moved from 4 to 1 by brand b3 +0.50"]


def test_bury_moves_a_brand_down():
    _, lists = run([{"kind": "bury", "match": {"brands": ["b0"]}, "strength": 1.0}],
                   descending())
    assert all(j % 4 != 0 for j in lists.items[0])


def test_cap_per_brand_and_attribution_of_moves():
    compiled, lists = run([{"kind": "boost", "match": {"brands": ["b0"]}, "strength": 1.0},
                           {"kind": "cap", "column": "brand", "max_items": 2}], descending())
    brands = [j % 4 for j in lists.items[0]]
    assert max(brands.count(b) for b in set(brands)) <= 2
    assert removal_counts(lists, 0)["cap brand ≤ 2"] >= 1


def test_pin_takes_its_slot_and_shifts_the_rest():
    compiled, lists = run([{"kind": "pin", "item_id": "i20", "slot": 2}], descending())
    assert lists.items[0].tolist() == [0, 20, 1, 2, 3]
    notes = list_attribution(compiled, lists, 0)
    assert notes[1] == ["pinned at 2"] and "shifted to 3 by pins" in notes[2]


def test_pin_for_a_segment_only():
    _, lists = run([{"kind": "pin", "item_id": "i20", "slot": 1,
                     "segment": {"top_categories": ["c1"]}}], descending(2), top=[1, 0])
    assert lists.items[0][0] == 20 and 20 not in lists.items[1]


def test_filter_wins_over_a_pin_with_a_notice():
    _, lists = run([{"kind": "filter", "drop": {"item_ids": ["i20"]}},
                    {"kind": "pin", "item_id": "i20", "slot": 1}], descending())
    assert 20 not in lists.items[0]
    assert any("filters win" in n for n in lists.notices[0])


def test_pin_beyond_k_is_a_notice_not_an_error():
    _, lists = run([{"kind": "pin", "item_id": "i20", "slot": 9}], descending(), k=5)
    assert 20 not in lists.items[0]
    assert any("beyond the list length" in n for n in lists.notices[0])


def test_promotion_share_reserves_slots_for_promo_items():
    compiled, lists = run([{"kind": "promote", "match": {"promo": True}, "share": 0.4}],
                          descending(), k=5)
    promo = [j for j in lists.items[0] if j % 5 == 0]
    assert len(promo) >= 2
    assert any("promoted slot" in notes for notes in list_attribution(compiled, lists, 0))


def test_floor_returns_fewer_items_rather_than_poor_ones():
    _, lists = run([{"kind": "floor", "min_relevance": 0.9}], descending(), k=10)
    shown = lists.items[0][lists.items[0] >= 0]
    assert 0 < len(shown) < 10 and max(shown) <= 3  # relevance of item j is 1 - j / 29
    assert any("only" in n for n in lists.notices[0])


def test_caps_win_over_an_infeasible_promotion_share():
    _, lists = run([{"kind": "promote", "match": {"brands": ["b0"]}, "share": 0.8},
                    {"kind": "cap", "column": "brand", "max_items": 1}], descending(), k=5)
    brands = [j % 4 for j in lists.items[0]]
    assert brands.count(0) == 1
    assert any("not met" in n for n in lists.notices[0])


def test_quotas_on_an_unknown_category_fail_the_stage_as_a_request_says_it():
    """A policy's quotas name categories as a plain request does, and are refused alike."""
    with pytest.raises(ConfigError, match=re.escape(
            "stage 1 (diversify): diversify quotas: unknown category ['Nowhere']; known "
            "categories are 'c0', 'c1', 'c2'")):
        run([{"kind": "diversify", "method": "quota", "weight": 0.5,
              "quotas": {"Nowhere": [1, 2]}}], descending())


def test_diversify_dpp_changes_the_order_and_reports_moves():
    compiled, lists = run([{"kind": "diversify", "method": "dpp", "weight": 0.9}],
                          descending(), k=8)
    assert lists.items[0].tolist() != list(range(8))
    notes = [n for slot in list_attribution(compiled, lists, 0) for n in slot]
    assert any(n.startswith("moved from") and n.endswith("by DPP 0.9") for n in notes)


@pytest.mark.parametrize("method", ["mmr", "dpp", "calibrated"])
def test_weight_zero_is_the_relevance_order(method):
    _, lists = run([{"kind": "diversify", "method": method, "weight": 0.0}], descending())
    assert lists.items[0].tolist() == [0, 1, 2, 3, 4]


policies = st.fixed_dictionaries({
    "cap": st.integers(1, 3), "share": st.sampled_from([0.0, 0.2, 0.4]),
    "pin_slot": st.integers(1, 7), "pin_item": st.integers(0, N_ITEMS - 1),
    "drop_brand": st.sampled_from([None, "b2"]), "method": st.sampled_from(
        ["mmr", "dpp", None]), "weight": st.floats(0, 1), "k": st.integers(1, 8),
    "seed": st.integers(0, 10_000)})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies)
def test_every_stage_keeps_its_guarantee(spec):
    """Caps hold (pins aside), promotion share holds when feasible, pins sit at their
    slots, filtered and already-bought items never appear, lists have no duplicates."""
    stages = [{"kind": "cap", "column": "brand", "max_items": spec["cap"]},
              {"kind": "pin", "item_id": f"i{spec['pin_item']}", "slot": spec["pin_slot"]}]
    if spec["drop_brand"]:
        stages.append({"kind": "filter", "drop": {"brands": [spec["drop_brand"]]}})
    if spec["share"]:
        stages.append({"kind": "promote", "match": {"promo": True}, "share": spec["share"]})
    if spec["method"]:
        stages.append({"kind": "diversify", "method": spec["method"], "weight": spec["weight"]})
    rng = np.random.default_rng(spec["seed"])
    scores = rng.normal(size=(3, N_ITEMS))
    seen = [list(rng.choice(N_ITEMS, size=3, replace=False)) for _ in range(3)]
    k = spec["k"]
    compiled, lists = run(stages, scores, k=k, seen=seen)
    dropped_brand = None if not spec["drop_brand"] else int(spec["drop_brand"][1])
    for row in range(3):
        items = [int(j) for j in lists.items[row] if j >= 0]
        assert len(items) == len(set(items))
        assert not set(items) & set(int(s) for s in seen[row])
        assert dropped_brand is None or all(j % 4 != dropped_brand for j in items)
        pin = spec["pin_item"]
        pin_allowed = pin not in seen[row] and (dropped_brand is None or pin % 4 != dropped_brand)
        if pin_allowed and spec["pin_slot"] <= k:
            assert items[min(spec["pin_slot"], len(items)) - 1] == pin
        free = [j for j in items if not (j == pin and pin_allowed)]
        for brand in range(4):
            pinned_here = int(pin_allowed and spec["pin_slot"] <= k and pin % 4 == brand)
            assert sum(j % 4 == brand for j in free) <= max(spec["cap"] - pinned_here, 0)
        if spec["share"] and not any("not met" in n for n in lists.notices[row]):
            assert sum(j % 5 == 0 for j in items) >= int(np.ceil(spec["share"] * k - 1e-9))


def test_preview_relevance_matches_the_metrics_module():
    from engine.metrics import hit_at_k, ndcg_at_k, precision_at_k, recall_at_k
    from engine.metrics._lists import hits_and_counts
    from engine.metrics.relevance import relevance_from_hits

    rng = np.random.default_rng(3)
    lists = rng.integers(0, 20, size=(40, 5))
    lists[::7, -2:] = -1
    truth = [rng.choice(20, size=rng.integers(0, 4), replace=False) for _ in range(40)]
    hits, n_truth = hits_and_counts(lists, truth)
    fast = relevance_from_hits(hits.astype(float), n_truth, 5)
    for name, reference in (("ndcg", ndcg_at_k), ("recall", recall_at_k),
                            ("precision", precision_at_k), ("hit", hit_at_k)):
        np.testing.assert_allclose(fast[f"{name}@5"], reference(lists, truth), atol=1e-12)


def test_exposure_helpers_against_a_loop():
    from engine.metrics.exposure import exposure_shares, group_exposure, total_group_exposure

    lists = np.array([[0, 1, 2], [2, -1, -1], [3, 0, 1]])
    groups = np.array([0, 1, 1, -1])
    expected = np.zeros((3, 2))
    for row, items in enumerate(lists):
        for slot, item in enumerate(items):
            if item >= 0 and groups[item] >= 0:
                expected[row, groups[item]] += 1 / np.log2(slot + 2)
    np.testing.assert_allclose(group_exposure(lists, groups, 2), expected, atol=1e-12)
    np.testing.assert_allclose(total_group_exposure(lists, groups, 2), expected.sum(0),
                               atol=1e-12)
    shares = exposure_shares(expected)
    np.testing.assert_allclose(shares, expected.sum(0) / expected.sum(), atol=1e-12)


def test_a_pin_beyond_a_short_list_moves_up_and_says_so():
    # the filter leaves items 1, 5 and the pin: a list of 3 in 5 slots
    _, lists = run([{"kind": "filter", "keep": {"item_ids": ["i1", "i5", "i20"]}},
                    {"kind": "pin", "item_id": "i20", "slot": 5}], descending(), k=5)
    assert lists.items[0].tolist() == [1, 5, 20, -1, -1]
    assert any("pinned item moved up" in n for n in lists.notices[0])


def test_a_pin_that_keeps_its_slot_gives_no_moved_up_notice():
    _, lists = run([{"kind": "filter", "keep": {"item_ids": ["i1", "i5", "i20"]}},
                    {"kind": "pin", "item_id": "i20", "slot": 2}], descending(), k=5)
    assert lists.items[0].tolist() == [1, 20, 5, -1, -1]
    assert not any("moved up" in n for n in lists.notices[0])


def test_floor_only_quotas_name_no_cap_rule() -> None:
    compiled, lists = run([{"kind": "diversify", "method": "quota", "weight": 0.0,
                            "quotas": {"c2": [2, None]}}], descending(), k=3)
    assert sum(j % 3 == 2 for j in lists.items[0]) >= 2
    assert "quota caps" not in removal_counts(lists, 0)
    notes = [note for slot in list_attribution(compiled, lists, 0) for note in slot]
    assert notes and not any("quota caps" in note for note in notes)
