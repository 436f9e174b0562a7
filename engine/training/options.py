"""The training options `prism train` takes, as the one `TrainSpec` they ask for.

`train_spec` is what `prism train` builds from its options and what the benchmarks build from
theirs, so a benchmark's run is trained exactly as the command it names: the model's own
settings (alpha, beta, seed, device, epochs) validated by `TrainConfig`, the split's preset
(engine/training/presets.py) under the epochs and the KEY=VALUE settings, and item text
encoded when the model reads it. Errors name the setting (`setting 'x=1': ...`) or the
config field (`TrainConfig.alpha: ...`), which the CLI words as its own options.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from engine.core.config import DEFAULT_ALPHA, EncoderConfig, ModelConfig, TrainConfig
from engine.core.errors import ConfigError
from engine.data import Dataset
from engine.models.registry import get_model_class
from engine.training.presets import split_presets
from engine.training.spec import AUTO, TrainSpec


def setting_value(text: str) -> Any:
    """`true`/`false`, an int, a float, or the text itself."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_settings(pairs: Iterable[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """KEY=VALUE settings split into ModelConfig and TrainConfig changes."""
    model_keys = {f.name for f in dataclasses.fields(ModelConfig)}
    train_keys = {f.name for f in dataclasses.fields(TrainConfig)}
    model_changes: dict[str, Any] = {}
    train_changes: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or key not in model_keys | train_keys:
            raise ConfigError(f"setting {pair!r}: expected KEY=VALUE with KEY one of "
                              f"{', '.join(sorted(model_keys | train_keys))}")
        target = model_changes if key in model_keys else train_changes
        target[key] = setting_value(value.strip())
    return model_changes, train_changes


def train_spec(data: str | Path | Dataset, *, out: str | Path | None = None,
               model: str = AUTO, protocol: str = "leave-last-out", seed: int = 0,
               alpha: float = DEFAULT_ALPHA, alpha_max: float | None = None,
               beta: float = 1.0, epochs: int | None = None, settings: Iterable[str] = (),
               device: str = "auto", private: Mapping[str, Any] | None = None,
               encoder: EncoderConfig | None = None, **options: Any) -> TrainSpec:
    """The TrainSpec `prism train` builds for these options (`options`: TrainSpec fields such
    as fmt, tune, progress, ann, refit; `private`: DP-SGD's TrainConfig changes; `encoder`:
    the text encoder when the model reads text, EncoderConfig() when not given)."""
    settings = list(settings)
    changes: dict[str, Any] = {"alpha": alpha, "alpha_max": alpha_max, "beta": beta,
                               "seed": seed, "device": device, **(private or {})}
    if epochs is not None:
        changes["epochs"] = epochs
    model_changes, train_changes = parse_settings(settings)
    if "dp_epsilon" in changes:  # ID embeddings: n_items free rows, all noised (privacy.md)
        model_changes = {"use_id": False, **model_changes}
    train_config = TrainConfig(**changes)  # validates alpha/beta/epochs for every model
    preset_model, preset_train = split_presets(protocol, epochs is not None)
    try:
        train_config = train_config.replace(**{**preset_train, **train_changes})
        model_config = ModelConfig(**{**preset_model, **model_changes})
    except TypeError as exc:  # e.g. dim=big: a text where a number belongs
        raise ConfigError(f"setting: a value has the wrong type ({exc})") from None
    reads_text = model == AUTO or get_model_class(model).reads_text
    return TrainSpec(data, out=out, model=model, model_config=model_config,
                     train_config=train_config, protocol=protocol, seed=seed,
                     configured_only=alpha > 0 or alpha_max is not None or bool(settings),
                     fixed=frozenset(model_changes) | frozenset(train_changes),
                     encoder_config=(encoder or EncoderConfig()) if reads_text else None,
                     **{"search_vectors": True, **options})
