"""Whether the diversity categories tell products apart, and a depth that does better.

Diversity is measured over the category paths cut at `category_depth` levels. A catalogue
whose products share their first levels ("Home > Kitchen > ...") collapses into one or two
categories at a shallow depth: every list then looks equally "diverse". When fewer than
`FEW_CATEGORIES` remain, the import report and the Import page say so and name the depth to
import with instead.
"""

from __future__ import annotations

from engine.core.columns import CATEGORY
from engine.core.messages import Listing, Message
from engine.data.schema import Dataset, category_counts_by_depth

FEW_CATEGORIES = 5
DEEPEST = 8


def categories_per_depth(dataset: Dataset, deepest: int = DEEPEST) -> dict[int, int]:
    """{depth: number of diversity categories}, down to the deepest level any path has."""
    levels = len(category_counts_by_depth(dataset.items[CATEGORY], deepest)) or 1
    return {depth: len(dataset.category_matrix(depth)[1]) for depth in range(1, levels + 1)}


def depth_advice(dataset: Dataset) -> str | None:
    """One line when the chosen depth leaves fewer than FEW_CATEGORIES categories, else None."""
    depth = dataset.config.category_depth
    names = dataset.category_matrix()[1]
    if len(names) >= FEW_CATEGORIES:
        return None
    shown = Listing(names[:4])
    found = Message("depth_found_one" if len(names) == 1 else "depth_found", depth=depth,
                    n=len(names), shown=shown)
    counts = categories_per_depth(dataset)
    enough = [d for d, n in counts.items() if n >= FEW_CATEGORIES]
    best = enough[0] if enough else max(counts, key=lambda d: (counts[d], -d))
    if counts[best] > len(names):
        return Message("depth_better", found=found, best=best, n=counts[best])
    return Message("depth_no_better", found=found)
