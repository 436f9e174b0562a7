"""A served policy with a buy-again stage brings a shopper's due purchases back to the top."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.policy.schema import parse_policy
from engine.policy.serving import PolicyServer
from engine.policy.store import PolicyStore
from engine.serving.recommender import Recommender

pytest_plugins = ["serving_runs"]


@pytest.fixture(scope="module")
def consumables_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from engine.data import build_dataset, generate_shop
    from engine.training.pipeline import train
    from engine.training.spec import TrainSpec

    items, events = generate_shop(n_items=150, n_users=120, seed=5, consumables=0.4)
    out = tmp_path_factory.mktemp("buy_again") / "run"
    train(TrainSpec(build_dataset(items, events, name="consumables"), out=out, model="ease",
                    refit=False))
    return out


def _policy(name: str = "again", **stage: object) -> object:
    return parse_policy({"name": name, "stages": [{"kind": "buy_again", **stage}]})


def test_due_purchases_take_the_first_slots(consumables_run: Path, prism_home: Path) -> None:
    service = Recommender.load(consumables_run)
    found = service.catalogue.repurchases
    assert found is not None and found.model.n_repeatable > 0
    due = {u: found.due(u, service.catalogue.n_items) for u in service.user_ids}
    user = max(due, key=lambda u: (len(due[u][0]), u))
    items, scores = due[user]
    assert len(items) >= 1 and np.all(np.diff(scores) <= 0)
    server = PolicyServer(service, PolicyStore())
    served = server.recommend(_policy(slots=2), user_id=user, k=5)
    ids = [row["item_id"] for row in served.records()]
    expected = [str(service.catalogue.columns.ids[i]) for i in items[:2]]
    assert ids[:len(expected)] == expected and len(ids) == 5 == len(set(ids))
    assert served.records()[0]["attribution"] == ["buy again"]
    assert served.records()[0]["explanation"].startswith("bought before")
    assert [row["rank"] for row in served.records()] == [1, 2, 3, 4, 5]
    for row in served.records()[len(expected):]:  # the policy's list, moved down: said so
        assert row["attribution"][-1] == f"shifted to {row['rank']} by buy again", row
    for off in (_policy("off", mode="none"), _policy("strict", slots=2, min_due=1.0)):
        plain = server.recommend(off, user_id=user, k=5)
        assert all(row["attribution"] != ["buy again"] for row in plain.records())


def test_a_run_without_purchases_says_so(twotower_service: Recommender) -> None:
    server = PolicyServer(twotower_service, PolicyStore())
    served = server.recommend(_policy(slots=2), user_id=twotower_service.user_ids[0], k=5)
    assert "no purchase table" in (served.notice or "")
    assert all(row["attribution"] != ["buy again"] for row in served.records())
