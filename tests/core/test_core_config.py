"""engine.core.config: per-field rules declared on the fields, one message naming the field."""

from __future__ import annotations

import pytest

from engine.core.config import DataConfig, EncoderConfig, ModelConfig, TrainConfig
from engine.core.errors import ConfigError


@pytest.mark.parametrize(("cls", "changes", "message"), [
    (TrainConfig, {"alpha": -0.1}, r"TrainConfig.alpha: must be in \[0, 1\], got -0.1"),
    (TrainConfig, {"gamma": 1.5}, r"TrainConfig.gamma: must be in \[0, 1\], got 1.5"),
    (TrainConfig, {"alpha": float("nan")}, "TrainConfig.alpha: must be a number, got nan"),
    (TrainConfig, {"epochs": True}, "TrainConfig.epochs: must be an integer, got True"),
    (TrainConfig, {"epochs": "5"}, "TrainConfig.epochs: must be an integer, got '5'"),
    (TrainConfig, {"device": "tpu"}, "TrainConfig.device: must be auto, cpu or cuda, got 'tpu'"),
    (ModelConfig, {"dropout": 1.0}, r"ModelConfig.dropout: must be in \[0, 1\), got 1.0"),
    (ModelConfig, {"temperature": 0}, r"ModelConfig.temperature: must be in \(0, 10\], got 0"),
    (ModelConfig, {"n_heads": 3}, "ModelConfig.n_heads: must be >= 1 and divide dim"),
    (ModelConfig, {"use_text": 1}, "ModelConfig.use_text: must be true or false, got 1"),
    (DataConfig, {"category_depth": 0}, "DataConfig.category_depth: must be >= 1, got 0"),
    (DataConfig, {"event_weights": {"view": 0}},
     r"DataConfig.event_weights\['view'\]: must be > 0.0, got 0"),
    (EncoderConfig, {"pooling": "max"},
     "EncoderConfig.pooling: must be auto, mean, cls or last, got 'max'"),
])
def test_a_bad_setting_is_one_message_naming_field_and_rule(cls: type, changes: dict,
                                                             message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{message}$"):
        cls(**changes)


def test_valid_configs_round_trip_and_replace() -> None:
    config = TrainConfig(alpha=0.3, epochs=5)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert config.replace(beta=0.5).beta == 0.5
    with pytest.raises(ConfigError, match="TrainConfig.lr: must be > 0"):
        config.replace(lr=0.0)
    assert ModelConfig(dim=32, n_heads=4).dim == 32
    assert DataConfig().event_weights  # defaults validate too


def test_unknown_keys_are_rejected_with_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"TrainConfig: unknown setting 'alpah'"):
        TrainConfig.from_dict({"alpah": 0.1})
