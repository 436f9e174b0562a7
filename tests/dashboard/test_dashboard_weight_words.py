"""The re-rank weight is called w on every page that shows it; α names only a model's own
loss weight (in English and Chinese)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dashboard_support import APP, TIMEOUT, use_tiny_home
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow
LOCALES = Path(__file__).resolve().parents[2] / "dashboard" / "locales"
REWEIGHT_KEYS = ("charts.current", "charts.setting", "explorer.caption", "ledger.weight",
                 "scenarios.caption", "scenarios.current", "scenarios.name_placeholder",
                 "search.caption", "search.ask_caption", "tradeoff.ringed")


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_tiny_home(monkeypatch)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_re_rank_weight_text_says_w_not_alpha(language: str) -> None:
    catalogue = json.loads((LOCALES / f"{language}.json").read_text())
    for key in REWEIGHT_KEYS:
        assert "w" in catalogue[key] and "α" not in catalogue[key], key
    assert "α" in catalogue["explorer.caption_model_alpha"]


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["diversity_weight"] = "0.8"
    at.run()
    at.switch_page(f"app_pages/{name}.py")
    return at.run()


def test_a_single_alpha_run_names_the_weight_w_on_explorer_tradeoff_and_ledger() -> None:
    explorer = _page("explorer")
    assert explorer.caption[0].value.startswith("Drag w ")
    tradeoff = _page("tradeoff")
    captions = " ".join(c.value for c in tradeoff.caption)
    assert "w = 0.80" in captions and "(MMR, α" not in captions
    ledger = _page("ledger")
    assert [s.label for s in ledger.slider if s.key == "ledger_weight"] == ["Re-rank weight w"]
