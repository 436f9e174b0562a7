"""Serving: the Recommender over a run folder, split by concern.

`recommender` (the entry point: `Recommender.load(run_dir)`), `catalogue` (read-only
snapshot), `requests` (validation), `ranking` (filter, boost, re-rank), `explain` (why an item
is there), `trending` (hot items), `coldstart` (adding items), `results` (what callers get
back).
"""
