"""The catalogue's item map: the model's item vectors projected to two dimensions.

PCA (scikit-learn, seeded) of a seeded sample of at most `MAX_POINTS` items, so the map of a
large catalogue stays quick to draw; items near each other are ones the model finds alike.
Baselines without item vectors have no map (an empty table). `category_counts` gives the
catalogue's category tree (items per path) that the studio draws beside it.
"""

from __future__ import annotations

import pandas as pd

from engine.core.columns import TITLE
from engine.serving.catalogue import Catalogue

MAX_POINTS = 4000
COLUMNS = ["x", "y", "category", "title"]


def item_map_points(catalogue: Catalogue, max_points: int = MAX_POINTS,
                    seed: int = 0) -> pd.DataFrame:
    """`x, y, category, title` per sampled item (empty without item vectors or with fewer
    than three items, where a 2-D projection means nothing)."""
    from sklearn.decomposition import PCA

    vectors = catalogue.item_vectors
    if vectors is None or len(vectors) < 3:
        return pd.DataFrame(columns=COLUMNS)
    items = catalogue.items
    sample = items.sample(min(max_points, len(items)), random_state=seed).index.to_numpy()
    xy = PCA(n_components=2, random_state=seed).fit_transform(vectors[sample])
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1],
                         "category": [catalogue.category_label(int(i)) for i in sample],
                         "title": items[TITLE].iloc[sample].astype(str).to_numpy()})


def category_counts(items: pd.DataFrame, path_col: str) -> pd.DataFrame:
    """Item count per category path (first three levels, `level 1..3, items`, most items
    first, ties by path). Items are counted per distinct category text first, so only the
    distinct texts are split: a million items with a few thousand paths split a few thousand."""
    text = items[path_col].fillna("").astype(str)
    distinct = text.value_counts(sort=False)
    paths = pd.Series(distinct.index, dtype=object).str.split(" | ", regex=False).str[0]
    levels = paths.replace("", "unknown").str.split(" > ", expand=True).iloc[:, :3]
    levels.columns = [f"level {i + 1}" for i in range(levels.shape[1])]
    levels = levels.fillna("")
    counts = (levels.assign(items=distinct.to_numpy()).groupby(list(levels.columns))["items"]
              .sum().reset_index())
    counts = counts.sort_values(["items", *levels.columns], ascending=[False] + [True] * len(
        levels.columns), kind="stable").reset_index(drop=True)
    # sunburst needs leaves: a missing deeper level repeats nothing, so give it a label
    for column in levels.columns[1:]:
        counts[column] = counts[column].replace("", None)
    return counts.fillna("(all)")
