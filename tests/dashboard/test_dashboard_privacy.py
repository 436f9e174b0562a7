"""The Training page's differential-privacy control and the runs table's privacy column."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_support import APP, TIMEOUT, use_tiny_home
from streamlit.testing.v1 import AppTest

from dashboard.i18n import translate

pytestmark = pytest.mark.slow

PRIVACY = {"epsilon": 4.0, "epsilon_spent": 3.9712, "delta": 4.9e-05,
           "noise_multiplier": 0.7214, "clip": 1.0, "sample_rate": 0.0308, "epochs": 3}


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_tiny_home(monkeypatch)


def _training(lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("app_pages/training.py")
    return at.run()


def test_the_form_offers_privacy_and_refuses_it_with_a_settings_search() -> None:
    at = _training()
    assert at.checkbox(key="train_private").label == "Differential privacy"
    assert at.number_input(key="train_epsilon").value == pytest.approx(4.0, abs=1e-9)
    at.checkbox(key="train_private").check()
    at.checkbox(key="train_tune").check()
    start = next(b for b in at.button if b.label == translate("training.start", "en"))
    start.click().run()
    assert not at.exception
    assert any("spend the privacy budget again" in e.value for e in at.error)
    assert "training_job" not in at.session_state  # nothing started


def test_the_runs_table_says_which_runs_are_private() -> None:
    at = _training()
    table = next(d.value for d in at.dataframe if "Privacy" in d.value.columns)
    assert set(table["Privacy"]) == {"—"}  # the shared tiny run was trained without noise


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ["ε 4 (spent 3.97)", "δ 4.9e-05", "noise 0.721", "clip 1", "rate 0.0308",
            "3 epochs"]),
    ("zh", ["ε 4（已用 3.97）", "δ 4.9e-05", "噪声 0.721", "裁剪 1", "3 轮"]),
])
def test_a_private_runs_cell_names_epsilon_delta_noise_and_clip(lang: str,
                                                                words: list[str]) -> None:
    from dashboard.measures import privacy_values

    cell = translate("training.privacy_cell", lang, **privacy_values(PRIVACY))
    assert all(word in cell for word in words), cell
