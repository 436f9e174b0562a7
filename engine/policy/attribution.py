"""Which stages touched each served item, in words a merchandiser reads next to the list.

Per item: "pinned at 1", "brand Acme +0.10", "promoted slot" (a slot reserved for a promotion
share or quota floor), "promoted item" (it matched a promotion and won its slot on relevance),
"moved from 3 to 7 by DPP 0.3" (its rank by boosted relevance among the candidates versus the
slot the greedy pass gave it), "shifted to 4 by pins". Per list: how many items each filter,
the floor and each cap kept out.
"""

from __future__ import annotations

import numpy as np

from engine.policy.apply import PolicyLists
from engine.policy.compile import CompiledPolicy


def _moved_by(policy: CompiledPolicy) -> str:
    stage = policy.diversify
    if stage is not None and stage.weight > 0:
        name = stage.label or ("calibrated" if stage.method == "calibrated"
                               else stage.method.upper())
        return name if stage.label else f"{name} {stage.weight:g}"
    if policy.caps or policy.at_least:
        return "caps and shares"
    return "the policy"


def item_attribution(policy: CompiledPolicy, lists: PolicyLists, row: int,
                     slot: int) -> list[str]:
    """The stages that touched the item in `slot` (0-based) of shopper `row`'s list."""
    item = int(lists.items[row, slot])
    if item < 0:
        return []
    notes: list[str] = []
    if lists.pinned[row, slot]:
        notes.append(f"pinned at {slot + 1}")
    for rule in policy.boosts:
        if rule.mask[item]:
            notes.append(rule.label)
    promoted = [rule for rule in policy.at_least if rule.mask[item]]
    if lists.forced[row, slot]:
        notes.append("promoted slot")
    elif promoted and not lists.pinned[row, slot]:
        notes.append(f"promoted item ({promoted[0].label}), placed by relevance")
    base, greedy = int(lists.base_rank[row, slot]), int(lists.greedy_slot[row, slot])
    if base and greedy and base != greedy:
        notes.append(f"moved from {base} to {greedy} by {_moved_by(policy)}")
    if greedy and greedy != slot + 1:
        notes.append(f"shifted to {slot + 1} by pins")
    return notes


def list_attribution(policy: CompiledPolicy, lists: PolicyLists, row: int) -> list[list[str]]:
    """Per slot of shopper `row`'s list, `item_attribution`."""
    n = int((lists.items[row] >= 0).sum())
    return [item_attribution(policy, lists, row, slot) for slot in range(n)]


def removal_counts(lists: PolicyLists, row: int) -> dict[str, int]:
    """{stage label: items it kept out} for one shopper (filters, floor, caps)."""
    return {label: int(np.asarray(counts)[row]) for label, counts in lists.removed.items()}


def notices(policy: CompiledPolicy, lists: PolicyLists, row: int) -> list[str]:
    """Compile-time notices (rules that match nothing) plus this shopper's conflicts."""
    found = list(policy.notices)
    if lists.notices:
        found += list(lists.notices[row])
    return found
