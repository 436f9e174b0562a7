"""Ranking over the items that can be shown gives the lists ranking the whole catalogue gives."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

import engine.rerank.pipeline as pipeline
from engine.rerank.narrow import narrow_columns
from engine.rerank.pipeline import ShopperBatch, apply_policy
from engine.rerank.plan import Diversify, PinRule, diversify_plan, plan_arrays

N_ITEMS, N_CATEGORIES, K = 400, 5, 10


def _case(method: str, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    categories = np.eye(N_CATEGORIES)[rng.integers(0, N_CATEGORIES, N_ITEMS)]
    vectors = rng.normal(size=(N_ITEMS, 8))
    names = [f"c{i}" for i in range(N_CATEGORIES)]
    scores = np.full((2, N_ITEMS), -np.inf)
    for row in range(2):  # an index's candidates: 40 items per shopper, -inf elsewhere
        chosen = rng.choice(N_ITEMS, 40, replace=False)
        scores[row, chosen] = rng.normal(size=40)
    inside, outside = int(np.flatnonzero(np.isfinite(scores[0]))[5]), \
        int(np.flatnonzero(~np.isfinite(scores).any(axis=0))[0])
    plan = diversify_plan(Diversify(method, 0.4), 20, plan_arrays(categories, vectors),
                          category_names=names, quotas={0: (2, None), 1: (None, 3)},
                          boosts=0.2 * categories[:, 2])
    plan = replace(plan, pins=[PinRule(label="pin outside", item=outside, slot=1, segment=None),
                               PinRule(label="pin inside", item=inside, slot=3, segment=None)])
    seen = sp.csr_matrix((np.ones(2), ([0, 1], [inside, outside])), shape=(2, N_ITEMS))
    targets = np.full((2, N_CATEGORIES), 1 / N_CATEGORIES)
    return plan, ShopperBatch(scores=scores, seen=seen, top_category=np.array([0, -1]),
                              targets=targets, exclude_seen=False)


@pytest.mark.parametrize("method", ["dpp", "mmr", "calibrated"])
@pytest.mark.parametrize(("seed", "exclude_seen", "has_seen"),
                         [(0, False, True), (1, True, True), (2, False, False)])
def test_narrowed_lists_equal_the_whole_catalogues(method: str, seed: int, exclude_seen: bool,
                                                   has_seen: bool,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    plan, batch = _case(method, seed)  # no seen matrix: a plain request, nothing to hide
    batch = replace(batch, exclude_seen=exclude_seen, seen=batch.seen if has_seen else None)
    assert narrow_columns(plan, batch) is not None
    narrow = apply_policy(plan, batch, K, count_removed=True)
    monkeypatch.setattr(pipeline, "narrow_columns", lambda *args, **kwargs: None)
    whole = apply_policy(plan, batch, K, count_removed=True)
    np.testing.assert_array_equal(narrow.items, whole.items)
    np.testing.assert_array_equal(narrow.candidates, whole.candidates)
    np.testing.assert_allclose(narrow.relevance, whole.relevance, atol=1e-9)
    np.testing.assert_allclose(narrow.diversity, whole.diversity, atol=1e-9)
    np.testing.assert_array_equal(narrow.pinned, whole.pinned)
    assert narrow.notices == whole.notices
    assert {k: v.tolist() for k, v in narrow.removed.items()} == \
        {k: v.tolist() for k, v in whole.removed.items()}
    assert any("pin outside" in str(n) for n in narrow.notices[0])  # said, never shown
    inside = plan.pins[1].item  # pinned where its shopper can see it, unless already seen
    assert (narrow.items[0, 2] == inside) != exclude_seen
    assert (inside in narrow.items[0]) != exclude_seen


def test_a_catalogue_scored_everywhere_is_not_narrowed() -> None:
    plan, batch = _case("dpp", 0)
    rng = np.random.default_rng(3)
    whole = replace(batch, scores=rng.normal(size=batch.scores.shape))
    assert narrow_columns(plan, whole) is None
    assert narrow_columns(plan, replace(batch, scores=np.full(batch.scores.shape,
                                                                -np.inf))) is None
