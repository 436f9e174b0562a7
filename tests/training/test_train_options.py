"""`train_spec`: the TrainSpec `prism train` builds from its options, for every caller."""

from __future__ import annotations

import pytest

from engine.core.errors import ConfigError
from engine.training.options import parse_settings, train_spec


def test_split_preset_under_epochs_and_settings() -> None:
    spec = train_spec("shop", model="twotower", protocol="random", alpha=0.2, seed=3,
                      epochs=2, settings=["dim=16", "use_text=false", "lr=0.01"])
    _, configs = spec.build()
    assert configs["model_config"]["dim"] == 16 and configs["model_config"]["use_text"] is False
    assert configs["model_config"]["dropout"] == 0.5  # the random split's preset
    assert configs["train_config"]["example_history"] == "user"
    assert configs["train_config"]["lr"] == 0.01  # a setting wins over the preset
    assert configs["train_config"]["epochs"] == 2  # given epochs replace the preset's
    assert spec.configured_only and spec.fixed == {"dim", "use_text", "lr"}


def test_text_encoder_only_for_models_that_read_text() -> None:
    assert train_spec("shop", model="ease").encoder_config is None
    assert train_spec("shop", model="twotower").encoder_config is not None
    assert train_spec("shop").search_vectors is True  # as `prism train`


@pytest.mark.parametrize("pairs, message", [
    (["nonsense=1"], "setting 'nonsense=1': expected KEY=VALUE with KEY one of"),
    (["dim"], "setting 'dim': expected KEY=VALUE"),
])
def test_bad_setting_names_it(pairs: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_settings(pairs)


def test_values_are_read_as_bool_int_float_or_text() -> None:
    model, train = parse_settings(["use_text=false", "dim=16", "lr=0.5", "diversity_loss=kl"])
    assert model["use_text"] is False and model["dim"] == 16
    assert train["lr"] == pytest.approx(0.5, abs=1e-12)
    assert train["diversity_loss"] == "kl"  # text stays text


@pytest.mark.parametrize("changes", [{"alpha": 2.0}, {"alpha": -0.1},
                                     {"alpha": 0.0, "alpha_max": 2.0},
                                     {"settings": ["alpha=1.5"]}])
def test_alpha_outside_zero_one_is_refused_by_the_spec(changes: dict) -> None:
    """One check for every caller (CLI, studio, API): α and a range's ends lie in [0, 1]."""
    with pytest.raises(ConfigError, match=r"alpha(_max)?: must be"):
        train_spec("shop", model="twotower", **changes)
