"""Attribution names the stage that moved an item: a brand cap's moves are the cap's, even
when a diversify stage runs too; each stage's share of a move is told in turn."""

from __future__ import annotations

from test_policy_apply import descending, run

from engine.policy.attribution import list_attribution, move_notes

BOOST_B0 = {"kind": "boost", "match": {"brands": ["b0"]}, "strength": 1.0}
CAP_2 = {"kind": "cap", "column": "brand", "max_items": 2}


def test_items_moved_up_by_a_brand_cap_are_the_caps_not_the_diversifiers():
    compiled, lists = run([BOOST_B0, CAP_2, {"kind": "diversify", "method": "mmr",
                                             "weight": 0.01}], descending())
    notes = list_attribution(compiled, lists, 0)
    items = lists.items[0].tolist()
    assert items[:2] == [0, 4]  # the two best b0 items; the cap keeps the other six out
    moved = notes[items.index(1)]  # 9th by boosted relevance, 3rd in the list
    assert moved == ["moved from 9 to 3 by cap brand ≤ 2"], moved
    assert not any("MMR" in note for slot in notes for note in slot)


def test_a_cap_without_a_diversifier_names_the_cap():
    compiled, lists = run([BOOST_B0, CAP_2], descending())
    notes = [n for slot in list_attribution(compiled, lists, 0) for n in slot]
    assert "moved from 9 to 3 by cap brand ≤ 2" in notes


def test_each_stage_is_named_for_its_part_of_a_move():
    compiled, _ = run([BOOST_B0, CAP_2, {"kind": "diversify", "method": "dpp",
                                         "weight": 0.5}], descending())
    assert move_notes(compiled, 9, 3, 3) == ["moved from 9 to 3 by DPP 0.5"]
    assert move_notes(compiled, 9, 3, 0) == ["moved from 9 to 3 by cap brand ≤ 2"]
    assert move_notes(compiled, 9, 3, 6) == ["moved from 9 to 6 by DPP 0.5",
                                             "then to 3 by cap brand ≤ 2"]
