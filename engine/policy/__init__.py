"""Merchandising policies: named, versioned stage lists applied after scoring.

`schema` says what a policy is, `compile` resolves it against a catalogue, `apply` runs it
(one shopper or a batch), `attribution` says which stage touched each item, `store` keeps
versions in SQLite, `serving` answers requests, `preview` measures a policy on held-out
shoppers against another.
"""

from engine.policy.schema import Policy, parse_policy, split_reference

__all__ = ["Policy", "parse_policy", "split_reference"]
