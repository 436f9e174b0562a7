"""The serve-time re-rank weight's API name, `diversity_weight`, and its deprecated alias.

Early clients and saved links sent `alpha`; training's loss weights keep the names alpha/beta,
so serving now says `diversity_weight`. The old name is still read, in request bodies and in
query strings; when both are given, `diversity_weight` wins.
"""

from __future__ import annotations

from typing import Any

WEIGHT_FIELD, DEPRECATED_WEIGHT = "diversity_weight", "alpha"
DEFAULT_WEIGHT = 0.0
ALIAS_HELP = f"deprecated name of {WEIGHT_FIELD} (ignored when {WEIGHT_FIELD} is given)"


def pick_diversity_weight(diversity_weight: Any, alpha: Any) -> Any:
    """`diversity_weight` when given, else the deprecated `alpha` (None when neither is)."""
    return alpha if diversity_weight is None else diversity_weight


def query_weight(diversity_weight: float | None, alpha: float | None) -> float:
    """The weight from a query string: `?diversity_weight=`, else the old `?alpha=`, else 0."""
    value = pick_diversity_weight(diversity_weight, alpha)
    return DEFAULT_WEIGHT if value is None else float(value)
