"""Experiments end to end: the CLI starts one through the gate, simulated shoppers use the
API, the report reads arms, clicks and propensities back from the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from engine.access.gate import Gate
from engine.access.roles import AccessDenied, Actor
from engine.cli.main import main
from engine.events.store import EventStore
from engine.experiments.assign import Arm, Experiment
from engine.experiments.offpolicy import from_logs
from engine.experiments.report import experiment_report
from engine.experiments.simapi import drive
from engine.experiments.simulate import Shop
from engine.experiments.store import ExperimentStore

pytest_plugins = ["serving_runs"]


@pytest.fixture(scope="module")
def shop_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    from serving_runs import save_tiny_run

    from engine.data import build_dataset, generate_shop
    from engine.runs.data import split_like_run

    items, events = generate_shop(n_items=120, n_users=150, seed=3)
    dataset = build_dataset(items, events, name="shop")
    run = save_tiny_run(dataset, tmp_path_factory.mktemp("exp") / "ease", "ease")
    split, _ = split_like_run(dataset, {"split": "leave-last-out", "seed": 0})
    return run, pd.concat([split.valid, split.test])


@pytest.fixture
def served(shop_run, prism_home: Path):  # noqa: ANN001, ANN201
    from engine.api.app import create_app
    from engine.serving.recommender import Recommender

    service = Recommender.load(shop_run[0])
    client = TestClient(create_app(shop_run[0], recommender=service))
    shop = Shop.from_held_out(service.catalogue, shop_run[1])
    return client, service, shop


def _publish_diverse() -> None:
    from engine.access.roles import local_actor
    from engine.policy.schema import parse_policy

    gate = Gate()
    actor = local_actor("cli")
    gate.save_draft(actor, parse_policy({"name": "diverse", "stages": [
        {"kind": "diversify", "method": "mmr", "weight": 0.5}]}, "test"))
    gate.publish(actor, "diverse")


def test_the_cli_starts_an_experiment_the_api_serves_and_the_report_reads(served, capsys
                                                                           ) -> None:  # noqa: ANN001
    client, service, shop = served
    _publish_diverse()
    assert main(["experiment", "create", "trial", "--arm", "control=none",
                 "--arm", "test=diverse", "--explore-temperature", "1.5"]) == 0
    assert "test=diverse@1 (50%)" in capsys.readouterr().out
    sent = drive(client, shop, service.catalogue.item_index, visits=120, lifts={"test": 0.5},
                 candidate_policy="none")
    candidates = sent.pop("candidates")
    store = ExperimentStore(EventStore())
    report = experiment_report(store, "trial", service.catalogue)
    rows = {row["arm"]: row for row in report["arms"]}
    assert {arm: rows[arm]["lists"] for arm in rows} == {a: c["lists"] for a, c in sent.items()}
    clicks = {arm: rows[arm]["metrics"]["clicks_per_list"]["estimate"] * rows[arm]["lists"]
              for arm in rows}
    assert clicks == pytest.approx({a: c["clicks"] for a, c in sent.items()}, abs=1e-3)
    assert set(rows["control"]["metrics"]) >= {"conversion", "category_entropy",
                                               "long_tail_exposure", "coverage"}
    lists = store.served("trial")
    arms = {}
    for row in lists:  # sticky: one arm per shopper
        assert arms.setdefault(row.user_id, row.arm) == row.arm
        assert row.propensities is not None and len(row.propensities) == len(row.items)
    assert main(["experiment", "status", "trial", "--run", str(service.run.path)]) == 0
    assert "verdict:" in capsys.readouterr().out
    ips, left_out = from_logs(store, "trial", lambda served: candidates[served.request_id])
    assert left_out == 0 and ips.lists == len(lists) and np.isfinite(ips.ips.estimate)
    assert 0 < ips.matched_slots < 1
    assert main(["experiment", "stop", "trial"]) == 0
    after = client.post("/recommend", json={"user_id": shop.users[0], "k": 10}).json()
    assert after.get("arm") is None and len(after["items"]) == 10


def test_a_request_naming_its_policy_stays_outside_the_experiment(served) -> None:  # noqa: ANN001
    client, service, shop = served
    ExperimentStore(EventStore()).create(Experiment("solo", (Arm("all", "none", 1.0),)), "me")
    inside = client.post("/recommend", json={"user_id": shop.users[1], "k": 5}).json()
    outside = client.post("/recommend", json={"user_id": shop.users[1], "k": 5,
                                              "policy": "none"}).json()
    assert (inside["experiment"], inside["arm"]) == ("solo", "all")
    assert outside.get("arm") is None


@pytest.mark.parametrize(("argv", "message"), [
    (["experiment", "create", "x", "--arm", "a=nosuch"], "not published"),
    (["experiment", "create", "x", "--arm", "a"], "NAME=POLICY"),
    (["experiment", "create", "x", "--arm", "a=none:0.4"], "add up to 0.4"),
    (["experiment", "create", "x", "--arm", "a=none", "--metric", "ndcg"], "choose one of"),
    (["experiment", "stop", "nothing"], "no experiment named"),
    (["experiment", "status"], "no experiment yet"),
])
def test_bad_commands_say_what_to_do_and_exit_2(argv: list[str], message: str, capsys) -> None:  # noqa: ANN001
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_only_a_publisher_starts_or_stops_and_refusals_are_logged() -> None:
    store = ExperimentStore(EventStore())
    experiment = Experiment("e", (Arm("all", "none", 1.0),))
    gate = Gate()
    with pytest.raises(AccessDenied, match="start an experiment"):
        gate.start_experiment(Actor("ed", "editor", "studio"), experiment, store)
    assert store.list() == []
    assert gate.log()[0]["action"] == "experiment start refused"
    started = gate.start_experiment(Actor("pat", "publisher", "studio"), experiment, store)
    assert started.info["created_by"] == "pat (publisher, studio)"
    with pytest.raises(AccessDenied):
        gate.stop_experiment(Actor("vi", "viewer", "api"), "e", store)
    assert store.running().name == "e"
