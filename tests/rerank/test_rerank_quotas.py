"""Quotas: every feasible floor/cap request is met, never refused (one- and multi-label)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.errors import RequestError
from engine.rerank import rerank
from engine.rerank.quotas import QuotaTracker

N_CATS = 4


@st.composite
def feasible_requests(draw: st.DrawFn, multi_label: bool) -> dict:
    """Candidates, k, and quotas that a hidden witness list satisfies (so they are feasible):
    each quota's floor is at most, and its cap at least, the witness's count."""
    n = draw(st.integers(1, 18))
    k = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    member = np.eye(N_CATS, dtype=bool)[rng.integers(0, N_CATS, n)]
    if multi_label:
        member |= rng.random((n, N_CATS)) < 0.25
    witness = rng.permutation(n)[:min(k, n)]
    counts = member[witness].sum(axis=0)
    quotas = {}
    for cat in draw(st.sets(st.integers(0, N_CATS - 1), max_size=N_CATS)):
        floor = draw(st.none() | st.integers(0, int(counts[cat])))
        cap = draw(st.none() | st.integers(int(counts[cat]), int(counts[cat]) + 2))
        quotas[cat] = (floor, cap)
    return {"relevance": rng.normal(size=n), "k": k, "member": member, "quotas": quotas,
            "vectors": rng.normal(size=(n, 3)),
            "method": draw(st.sampled_from(["quota", "mmr", "dpp", "none"])),
            "weight": draw(st.floats(0, 1))}


def assert_meets(order: np.ndarray, member: np.ndarray, quotas: dict, n_slots: int) -> None:
    assert len(order) == n_slots and len(set(order.tolist())) == n_slots
    counts = member[order].sum(axis=0)
    for cat, (floor, cap) in quotas.items():
        assert floor is None or counts[cat] >= floor, (cat, counts, quotas)
        assert cap is None or counts[cat] <= cap, (cat, counts, quotas)


@pytest.mark.parametrize("multi_label", [False, True])
def test_feasible_quotas_are_always_met(multi_label: bool) -> None:
    @settings(max_examples=120 if not multi_label else 60, deadline=None)
    @given(request=feasible_requests(multi_label))
    def check(request: dict) -> None:
        member, quotas = request["member"], request["quotas"]
        categories = member / member.sum(axis=1, keepdims=True)
        vectors = request["vectors"] if request["method"] != "quota" else None
        result = rerank(request["method"], request["relevance"], request["k"],
                        request["weight"], item_vectors=vectors, item_categories=categories,
                        quotas=quotas or {0: (None, None)})
        assert_meets(result.order, member, quotas, min(request["k"], len(member)))

    check()


def test_an_early_pick_must_not_use_up_the_only_way_to_a_floor() -> None:
    """Item 0 (most relevant) is in A only; item 1 is the only B item, and it is also in A.
    With A capped at 1 and B's floor at 1, taking item 0 first would strand B's floor."""
    cats = np.array([[1, 0, 0], [0.5, 0.5, 0], [0, 0, 1], [0, 0, 1]])
    quotas = {0: (None, 1), 1: (1, None)}
    order = rerank("quota", np.array([0.9, 0.1, 0.5, 0.4]), 3, 0.0, item_categories=cats,
                   quotas=quotas).order
    assert sorted(order.tolist()) == [1, 2, 3]


def test_caps_leave_room_for_the_rest_of_the_list() -> None:
    """Two of three B items are also in capped A: one list of 3 exists, and it is found."""
    cats = np.array([[1, 0], [0.5, 0.5], [0.5, 0.5], [0, 1]])
    order = rerank("quota", np.array([0.9, 0.8, 0.7, 0.1]), 3, 0.2, item_categories=cats,
                   quotas={0: (None, 2), 1: (2, None)}).order
    assert_meets(order, cats > 0, {0: (None, 2), 1: (2, None)}, 3)


def test_infeasible_multi_label_quotas_are_refused_up_front() -> None:
    # each floor and cap alone can be met, but both B items are also A items
    cats = np.array([[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 1], [0, 0, 1]])
    with pytest.raises(RequestError, match="no list of 2 of these candidates meets"):
        QuotaTracker({0: (None, 1), 1: (2, None)}, cats, 2)


def test_targets_split_into_quotas_and_shares() -> None:
    from engine.rerank.quotas import quotas_from_targets, shares_from_targets

    rows = {"Lamps": {"floor": 1, "cap": None, "share": 0.5},
            "Desks": {"floor": None, "cap": 2, "share": None},
            "Rugs": {"floor": None, "cap": None, "share": 0.0}}
    assert quotas_from_targets(rows) == {"Lamps": [1, None], "Desks": [None, 2]}
    assert shares_from_targets(rows) == {"Lamps": 0.5}


def test_target_arguments_per_method() -> None:
    from engine.rerank.quotas import target_arguments

    rows = {"Lamps": {"floor": 1, "cap": 3, "share": 0.25}, "Desks": {"share": None}}
    assert target_arguments("quota", rows) == {"quotas": {"Lamps": [1, 3]}}
    assert target_arguments("calibrated", rows) == {"target": {"Lamps": 0.25}}
    assert target_arguments("mmr", rows) == {} and target_arguments("dpp", rows) == {}
    assert target_arguments("quota", {"Desks": {"share": 0.5}}) == {}  # no bound: no quotas
    assert target_arguments("calibrated", {}) == {}


@pytest.mark.parametrize(("k", "cap"), [(1, 1), (3, 1), (4, 1), (5, 2), (10, 3), (12, 3)])
def test_default_quotas_cap_each_category_at_a_quarter_of_the_list(k: int, cap: int) -> None:
    from engine.rerank.quotas import default_cap, default_quotas

    assert default_cap(k) == cap
    assert default_quotas(["Lamps", "Desks"], k) == {"Lamps": [None, cap], "Desks": [None, cap]}
