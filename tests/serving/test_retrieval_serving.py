"""Serving through a run's candidate index: exact scores on the candidates, policies intact."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("faiss")

from engine.cli.main import main  # noqa: E402
from engine.policy.schema import parse_policy  # noqa: E402
from engine.policy.serving import PolicyServer  # noqa: E402
from engine.policy.store import PolicyStore  # noqa: E402
from engine.retrieval.runindex import load_item_index, read_index_info  # noqa: E402
from engine.serving.recommender import Recommender  # noqa: E402

pytest_plugins = ["serving_runs"]
CANDIDATES = 20  # of the tiny shop's 200 items: most items are outside the candidates


@pytest.fixture(scope="module")
def indexed_run(tiny_shop, tmp_path_factory):  # noqa: ANN001, ANN201
    """A copy of the tiny two-tower run with an IVF candidate index built by the CLI."""
    run = tmp_path_factory.mktemp("indexed") / "twotower"
    shutil.copytree(tiny_shop.twotower_run, run)
    assert main(["index", "build", "--run", str(run), "--kind", "ivf"]) == 0
    return run


def test_the_cli_builds_an_index_that_matches_the_served_model(indexed_run, capsys):  # noqa: ANN001
    info = read_index_info(indexed_run)
    assert info.kind == "ivf" and info.n_items == 200 and info.recall >= 0.95
    index = load_item_index(indexed_run)
    assert index.search(np.zeros((1, info.dim), np.float32), 5)[1].shape == (1, 5)
    assert main(["index", "build", "--run", str(indexed_run), "--target-recall", "2"]) == 2
    assert "--target-recall must be in (0, 1]" in capsys.readouterr().err


def test_candidates_carry_the_exact_scores(indexed_run):  # noqa: ANN001
    fast = Recommender.load(indexed_run, candidates=CANDIDATES)
    exact = Recommender.load(indexed_run, retrieval="exact")
    assert fast.retrieval.active and not exact.retrieval.active
    user = fast.user_ids[3]
    position = fast.catalogue.user_lookup[user]
    reference = exact._scores(exact.catalogue, user=position)
    through = fast._scores(fast.catalogue, user=position)
    scored = np.isfinite(through)
    assert CANDIDATES <= scored.sum() < fast.catalogue.n_items
    np.testing.assert_allclose(through[scored], reference[scored], atol=1e-4)
    # with every candidate the index can give, the list is the exact list
    wide = Recommender.load(indexed_run, candidates=200)
    kwargs = {"user_id": user, "k": 10, "method": "mmr", "diversity_weight": 0.3}
    assert wide.recommend(**kwargs).table["item_id"].tolist() == \
        exact.recommend(**kwargs).table["item_id"].tolist()


def test_a_policy_holds_when_candidates_come_from_the_index(indexed_run):  # noqa: ANN001
    service = Recommender.load(indexed_run, candidates=CANDIDATES)
    catalogue = service.catalogue
    user = service.user_ids[5]
    scores = service._scores(catalogue, user=catalogue.user_lookup[user])
    labels = catalogue.columns.labels
    dropped = str(labels[np.flatnonzero(np.isfinite(scores))[0]])  # a candidate's category
    bought = set(catalogue.user_items[catalogue.user_lookup[user]].tolist())
    outside = [str(catalogue.columns.ids[p]) for p in np.flatnonzero(~np.isfinite(scores))
               if labels[p] != dropped and p not in bought]
    pinned, promoted = outside[0], outside[1:4]
    policy = parse_policy({"name": "merch", "stages": [
        {"kind": "filter", "drop": {"categories": [dropped]}},
        {"kind": "pin", "item_id": pinned, "slot": 2},
        {"kind": "promote", "match": {"item_ids": promoted}, "share": 0.2},
        {"kind": "cap", "column": "div_category", "max_items": 3},
        {"kind": "diversify", "method": "mmr", "weight": 0.2}]})
    served = PolicyServer(service, PolicyStore()).recommend(policy, user_id=user, k=10)
    ids = [row["item_id"] for row in served.items]
    assert ids[1] == pinned, served.notice  # pinned outside the candidates, at its slot
    assert len(set(ids) & set(promoted)) >= 2  # 20 % of 10 slots go to promoted items
    shown = [str(labels[catalogue.item_index.get_loc(i)]) for i in ids]
    assert dropped not in shown
    assert max(shown.count(label) for label in set(shown)) <= 3


def test_train_with_ann_indexes_the_served_model(tiny_shop, tmp_path, encoder_cache):  # noqa: ANN001
    out = tmp_path / "run"
    assert main(["train", "--data", str(tiny_shop.data_dir), "--out", str(out), "--model",
                 "twotower", "--epochs", "1", "--set", "use_text=false", "--quiet",
                 "--ann"]) == 0
    info = read_index_info(out)
    assert info.part == "serving" and info.n_items == 200  # the refit model's vectors
    service = Recommender.load(out)
    assert service.retrieval.active and len(service.recommend(user_id=service.user_ids[0],
                                                                k=5).table) == 5
