"""`prism train --tensorboard DIR`: epoch scalars as TensorBoard event files (optional extra)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli.main import main
from engine.data import generate_shop, write_tables


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tb-shop")
    items, events = generate_shop(n_items=60, n_users=40, seed=5)
    write_tables(items, events, folder)
    return folder


@pytest.mark.slow
def test_train_writes_epoch_scalars(shop: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logs = tmp_path / "tb"
    assert main(["train", "--data", str(shop), "--out", str(tmp_path / "run"), "--quiet",
                 "--epochs", "2", "--set", "dim=8", "--set", "patience=5",
                 "--tensorboard", str(logs)]) == 0
    events = EventAccumulator(str(logs))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"L", "L_r", "L_d", "val_ndcg@10"} <= tags and "epoch" not in tags
    assert [event.step for event in events.Scalars("L_r")] == [1, 2]


def test_tensorboard_is_for_the_two_tower_only(shop: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--data", str(shop), "--out", str(tmp_path / "run"), "--quiet",
                 "--model", "ease", "--tensorboard", str(tmp_path / "tb")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "which model 'ease' does not have" in err[0]
    assert not (tmp_path / "run").exists()
