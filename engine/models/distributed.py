"""Data-parallel training of the two-tower network with PyTorch's own DDP.

Launch with `torchrun` (or `prism train --nproc N`, which re-launches itself through
`torch.distributed.run`): torchrun sets `RANK`, `LOCAL_RANK`, `WORLD_SIZE` and `MASTER_ADDR`,
`process_group` joins the group (gloo on the CPU, NCCL on GPUs) and `TwoTowerModel.fit`
then trains with `DistributedTrainer`.

Every rank loads the same data and walks the same seeded permutation; each global batch of
`TrainConfig.batch_size` rows is split across the ranks (`shard_rows`, the strided split of
`DistributedSampler`), and each rank's mean losses are re-weighted by its share of the global
batch before DDP averages the gradients, so one optimiser step equals the single-process step
on the same global batch. Randomness drawn from the trainer's generator (sampled negatives,
ID dropout) is the same on every rank and therefore the same as in one process; the network's
dropout draws from each rank's own torch stream and is not.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import inspect
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from engine.core.device import resolve_device
from engine.core.errors import ConfigError
from engine.core.messages import render
from engine.models.callbacks import notify_batch, notify_epoch
from engine.models.trainer import StopTraining, Trainer

ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
# Ranks wait at a barrier while local rank 0 encodes the catalogue's text; large catalogues
# take a while on a CPU, so the default 30-minute collective timeout is too short.
TIMEOUT = datetime.timedelta(hours=3)
T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """This process's place in a torchrun job."""

    rank: int
    local_rank: int
    world_size: int


def world_from_env(env: dict[str, str] | None = None) -> World | None:
    """The torchrun job this process belongs to, or None when torchrun did not start it."""
    env = dict(os.environ) if env is None else env
    if not all(name in env for name in ENV_VARS[:2]):
        return None
    missing = [name for name in ENV_VARS if name not in env]
    if missing:
        raise ConfigError(render("distributed launch: environment {n:variable|variables} "
                                 "{missing} not set; start training with torchrun (or prism "
                                 "train --nproc N).", n=len(missing), missing=", ".join(missing)))
    values = {}
    for name in ENV_VARS[:3]:
        try:
            values[name] = int(env[name])
        except ValueError:
            raise ConfigError(f"distributed launch: {name} must be an integer, "
                              f"got {env[name]!r}") from None
    world = World(values["RANK"], values["LOCAL_RANK"], values["WORLD_SIZE"])
    if world.world_size < 1 or not 0 <= world.rank < world.world_size or world.local_rank < 0:
        raise ConfigError(f"distributed launch: RANK {world.rank} / LOCAL_RANK "
                          f"{world.local_rank} do not fit WORLD_SIZE {world.world_size}.")
    return world


def launched_by_torchrun() -> bool:
    return world_from_env() is not None


def backend_for(device: torch.device) -> str:
    """NCCL for GPUs, gloo for the CPU."""
    return "nccl" if device.type == "cuda" else "gloo"


@contextlib.contextmanager
def process_group(device_name: str = "auto") -> Iterator[World | None]:
    """Join the torchrun job's process group for the block; yields None outside torchrun.

    On CUDA each process takes the GPU numbered by its LOCAL_RANK. Leaving the block waits for
    every rank (so none tears down while another still talks to it) and destroys the group.
    """
    world = world_from_env()
    if world is None or dist.is_initialized():
        yield world
        return
    device = resolve_device(device_name, "TrainConfig.device")
    if device.type == "cuda":
        if world.local_rank >= torch.cuda.device_count():
            raise ConfigError(f"LOCAL_RANK {world.local_rank} has no GPU: this machine has "
                              f"{torch.cuda.device_count()}; start at most that many processes "
                              "per node.")
        torch.cuda.set_device(world.local_rank)
    dist.init_process_group(backend_for(device), timeout=TIMEOUT)
    try:
        yield world
        dist.barrier()
    finally:
        gc.collect()  # nothing left holding the group's work objects when it goes
        dist.destroy_process_group()


def is_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's global rank (0 outside a process group)."""
    return dist.get_rank() if is_initialized() else 0


def world_size() -> int:
    return dist.get_world_size() if is_initialized() else 1


def is_main() -> bool:
    """True on global rank 0, and always in a single process: the rank that logs and saves."""
    world = world_from_env()
    return rank() == 0 if is_initialized() else world is None or world.rank == 0


def barrier() -> None:
    if is_initialized():
        dist.barrier()


def local_main_first(compute: Callable[[], T]) -> T:
    """Run `compute` on each machine's local rank 0 first, then on the other ranks.

    For work with a disk cache (text encoding): one process per machine fills the cache while
    the others wait, then they read it instead of repeating the work.
    """
    world = world_from_env()
    if not is_initialized() or world is None:
        return compute()
    if world.local_rank == 0:
        result = compute()
        dist.barrier()
        return result
    dist.barrier()
    return compute()


def _comm_device() -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_sum(values: np.ndarray) -> np.ndarray:
    """Element-wise sum over ranks (float64); the values themselves outside a group."""
    values = np.asarray(values, dtype=np.float64)
    if not is_initialized():
        return values
    tensor = torch.as_tensor(values, device=_comm_device())
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.cpu().numpy()


def broadcast_value(value: float, source: int = 0) -> float:
    """Rank `source`'s value on every rank."""
    if not is_initialized():
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=_comm_device())
    dist.broadcast(tensor, src=source)
    return float(tensor.item())


def shard_rows(rows: np.ndarray, rank: int, world_size: int) -> np.ndarray:
    """This rank's part of one global batch: every `world_size`-th row from `rank`.

    The parts are disjoint, cover the batch and differ in size by at most one row.
    """
    return rows[rank::world_size]


class _ScaledLoss(nn.Module):
    """The trainer's batch loss as a module, so DDP's forward wraps it and syncs gradients.

    The loss is the trainer's own (`Trainer.batch_loss`, one joint-loss function for every
    trainer) times this rank's share of the global batch, so summed gradients are the global
    batch's.
    """

    def __init__(self, trainer: Trainer):
        super().__init__()
        self.net = trainer.net
        self._batch_loss = trainer.batch_loss

    def forward(self, batch: dict[str, torch.Tensor], scale: float
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        loss, relevance, diversity = self._batch_loss(batch)
        return loss * scale, relevance, diversity


class _StopTogether:
    """Forwards callbacks; a StopTraining from any rank stops every rank after the epoch.

    Callbacks usually live on rank 0 only, so a stop request must be agreed on collectively
    or the other ranks would wait forever at the next gradient all-reduce.
    """

    def __init__(self, callbacks: Sequence[Any]):
        self.callbacks, self.stop = list(callbacks), False

    def on_batch_end(self, step: int, total: int) -> None:
        try:
            notify_batch(self.callbacks, step, total)
        except StopTraining:
            self.stop = True

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        try:
            notify_epoch(self.callbacks, epoch, logs)
        except StopTraining:
            self.stop = True
        if all_reduce_sum(np.array([float(self.stop)]))[0] > 0:
            raise StopTraining


class DistributedTrainer(Trainer):
    """Trainer whose steps run under DistributedDataParallel across the process group.

    Logs (`L`, `L_r`, `L_d`) are the global-batch means, the validation score is rank 0's and
    is broadcast, so every rank takes the same early-stopping decision.
    """

    allow_sparse_embeddings = False  # all-reduce of dense gradients (gloo and NCCL alike)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not is_initialized():
            raise ConfigError("DistributedTrainer needs a torch.distributed process group; "
                              "start with torchrun or use Trainer.")
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        if self.rank > 0:  # independent dropout masks per rank, still repeatable
            torch.manual_seed(int(np.random.SeedSequence([self.config.seed, self.rank])
                                  .generate_state(1)[0]))
        device = next(self.net.parameters()).device
        self.ddp = DistributedDataParallel(
            _ScaledLoss(self), device_ids=[device.index] if device.type == "cuda" else None,
            **_no_buffer_sync())
        local_validate = self.validate
        if local_validate is not None:
            self.validate = lambda: broadcast_value(
                float(local_validate()) if self.rank == 0 else 0.0)

    def fit(self, callbacks: Sequence[Any] = ()) -> list[dict[str, float]]:
        try:
            return super().fit([_StopTogether(callbacks)])
        finally:
            # DDP's reducer holds the process group and gloo work objects that reference
            # tensors; dropped here, they are freed while the interpreter is whole, not at
            # its exit (where gloo's worker threads abort the process).
            del self.ddp
            gc.collect()

    def _train_epoch(self, callbacks: Sequence[Any]) -> dict[str, float]:
        self.ddp.train()
        order = self.rng.permutation(len(self.examples))
        size = self.config.batch_size
        total = (len(order) + size - 1) // size
        sums = np.zeros(3)  # global-batch L, L_r and L_d, summed over steps
        for step, begin in enumerate(range(0, len(order), size), start=1):
            rows = order[begin:begin + size]
            mine, share = self._shard(rows)
            batch = self._to_device(self.examples.batch(mine))
            loss, relevance, diversity = self.ddp(batch, share * self.world_size)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.steps_done += 1
            self._set_lr()  # the same learning-rate schedule as a single process
            sums += [loss.item() / self.world_size, share * relevance.item(),
                     share * diversity.item()]
            notify_batch(callbacks, step, total)
        loss_mean, relevance_mean, diversity_mean = all_reduce_sum(sums) / max(total, 1)
        return {"L": float(loss_mean), "L_r": float(relevance_mean),
                "L_d": float(diversity_mean)}

    def _shard(self, rows: np.ndarray) -> tuple[np.ndarray, float]:
        """This rank's rows and its share of the global batch's loss.

        L, L_r and L_d are event-weighted means over the batch's examples, so a rank's share
        of each is its part of the batch's weight. A rank left without rows (last batch
        smaller than the world) runs one row with a zero share so it still joins the gradient
        all-reduce.
        """
        mine = shard_rows(rows, self.rank, self.world_size)
        if len(mine) == 0:
            return rows[:1], 0.0
        weights = self.examples.weights
        return mine, float(weights[mine].sum(dtype=np.float64)
                           / weights[rows].sum(dtype=np.float64))


def _no_buffer_sync() -> dict[str, bool]:
    """DDP option to skip per-step buffer broadcasts: the buffers are frozen item inputs,
    equal on every rank. Newer PyTorch names it `forward_sync_buffers`."""
    parameters = inspect.signature(DistributedDataParallel.__init__).parameters
    if "forward_sync_buffers" in parameters:
        return {"forward_sync_buffers": False}
    return {"broadcast_buffers": False}


def trainer_class() -> type[Trainer]:
    """DistributedTrainer inside a torch.distributed process group, else the plain Trainer."""
    return DistributedTrainer if is_initialized() else Trainer


def launch_command(nproc: int, argv: Sequence[str]) -> list[str]:
    """The `torch.distributed.run` command that runs `python -m engine <argv>` on N processes."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
            "--nproc-per-node", str(nproc), "-m", "engine", *argv]


def launch(nproc: int, argv: Sequence[str]) -> int:
    """Run `prism <argv>` as `nproc` local processes through torchrun; its exit status.

    Each process gets an equal share of the CPU threads unless OMP_NUM_THREADS is set.
    """
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    return subprocess.run(launch_command(nproc, argv), env=env, check=False).returncode
