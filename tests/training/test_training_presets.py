"""Training presets: the random split's two-tower preset and the studio's quick runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.core.config import TrainConfig
from engine.training import presets
from engine.training.presets import ensure_synthetic_shop, new_run_name, quick_run, split_presets


def test_leave_last_out_has_no_preset() -> None:
    assert split_presets("leave-last-out", epochs_given=False) == ({}, {})


def test_random_split_preset_and_its_long_schedule_unless_epochs_are_given() -> None:
    model, train = split_presets("random", epochs_given=False)
    assert model == {"dropout": 0.5}
    assert train["example_history"] == "user" and train["epochs"] == presets.RANDOM_SPLIT_EPOCHS
    _, train = split_presets("random", epochs_given=True)
    assert "epochs" not in train
    TrainConfig(**train)  # every preset key is a real setting


def test_cli_and_studio_train_at_the_one_default_alpha() -> None:
    from engine.cli.main import build_parser
    from engine.core.config import DEFAULT_ALPHA

    args = build_parser().parse_args(["train", "--data", "d", "--out", "r"])
    assert args.alpha == (DEFAULT_ALPHA, None)
    assert quick_run(Path("d"), Path("r")).train_config.alpha == DEFAULT_ALPHA
    assert TrainConfig().alpha == DEFAULT_ALPHA


def test_studio_spec_builds_small_cpu_settings_and_train_arguments(tmp_path: Path) -> None:
    spec = quick_run(data_dir=tmp_path / "d", out_dir=tmp_path / "r", alpha=0.3, epochs=1,
                     dim=16, use_text=False, tune_trials=2)
    config = spec.train_config
    assert (config.alpha, config.epochs, config.device, config.batch_size) == (0.3, 1, "cpu", 256)
    assert config.patience == 2  # at least two epochs of patience
    assert quick_run(tmp_path, tmp_path, epochs=9, patience=3).train_config.patience == 3
    assert spec.data == tmp_path / "d" and spec.out == tmp_path / "r" and spec.epochs == 1
    assert spec.model == "twotower" and spec.tune == 2
    assert spec.encoder_config is None and spec.model_config.dim == 16
    assert quick_run(tmp_path, tmp_path).encoder_config is not None


def test_synthetic_shop_is_generated_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRISM_HOME", str(tmp_path))
    folder = ensure_synthetic_shop(n_items=40, n_users=20, seed=1)
    assert folder == tmp_path / "data" / "synthetic"
    written = (folder / "events.csv").stat().st_mtime_ns
    assert ensure_synthetic_shop(n_items=40, n_users=20, seed=1) == folder
    assert (folder / "events.csv").stat().st_mtime_ns == written


def test_run_names_carry_the_prefix_and_a_time_stamp() -> None:
    assert re.fullmatch(r"twotower-\d{4}-\d{6}", new_run_name("twotower"))


def test_alpha_defaults_are_stated_in_config_only() -> None:
    """The CLI, the starter, the Training page and model selection read their α defaults from
    engine.core.config; none writes an α default of its own."""
    root = Path(__file__).resolve().parents[2]
    literal = re.compile(r"alpha\w*\W{0,3}\s*[:=]\s*\(?[01]\.[0-9]")
    for name in ("engine/cli/train_cmd.py", "engine/training/presets.py",
                 "engine/training/options.py", "engine/training/selection.py",
                 "dashboard/bootstrap.py", "dashboard/app_pages/training.py"):
        text = (root / name).read_text()
        assert not literal.search(text), name
        assert "DEFAULT_ALPHA" in text or "starter_spec" in text, name


def test_model_selection_includes_the_model_over_the_default_alpha_range() -> None:
    from engine.core.config import DEFAULT_ALPHA_RANGE, ModelConfig
    from engine.training.selection import default_candidates, every_alpha

    pair = (ModelConfig(dim=8), TrainConfig(epochs=1))
    candidates = default_candidates(100, pair)
    twotowers = [c for c in candidates if c.model_name == "twotower"]
    assert [c.label for c in twotowers] == ["twotower", "twotower α 0–1"]  # one α first
    train = twotowers[1].build().train_config
    assert train.alpha_range == DEFAULT_ALPHA_RANGE and train.epochs == 1  # same settings
    assert every_alpha(pair[0], TrainConfig(alpha=0.2, alpha_max=0.8)) is None
    assert every_alpha(pair[0], TrainConfig(alpha=0.5, beta=0.0)) is None
    assert all(c.model_name != "twotower" for c in default_candidates(100, None))
