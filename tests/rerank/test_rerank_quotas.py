"""Quotas through the one pipeline: every feasible floor/cap request over single-label items is
met, never refused; an item counts towards the floor of each category it has mass in and the
cap of its main category (as serving counts them); what no list can meet is refused up front."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.errors import RequestError
from engine.rerank import rerank

N_CATS = 4


@st.composite
def feasible_requests(draw: st.DrawFn) -> dict:
    """Candidates, k, and quotas that a hidden witness list satisfies (so they are feasible):
    each quota's floor is at most, and its cap at least, the witness's count."""
    n = draw(st.integers(1, 18))
    k = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    member = np.eye(N_CATS, dtype=bool)[rng.integers(0, N_CATS, n)]
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


def test_feasible_quotas_are_always_met() -> None:
    @settings(max_examples=120, deadline=None)
    @given(request=feasible_requests())
    def check(request: dict) -> None:
        member, quotas = request["member"], request["quotas"]
        vectors = request["vectors"] if request["method"] != "quota" else None
        result = rerank(request["method"], request["relevance"], request["k"],
                        request["weight"], item_vectors=vectors,
                        item_categories=member.astype(float),
                        quotas=quotas or {0: (None, None)})
        assert_meets(result.order, member, quotas, min(request["k"], len(member)))

    check()


def test_floors_count_every_category_caps_the_main_one() -> None:
    """Item 1 is in A and B, mostly A: it fills B's floor and counts towards A's cap."""
    cats = np.array([[1, 0, 0], [0.6, 0.4, 0], [0, 0, 1], [0, 0, 1]])
    order = rerank("quota", np.array([0.9, 0.1, 0.5, 0.4]), 3, 0.0, item_categories=cats,
                   quotas={0: (None, 2), 1: (1, None)}).order
    assert order.tolist() == [0, 2, 1]  # B's floor takes the last slot
    capped = rerank("quota", np.array([0.9, 0.8, 0.5, 0.4]), 3, 0.0, item_categories=cats,
                    quotas={0: (None, 1)}).order
    assert capped.tolist() == [0, 2, 3]  # item 1 counts as an A item


def test_when_caps_block_a_floor_the_list_keeps_the_caps() -> None:
    """B's only item is mostly A, and A is full: the cap wins and the floor is given up."""
    cats = np.array([[1, 0, 0], [0.6, 0.4, 0], [0, 0, 1], [0, 0, 1]])
    order = rerank("quota", np.array([0.9, 0.1, 0.5, 0.4]), 3, 0.0, item_categories=cats,
                   quotas={0: (None, 1), 1: (1, None)}).order
    assert order.tolist() == [0, 2, 3]


def test_infeasible_quotas_are_refused_up_front() -> None:
    cats = np.eye(3)[[0, 0, 1, 2]]
    with pytest.raises(RequestError, match=r"quotas\[1\]: floor 2 but only 1 candidates"):
        rerank("quota", np.arange(4.0), 3, 0.5, item_categories=cats, quotas={1: (2, None)})
    with pytest.raises(RequestError, match="caps leave only 2 eligible candidates"):
        rerank("quota", np.arange(4.0), 3, 0.5, item_categories=cats,
               quotas={0: (None, 0), 1: (None, 1), 2: (None, 1)})


def test_quotas_keyed_by_a_name_among_column_numbers_get_the_columns_message() -> None:
    cats = np.eye(3)[[0, 0, 1, 2]]
    with pytest.raises(RequestError, match=r"quotas names category 'a'.*columns 0\.\.2"):
        rerank("quota", np.arange(4.0), 3, 0.5, item_categories=cats,
               quotas={0: (1, None), "a": (1, None)})


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
