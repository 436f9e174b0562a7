"""The Training page's tables speak the studio's words: no raw "None", metrics by the
vocabulary's names, the verdict in view; Enter in a box of the form never starts a job."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dashboard_support import APP, RUN_NAME, TIMEOUT, tiny_home, use_home
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


@pytest.fixture()
def page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    home = tmp_path / "home"
    shutil.copytree(tiny_home(), home)
    shutil.copytree(home / "runs" / RUN_NAME, home / "runs" / "twin")
    use_home(monkeypatch, home)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, at.exception
    return at


def _forms(node) -> list:  # noqa: ANN001 - an AppTest node
    found = [node] if getattr(node, "type", None) == "form" else []
    for child in getattr(node, "children", {}).values():
        found += _forms(child)
    return found


def test_run_table_has_no_raw_none_and_enter_does_not_submit(page: AppTest) -> None:
    table = next(d.value for d in page.dataframe if "α range" in d.value.columns)
    assert (table["α range"] == "—").all()
    assert not table[["α", "β", "α range"]].isna().any().any()
    (form,) = _forms(page._tree)
    assert form.proto.form.enter_to_submit is False


def test_compare_names_metrics_and_puts_the_verdict_beside_them(page: AppTest) -> None:
    page.multiselect(key="train_compare").set_value([RUN_NAME, "twin"]).run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    table = next(d.value for d in page.dataframe if "Verdict" in d.value.columns)
    assert list(table.columns[:2]) == ["Metric", "Verdict"]
    assert "ndcg@10" not in set(table["Metric"]) and "NDCG@10" in set(table["Metric"])


def test_the_name_proposed_after_a_start_is_never_the_one_just_taken(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job started within the second its name was proposed: its folder may not exist yet,
    and the next proposal (the same time of day) must still differ."""
    from dashboard.app_pages import training
    from engine.training import presets

    use_home(monkeypatch, tmp_path / "home")
    monkeypatch.setattr(presets, "new_run_name", lambda prefix: f"{prefix}-1207-113015")
    assert training.fresh_run_name() == "twotower-1207-113015"
    assert training.fresh_run_name(taken="twotower-1207-113015") == "twotower-1207-113015-2"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_run_table_never_shows_none_in_either_language(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       lang: str) -> None:
    """A fixed-α run's α range is "—", and a run without scores (no metrics in its meta, no
    eval.json) shows "—" in its metric cells, not Streamlit's "None"."""
    import json

    home = tmp_path / "home"
    shutil.copytree(tiny_home(), home)
    unscored = home / "runs" / "unscored"
    shutil.copytree(home / "runs" / RUN_NAME, unscored)
    meta = json.loads((unscored / "run.json").read_text())
    meta.pop("metrics")
    (unscored / "run.json").write_text(json.dumps(meta))
    (unscored / "eval.json").unlink()
    use_home(monkeypatch, home)
    monkeypatch.setattr("dashboard.i18n.current", lambda: lang)  # as the page formats choices
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, at.exception
    (runs,) = [d for d in at.dataframe if "α" in d.value.columns]
    assert runs.value.iloc[:, 5:].isna().any().any()  # the unscored run's metric cells
    assert runs.proto.HasField("placeholder") and runs.proto.placeholder == "—"
    assert not runs.value[["α", "β"]].isna().any().any()
    assert set(runs.value.iloc[:, 6]) == {"—"}  # the α range of fixed-α runs


def test_a_run_name_is_held_to_the_one_name_rule(page: AppTest) -> None:
    """A run's name, once cleaned for its folder, follows the rule every name follows and is
    refused in its words: too long is said, not silently cut."""
    page.text_input(key="train_name").set_value("r" * 70)
    next(b for b in page.button if b.label == "Train at the α above only").click().run()
    shown = [e.value for e in page.error]
    assert any(text.startswith("Run name 'rrr") and text.endswith(
        "use 1-64 letters (of any script), digits, '.', '_' or '-', starting with a letter or "
        "digit") for text in shown), shown
    assert "Use 1-64 letters (of any script)" in page.text_input(key="train_name").help
