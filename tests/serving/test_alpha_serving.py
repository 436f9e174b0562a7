"""The model's alpha when serving: Recommender, `prism recommend --alpha`, POST /recommend,
policies and sweeps; refused outside the trained range and by runs without one."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.cli.main import main
from engine.core.errors import RequestError

pytest_plugins = ["serving_runs"]


@pytest.fixture(scope="module")
def conditioned_run(tiny_shop, tmp_path_factory) -> Path:  # noqa: ANN001
    from engine.core.config import ModelConfig, TrainConfig
    from engine.data import load_dataset
    from engine.models.twotower import TwoTowerModel
    from engine.runs.data import prepare_data
    from engine.runs.store import save_run

    dataset = load_dataset(tiny_shop.data_dir)
    _, data = prepare_data(dataset, "leave-last-out", seed=0)
    model = TwoTowerModel(ModelConfig(dim=16, use_text=False),
                          TrainConfig(alpha=0.0, alpha_max=1.0, epochs=1, device="cpu"))
    model.fit(data)
    meta = {"dataset": dataset.name, "split": "leave-last-out", "seed": 0,
            "data": {"category_depth": dataset.config.category_depth}}
    return save_run(tmp_path_factory.mktemp("conditioned") / "run", model=model, data=data,
                    items=dataset.items, meta=meta)


@pytest.fixture(scope="module")
def service(conditioned_run):  # noqa: ANN001, ANN201
    from engine.serving.recommender import Recommender

    return Recommender.load(conditioned_run)


def test_recommend_scores_at_the_asked_alpha(service) -> None:  # noqa: ANN001
    user = service.user_ids[0]
    low = service.recommend(user, k=10, alpha=0.0)
    high = service.recommend(user, k=10, alpha=1.0)
    assert low.alpha == 0.0 and high.alpha == 1.0
    assert service.recommend(user, k=10).alpha == 0.0  # the run's own default
    assert not low.table["relevance"].equals(high.table["relevance"]) or \
        list(low.table["item_id"]) != list(high.table["item_id"])


def test_recommend_refuses_alpha_outside_the_range(service, ease_service) -> None:  # noqa: ANN001
    user = service.user_ids[0]
    with pytest.raises(RequestError, match="outside the range"):
        service.recommend(user, alpha=1.5)
    with pytest.raises(RequestError, match="no loss weight to choose"):
        ease_service.recommend(ease_service.user_ids[0], alpha=0.5)


def test_cli_alpha(conditioned_run, tiny_shop, capsys) -> None:  # noqa: ANN001
    from engine.runs.store import load_run

    user = load_run(conditioned_run).user_ids[0]
    assert main(["recommend", "--run", str(conditioned_run), "--user", user, "--k", "3",
                 "--alpha", "0.5", "--json"]) == 0
    assert "scored by the model at alpha 0.5" in capsys.readouterr().err
    assert main(["recommend", "--run", str(conditioned_run), "--user", user,
                 "--alpha", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "alpha 2 is outside the range" in err[0]
    assert main(["recommend", "--run", str(tiny_shop.ease_run), "--user", user,
                 "--alpha", "0.5"]) == 2
    assert "no loss weight to choose" in capsys.readouterr().err


def test_api_alpha(conditioned_run, service) -> None:  # noqa: ANN001
    from engine.api.app import create_app

    client = TestClient(create_app(conditioned_run, recommender=service))
    user = service.user_ids[0]
    ok = client.post("/recommend", json={"user_id": user, "k": 5, "alpha": 0.4})
    assert ok.status_code == 200 and ok.json()["alpha"] == pytest.approx(0.4, abs=1e-12)
    outside = client.post("/recommend", json={"user_id": user, "alpha": 3})
    assert outside.status_code == 400 and "outside the range" in outside.json()["detail"]
    assert client.post("/recommend", json={"user_id": user, "alpha": -1}).status_code == 422


def test_api_alpha_on_a_run_without_one(tiny_shop, ease_service) -> None:  # noqa: ANN001
    from engine.api.app import create_app

    client = TestClient(create_app(tiny_shop.ease_run, recommender=ease_service))
    response = client.post("/recommend", json={"user_id": ease_service.user_ids[0],
                                               "alpha": 0.5})
    assert response.status_code == 400 and "no loss weight" in response.json()["detail"]


def test_a_policy_sets_the_model_alpha(service) -> None:  # noqa: ANN001
    from engine.policy.schema import Policy
    from engine.policy.serving import PolicyServer
    from engine.policy.store import PolicyStore

    policy = Policy.model_validate({"name": "wide", "stages": [
        {"kind": "diversify", "method": "mmr", "weight": 0.0, "alpha": 0.9}]})
    server = PolicyServer(service, PolicyStore())
    user = service.user_ids[0]
    result = server.recommend(policy, user_id=user, k=5)
    assert result.alpha == pytest.approx(0.9, abs=1e-12)
    plain = service.recommend(user, k=5, method="mmr", alpha=0.9)
    assert [row["item_id"] for row in result.records()] == list(plain.table["item_id"])


def test_sweep_draws_the_alpha_curve(conditioned_run, tiny_shop) -> None:  # noqa: ANN001
    from engine.data import load_dataset
    from engine.evaluation.sweep import ALPHA_METHOD, sweep
    from engine.runs.store import load_run

    frame = sweep(load_run(conditioned_run), load_dataset(tiny_shop.data_dir), ["mmr"],
                  [0.0, 0.5], alphas=[0.0, 0.5, 1.0])
    curve = frame[frame["method"] == ALPHA_METHOD]
    assert list(curve["weight"]) == [0.0, 0.5, 1.0]
    with pytest.raises(RequestError, match="outside the range"):
        sweep(load_run(conditioned_run), load_dataset(tiny_shop.data_dir), ["mmr"], [0.0],
              alphas=[2.0])


def test_a_policy_alpha_the_run_cannot_take_is_caught(service) -> None:  # noqa: ANN001
    from engine.policy.checks import servable_problems
    from engine.policy.schema import Policy
    from engine.policy.serving import PolicyFailed, PolicyServer
    from engine.policy.store import PolicyStore

    policy = Policy.model_validate({"name": "too-wide", "stages": [
        {"kind": "diversify", "method": "mmr", "weight": 0.2, "alpha": 3.0}]})
    store = PolicyStore()
    problems = servable_problems(policy, service, store)
    assert any("alpha 3 is outside the range" in p for p in problems)
    with pytest.raises(PolicyFailed, match="outside the range"):
        PolicyServer(service, store).recommend(policy, user_id=service.user_ids[0], k=5)


def test_a_candidate_index_serves_every_alpha(conditioned_run, tmp_path) -> None:  # noqa: ANN001
    """The index holds the one table [v_i, d_i]: lists through it equal exact lists at any α."""
    pytest.importorskip("faiss")
    import shutil

    from engine.retrieval.runindex import read_index_info
    from engine.serving.recommender import Recommender

    run = tmp_path / "run"
    shutil.copytree(conditioned_run, run)
    assert main(["index", "build", "--run", str(run), "--kind", "ivf"]) == 0
    exact = Recommender.load(run, retrieval="exact")
    model = exact.model_at(None)
    assert read_index_info(run).dim == model.scoring_vectors().shape[1] == 32
    fast = Recommender.load(run, candidates=exact.catalogue.n_items)
    assert fast.retrieval.active
    user = exact.user_ids[2]
    for alpha in (0.0, 0.5, 1.0):
        assert fast.recommend(user, k=10, alpha=alpha).table["item_id"].tolist() == \
            exact.recommend(user, k=10, alpha=alpha).table["item_id"].tolist()


def test_score_parts_of_a_conditioned_run_add_up_at_its_alpha(service) -> None:  # noqa: ANN001
    """The explanation's parts include the α·u·d_i term, so they sum to the served score."""
    import numpy as np

    from engine.models.credit import model_reasons

    history, items = service.catalogue.user_items[0], np.arange(5)
    for alpha in (0.0, 1.0):
        model = service.model_at(alpha)
        reasons = model_reasons(model, items, history)
        assert "diversity" in reasons.parts
        score = model.score_histories([history])[0][items] * model.model_config.temperature
        np.testing.assert_allclose(sum(reasons.parts.values()), score, atol=1e-4)
