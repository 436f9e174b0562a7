"""`prism train --dp-epsilon`: a private run records its guarantee; bad budgets exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.data import generate_shop, write_tables

pytest.importorskip("opacus", reason="private training needs the privacy extra (opacus)")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shop")
    items, events = generate_shop(n_items=60, n_users=50, seed=5)
    write_tables(items, events, folder)
    return folder


def train(shop: Path, out: Path, *extra: str) -> int:
    return main(["train", "--data", str(shop), "--out", str(out), "--quiet", *extra])


def test_a_private_run_records_epsilon_delta_noise_and_clip(shop: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    assert train(shop, run, "--dp-epsilon", "3", "--epochs", "2",
                 "--set", "use_text=false", "--set", "dim=8", "--set", "batch_size=16") == 0
    meta = json.loads((run / "run.json").read_text())
    privacy = meta["privacy"]
    assert meta["model"] == "twotower" if "model" in meta else True
    assert privacy["epsilon"] == pytest.approx(3.0, abs=0)
    assert 0 < privacy["epsilon_spent"] <= 3.0 + 1e-9  # the accountant's epsilon
    assert 0 < privacy["delta"] < 1 / privacy["shoppers"]
    assert privacy["noise_multiplier"] > 0 and privacy["clip"] == pytest.approx(1.0, abs=0)
    assert 0 < privacy["sample_rate"] <= 1 and privacy["epochs"] == 2
    assert meta["train_config"]["dp_epsilon"] == pytest.approx(3.0, abs=0)
    assert meta["train_config"]["example_history"] == "user"
    assert meta["model_config"]["use_id"] is False
    assert not meta["models"]["serving"]["refit"]  # one fit spends the budget once
    assert "differential privacy over shoppers" in capsys.readouterr().err


@pytest.mark.parametrize(("extra", "said"), [
    (["--dp-epsilon", "0"], "--dp-epsilon 0"),
    (["--dp-epsilon", "-2"], "--dp-epsilon -2"),
    (["--dp-epsilon", "inf"], "--dp-epsilon"),
    (["--dp-epsilon", "lots"], "--dp-epsilon"),
    (["--dp-epsilon", "2", "--model", "ease"], "--model ease has no private training"),
    (["--dp-epsilon", "2", "--dp-delta", "1"], "--dp-delta 1"),
    (["--dp-delta", "1e-5"], "--dp-delta applies to private training only"),
    (["--dp-epsilon", "2", "--tune", "3"], "cannot be combined with --tune"),
])
def test_bad_privacy_settings_exit_2_with_one_clear_line(shop: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture,
                                                         extra: list[str], said: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        code = train(shop, tmp_path / "run", *extra)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
