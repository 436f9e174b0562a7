"""The Explorer says how many products that cannot be bought now it left out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from dashboard_support import APP, RUN_NAME, TIMEOUT, tiny_home
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


@pytest.fixture
def marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, str]:
    """A copy of the tiny home whose first shopper's best item is out of stock: (shopper,
    that item's title, the next item's title)."""
    from engine.serving.recommender import Recommender

    home = tmp_path / "home"
    shutil.copytree(tiny_home(), home)
    run = home / "runs" / RUN_NAME
    user = Recommender.load(run).user_ids[0]
    best = Recommender.load(run).recommend(user_id=user, k=2, diversity_weight=0.0)
    items = pd.read_parquet(run / "items.parquet")
    items["availability"] = (items["item_id"] == best.table["item_id"].iloc[0]).map(
        {True: "out_of_stock", False: "in_stock"})
    items.to_parquet(run / "items.parquet", index=False)
    monkeypatch.setenv("PRISM_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return user, str(best.table["title"].iloc[0]), str(best.table["title"].iloc[1])


def test_explorer_names_the_products_left_out(marked: tuple[str, str, str]) -> None:
    user, title, next_title = marked
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["user"] = user
    at.query_params["alpha"] = "0"
    at = at.run()
    assert not at.exception
    assert any("Left out 1 product that cannot be bought now" in c.value for c in at.caption)
    shown = next(m.value for m in at.markdown if 'id="diversified-list"' in m.value)
    assert next_title in shown and title not in shown
