"""`prism refresh`: new events are folded into a run by fine-tuning the shoppers and items they
touch; everything else stays as it was, and bad input is one line with exit 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest_plugins = ["serving_runs"]
K = 10


def _purchases(user: str, items: list[str], start: int = 1) -> pd.DataFrame:
    return pd.DataFrame({"id": range(start, start + len(items)), "user_id": user,
                         "item_id": items, "event": "purchase",
                         "timestamp": 1_900_000_000.0 + np.arange(len(items))})


def _top(service, user: str) -> list[str]:  # noqa: ANN001
    return list(service.recommend(user_id=user, k=K).records()[i]["item_id"] for i in range(K))


@pytest.fixture(scope="module")
def user_table_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny two-tower run that also learns a row per shopper (the table a refresh grows)."""
    from engine.core.config import ModelConfig, TrainConfig
    from engine.data import build_dataset, generate_shop
    from engine.models.twotower import TwoTowerModel
    from engine.runs.data import prepare_data
    from engine.runs.store import save_run

    dataset = build_dataset(*generate_shop(n_items=120, n_users=60, seed=2), name="shop")
    _, data = prepare_data(dataset, "leave-last-out", seed=0)
    model = TwoTowerModel(ModelConfig(dim=16, use_text=False, use_user_embedding=True),
                          TrainConfig(epochs=1, batch_size=256, device="cpu"))
    return save_run(tmp_path_factory.mktemp("users") / "run", model=model.fit(data), data=data,
                    items=dataset.items, meta={"dataset": "shop", "split": "leave-last-out"})


@pytest.fixture(params=["text", "user table"])
def refreshed(request: pytest.FixtureRequest, private_twotower_run: Path,
              user_table_run: Path, tmp_path: Path):  # noqa: ANN201
    """(old Recommender, new Recommender, the shopper who bought, what they bought)."""
    from engine.serving.recommender import Recommender
    from engine.training.refresh import refresh_run

    if request.param == "user table":
        private_twotower_run = tmp_path / "users"
        shutil.copytree(user_table_run, private_twotower_run)
    old = Recommender.load(private_twotower_run)
    buyer = old.user_ids[3]
    bought = _top(old, buyer)[:3]
    events = pd.concat([_purchases(buyer, bought), _purchases("newcomer", bought[:1], 4)])
    done = refresh_run(private_twotower_run, lambda after: events[events["id"] > after],
                       out=tmp_path / "v2")
    assert (done.version, done.events, done.interactions, done.events_through) == (2, 4, 4, 4)
    assert (done.tuned.users, done.tuned.new_users, done.tuned.items) == (2, 1, 3)
    return old, Recommender.load(tmp_path / "v2"), buyer, bought


def test_a_refresh_moves_the_buyer_and_leaves_other_shoppers_nearly_alone(refreshed) -> None:  # noqa: ANN001
    old, new, buyer, bought = refreshed
    assert new.run.meta["version"] == 2 and new.run.events_through == 4
    after = _top(new, buyer)
    assert not set(bought) & set(after) and after != _top(old, buyer)
    assert list(new.history(buyer)["item_id"].iloc[-3:]) == bought  # folded into the run
    assert new.recommend(user_id="newcomer", k=K).notice is None  # a known shopper now
    others = [u for u in old.user_ids if u != buyer]
    overlap = [len(set(_top(old, u)) & set(_top(new, u))) / K for u in others[:40]]
    assert np.mean(overlap) >= 0.8, overlap


def test_only_the_touched_rows_of_the_model_change(refreshed) -> None:  # noqa: ANN001
    old, new, buyer, bought = refreshed
    before, after = old.model.net_.state_dict(), new.model.net_.state_dict()
    for name, value in before.items():
        if name not in ("user_tower.user_emb.weight", "item_tower.id_emb.weight"):
            assert np.allclose(value.numpy(), after[name].numpy(), atol=0.0), name
    if old.model.net_.user_tower.user_emb is not None:
        users_old = old.model.net_.user_tower.user_emb.weight.detach().numpy()
        users_new = new.model.net_.user_tower.user_emb.weight.detach().numpy()
        moved = {name for row, name in enumerate(new.user_ids)
                 if name not in old.catalogue.user_lookup
                 or not np.array_equal(users_new[row], users_old[old.catalogue.user_lookup[name]])}
        assert moved == {buyer, "newcomer"}
        assert len(users_new) == len(users_old) + 1
    items_old = old.model.net_.item_tower.id_emb.weight.detach().numpy()
    items_new = new.model.net_.item_tower.id_emb.weight.detach().numpy()
    changed = np.flatnonzero(np.abs(items_new - items_old).max(axis=1) > 0)
    assert set(old.catalogue.columns.ids[changed]) == set(bought)


def test_the_cli_refreshes_from_the_store_once_and_then_has_nothing_new(
        private_twotower_run: Path, capsys: pytest.CaptureFixture) -> None:
    from engine.cli.main import main
    from engine.events.store import EventStore
    from engine.runs.store import load_run

    items = load_run(private_twotower_run).item_ids
    store = EventStore()
    store.add_events([{"user_id": "walk-in", "item_id": item, "event": "click",
                       "timestamp": 1_900_000_000.0, "list_id": None} for item in items[:5]]
                     + [{"user_id": "walk-in", "item_id": "not-sold-here", "event": "view",
                         "timestamp": 1_900_000_000.0, "list_id": None}])
    assert main(["refresh", "--run", str(private_twotower_run), "--epochs", "1"]) == 0
    out = capsys.readouterr()
    assert "version 2: 6 events (1 on unknown items skipped)" in out.out
    assert "5 new interactions" in out.out and "read 6 new events" in out.err
    meta = load_run(private_twotower_run).meta
    assert (meta["version"], meta["events_through"]) == (2, 6)
    assert main(["refresh", "--run", str(private_twotower_run)]) == 2
    assert "no new events" in capsys.readouterr().err


@pytest.mark.parametrize("which, words", [("missing", "does not exist"),
                                          ("ease", "cannot be refreshed")])
def test_a_run_that_cannot_be_refreshed_is_one_line_and_exit_2(
        which: str, words: str, tiny_shop, tmp_path: Path,  # noqa: ANN001
        capsys: pytest.CaptureFixture) -> None:
    from engine.cli.main import main

    run = tmp_path / "nowhere"
    if which == "ease":
        shutil.copytree(tiny_shop.ease_run, run)
    assert main(["refresh", "--run", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0] and "Traceback" not in err[0]
