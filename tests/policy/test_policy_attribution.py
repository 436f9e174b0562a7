"""Attribution names the stage that moved an item: a brand cap's moves are the cap's, even
when a diversify stage runs too; each stage's share of a move is told in turn, counted from
the item's rank in the model's own list (the list the Policies page shows beside it)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_policy_apply import N_ITEMS, batch, catalogue, descending, run

from engine.policy.attribution import list_attribution, move_notes
from engine.policy.compile import compile_policy
from engine.policy.schema import parse_policy
from engine.rerank.pipeline import apply_policy

BOOST_B0 = {"kind": "boost", "match": {"brands": ["b0"]}, "strength": 1.0}
CAP_2 = {"kind": "cap", "column": "brand", "max_items": 2}


def test_items_moved_up_by_a_brand_cap_are_the_caps_not_the_diversifiers():
    compiled, lists = run([BOOST_B0, CAP_2, {"kind": "diversify", "method": "mmr",
                                             "weight": 0.01}], descending())
    notes = list_attribution(compiled, lists, 0)
    items = lists.items[0].tolist()
    assert items[:2] == [0, 4]  # the two best b0 items; the cap keeps the other six out
    moved = notes[items.index(1)]  # 2nd by the model, 9th once boosted, 3rd in the list
    assert moved == ["moved from 2 to 9 by brand b0 +1.00", "then to 3 by cap brand ≤ 2"], moved
    assert not any("MMR" in note for slot in notes for note in slot)


def test_a_cap_without_a_diversifier_names_the_cap():
    compiled, lists = run([BOOST_B0, CAP_2], descending())
    notes = list_attribution(compiled, lists, 0)
    assert ["moved from 2 to 9 by brand b0 +1.00", "then to 3 by cap brand ≤ 2"] in notes


def test_each_stage_is_named_for_its_part_of_a_move():
    compiled, _ = run([BOOST_B0, CAP_2, {"kind": "diversify", "method": "dpp",
                                         "weight": 0.5}], descending())
    assert move_notes(compiled, 9, 3, 3) == ["moved from 9 to 3 by DPP 0.5"]
    assert move_notes(compiled, 9, 3, 0) == ["moved from 9 to 3 by cap brand ≤ 2"]
    assert move_notes(compiled, 9, 3, 6) == ["moved from 9 to 6 by DPP 0.5",
                                             "then to 3 by cap brand ≤ 2"]


def test_a_move_counts_from_the_rank_the_model_alone_gives():
    # the model ranks item 0 first; a boost on b1 puts seven of its eight items above it (the
    # last, item 29, ties item 0 and ties go to the lower position), and the cap of three b1
    # items brings it back to 4th
    compiled, lists = run([{"kind": "boost", "match": {"brands": ["b1"]}, "strength": 1.0},
                           {"kind": "cap", "column": "brand", "max_items": 3}], descending())
    _, alone = run([], descending())
    assert alone.items[0].tolist().index(0) == 0
    items = lists.items[0].tolist()
    assert items == [1, 5, 9, 0, 2]
    notes = list_attribution(compiled, lists, 0)
    assert notes[3] == ["moved from 1 to 8 by brand b1 +1.00", "then to 4 by cap brand ≤ 3"]
    assert notes[0] == ["moved from 2 to 1 by brand b1 +1.00"]  # its own boost: said once
    assert notes[4] == ["moved from 3 to 10 by brand b1 +1.00", "then to 5 by cap brand ≤ 3"]


def test_filters_and_pins_move_an_item_up_when_they_take_out_items_above_it():
    compiled, lists = run([{"kind": "filter", "drop": {"brands": ["b0"]}}], descending())
    assert lists.items[0].tolist() == [1, 2, 3, 5, 6]
    notes = list_attribution(compiled, lists, 0)
    assert notes[0] == ["moved from 2 to 1 by filter #1"]
    assert notes[3] == ["moved from 6 to 4 by filter #1"]
    compiled, lists = run([{"kind": "pin", "item_id": "i0", "slot": 3}], descending())
    assert lists.items[0].tolist() == [1, 2, 0, 3, 4]
    notes = list_attribution(compiled, lists, 0)
    assert notes[0] == ["moved from 2 to 1 by pin i0 at 3"]
    assert notes[3] == ["moved from 4 to 3 by pin i0 at 3", "shifted to 4 by pins"]


SCORES = st.lists(st.integers(0, 6), min_size=N_ITEMS, max_size=N_ITEMS)  # ties included


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scores=SCORES, strength=st.sampled_from([0.2, 1.0, -0.5]),
       drop=st.sampled_from([[], ["b2"]]), cap=st.integers(1, 4),
       method=st.sampled_from([None, "mmr", "dpp"]), floor=st.sampled_from([None, 0.3]),
       promote=st.booleans())
def test_every_move_chain_runs_from_the_model_alone_rank_to_the_slot_shown(
        scores, strength, drop, cap, method, floor, promote):
    kind = "boost" if strength > 0 else "bury"
    stages = [{"kind": kind, "match": {"brands": ["b1"]}, "strength": abs(strength)},
              {"kind": "cap", "column": "brand", "max_items": cap},
              {"kind": "pin", "item_id": "i7", "slot": 2}]
    if floor is not None:
        stages.append({"kind": "floor", "quantile": floor})
    if promote:  # few candidates: the promoted items owed a slot come from further down
        stages.append({"kind": "promote", "match": {"brands": ["b3"]}, "share": 0.25})
    if method:
        stages.append({"kind": "diversify", "method": method, "weight": 0.3})
    if drop:
        stages.append({"kind": "filter", "drop": {"brands": drop}})
    values = np.array([scores], dtype=np.float64)
    compiled = compile_policy(parse_policy({"name": "t", "stages": stages, "n_candidates": 8}),
                              catalogue())
    lists = apply_policy(compiled, batch(values), 8, count_removed=True)
    _, alone = run([], values, k=N_ITEMS)
    model_rank = {item: rank for rank, item in enumerate(alone.items[0].tolist(), start=1)}
    for slot, notes in enumerate(list_attribution(compiled, lists, 0)):
        item = int(lists.items[0, slot])
        moves = [note for note in notes if getattr(note, "code", "") in MOVES]
        if lists.pinned[0, slot]:
            assert not moves
            continue
        at = model_rank[item]
        for note in moves:
            assert note.code != "moved_by" or (note is moves[0] and note.values["base"] == at)
            assert note.values["slot"] != at  # each note is a move, by a named stage
            assert "the policy" not in note, notes
            at = note.values["slot"]
        assert at == slot + 1, (item, notes)


MOVES = {"moved_by", "then_moved_by", "shifted_by_pins"}


def test_an_item_owed_a_promoted_slot_moves_from_its_rank_in_the_model_list():
    # the b3 items come last by model score, beyond the five candidates: item 3 is 24th
    values = descending() - 100.0 * (np.arange(N_ITEMS) % 4 == 3)
    policy = parse_policy({"name": "t", "n_candidates": 5, "stages": [
        {"kind": "promote", "match": {"brands": ["b3"]}, "share": 0.2}]})
    compiled = compile_policy(policy, catalogue())
    lists = apply_policy(compiled, batch(values), 5, count_removed=True)
    assert lists.items[0].tolist() == [0, 1, 2, 4, 3]
    notes = list_attribution(compiled, lists, 0)
    assert notes[4] == ["promoted slot", "moved from 24 to 5 by promote brand b3 20%"]
