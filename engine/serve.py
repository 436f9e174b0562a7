"""Serving entry point: `Recommender.load(run_dir)` then recommend / search / hot_items.

The implementation lives in `engine.serving`, one module per concern; this module is the
stable import path used by the API, the CLI and the dashboard.
"""

from engine.serving import Recommendations, Recommender
from engine.serving.requests import METHODS

__all__ = ["METHODS", "Recommendations", "Recommender"]
