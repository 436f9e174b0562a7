"""What can be bought: unavailable items are left out of lists, search, the API and policy
lists by default, counted, and brought back by a request or a policy option."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.cli.main import main
from engine.policy.schema import parse_policy
from engine.policy.serving import PolicyServer
from engine.policy.store import PolicyStore
from engine.serving.availability import unavailable_mask
from engine.serving.recommender import Recommender

pytest_plugins = ["serving_runs"]


def test_availability_and_status_words():
    items = pd.DataFrame({
        "availability": ["in_stock", "out_of_stock", "preorder", "backorder", "Out of Stock",
                         "", "in_stock", "in_stock", ""],
        "status": ["active", "", "", "", "", "draft", "archived", "published", "private"]})
    assert unavailable_mask(items).tolist() == [False, True, False, False, True, True, True,
                                                False, True]
    assert not unavailable_mask(pd.DataFrame({"title": ["a"]})).any()  # no such columns


@pytest.fixture(scope="module")
def marked_run(tiny_shop, tmp_path_factory):  # noqa: ANN001, ANN201
    """The tiny EASE run with the first shopper's top three out of stock, the fourth a draft,
    and the most popular item archived."""
    run = tmp_path_factory.mktemp("availability") / "ease"
    shutil.copytree(tiny_shop.ease_run, run)
    service = Recommender.load(run)
    user = service.user_ids[0]
    top = service.recommend(user_id=user, k=4).table["item_id"].tolist()
    trend = service.hot_items(k=1).table["item_id"].iloc[0]
    items = pd.read_parquet(run / "items.parquet")
    items["availability"] = items["item_id"].map(
        lambda i: "out_of_stock" if i in top[:3] else "in_stock")
    items["status"] = items["item_id"].map(
        lambda i: "draft" if i == top[3] else ("archived" if i == trend else "active"))
    items.to_parquet(run / "items.parquet", index=False)
    n_marked = len(set(top) | {trend})
    return run, user, top, trend, n_marked


def test_recommend_and_hot_leave_unavailable_items_out(marked_run):  # noqa: ANN001
    run, user, top, trend, n_marked = marked_run
    service = Recommender.load(run)
    result = service.recommend(user_id=user, k=10)
    assert not set(top) & set(result.table["item_id"])
    assert result.unavailable_left_out == n_marked and len(result.table) == 10
    back = service.recommend(user_id=user, k=4, include_unavailable=True)
    assert back.table["item_id"].tolist() == top and back.unavailable_left_out == 0
    hot = service.hot_items(k=10)
    assert trend not in set(hot.table["item_id"]) and hot.unavailable_left_out == n_marked
    assert service.hot_items(k=1, include_unavailable=True).table["item_id"].iloc[0] == trend


def test_search_leaves_unavailable_items_out(marked_run, encoder_cache):  # noqa: ANN001
    run, _, top, _, n_marked = marked_run
    service = Recommender.load(run)
    title = service.catalogue.items.set_index("item_id").loc[top[0], "title"]
    found = service.search(title, k=5)
    assert top[0] not in set(found.table["item_id"]) and found.unavailable_left_out == n_marked
    assert service.search(title, k=5, include_unavailable=True).table["item_id"].iloc[0] == \
        top[0]


def test_a_policy_can_bring_unavailable_items_back(marked_run):  # noqa: ANN001
    run, user, top, _, n_marked = marked_run
    server = PolicyServer(Recommender.load(run), PolicyStore())
    plain = {"name": "plain", "stages": [{"kind": "diversify", "method": "mmr", "weight": 0.0}]}
    served = server.recommend(parse_policy(plain), user_id=user, k=4)
    assert not set(top) & {row["item_id"] for row in served.records()}
    assert served.unavailable_left_out == n_marked
    everything = parse_policy({**plain, "include_unavailable": True})
    back = server.recommend(everything, user_id=user, k=4)
    assert [row["item_id"] for row in back.records()] == top and back.unavailable_left_out == 0


def test_the_api_says_how_many_were_left_out(marked_run, prism_home):  # noqa: ANN001
    run, user, top, _, n_marked = marked_run
    client = TestClient(create_app(run))
    body = client.post("/recommend", json={"user_id": user, "k": 4}).json()
    assert body["unavailable_left_out"] == n_marked
    assert not set(top) & {row["item_id"] for row in body["items"]}
    back = client.post("/recommend", json={"user_id": user, "k": 4,
                                           "include_unavailable": True}).json()
    assert [row["item_id"] for row in back["items"]] == top
    assert back["unavailable_left_out"] == 0
    assert client.get("/hot?k=3").json()["unavailable_left_out"] == n_marked
    assert client.post("/recommend", json={"user_id": user,
                                           "include_unavailable": "maybe"}).status_code == 422


def test_the_cli_says_how_many_were_left_out(marked_run, capsys):  # noqa: ANN001
    run, user, top, _, n_marked = marked_run
    assert main(["recommend", "--run", str(run), "--user", user, "--k", "4"]) == 0
    captured = capsys.readouterr()
    assert n_marked > 1 and f"left out {n_marked} products that cannot be bought now" \
        in captured.err
    assert not any(item in captured.out for item in top[:1])
    assert main(["recommend", "--run", str(run), "--user", user, "--k", "4",
                 "--include-unavailable"]) == 0
    captured = capsys.readouterr()
    assert "left out" not in captured.err and top[0] in captured.out


def test_nothing_to_buy_is_one_clear_message(tiny_shop, tmp_path):  # noqa: ANN001
    from engine.core.errors import RequestError

    run = tmp_path / "ease"
    shutil.copytree(tiny_shop.ease_run, run)
    items = pd.read_parquet(run / "items.parquet")
    items["availability"] = "out_of_stock"
    items.to_parquet(run / "items.parquet", index=False)
    service = Recommender.load(run)
    with pytest.raises(RequestError, match="cannot be bought now.*include_unavailable=true"):
        service.recommend(user_id=service.user_ids[0])
    assert len(service.recommend(user_id=service.user_ids[0], include_unavailable=True).table)
