"""Serving: the Recommender over a run folder, split by concern.

`catalogue` (read-only snapshot), `requests` (validation), `ranking` (filter, boost, re-rank),
`explain` (why an item is there), `trending` (hot items), `text` (search embeddings),
`coldstart` (adding items), `results` (what callers get back).
"""

from engine.serving.recommender import Recommender
from engine.serving.results import Recommendations

__all__ = ["Recommendations", "Recommender"]
