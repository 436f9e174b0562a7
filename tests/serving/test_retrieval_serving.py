"""Serving through a run's candidate index: exact scores on the candidates, policies intact."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("faiss", reason="faiss-cpu not installed (pip install prism-studio[ann])")

from engine.cli.main import main  # noqa: E402
from engine.policy.schema import parse_policy  # noqa: E402
from engine.policy.serving import PolicyFailed, PolicyServer  # noqa: E402
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
    reference = exact._scores(exact.catalogue, exact.model, user=position)
    through = fast._scores(fast.catalogue, fast.model, user=position)
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
    scores = service._scores(catalogue, service.model, user=catalogue.user_lookup[user])
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
    ids = [row["item_id"] for row in served.records()]
    assert ids[1] == pinned, served.notice  # pinned outside the candidates, at its slot
    assert len(set(ids) & set(promoted)) >= 2  # 20 % of 10 slots go to promoted items
    shown = [str(labels[catalogue.item_index.get_loc(i)]) for i in ids]
    assert dropped not in shown
    assert max(shown.count(label) for label in set(shown)) <= 3


def test_a_policy_that_cannot_compile_fails_as_a_policy_with_an_index_too(
        indexed_run, tmp_path):  # noqa: ANN001
    """A policy naming a column the run lacks fails as the policy (the caller serves the
    plain ranking), whether or not the run scores through a candidate index."""
    bad = parse_policy({"name": "bad", "stages": [
        {"kind": "cap", "column": "colour", "max_items": 1}]})
    for retrieval in ("auto", "exact"):
        service = Recommender.load(indexed_run, retrieval=retrieval, candidates=CANDIDATES)
        server = PolicyServer(service, PolicyStore(tmp_path / "policies.db"))
        with pytest.raises(PolicyFailed, match="'colour' is not an item column"):
            server.recommend(bad, user_id=service.user_ids[0], k=5)


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


def _index_scores(run, model, user: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """(what the run's index scores every item for `model`'s shopper `user`, probing every
    list; what `model` scores them): equal when the index holds the model's item vectors."""
    index = load_item_index(run)
    index.apply_setting(index.index.nlist)
    query = model.query_vectors(np.array([user]))
    scores, positions = index.search(query, index.n_items)
    stored = np.empty(index.n_items)
    stored[positions[0]] = scores[0]
    return stored, model.scoring_vectors() @ query[0]


def test_a_refresh_updates_the_index_and_the_swapped_in_version_serves_through_it(
        indexed_run, tmp_path, monkeypatch, capsys):  # noqa: ANN001
    from fastapi.testclient import TestClient

    from engine.api.app import create_app
    from engine.events.store import EventStore
    from engine.retrieval.ann import ExactIndex, recall_at_n

    run = tmp_path / "twotower"
    shutil.copytree(indexed_run, run)
    monkeypatch.setenv("PRISM_ADMIN_TOKEN", "s3cret")
    client = TestClient(create_app(run, candidates=CANDIDATES))
    old = Recommender.load(run)
    buyer = old.catalogue.user_lookup[old.user_ids[3]]
    bought = old.recommend(user_id=old.user_ids[3], k=3).table["item_id"].tolist()
    EventStore().add_events([{"user_id": old.user_ids[3], "item_id": item, "event": "purchase",
                              "timestamp": 1_900_000_000.0, "list_id": None} for item in bought])
    assert main(["refresh", "--run", str(run), "--epochs", "1"]) == 0
    new = Recommender.load(run, candidates=CANDIDATES)
    changed = np.flatnonzero((old.model.scoring_vectors() != new.model.scoring_vectors()).any(
        axis=1))  # the items whose vectors the fine-tuning moved: bought ones only
    assert len(changed) >= 1 and set(new.catalogue.columns.ids[changed]) <= set(bought)
    items = "item" if len(changed) == 1 else "items"
    assert f"candidate index ivf updated ({len(changed)} changed {items} re-encoded) over " \
        "the fine-tuned item vectors" in capsys.readouterr().out
    before, info = read_index_info(indexed_run), read_index_info(run)
    assert (info.kind, info.part, info.n_items, info.target_recall) == \
        ("ivf", "serving", 200, before.target_recall) and info.recall >= info.target_recall
    answer = client.post("/model/reload", headers={"Authorization": "Bearer s3cret"}).json()
    assert answer["swapped"] is True
    health = client.get("/healthz").json()
    assert (health["version"], health["retrieval"], health["candidates"]) == (2, "ivf", CANDIDATES)
    stored, exact = _index_scores(run, new.model, buyer)
    np.testing.assert_allclose(stored, exact, atol=1e-4)  # the index holds the new vectors
    stale, _ = _index_scores(indexed_run, new.model, buyer)
    assert not np.allclose(stale[changed], exact[changed], atol=1e-4)  # the old one does not
    for service, folder in ((old, indexed_run), (new, run)):  # recall against exact, all shoppers
        queries = service.model.query_vectors(np.arange(len(service.user_ids)))
        found = load_item_index(folder).search(queries, info.tune_n)[1]
        truth = ExactIndex(service.model.scoring_vectors(), device="cpu").search(
            queries, info.tune_n)[1]
        assert recall_at_n(found, truth) >= info.target_recall


def test_serving_keeps_one_item_table(indexed_run):  # noqa: ANN001
    """The run, the model, the catalogue and the re-ranker read the same item vectors and
    category rows: a million-item run holds each once."""
    service = Recommender.load(indexed_run, candidates=CANDIDATES)
    vectors = service.model.item_vectors()
    assert service.run.item_vectors is vectors
    assert np.shares_memory(service.catalogue.item_vectors, vectors)
    arrays = service.catalogue.rank_arrays
    assert np.shares_memory(arrays["unit_vectors"], vectors)
    assert arrays["item_categories"] is service.catalogue.item_categories
    listed = service.recommend(user_id=service.user_ids[3], k=10, method="dpp",
                               diversity_weight=0.3, n_candidates=50)
    assert len(listed.table) == 10


def test_without_faiss_a_refresh_leaves_the_index_out_and_says_so(indexed_run, tmp_path,  # noqa: ANN001
                                                                   monkeypatch):  # noqa: ANN001
    import pandas as pd

    from engine.models.finetune import FineTune
    from engine.training import refresh

    run = tmp_path / "twotower"
    shutil.copytree(indexed_run, run)
    old = Recommender.load(run)
    events = pd.DataFrame({"id": [1], "user_id": [old.user_ids[0]], "event": ["purchase"],
                           "item_id": [old.catalogue.columns.ids[0]], "timestamp": [1.9e9]})
    monkeypatch.setattr(refresh, "faiss_available", lambda: False)
    done = refresh.refresh_run(run, lambda after: events[events["id"] > after],
                               settings=FineTune(epochs=1))
    assert done.index is None and read_index_info(run) is None
    assert any("left out; rebuild it with `prism index build" in note for note in done.notes)
    assert not Recommender.load(run).retrieval.active  # served exactly, never by old vectors


def test_a_list_ranked_over_its_candidates_equals_the_whole_catalogues(
        indexed_run, monkeypatch):  # noqa: ANN001
    """A shopper served through the index is ranked over the allowed candidates alone: the
    same list, relevance and count as ranking every item of the catalogue."""
    import engine.rerank.narrow as narrow
    import engine.rerank.pipeline as pipeline
    import engine.serving.ranking as ranking
    from engine.serving.requests import RecommendRequest

    service = Recommender.load(indexed_run, candidates=CANDIDATES)
    catalogue = service.catalogue
    user = catalogue.user_lookup[service.user_ids[3]]
    scores = service._scores(catalogue, service.model, user=user)
    main = catalogue.item_categories.argmax(axis=1)[np.isfinite(scores)]
    common = np.argsort(-np.bincount(main))[:2]  # the candidates' two main categories
    request = ranking.compile_request(catalogue, RecommendRequest.of(
        user_id=service.user_ids[3], k=5, method="dpp", diversity_weight=0.4,
        categories=[catalogue.category_names[c] for c in common]))
    shopper = ranking.Shopper(catalogue.user_items[user], scores, np.empty(0, dtype=np.int64))
    lists = {}
    found = []  # the columns each ranking narrowed to (None: the whole catalogue)
    monkeypatch.setattr(pipeline, "narrow_columns",
                        lambda *args: found.append(narrow.narrow_columns(*args)) or found[-1])
    for share in (narrow.NARROW_SHARE, 0.0):  # 0: every scored item counts as "most"
        monkeypatch.setattr(narrow, "NARROW_SHARE", share)
        lists[share] = ranking.rank(catalogue, request, shopper, exclude_seen=True)
    assert found[0] is not None and found[-1] is None  # over the candidates, then every item
    (candidates, n_candidates), (whole, n_whole) = lists.values()
    np.testing.assert_array_equal(candidates.items, whole.items)
    np.testing.assert_array_equal(candidates.candidates[:, :5], whole.candidates[:, :5])
    np.testing.assert_allclose(candidates.relevance, whole.relevance, atol=1e-9)
    assert n_candidates == n_whole < np.isfinite(scores).sum()


def test_an_index_is_updated_for_a_few_changed_items_and_rebuilt_for_many(indexed_run):  # noqa: ANN001
    from engine.retrieval.runindex import index_vectors, refreshed_index

    service = Recommender.load(indexed_run)
    model, n_users, part = service.model, len(service.user_ids), service.run.part
    after = index_vectors(model)
    before = after.copy()
    before[[5, 77]] += 0.5  # what the saved index holds differs from the model in two rows
    updated, count = refreshed_index(indexed_run, model, n_users, before, part)
    assert count == 2 and updated.info.recall >= updated.info.target_recall
    updated.apply_setting(updated.index.nlist)  # every list probed: the stored vectors' scores
    query = model.query_vectors(np.array([3]))
    scores, positions = updated.search(query, 200)
    assert len(set(positions[0])) == 200  # each item once: the old rows were removed
    np.testing.assert_allclose(scores[0], after[positions[0]] @ query[0], atol=1e-4)
    rebuilt, count = refreshed_index(indexed_run, model, n_users, before + 1.0, part)
    assert count is None and rebuilt.info.kind == "ivf" and rebuilt.info.n_items == 200
    other = "serving" if part == "evaluation" else "evaluation"
    _, count = refreshed_index(indexed_run, model, n_users, after, other)
    assert count is None  # an index of another part never held these vectors
