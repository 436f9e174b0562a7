"""The Explorer on a run trained over a range of α: the main slider is the model's own α (a
new list per move), the re-rank weight a second control; runs without a range say so."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_support import (
    APP,
    CONDITIONED_RUN,
    TIMEOUT,
    alpha_moved_user,
    conditioned_home,
    use_home,
    use_tiny_home,
)
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_home(monkeypatch, conditioned_home())


def _app(**params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _list(at: AppTest, list_id: str = "diversified-list") -> str:
    return next(m.value for m in at.markdown if f'id="{list_id}"' in m.value)


def _param(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value[0] if isinstance(value, list) else value


def test_model_alpha_is_the_main_slider_and_moves_the_list(home: Path) -> None:
    user = alpha_moved_user(home)
    at = _app(user=user, diversity_weight="0", method="mmr")
    assert not at.exception
    model = at.slider(key="w_model_alpha")
    assert (model.min, model.max, model.value) == (0.0, 1.0, 0.0)  # the run's own α
    assert model.label == "Diversity α (in the model)"
    assert at.slider(key="w_alpha").label == "Re-rank weight w · MMR"
    captions = " ".join(c.value for c in at.caption)
    assert "Trained over α ∈ [0, 1]" in captions and "At serving: re-ranks" in captions
    before, plain_before = _list(at), _list(at, "relevance-list")
    at.slider(key="w_model_alpha").set_value(1.0).run()
    assert not at.exception
    assert _list(at) != before and _list(at, "relevance-list") != plain_before
    assert "α = 1.00" in _list(at)
    assert _param(at, "model_alpha") == "1.0"
    at.switch_page("app_pages/tradeoff.py").run()
    at.switch_page("app_pages/explorer.py").run()
    assert not at.exception
    assert at.slider(key="w_model_alpha").value == 1.0
    assert _param(at, "model_alpha") == "1.0"


def test_a_link_outside_the_trained_range_is_fitted_with_a_notice(home: Path) -> None:
    at = _app(model_alpha="3")
    assert not at.exception
    assert at.slider(key="w_model_alpha").value == 1.0
    assert any("outside this model's trained range [0, 1]" in i.value for i in at.info)
    at = _app(model_alpha="many")
    assert not at.exception and at.slider(key="w_model_alpha").value == 0.0
    assert any("model_alpha='many'" in w.value for w in at.warning)


def test_the_conditioned_run_speaks_chinese(home: Path) -> None:
    at = _app(lang="zh")
    assert not at.exception
    assert at.slider(key="w_model_alpha").label == "多样性 α（模型内）"
    assert at.slider(key="w_alpha").label.startswith("重排权重 w · ")


def test_a_run_with_one_alpha_has_the_re_rank_weight_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    use_tiny_home(monkeypatch)
    at = _app(model_alpha="0.7")
    assert not at.exception
    assert not [s for s in at.slider if s.key == "w_model_alpha"]
    assert at.slider(key="w_alpha").label == "Re-rank weight w"
    assert any("the slider is the re-rank weight" in c.value for c in at.caption)


def test_precision_is_measured_at_the_model_alpha_shown(home: Path) -> None:
    """The serving model is refit on every event, so precision comes from the evaluation
    model: its list must be the one at the slider's model α, not at the run's own α."""
    from dashboard import state
    from engine.serving.listmetrics import list_metrics
    from engine.serving.recommender import Recommender
    from engine.serving.requests import RecommendRequest

    run_dir = home / "runs" / CONDITIONED_RUN
    evaluator = Recommender.load(run_dir, model="evaluation")
    truth = state.heldout(state.RunEntry(CONDITIONED_RUN, run_dir, run_dir.stat().st_mtime, {}))

    def precision(user: str, alpha: float) -> float:
        result = evaluator.serve(RecommendRequest.of(
            user_id=user, k=10, method="mmr", diversity_weight=0.0, alpha=alpha))
        items = result.table["item_id"].tolist()
        return list_metrics(evaluator.catalogue, items, truth[user], 10)["precision"]

    user = next(u for u in sorted(truth) if abs(precision(u, 0.0) - precision(u, 1.0)) > 0.05)
    at = _app(user=user, diversity_weight="0", method="mmr", model_alpha="1")
    assert not at.exception
    tile = next(m for m in at.metric if m.label.startswith("Precision"))
    assert float(tile.value) == pytest.approx(precision(user, 1.0), abs=0.005)
