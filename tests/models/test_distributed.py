"""Data-parallel training: sharding, torchrun environment, and DDP runs equal to one process.

The two-process test runs `prism train --nproc 2` (torch.distributed.run, gloo on the CPU)
against the same command in one process. With dropout 0 the runs agree to float32 round-off:
measured max |Δweight| 1.5e-7 and identical NDCG@10 (docs/scale.md); the test allows 1e-5.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from safetensors.numpy import load_file

from engine.cli.main import build_parser, main
from engine.cli.train_cmd import forwarded_argv
from engine.core.config import ModelConfig, TrainConfig
from engine.core.errors import ConfigError
from engine.data import generate_shop, load_dataset, write_tables
from engine.models import distributed
from engine.models.trainer import StopTraining
from engine.models.twotower import TwoTowerModel
from engine.runs.data import prepare_data

# Two ranks sum gradients in another order than one process; on some CPUs Adam carries that
# float32 rounding to ~1e-5 in a weight after two epochs and a refit. One Adam step moves a
# weight by about lr (3e-3), so a lost batch or a wrong average is still far outside this.
WEIGHT_TOLERANCE = 1e-4
TORCHRUN_ENV = {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1"}


@given(st.integers(0, 300), st.integers(1, 8))
def test_shards_are_disjoint_cover_the_batch_and_differ_by_at_most_one(
        n_rows: int, world_size: int) -> None:
    rows = np.random.default_rng(n_rows).permutation(n_rows)
    shards = [distributed.shard_rows(rows, rank, world_size) for rank in range(world_size)]
    assert sorted(np.concatenate(shards).tolist()) == sorted(rows.tolist())
    sizes = [len(shard) for shard in shards]
    assert max(sizes) - min(sizes) <= 1


def test_world_comes_from_the_torchrun_environment() -> None:
    assert distributed.world_from_env({}) is None
    env = {**TORCHRUN_ENV, "RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1",
           "MASTER_PORT": "29500"}
    assert distributed.world_from_env(env) == distributed.World(3, 1, 4)


@pytest.mark.parametrize(("changes", "message"), [
    ({"MASTER_PORT": None}, "MASTER_PORT not set"),
    ({"RANK": "two"}, "RANK must be an integer, got 'two'"),
    ({"RANK": "4"}, "do not fit WORLD_SIZE 1"),
])
def test_a_broken_torchrun_environment_is_a_config_error(changes: dict, message: str) -> None:
    env = {**TORCHRUN_ENV, "MASTER_PORT": "29500", **changes}
    env = {key: value for key, value in env.items() if value is not None}
    with pytest.raises(ConfigError, match=message):
        distributed.world_from_env(env)


def test_backend_is_gloo_on_the_cpu_and_nccl_on_gpus() -> None:
    import torch

    assert distributed.backend_for(torch.device("cpu")) == "gloo"
    assert distributed.backend_for(torch.device("cuda", 0)) == "nccl"


@pytest.mark.parametrize("alpha", ["-0.5", "0:1"])
def test_relaunch_forwards_every_option_but_nproc(alpha: str) -> None:
    argv = ["train", "--data", "shop dir", "--out", "run", "--alpha", alpha, "--quiet",
            "--set", "dim=8", "--set", "dropout=0", "--no-refit", "--nproc", "2"]
    args = build_parser().parse_args(argv)
    forwarded = build_parser().parse_args(forwarded_argv(args))
    assert forwarded.nproc == 1
    skip = {"nproc", "func", "train_parser"}
    assert {k: v for k, v in vars(forwarded).items() if k not in skip} == \
        {k: v for k, v in vars(args).items() if k not in skip}
    command = distributed.launch_command(2, ["train"])
    assert command[1:3] == ["-m", "torch.distributed.run"] and command[-3:] == \
        ["-m", "engine", "train"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shop")
    write_tables(*generate_shop(n_items=200, n_users=100, seed=1), folder)
    return folder


@pytest.mark.parametrize(("extra", "message"), [
    (["--nproc", "0"], "--nproc: must be >= 1, got 0"),
    (["--nproc", "two"], "--nproc: must be an integer, got 'two'"),
    (["--nproc", "2", "--model", "pop"], "applies to models that train in epochs, not 'pop'"),
])
def test_bad_nproc_is_one_line_and_exit_2(shop: Path, tmp_path: Path, extra: list[str],
                                         message: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--data", str(shop), "--out", str(tmp_path / "run"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_nproc_inside_torchrun_is_refused(shop: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture) -> None:
    for key, value in {**TORCHRUN_ENV, "MASTER_PORT": "29500"}.items():
        monkeypatch.setenv(key, value)
    assert main(["train", "--data", str(shop), "--out", str(tmp_path / "r"), "--nproc", "2"]) == 2
    assert "--nproc cannot be combined with torchrun" in capsys.readouterr().err


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


@pytest.fixture()
def torchrun_world_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**TORCHRUN_ENV, "MASTER_PORT": _free_port()}.items():
        monkeypatch.setenv(key, value)


def _tiny_fit(shop: Path, callbacks: tuple = ()) -> TwoTowerModel:
    _, data = prepare_data(load_dataset(shop), "leave-last-out", seed=0)
    model = TwoTowerModel(ModelConfig(dim=8, use_text=False, dropout=0.0),
                          TrainConfig(epochs=2, batch_size=64, alpha=0.5, device="cpu"))
    return model.fit(data, callbacks=callbacks)


def test_a_world_of_one_trains_exactly_like_a_single_process(
        shop: Path, torchrun_world_of_one: None) -> None:
    with distributed.process_group("cpu") as world:
        assert world == distributed.World(0, 0, 1) and distributed.is_initialized()
        assert distributed.trainer_class() is distributed.DistributedTrainer
        ddp = _tiny_fit(shop)
    assert not distributed.is_initialized() and distributed.is_main()
    single = _tiny_fit(shop)
    np.testing.assert_array_equal(ddp.item_vectors(), single.item_vectors())
    assert ddp.logs_[-1]["L"] == pytest.approx(single.logs_[-1]["L"], rel=1e-6)


def test_a_stop_request_ends_every_rank_after_the_epoch(
        shop: Path, torchrun_world_of_one: None) -> None:
    class StopAtFirstBatch:
        def on_batch_end(self, step: int, total: int) -> None:
            raise StopTraining

    with distributed.process_group("cpu"):
        model = _tiny_fit(shop, callbacks=(StopAtFirstBatch(),))
    assert [log["epoch"] for log in model.logs_] == [1]


@pytest.mark.parametrize("split", [
    [],  # leave-last-out: one example per event
    ["--split", "random", "--set", "batch_size=16"],  # one multi-target example per user
])
def test_two_gloo_processes_match_one_process(shop: Path, tmp_path: Path, split: list[str],
                                             capfd: pytest.CaptureFixture) -> None:
    runs = tmp_path / "runs"
    common = ["train", "--data", str(shop), "--epochs", "2", "--alpha", "0.5", "--device",
              "cpu", "--quiet", "--set", "dim=16", "--set", "dropout=0", "--set",
              "batch_size=70",  # 841 examples: the last global batch has 1 row for 2 ranks
              *split]
    assert main([*common, "--out", str(runs / "single")]) == 0
    assert main([*common, "--out", str(runs / "ddp"), "--nproc", "2"]) == 0
    assert capfd.readouterr().out.count("trained twotower") == 2  # rank 0 alone reports
    assert sorted(path.name for path in runs.iterdir()) == ["ddp", "single"]
    for model in ("model.safetensors", "serving/model.safetensors"):  # first fit and refit
        single, ddp = (load_file(str(runs / name / model)) for name in ("single", "ddp"))
        for key, value in single.items():
            if value.dtype.kind == "f":
                np.testing.assert_allclose(ddp[key], value, atol=WEIGHT_TOLERANCE,
                                           err_msg=f"{model}: {key}")
    metrics = [json.loads((runs / name / "run.json").read_text())["metrics"]
               for name in ("single", "ddp")]
    assert metrics[1]["ndcg@10"] == pytest.approx(metrics[0]["ndcg@10"], abs=1e-6)
    epochs = [(runs / name / "metrics.jsonl").read_text().splitlines() for name in ("single",
                                                                                     "ddp")]
    assert len(epochs[1]) == len(epochs[0]) == 2
    for one, two in zip(*epochs, strict=True):
        one, two = json.loads(one), json.loads(two)
        for key in ("L", "L_r", "L_d", "val_ndcg@10"):
            assert two[key] == pytest.approx(one[key], rel=1e-5), key
