"""Serving knows what the shop knows: the refit model, every event as history, and a shopper's
latest purchase never recommended back; held-out views keep the evaluation model."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from engine.cli.main import main
from engine.core.config import EncoderConfig, ModelConfig, TrainConfig
from engine.runs.store import SERVING, load_run
from engine.serving.recommender import Recommender
from engine.training.pipeline import train
from engine.training.spec import TrainSpec

SHOPPER, LATEST = "s01", "hit"  # the hit everyone else bought first, this shopper last
DAY = 86_400


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small shop where one shopper's latest purchase is the shop's best seller."""
    folder = tmp_path_factory.mktemp("refit_shop")
    ids = [LATEST] + [f"i{n:02d}" for n in range(1, 12)]
    paths = ["Home > Kitchen", "Home > Garden", "Toys > Blocks"]
    pd.DataFrame({"item_id": ids, "title": [f"Product {i}" for i in ids],
                  "description": "", "category": [paths[n % 3] for n in range(len(ids))],
                  "brand": "Acme", "price": 10.0}).to_csv(folder / "items.csv", index=False)
    rows = []
    for user in range(2, 22):  # 20 shoppers: the hit first, then three others
        bought = [LATEST] + [f"i{(user + step) % 11 + 1:02d}" for step in range(3)]
        rows += [(f"s{user:02d}", item, 1_704_067_200 + n * DAY) for n, item in
                 enumerate(bought)]
    rows += [(SHOPPER, item, 1_704_067_200 + n * DAY)
             for n, item in enumerate(["i05", "i06", "i07", LATEST])]
    pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]).assign(
        event="purchase").to_csv(folder / "events.csv", index=False)
    return folder


def _listed(service: Recommender) -> list[str]:
    return service.recommend(SHOPPER, k=5).table["item_id"].tolist()


def test_the_same_shopper_before_and_after_the_refit(shop: Path, tmp_path: Path) -> None:
    run = train(TrainSpec(shop, out=tmp_path / "pop", model="pop")).path
    before = Recommender.load(run, model="evaluation")  # what serving read before refits
    assert LATEST not in before.history(SHOPPER)["item_id"].tolist()
    assert _listed(before)[0] == LATEST  # the best seller offered back to its buyer
    after = Recommender.load(run)
    history = after.history(SHOPPER)["item_id"].tolist()
    assert history[-1] == LATEST  # the latest purchase is in the serving history
    assert LATEST not in _listed(after)
    assert set(history) == {"i05", "i06", "i07", LATEST}


def test_without_a_refit_every_event_is_still_the_history(shop: Path, tmp_path: Path) -> None:
    run = train(TrainSpec(shop, out=tmp_path / "pop", model="pop", refit=False)).path
    service = Recommender.load(run)
    assert service.run.part == "evaluation"  # the first fit serves
    assert service.history(SHOPPER)["item_id"].tolist()[-1] == LATEST
    assert LATEST not in _listed(service)


def test_cli_recommend_and_api_serve_the_refit(shop: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from fastapi.testclient import TestClient

    from engine.api.app import create_app

    run = train(TrainSpec(shop, out=tmp_path / "ease", model="ease")).path
    assert main(["recommend", "--run", str(run), "--user", SHOPPER, "--k", "5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and LATEST not in [row["item_id"] for row in rows]
    app = create_app(run_dir=run)
    client = TestClient(app)
    body = client.post("/recommend", json={"user_id": SHOPPER, "k": 5}).json()
    assert LATEST not in [item["item_id"] for item in body["items"]]
    assert client.get("/exposure", params={"by": "brand"}).status_code == 200
    assert app.state.exposure.run.part == "evaluation"  # a held-out check: the first fit


def test_cold_start_items_join_both_models(shop: Path, tmp_path: Path) -> None:
    run = train(TrainSpec(shop, out=tmp_path / "tt", model_config=ModelConfig(dim=8),
                          train_config=TrainConfig(epochs=2, device="cpu", batch_size=64),
                          encoder_config=EncoderConfig())).path
    assert (run / SERVING / "model.safetensors").exists()
    new = pd.DataFrame({"item_id": ["new1"], "title": ["Product new"],
                        "category": ["Home > Kitchen"]})
    Recommender.load(run).add_items(new)
    for role in ("evaluation", "serving"):
        loaded = load_run(run, model=role)
        assert loaded.item_ids[-1] == "new1"
        assert loaded.model.item_vectors().shape[0] == len(loaded.item_ids)
        assert len(loaded.item_popularity) == len(loaded.item_ids)
