"""Every studio page in Chinese (AppTest) shows no English words outside data.

On the tiny run, with a saved policy, category targets set and a search that finds nothing,
each page is opened with `?lang=zh`; every word AppTest can see (titles, captions, markdown,
alerts, labels, the options shown, metric labels, tabs, expanders, engine explanations and
notices) must be Chinese, a name every language writes in Latin letters (NDCG, MMR, CSV…),
or data: the run's item titles, categories, brands, ids, shopper ids, column names and the
names the merchandiser typed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chinese_scan import data_words, english_words, visible_texts
from dashboard_support import APP, TIMEOUT, tiny_home, use_tiny_home
from streamlit.testing.v1 import AppTest

from dashboard.state import TRAINING_JOB

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
    from engine.serving.recommender import Recommender

    path = use_tiny_home(monkeypatch)
    store = PolicyStore()
    if POLICY not in {row["name"] for row in store.names()}:
        items = Recommender.load(path / "runs" / "tiny").catalogue.items
        store.save(parse_policy({"name": POLICY, "stages": [
            {"kind": "boost", "match": {"brands": [str(items["brand"].iloc[0])]},
             "strength": 0.3},
            {"kind": "cap", "column": "brand", "max_items": 1},
            {"kind": "diversify", "method": "mmr", "weight": 0.3},
            {"kind": "pin", "item_id": str(items["item_id"].iloc[-1]), "slot": 2}]}))
    return path


@pytest.fixture(scope="module")
def data() -> set[str]:
    """The words of every run in the home: items, columns, shoppers, run and policy names."""
    from engine.serving.recommender import Recommender

    home = tiny_home()
    # names the merchandiser types or keeps (policy names are ASCII identifiers)
    values: list[object] = ["synthetic", "untitled", POLICY, QUERY, "exposure-targets"]
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
    at.query_params["policy"] = POLICY  # the Policies page opens it, the Explorer serves it
    at.query_params["targets"] = json.dumps([["*", 1, None]])  # the Ledger's exposure targets
    at.session_state["targets"] = {category: {"floor": 1, "cap": 3, "share": 0.3}}
    at.session_state["search_query"] = QUERY  # a search that finds nothing: the notice shows
    at.session_state[TRAINING_JOB] = _finished_job()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    if page == "ledger":  # fit the targets: the fit's report and table show
        with pytest.MonkeyPatch.context() as patch:  # the test formats choices as the page
            patch.setattr("dashboard.i18n.current", lambda: "zh")
            at.button(key="ledger_fit").click().run()
    if page == "importer":  # an upload that fails: the error shows
        at.file_uploader(key="imp_files").set_value([("items.csv", b"  ", "text/csv")]).run()
        at.button(key="imp_read_upload").click().run()
        assert at.error, "the empty upload was not refused"
    return at


def _finished_job():  # noqa: ANN202 - a dashboard.jobs.TrainingJob
    """A training job of this session that has finished, as the Training page shows it."""
    from dashboard.jobs import TrainingJob
    from engine.training.presets import quick_run

    home = tiny_home()
    job = TrainingJob(quick_run(data_dir=home / "data" / "synthetic",
                                out_dir=home / "runs" / "tiny", epochs=1, use_text=False))
    job.epoch, job.logs = 1, [{"epoch": 1, "loss": 0.5}]
    job._finish("done", run_dir=home / "runs" / "tiny")
    return job


@pytest.mark.parametrize("page", PAGES)
def test_page_shows_no_english_outside_data(page: str, prism_home: Path,
                                            data: set[str]) -> None:
    from engine.serving.recommender import Recommender

    category = Recommender.load(prism_home / "runs" / "tiny").category_names[0]
    at = _open_in_chinese(page, category)
    assert not at.exception, [e.value for e in at.exception]
    english = english_words(visible_texts(at), data | _names_in_home(prism_home))
    assert not english, "; ".join(f"{word!r} in {text!r}" for word, text in english.items())
    if page == "policies":  # the attribution is there, in Chinese
        notes = " ".join(note for frame in at.dataframe if "attribution" in frame.value
                         for note in frame.value["attribution"])
        assert "固定在第 2 位" in notes and "由 " in notes, notes


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
