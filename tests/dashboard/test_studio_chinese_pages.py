"""Every studio page in Chinese (AppTest) shows no English words outside data.

On the tiny run, with a saved policy, category targets set and a search that finds nothing,
each page is opened with `?lang=zh`; every word AppTest can see (titles, captions, markdown,
alerts, labels, the options shown, metric labels, tabs, expanders, engine explanations and
notices) must be Chinese, a name every language writes in Latin letters (NDCG, MMR, CSV…),
or data: the run's item titles, categories, brands, ids, shopper ids, column names and the
names the merchandiser typed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chinese_scan import data_words, english_words, visible_texts
from dashboard_support import APP, TIMEOUT, tiny_home, use_tiny_home
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow

PAGES = ("explorer", "tradeoff", "training", "catalogue", "search", "scenarios", "ledger",
         "policies", "importer", "experiments")
POLICY = "spring-sale"
QUERY = "zzqxj"


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Overrides the per-test empty home: the tiny run, with one saved policy."""
    from engine.policy.schema import parse_policy
    from engine.policy.store import PolicyStore

    path = use_tiny_home(monkeypatch)
    store = PolicyStore()
    if POLICY not in {row["name"] for row in store.names()}:
        store.save(parse_policy({"name": POLICY, "stages": [
            {"kind": "diversify", "method": "calibrated", "weight": 0.4}]}))
    return path


@pytest.fixture(scope="module")
def data() -> set[str]:
    """The words of every run in the home: items, columns, shoppers, run and policy names."""
    from engine.serving.recommender import Recommender

    home = tiny_home()
    values: list[object] = ["synthetic", "untitled", POLICY, QUERY]
    for run in sorted(p for p in (home / "runs").iterdir() if (p / "run.json").exists()):
        service = Recommender.load(run)
        items = service.catalogue.items
        values += [v for column in items.columns for v in items[column].astype(str).tolist()]
        values += [*items.columns, *service.user_ids, run.name,
                   str(service.run.meta.get("dataset", ""))]
    return data_words(*values)


def _open_in_chinese(page: str, category: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = "zh"
    at.session_state["targets"] = {category: {"floor": 1, "cap": 3, "share": 0.3}}
    at.session_state["search_query"] = QUERY  # a search that finds nothing: the notice shows
    at.switch_page(f"app_pages/{page}.py")
    return at.run()


@pytest.mark.parametrize("page", PAGES)
def test_page_shows_no_english_outside_data(page: str, prism_home: Path,
                                            data: set[str]) -> None:
    from engine.serving.recommender import Recommender

    category = Recommender.load(prism_home / "runs" / "tiny").category_names[0]
    at = _open_in_chinese(page, category)
    assert not at.exception, [e.value for e in at.exception]
    english = english_words(visible_texts(at), data | _names_in_home(prism_home))
    assert not english, english


def _names_in_home(home: Path) -> set[str]:
    """Data set and run names in the shared home now: other tests may add some (data too)."""
    names = [p.name for folder in ("data", "runs") if (home / folder).is_dir()
             for p in (home / folder).iterdir()]
    return data_words(*names)


def test_choice_boxes_offer_their_choices_in_chinese(prism_home: Path) -> None:
    """Multiselects name their empty state through the catalogue, not Streamlit's English."""
    at = _open_in_chinese("training", "")
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="train_compare").placeholder == "请选择"
