"""Explorer page in AppTest: the slider, URL parameters, unknown shoppers, what-if, lost runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dashboard_support import APP, RUN_NAME, TIMEOUT, concentrated_user, use_tiny_home
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def prism_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Overrides the per-test empty home: these tests share one tiny trained run."""
    return use_tiny_home(monkeypatch)


def _app(panel: str | None = None, **params: str) -> AppTest:
    """The studio at a link's `params`; `panel`: an Explorer panel open ("explorer_whatif")."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    if panel is not None:
        at.session_state[panel] = True
    return at.run()


def _diversified(at: AppTest) -> str:
    return next(m.value for m in at.markdown if 'id="diversified-list"' in m.value)


def _entropy(at: AppTest) -> float:
    return float(next(m.value for m in at.metric if m.label == "Category entropy@10"))


def test_explorer_renders_without_exception(prism_home: Path) -> None:
    at = _app()
    assert not at.exception
    assert at.slider(key="w_alpha").value == 0.5
    assert [m.label for m in at.metric][:2] == ["Relevance 1 − w", "Category entropy@10"]


def test_alpha_from_0_to_08_changes_list_and_raises_entropy(prism_home: Path) -> None:
    at = _app(user=concentrated_user(prism_home), alpha="0", method="mmr")
    assert at.slider(key="w_alpha").value == 0.0
    before_list, before_entropy = _diversified(at), _entropy(at)
    at.slider(key="w_alpha").set_value(0.8).run()
    assert not at.exception
    assert _diversified(at) != before_list
    assert _entropy(at) > before_entropy
    # the serve-time weight's URL name is diversity_weight (an old link's alpha= gives way)
    assert (at.query_params["diversity_weight"] == ["0.8"]
            or at.query_params["diversity_weight"] == "0.8")
    assert "alpha" not in at.query_params


def test_diversity_weight_link_sets_the_slider_and_each_weight_says_where_it_acts(
        prism_home: Path) -> None:
    import json

    at = _app(diversity_weight="0.35", alpha="0.9")  # the new name wins over an old one
    assert not at.exception
    assert at.slider(key="w_alpha").value == 0.35
    captions = " ".join(c.value for c in at.caption)
    assert "At serving: re-ranks this list" in captions
    train = json.loads((prism_home / "runs" / RUN_NAME / "run.json").read_text())["train_config"]
    assert (f"In training: this model was trained with α = {train['alpha']:.2f} "
            f"(diversity loss L_d) and β = {train['beta']:.2f}") in captions


def test_unknown_user_shows_warning_not_error(prism_home: Path) -> None:
    at = _app(user="nobody-here")
    assert not at.exception
    assert any("nobody-here" in w.value for w in at.warning)
    assert not at.error
    assert 'id="diversified-list"' in _diversified(at)  # trending items are still shown


def test_out_of_range_alpha_in_url_is_clamped_with_warning(prism_home: Path) -> None:
    at = _app(alpha="3.5", k="abc")
    assert not at.exception
    assert at.slider(key="w_alpha").value == 1.0
    warnings = " ".join(w.value for w in at.warning)
    assert "outside [0, 1]" in warnings and "not a whole number" in warnings


def test_whatif_added_items_change_the_ranking(prism_home: Path) -> None:
    at = _app(user=concentrated_user(prism_home), alpha="0", panel="explorer_whatif")
    before = _diversified(at)
    from engine.serving.recommender import Recommender

    items = Recommender.load(prism_home / "runs" / RUN_NAME).catalogue.items["item_id"]
    for item in items.tolist()[-3:]:  # found by id on the server: only matches are listed
        at.text_input(key="explorer_find_item").set_value(item).run()
        assert len(at.selectbox(key="whatif_pick").options) == 1  # only its match is sent
        at.selectbox(key="whatif_pick").set_value(item).run()
    assert not at.exception
    assert len(at.multiselect(key="w_whatif_add").value) == 3  # one item per Add, never all
    assert any("edited session" in i.value for i in at.info)
    assert _diversified(at) != before


def test_deleted_run_switches_with_warning_not_traceback(prism_home: Path) -> None:
    copy = prism_home / "runs" / "doomed"
    shutil.copytree(prism_home / "runs" / RUN_NAME, copy)
    try:
        at = _app()
        at.selectbox(key="w_run").set_value("doomed").run()
        assert not at.exception and at.selectbox(key="w_run").value == "doomed"
        shutil.rmtree(copy)
        at.slider(key="w_alpha").set_value(0.3).run()
        assert not at.exception
        assert any("'doomed' is gone" in w.value for w in at.warning)
        assert at.selectbox(key="w_run").value == RUN_NAME
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def test_removing_the_whole_history_falls_back_to_trending(prism_home: Path) -> None:
    at = _app(user=concentrated_user(prism_home), panel="explorer_whatif")
    remover = at.multiselect(key="w_whatif_remove")
    remover.set_value(list(remover.options)).run()
    assert not at.exception and not at.error
    assert any("history is empty" in i.value for i in at.info)
    at.session_state["explorer_whatif"] = False  # the edit outlives its panel being closed
    at.run()
    assert not at.exception and not at.multiselect
    assert any("history is empty" in i.value for i in at.info)


def test_simultaneous_sessions_share_the_model_without_races(prism_home: Path) -> None:
    """Several sessions at once (one thread each) go through the studio's cached model: all
    get the one Recommender object, the list a lone session gets, and no race errors
    ("Already borrowed" from a shared tokenizer, or anything else). AppTest itself cannot run
    in parallel threads (each run tears down Streamlit's one Runtime), so the threads call
    what the pages call: `state.recommender` and, for search, `state.search_lock`."""
    from concurrent.futures import ThreadPoolExecutor

    from dashboard import state

    run = next(entry for entry in state.list_runs() if entry.name == RUN_NAME)
    user = concentrated_user(prism_home)
    settings = [(method, alpha) for method in ("mmr", "dpp", "calibrated") for alpha in
                (0.2, 0.9)]
    shared = state.recommender(run)

    def session(setting: tuple[str, float]) -> tuple[object, list[str], list[str]]:
        method, alpha = setting
        recommender = state.recommender(run)
        listed = recommender.recommend(user_id=user, k=10, method=method,
                                       diversity_weight=alpha).table["item_id"].tolist()
        with state.search_lock(str(run.path)):
            found = recommender.search("garden", user_id=user, k=5, method=method,
                                       diversity_weight=alpha).table["item_id"].tolist()
        return recommender, listed, found

    expected = {setting: session(setting)[1:] for setting in settings}
    with ThreadPoolExecutor(max_workers=len(settings)) as pool:
        results = list(pool.map(session, settings * 3))
    for setting, (recommender, listed, found) in zip(settings * 3, results, strict=True):
        assert recommender is shared  # one cached model for every session
        assert (listed, found) == expected[setting], setting


def test_precision_is_scored_on_the_evaluation_models_list(prism_home: Path) -> None:
    """The list shown is served from every event (held-out purchases are history there, so
    never listed); precision is the evaluation model's, which never saw them."""
    from engine.runs.data import load_run_split
    from engine.runs.store import load_run
    from engine.serving.listmetrics import list_metrics
    from engine.serving.recommender import Recommender

    run = prism_home / "runs" / RUN_NAME
    split, _ = load_run_split(load_run(run).meta, run)
    heldout = split.heldout_by_user()
    evaluator, served = Recommender.load(run, model="evaluation"), Recommender.load(run)
    settings = {"k": 10, "method": "mmr", "diversity_weight": 0.5}
    precision = {}
    for user, truth in heldout.items():
        shown = served.recommend(user, **settings).table["item_id"].tolist()
        assert not set(shown) & set(truth)  # the shopper's own purchases are never offered
        listed = evaluator.recommend(user, **settings).table["item_id"]
        precision[user] = list_metrics(evaluator.catalogue, listed, truth, 10)["precision"]
    user = max(precision, key=lambda u: (precision[u], u))
    assert precision[user] > 0
    at = _app(user=user, diversity_weight="0.5", method="mmr", k="10")
    assert not at.exception
    shown = next(m.value for m in at.metric if m.label == "Precision@10")
    assert float(shown) == pytest.approx(precision[user], abs=0.005)


def _refuse(request: object) -> None:
    from engine.core.errors import RequestError

    raise RequestError("k must be between 1 and the catalogue size 3, got 10")


def test_a_refused_list_names_the_targets_only_when_they_are_in_use(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.serving.recommender import Recommender

    monkeypatch.setattr(Recommender, "serve", lambda self, request: _refuse(request))
    at = _app(method="quota")
    assert not at.exception, at.exception
    (error,) = at.error
    assert error.value.startswith("k must be between 1 and the catalogue size 3, got 10")
    assert "category targets" not in error.value
    at.session_state["targets"] = {"Home": {"floor": 1, "cap": None, "share": None}}
    at.run()
    (error,) = at.error
    assert "category targets in the sidebar" in error.value


def test_a_shopper_search_that_matches_nobody_says_so() -> None:
    at = _app()
    assert not any("matches" in c.value for c in at.caption)
    at.text_input(key="explorer_find_shopper").set_value("zzzz").run()
    assert not at.exception, at.exception
    assert "No shopper matches 'zzzz'." in [c.value for c in at.caption]
