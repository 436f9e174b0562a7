"""The `exposure_targets` policy stage: fitted prices served inside `apply_policy`."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from policy_support import make_catalogue

from engine.core.errors import ConfigError
from engine.exposure.groups import GroupSpec, build_grouping
from engine.exposure.pool import Pool, top_k
from engine.exposure.prices import fit_prices
from engine.exposure.targets import parse_targets
from engine.policy.compile import compile_policy
from engine.policy.schema import parse_policy
from engine.rerank.pipeline import ShopperBatch, apply_policy
from engine.rerank.scaling import min_max

N_ITEMS, N_CANDIDATES, K = 120, 40, 5


def shop():  # noqa: ANN201 - a serving Catalogue
    return make_catalogue([f"b{j % 4}" for j in range(N_ITEMS)],
                          [f"c{j % 3}" for j in range(N_ITEMS)])


def scores(n_users: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((n_users, N_ITEMS)) + 0.4 * (np.arange(N_ITEMS) % 4 == 0)  # b0 favoured


def pool_of(block: np.ndarray) -> Pool:
    """The candidate pool the stage sees: top-N by score, relevance min-max over it."""
    items = np.argsort(-block, axis=1, kind="stable")[:, :N_CANDIDATES]
    values = np.take_along_axis(block, items, axis=1)
    return Pool(np.arange(len(block)), items, min_max(values, fill=-np.inf))


def lists_under(stage_prices: dict, block: np.ndarray) -> np.ndarray:
    policy = parse_policy({"name": "exposure", "n_candidates": N_CANDIDATES, "stages": [
        {"kind": "exposure_targets", "prices": stage_prices}]})
    compiled = compile_policy(policy, shop())
    batch = ShopperBatch(scores=block, seen=sp.csr_matrix(block.shape),
                         top_category=np.full(len(block), -1))
    return apply_policy(compiled, batch, K).items


def test_policy_stage_serves_exactly_the_fitted_ranking() -> None:
    catalogue = shop()
    grouping = build_grouping(GroupSpec(by="brand"), catalogue.items,
                              catalogue.items.iloc[:0].assign(timestamp=[]), np.zeros(N_ITEMS))
    targets = parse_targets({"by": "brand", "targets": [{"group": "b0", "max": 0.2}]})
    fitted = fit_prices(pool_of(scores(300, seed=1)), grouping, targets, k=K)
    assert fitted.prices.prices["b0"] < 0
    held_out = scores(200, seed=2)
    expected = top_k(pool_of(held_out), K, fitted.prices.item_bonus(grouping))
    served = lists_under(fitted.prices.model_dump(mode="json"), held_out)
    np.testing.assert_array_equal(served, expected)
    b0 = (served % 4 == 0).mean()
    assert b0 < (lists_under({"group": {"by": "brand"}, "prices": {"b0": 0.0}, "targets":
                              targets.model_dump()}, held_out) % 4 == 0).mean()


def test_one_exposure_stage_per_policy_and_prices_are_validated() -> None:
    prices = {"group": {"by": "brand"}, "prices": {"b0": -0.1},
              "targets": {"targets": [{"group": "b0", "max": 0.2}]}}
    stage = {"kind": "exposure_targets", "prices": prices}
    with pytest.raises(ConfigError, match="at most one exposure_targets stage"):
        parse_policy({"name": "two", "stages": [stage, stage]})
    with pytest.raises(ConfigError, match="prices.share"):
        parse_policy({"name": "bad", "stages": [
            {"kind": "exposure_targets", "prices": {**prices, "share": "views"}}]})
