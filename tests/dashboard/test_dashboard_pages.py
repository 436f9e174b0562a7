"""Every studio page renders in AppTest without an exception, on one tiny shared run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from dashboard_support import APP, TIMEOUT, use_tiny_home
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow

PAGES = ("explorer", "tradeoff", "training", "catalogue", "search", "scenarios")


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Overrides the per-test empty home: these tests share one tiny trained run."""
    return use_tiny_home(monkeypatch)


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page(f"app_pages/{name}.py")
    return at.run()


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_without_exception(name: str) -> None:
    at = _page(name)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value.lower().replace("-", "") == name


def test_tradeoff_marks_current_alpha_and_lists_every_method() -> None:
    at = _page("tradeoff")
    assert any("current setting" in c.value for c in at.caption)
    assert set(at.multiselect(key="w_tradeoff_methods").value) == {"mmr", "dpp", "calibrated"}


def test_search_with_query_shows_both_lists() -> None:
    at = _page("search")
    at.text_input(key="search_query").set_value("classic gadget").run()
    assert not at.exception
    html = " ".join(m.value for m in at.markdown)
    assert 'id="search-relevance"' in html and 'id="search-diversified"' in html


def test_quota_method_uses_sidebar_caps() -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["method"] = "quota"
    at.run()
    assert not at.exception and not at.error
    assert any("cap of" in c.value for c in at.caption)


def test_sidebar_caps_feed_the_quota_method(prism_home: Path) -> None:
    from engine.serving.recommender import Recommender

    names = Recommender.load(prism_home / "runs" / "tiny").category_names
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["targets"] = {name: {"floor": None, "cap": 1, "share": None}
                                   for name in names}
    at.query_params.update({"method": "quota", "k": "5", "alpha": "0.5"})
    at.run()
    assert not at.exception and not at.error
    assert not any("cap of" in c.value for c in at.caption)  # the panel's caps are used
    html = next(m.value for m in at.markdown if 'id="diversified-list"' in m.value)
    chips = [part.split(">", 1)[1].split("</span>")[0]
             for part in html.split('class="prism-chip"')[1:]]
    assert len(chips) == 5 and len(set(chips)) == 5  # a cap of 1 per category


def test_training_page_lists_runs_and_makes_one_active() -> None:
    at = _page("training")
    table = at.dataframe[0].value
    assert "tiny" in table["run"].tolist() and "NDCG@10" in table.columns  # named by the vocabulary
    assert at.checkbox(key="train_tune").label == "Choose settings automatically"
    assert at.number_input(key="train_trials").value == 8
    stage = next(c.value for c in at.caption if "In training: shapes the model" in c.value)
    # the Explorer's sliders by their own labels: α moves the model, w re-ranks at serving
    assert "“Diversity α (in the model)” moves a model" in stage
    assert "“Re-rank weight w” re-ranks lists at serving" in stage
    at.button(key="train_activate").click().run()
    assert not at.exception and at.session_state["run"] == "tiny"


def test_training_compares_two_runs_with_paired_intervals(
        prism_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import shutil

    from engine.training.pipeline import train
    from engine.training.spec import TrainSpec

    home = tmp_path / "home"  # a copy: the shared tiny home stays as other tests expect it
    shutil.copytree(prism_home, home)
    monkeypatch.setenv("PRISM_HOME", str(home))
    tiny = json.loads((home / "runs" / "tiny" / "run.json").read_text())
    train(TrainSpec(tiny["data_path"], out=home / "runs" / "ease", model="ease", seed=tiny["seed"]))
    train(TrainSpec(tiny["data_path"], out=home / "runs" / "other-split", model="ease",
                    seed=tiny["seed"] + 1))
    at = _page("training")
    at.multiselect(key="train_compare").set_value(["tiny", "ease"]).run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "Verdict" in d.value.columns)
    assert table["Metric"].tolist()[:2] == ["NDCG@10", "Precision@10"]  # the vocabulary
    assert (table["95% low"] <= table["tiny − ease"] + 1e-12).all()
    assert (table["95% high"] >= table["tiny − ease"] - 1e-12).all()
    assert set(table["Verdict"]) <= {"tiny better", "ease better", "no clear difference"}
    assert any("paired bootstrap" in c.value for c in at.caption)
    at.multiselect(key="train_compare").set_value(["tiny", "other-split"]).run()
    assert any("split seed" in i.value for i in at.info)  # other shoppers: said, not paired


def test_search_suggestion_fills_the_query() -> None:
    at = _page("search")
    pills = at.button_group(key="search_try")
    assert pills.options, "the page offers example queries"
    pills.set_value(pills.options[0]).run()
    assert not at.exception
    assert at.text_input(key="search_query").value == pills.options[0].lower()
    assert any('id="search-diversified"' in m.value for m in at.markdown)


def test_tradeoff_intervals_name_the_shoppers_really_sampled(prism_home: Path) -> None:
    import json

    from engine.evaluation.sweep import sample_users
    from engine.runs.data import load_run_split

    run_dir = prism_home / "runs" / "tiny"
    _, data = load_run_split(json.loads((run_dir / "run.json").read_text()), run_dir)
    real = len(sample_users(data, 500, seed=0))
    assert real < 500  # the tiny run has fewer test shoppers than the default sample
    at = _page("tradeoff")
    captions = " ".join(c.value for c in at.caption)
    assert f"over the {real} sampled shoppers" in captions
    assert "over the 500 sampled" not in captions


def test_training_runs_table_shows_dates_not_raw_stamps() -> None:
    at = _page("training")
    table = next(d.value for d in at.dataframe if "created" in d.value.columns)
    assert pd.api.types.is_datetime64_any_dtype(table["created"])
    assert table["created"].notna().all()



def test_catalogue_counts_categories_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The category tree reads every item: once per run version, not on every rerun (a
    million-item catalogue would pay seconds on each click)."""
    from dashboard import state
    from engine.serving import itemmap

    calls = []
    real = itemmap.category_counts

    def counting(items: pd.DataFrame, column: str) -> pd.DataFrame:
        calls.append(len(items))
        return real(items, column)

    monkeypatch.setattr(itemmap, "category_counts", counting)
    state._category_counts.clear()
    at = _page("catalogue")
    at.run()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(calls) == 1 and at.get("plotly_chart")
