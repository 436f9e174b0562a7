"""A category depth that collapses the catalogue is reported with a depth that does better,
and the depth chosen at import is the one training uses."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from engine.core.config import DataConfig
from engine.data import build_dataset
from engine.data.depth import categories_per_depth, depth_advice
from engine.data.importing import clean_source, import_source
from engine.data.loading import load_dataset
from engine.data.sources import read_source

EXPORTS = Path(__file__).resolve().parents[2] / "examples" / "exports"


def _shop(paths: list[str], depth: int = 2):
    items = pd.DataFrame({"item_id": [f"i{n}" for n in range(len(paths))],
                          "title": [f"Item {n}" for n in range(len(paths))], "category": paths})
    events = pd.DataFrame({"user_id": ["u1"] * len(paths), "item_id": items["item_id"]})
    return build_dataset(items, events, config=DataConfig(category_depth=depth))


def test_a_shared_prefix_is_reported_with_a_deeper_depth():
    leaves = ["Screws", "Nails", "Bolts", "Nuts", "Washers", "Anchors"]
    dataset = _shop([f"Industrial > Fasteners > Hardware > {leaf}" for leaf in leaves])
    assert len(dataset.category_matrix()[1]) == 1
    assert categories_per_depth(dataset)[4] == 6
    advice = depth_advice(dataset)
    assert advice.startswith("At category depth 2 the catalogue has only 1 diversity category")
    assert "depth 4 gives 6: import again with --depth 4" in advice
    assert depth_advice(_shop(dataset.items["category"].tolist(), depth=4)) is None


def test_no_depth_gives_more_says_to_add_categories():
    advice = depth_advice(_shop(["", "", ""]))
    assert "only 1 diversity category (unknown), and no depth gives more" in advice
    assert "add categories" in advice


def test_the_shopify_example_suggests_depth_three():
    dataset = clean_source(read_source([EXPORTS / "shopify"]), "shop")
    assert "depth 3 gives 6: import again with --depth 3" in depth_advice(dataset)


def test_the_imported_depth_is_the_one_training_loads(prism_home):  # noqa: ANN001
    source = read_source([EXPORTS / "shopify"])
    _, folder = import_source(source, "shop", config=DataConfig(category_depth=3))
    meta = json.loads((folder / "import.json").read_text())
    assert meta["category_depth"] == 3 and meta["category_advice"] is None
    loaded = load_dataset(folder)
    assert loaded.config.category_depth == 3 and len(loaded.category_matrix()[1]) == 6
    assert load_dataset(folder, config=DataConfig(category_depth=1)).config.category_depth == 1
