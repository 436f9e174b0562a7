"""Every registered model honours one contract, built only through the registry's `build`:
its config round-trips, it fits and scores, its state saves and loads to the same scores,
and it answers `at_alpha` as its capabilities say. A model added to the registry is covered
here without a line of its own."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
from model_contract import tiny_train_data
from safetensors.numpy import load_file, save_file

from engine.core.config import ModelConfig, TrainConfig
from engine.core.errors import ConfigError, NotFittedError, RequestError
from engine.models.base import BaseModel
from engine.models.registry import MODEL_NAMES, ModelSpec, build, get_model_class

ROOT = Path(__file__).resolve().parents[2]
ATOL = 1e-6
# Small, fast training configs for the models built from them
FAST = {"model_config": ModelConfig(dim=8, n_heads=1, use_text=False),
        "train_config": TrainConfig(epochs=2, device="cpu", batch_size=8, history_len=4,
                                    patience=2)}


def spec(name: str, **train_changes: object) -> ModelSpec:
    """The registered model's spec: the fast configs for a configured model, else defaults."""
    if not get_model_class(name).configurable:
        return ModelSpec(name)
    return ModelSpec(name, {**FAST, "train_config": FAST["train_config"].replace(
        **train_changes)})


@pytest.fixture(scope="module", params=MODEL_NAMES)
def fitted(request: pytest.FixtureRequest) -> tuple[BaseModel, object]:
    data = tiny_train_data()
    model = build(spec(request.param))
    assert model.fit(data) is model
    return model, data


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_build_gives_an_unfitted_model_whose_config_rebuilds_it(name: str) -> None:
    model = build(spec(name))
    assert isinstance(model, get_model_class(name)) and model.name == name
    with pytest.raises(NotFittedError):
        model.score_users(np.array([0]))
    config = model.config()
    assert json.loads(json.dumps(config)) == config  # run.json form
    assert build(ModelSpec(name, config)).config() == config
    with pytest.raises(ConfigError, match="unknown setting"):
        build(ModelSpec(name, {**config, "no_such_setting": 1}))


def test_an_unknown_name_is_refused_with_the_registered_ones() -> None:
    with pytest.raises(ConfigError, match="choose one of twotower, pop"):
        build(ModelSpec("svd"))


def test_fitted_models_score_every_item_for_users_and_histories(fitted) -> None:  # noqa: ANN001
    model, data = fitted
    users = np.arange(data.n_users)
    scores = model.score_users(users)
    assert scores.shape == (data.n_users, data.n_items) and scores.dtype == np.float32
    assert np.isfinite(scores).all()
    adhoc = model.score_histories([np.array([0, 4]), np.array([], dtype=np.int64)])
    assert adhoc.shape == (2, data.n_items) and np.isfinite(adhoc).all()
    top, values = model.top_n_users(users, 3)
    np.testing.assert_allclose(values, np.take_along_axis(scores, top, axis=1), atol=ATOL)


def test_state_saves_and_loads_to_the_same_scores(fitted, tmp_path: Path) -> None:  # noqa: ANN001
    model, data = fitted
    tensors, meta = model.get_state()
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()},
              str(tmp_path / "model.safetensors"))
    clone = type(model).from_state(load_file(str(tmp_path / "model.safetensors")),
                                   json.loads(json.dumps(meta)))
    users = np.arange(data.n_users)
    np.testing.assert_allclose(clone.score_users(users), model.score_users(users), atol=ATOL)
    assert clone.config() == model.config()


def test_unfitted_copy_keeps_the_settings_and_caps_epochs(fitted) -> None:  # noqa: ANN001
    model, _ = fitted
    fresh = model.unfitted(epochs=1)
    assert type(fresh) is type(model) and fresh is not model
    with pytest.raises(NotFittedError):
        fresh.score_users(np.array([0]))
    expected = model.config()
    if model.trains_in_epochs:
        expected["train_config"]["epochs"] = 1
    assert fresh.config() == expected


def test_a_model_without_a_trained_alpha_range_refuses_another_alpha(fitted) -> None:  # noqa: ANN001
    model, _ = fitted
    assert model.alpha_range is None
    with pytest.raises(RequestError, match="alpha 0.37"):
        model.at_alpha(0.37)


@pytest.mark.parametrize("name", [n for n in MODEL_NAMES if get_model_class(n).configurable])
def test_a_loss_conditioned_model_answers_inside_its_range_only(name: str) -> None:
    data = tiny_train_data()
    model = build(spec(name, alpha=0.0, alpha_max=1.0)).fit(data)
    assert model.alpha_range == (0.0, 1.0)
    low, high = model.at_alpha(0.0), model.at_alpha(1.0)
    assert (low.alpha_, high.alpha_) == (0.0, 1.0)
    users = np.arange(data.n_users)
    assert not np.allclose(low.score_users(users), high.score_users(users), atol=ATOL)
    with pytest.raises(RequestError, match="outside the range"):
        model.at_alpha(1.5)


def test_the_engine_never_compares_against_a_model_name() -> None:
    """Behaviour comes from the model's capabilities, never from `name == "…"` checks."""
    found = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                constants = [c for c in ast.walk(node) if isinstance(c, ast.Constant)]
                if any(c.value in MODEL_NAMES for c in constants):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
