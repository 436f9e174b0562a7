"""A tiny shop for the benchmark smoke tests: one data folder, laid out as the benchmarks' data
root (its one data set named as the Amazon-Scientific one they read by name), and the runs
they measure, trained through `engine.training.pipeline.train` as `prism train` trains them.

Every smoke test runs a benchmark's `main(argv)` with `--out` set to its own temporary folder,
so nothing is ever written to docs/benchmarks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

N_ITEMS, N_USERS, SEED = 150, 90, 3
DATASET = "amazon-scientific"  # the name the benchmarks read a data root by (leave-last-out)


@dataclass
class BenchShop:
    """The data root, its one data folder and the runs trained on it."""

    root: Path
    data: Path
    ease: Path
    twotower: Path
    conditioned: Path  # a two-tower trained over α in [0, 1]


def _train(data: Path, out: Path, model: str, **train: Any) -> Path:
    from engine.core.config import ModelConfig, TrainConfig
    from engine.training.pipeline import train as fit
    from engine.training.spec import TrainSpec

    configs = ({"model_config": ModelConfig(dim=16, use_text=False),
                "train_config": TrainConfig(epochs=1, batch_size=128, device="cpu", **train)}
               if model == "twotower" else {})
    fit(TrainSpec(data, out=out, model=model, ann=False, **configs))
    return out


def build_bench_shop(root: Path) -> BenchShop:
    from engine.data import generate_shop, write_tables

    data = root / "data" / DATASET
    write_tables(*generate_shop(n_items=N_ITEMS, n_users=N_USERS, seed=SEED), data)
    runs = root / "runs"
    return BenchShop(root=root / "data", data=data, ease=_train(data, runs / "ease", "ease"),
                     twotower=_train(data, runs / "twotower", "twotower"),
                     conditioned=_train(data, runs / "conditioned", "twotower", alpha=0.0,
                                        alpha_max=1.0))


@pytest.fixture(scope="session")
def bench_shop(tmp_path_factory: pytest.TempPathFactory) -> BenchShop:
    return build_bench_shop(tmp_path_factory.mktemp("bench_shop"))


def report(out: Path, name: str, *keys: str) -> dict[str, Any]:
    """`<out>/<name>.json`, checked to hold `keys`, beside a non-empty `<name>.md`."""
    results = json.loads((out / f"{name}.json").read_text())
    assert set(keys) <= set(results), sorted(results)
    assert (out / f"{name}.md").read_text().strip()
    return results
