"""Merchandising policies: named, versioned stage lists applied after scoring.

`schema` says what a policy is, `compile` resolves it against a catalogue into a plan that
the one ranking pipeline (`engine.rerank.pipeline`) applies, `attribution` says which stage
touched each item, `store` keeps versions, `serving` answers requests, `preview` measures a
policy on held-out shoppers against another.
"""
