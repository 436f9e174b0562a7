"""Which stages touched each served item, in words a merchandiser reads next to the list.

Per item: "pinned at 1", "brand Acme +0.10", "promoted slot" (a slot reserved for a promotion
share or quota floor), "promoted item" (it matched a promotion and won its slot on relevance),
then its moves stage by stage, counted from its rank in the model's own list (the list a
request without the policy serves, beside the policy's on the Policies page): "moved from 1 to
6 by brand Acme +0.10" (boosts reordered it; filters, the floor and pins move an item up when
they take out items above it), "then to 4 by cap brand ≤ 3" (the greedy pass: "by DPP 0.3"
for the diversify stage, "by cap brand ≤ 2" when the caps and shares moved it, traced by the
same pass without them), "shifted to 5 by pins". Per list: how many items each filter, the
floor and each cap kept out.
"""

from __future__ import annotations

import numpy as np

from engine.core.messages import Listing, Message
from engine.policy.compile import CompiledPolicy, stage_label
from engine.rerank.pipeline import PolicyLists

Move = tuple[int, str]  # (the rank a stage moved an item to, the stage's label)


def _diversify_label(policy: CompiledPolicy) -> str | None:
    stage = policy.diversify
    if stage is None or stage.weight <= 0:
        return None
    return stage_label(stage)


def _constraints_label(policy: CompiledPolicy) -> str | None:
    labels = [cap.label for cap in policy.caps] + [rule.label for rule in policy.at_least]
    return Listing(list(dict.fromkeys(labels))) if labels else None


def _greedy_moves(policy: CompiledPolicy, base: int, greedy: int, alone: int | None,
                  ) -> list[Move]:
    """Who moved an item from rank `base` to slot `greedy`: the diversify stage, the caps and
    shares, or each in turn — `alone` is its slot under the diversify stage by itself (0 when
    that list would not hold it; None when not traced)."""
    diversify, constraints = _diversify_label(policy), _constraints_label(policy)
    if alone is None or diversify is None or constraints is None:
        return [(greedy, diversify or constraints or Message("the_policy"))]
    if alone == greedy:
        return [(greedy, diversify)]
    if alone in (0, base):
        return [(greedy, constraints)]
    return [(alone, diversify), (greedy, constraints)]


def _said(start: int, moves: list[Move]) -> list[str]:
    """Moves from rank `start` as notes: "moved from a to b by …", then "then to c by …"."""
    return [Message("moved_by", base=start, slot=slot, by=by) if i == 0 else
            Message("then_moved_by", slot=slot, by=by) for i, (slot, by) in enumerate(moves)]


def move_notes(policy: CompiledPolicy, base: int, greedy: int, alone: int | None) -> list[str]:
    """The greedy pass's moves of an item from rank `base` to slot `greedy` as notes."""
    return _said(base, _greedy_moves(policy, base, greedy, alone))


def _traced_moves(policy: CompiledPolicy, lists: PolicyLists, row: int, slot: int,
                  ) -> tuple[int, list[Move], list[str], int]:
    """The item's rank in the model's own list, its moves up to its rank by boosted
    relevance (filters, floor and pins taking items out above it; boosts reordering), the
    boosts those moves name, and that rank."""
    trace, base = lists.trace, int(lists.base_rank[row, slot])
    if trace is None or not base:
        return base, [], [], base
    model, kept = int(trace.model_rank[row, slot]), int(trace.kept_rank[row, slot])
    base = int(trace.boosted_rank[row, slot])
    labels = [rule.label for rule in policy.filters]
    labels.append(None if policy.floor is None else stage_label(policy.floor))
    labels += [pin.label for pin in policy.pins]
    moves: list[Move] = []
    if kept != model:
        took_out = [label for label, hit in zip(labels, trace.left_out_by[row, slot],
                                                strict=True) if hit and label is not None]
        moves.append((kept, Listing(list(dict.fromkeys(took_out))) if took_out
                      else Message("the_policy")))
    boosts = [rule.label for rule, hit in zip(policy.boosts, trace.boosted_by[row, slot],
                                              strict=True) if hit]
    if base != kept:
        moves.append((base, Listing(boosts) if boosts else Message("the_policy")))
    return model, moves, boosts if base != kept else [], base


def item_attribution(policy: CompiledPolicy, lists: PolicyLists, row: int,
                     slot: int) -> list[str]:
    """The stages that touched the item in `slot` (0-based) of shopper `row`'s list; its
    moves count from its rank in the model's own list when `lists` carries the trace."""
    item = int(lists.items[row, slot])
    if item < 0:
        return []
    start, moves, named, base = _traced_moves(policy, lists, row, slot)
    greedy = int(lists.greedy_slot[row, slot])
    notes: list[str] = []
    if lists.pinned[row, slot]:
        notes.append(Message("pinned_at", slot=slot + 1))
    notes += [rule.label for rule in policy.boosts if rule.mask[item] and rule.label not in named]
    promoted = [rule for rule in policy.at_least if rule.mask[item]]
    if lists.forced[row, slot]:
        notes.append(Message("promoted_slot"))
    elif promoted and not lists.pinned[row, slot]:
        notes.append(Message("promoted_item", rule=promoted[0].label))
    if base and greedy and base != greedy:
        alone = None if lists.alone_slot is None else int(lists.alone_slot[row, slot])
        moves += _greedy_moves(policy, base, greedy, alone)
    notes += _said(start, moves)
    if greedy and greedy != slot + 1:
        notes.append(Message("shifted_by_pins", slot=slot + 1))
    return notes


def list_attribution(policy: CompiledPolicy, lists: PolicyLists, row: int) -> list[list[str]]:
    """Per slot of shopper `row`'s list, `item_attribution`."""
    n = int((lists.items[row] >= 0).sum())
    return [item_attribution(policy, lists, row, slot) for slot in range(n)]


def removal_counts(lists: PolicyLists, row: int) -> dict[str, int]:
    """{stage label: items it kept out} for one shopper (filters, floor, caps)."""
    return {label: int(np.asarray(counts)[row]) for label, counts in lists.removed.items()}
