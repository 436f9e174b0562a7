"""Which stages touched each served item, in words a merchandiser reads next to the list.

Per item: "pinned at 1", "brand Acme +0.10", "promoted slot" (a slot reserved for a promotion
share or quota floor), "promoted item" (it matched a promotion and won its slot on relevance),
"moved from 3 to 7 by DPP 0.3" (its rank by boosted relevance among the candidates versus the
slot the greedy pass gave it; "by cap brand ≤ 2" when the caps and shares moved it, traced by
the same pass without them), "shifted to 4 by pins". Per list: how many items each filter,
the floor and each cap kept out.
"""

from __future__ import annotations

import numpy as np

from engine.core.messages import Listing, Message
from engine.policy.compile import CompiledPolicy, stage_label
from engine.rerank.pipeline import PolicyLists


def _diversify_label(policy: CompiledPolicy) -> str | None:
    stage = policy.diversify
    if stage is None or stage.weight <= 0:
        return None
    return stage_label(stage)


def _constraints_label(policy: CompiledPolicy) -> str | None:
    labels = [cap.label for cap in policy.caps] + [rule.label for rule in policy.at_least]
    return Listing(list(dict.fromkeys(labels))) if labels else None


def move_notes(policy: CompiledPolicy, base: int, greedy: int, alone: int | None) -> list[str]:
    """Who moved an item from rank `base` to slot `greedy`: the diversify stage, the caps and
    shares, or each in turn — `alone` is its slot under the diversify stage by itself (0 when
    that list would not hold it; None when not traced)."""
    diversify, constraints = _diversify_label(policy), _constraints_label(policy)
    if alone is None or diversify is None or constraints is None:
        return [Message("moved_by", base=base, slot=greedy,
                        by=diversify or constraints or Message("the_policy"))]
    if alone == greedy:
        return [Message("moved_by", base=base, slot=greedy, by=diversify)]
    if alone in (0, base):
        return [Message("moved_by", base=base, slot=greedy, by=constraints)]
    return [Message("moved_by", base=base, slot=alone, by=diversify),
            Message("then_moved_by", slot=greedy, by=constraints)]


def item_attribution(policy: CompiledPolicy, lists: PolicyLists, row: int,
                     slot: int) -> list[str]:
    """The stages that touched the item in `slot` (0-based) of shopper `row`'s list."""
    item = int(lists.items[row, slot])
    if item < 0:
        return []
    notes: list[str] = []
    if lists.pinned[row, slot]:
        notes.append(Message("pinned_at", slot=slot + 1))
    for rule in policy.boosts:
        if rule.mask[item]:
            notes.append(rule.label)
    promoted = [rule for rule in policy.at_least if rule.mask[item]]
    if lists.forced[row, slot]:
        notes.append(Message("promoted_slot"))
    elif promoted and not lists.pinned[row, slot]:
        notes.append(Message("promoted_item", rule=promoted[0].label))
    base, greedy = int(lists.base_rank[row, slot]), int(lists.greedy_slot[row, slot])
    if base and greedy and base != greedy:
        alone = None if lists.alone_slot is None else int(lists.alone_slot[row, slot])
        notes += move_notes(policy, base, greedy, alone)
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
