"""Tiny trained runs shared by the serving, API, sweep and CLI tests (built once per session).

A 200-item, 100-shopper synthetic shop; an EASE run (fast, no item vectors) and a one-epoch
two-tower run over real MiniLM text embeddings (item vectors, cold start). Tests that change a
run (cold start) copy it first.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

N_ITEMS, N_USERS, SEED = 200, 100, 1


@dataclass
class TinyShop:
    """The dataset folder and the runs trained on it."""

    data_dir: Path
    ease_run: Path
    twotower_run: Path
    encoder_cache: Path


def _encoder_meta() -> dict:
    from engine.core.config import EncoderConfig

    return EncoderConfig().to_dict()


def save_tiny_run(dataset, out: Path, model_name: str, text_embeddings=None) -> Path:  # noqa: ANN001
    """Fit `model_name` on a leave-last-out split of `dataset` and save it at `out`."""
    from engine.core.config import ModelConfig, TrainConfig
    from engine.models.registry import get_model_class
    from engine.runs.data import prepare_data
    from engine.runs.store import save_run

    _, data = prepare_data(dataset, "leave-last-out", seed=0, text_embeddings=text_embeddings)
    if model_name == "twotower":
        model = get_model_class("twotower")(ModelConfig(dim=16),
                                            TrainConfig(epochs=1, batch_size=256, device="cpu"))
    else:
        model = get_model_class(model_name)()
    model.fit(data)
    meta = {"dataset": dataset.name, "split": "leave-last-out", "seed": 0,
            "encoder": _encoder_meta(), "data": {"category_depth": dataset.config.category_depth}}
    return save_run(out, model=model, data=data, items=dataset.items, meta=meta)


def build_tiny_shop(root: Path) -> TinyShop:
    """Write the synthetic shop and train both runs under `root`."""
    from engine.core.config import EncoderConfig
    from engine.data import build_dataset, generate_shop, write_tables
    from engine.text.encoders import TextEncoder

    items, events = generate_shop(n_items=N_ITEMS, n_users=N_USERS, seed=SEED)
    data_dir = root / "shop"
    write_tables(items, events, data_dir)
    dataset = build_dataset(items, events, name="shop")
    cache = root / "encoder-cache"
    text = TextEncoder(EncoderConfig(), progress=False, cache_dir=cache).encode(
        dataset.item_text())
    ease = save_tiny_run(dataset, root / "runs" / "ease", "ease")
    twotower = save_tiny_run(dataset, root / "runs" / "twotower", "twotower", text_embeddings=text)
    return TinyShop(data_dir=data_dir, ease_run=ease, twotower_run=twotower, encoder_cache=cache)


@pytest.fixture(scope="session")
def tiny_shop(tmp_path_factory: pytest.TempPathFactory) -> TinyShop:
    return build_tiny_shop(tmp_path_factory.mktemp("tiny_shop"))


@pytest.fixture
def encoder_cache(tiny_shop: TinyShop, prism_home: Path) -> Path:
    """Seed this test's PRISM_HOME with the session's encoder cache (no re-encoding)."""
    target = prism_home / "cache" / "encoders"
    shutil.copytree(tiny_shop.encoder_cache, target, dirs_exist_ok=True)
    return target


@pytest.fixture
def private_twotower_run(tiny_shop: TinyShop, tmp_path: Path) -> Path:
    """A private copy of the two-tower run for tests that modify it (cold start)."""
    target = tmp_path / "twotower"
    shutil.copytree(tiny_shop.twotower_run, target)
    return target


@pytest.fixture(scope="session")
def ease_service(tiny_shop: TinyShop):  # noqa: ANN201 - engine.serving.recommender.Recommender
    from engine.serving.recommender import Recommender

    return Recommender.load(tiny_shop.ease_run)


@pytest.fixture(scope="session")
def twotower_service(tiny_shop: TinyShop):  # noqa: ANN201 - engine.serving.recommender.Recommender
    from engine.serving.recommender import Recommender

    return Recommender.load(tiny_shop.twotower_run)


def app_with_own_home(run: Path, recommender, home: Path):  # noqa: ANN001, ANN201
    """The API app for `run` whose policy store lives in `home` (not the user's Prism home)."""
    from engine.api.app import create_app

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PRISM_HOME", str(home))
        return create_app(run, recommender=recommender)
