"""Evaluation protocol on tiny cases whose right answer is known by hand."""

from __future__ import annotations

import json
from typing import Any, Self

import numpy as np
import pytest
from model_contract import TEST_ITEMS, VALID_ITEMS, tiny_train_data

from engine.core.errors import ConfigError
from engine.evaluation.protocol import (
    RerankSpec,
    calibration_targets,
    category_prior,
    check_target_mix,
    evaluate_model,
    rank_users,
)
from engine.models.base import BaseModel, TrainData, seen_matrix
from engine.models.baselines import EASE
from engine.models.topn import top_n, top_n_with_scores
from engine.rerank.targets import blend_target

EXPECTED_KEYS = {"ndcg@10", "recall@10", "precision@10", "hit@10", "mrr@10",
                 "category_coverage@10", "category_entropy@10", "ild@10",
                 "catalog_coverage@10", "gini@10", "novelty@10", "arp@10", "tail_share@10",
                 "miscalibration@10"}


class FixedScores(BaseModel):
    """Scores every user with the same fixed item scores (a known ranking for the protocol)."""

    name = "fixed"

    def __init__(self, item_scores: np.ndarray) -> None:
        self.item_scores = np.asarray(item_scores, dtype=np.float32)

    def fit(self, data: TrainData, callbacks: Any = ()) -> Self:
        return self

    def score_users(self, user_idx: np.ndarray) -> np.ndarray:
        return np.tile(self.item_scores, (len(user_idx), 1))

    def score_histories(self, histories: list[np.ndarray], timestamps: Any = None) -> np.ndarray:
        return np.tile(self.item_scores, (len(histories), 1))

    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return {"item_scores": self.item_scores}, {}

    @classmethod
    def from_state(cls, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> Self:
        return cls(tensors["item_scores"])


class Oracle(FixedScores):
    """Puts each user's held-out test item on top of everything (a perfect recommender)."""

    def score_users(self, user_idx: np.ndarray) -> np.ndarray:
        scores = super().score_users(user_idx)
        scores[np.arange(len(user_idx)), np.asarray(TEST_ITEMS)[user_idx]] = 100.0
        return scores


def test_seen_items_are_train_plus_valid_for_test_and_train_only_for_valid() -> None:
    data = tiny_train_data()
    test_seen = seen_matrix(data, "test").toarray()
    valid_seen = seen_matrix(data, "valid").toarray()
    assert sorted(np.flatnonzero(valid_seen[0])) == [0, 1, 2]
    assert sorted(np.flatnonzero(test_seen[0])) == [0, 1, 2, VALID_ITEMS[0]]
    with pytest.raises(ConfigError, match="split part"):
        seen_matrix(data, "train")


def test_top_n_skips_seen_items_and_pads_with_minus_one() -> None:
    import scipy.sparse as sp

    scores = np.array([[0.9, 0.8, 0.1, 0.5], [0.1, 0.2, 0.3, 0.4]], dtype=np.float32)
    seen = sp.csr_matrix(np.array([[1, 0, 0, 0], [1, 1, 1, 0]], dtype=np.float32))
    top = top_n(scores, seen, 3)
    np.testing.assert_array_equal(top, [[1, 3, 2], [3, -1, -1]])


def test_top_n_orders_equal_scores_by_item_index_and_returns_their_scores() -> None:
    import scipy.sparse as sp

    scores = np.array([[1.0, 2.0, 2.0, 0.0, 2.0, 2.0]], dtype=np.float32)
    seen = sp.csr_matrix(np.array([[0, 0, 1, 0, 0, 0]], dtype=np.float32))
    top, values = top_n_with_scores(scores.copy(), seen, 4)
    np.testing.assert_array_equal(top, [[1, 4, 5, 0]])
    np.testing.assert_array_equal(values, [[2.0, 2.0, 2.0, 1.0]])
    top, values = top_n_with_scores(scores.copy(), seen, 10)  # longer than the catalogue
    np.testing.assert_array_equal(top, [[1, 4, 5, 0, 3, -1]])
    assert np.isneginf(values[0, -1])


class ReadOnlyScores(FixedScores):
    """Hands out a read-only view of its own scores (top-N must not write into it)."""

    def score_users(self, user_idx: np.ndarray) -> np.ndarray:
        view = np.broadcast_to(self.item_scores, (len(user_idx), len(self.item_scores)))
        assert not view.flags.writeable
        return view


def test_default_top_n_users_is_score_users_plus_top_n() -> None:
    data = tiny_train_data()
    seen = seen_matrix(data, "test")
    model = ReadOnlyScores(np.arange(data.n_items, dtype=np.float32)[::-1].copy())
    users = np.arange(data.n_users)
    top, values = model.top_n_users(users, 3, seen)
    np.testing.assert_array_equal(top, top_n(np.array(model.score_users(users)), seen, 3))
    np.testing.assert_array_equal(values, model.item_scores[top])
    np.testing.assert_array_equal(model.item_scores, np.arange(data.n_items)[::-1])


def test_perfect_recommender_scores_one_on_relevance_metrics() -> None:
    data = tiny_train_data()
    result = evaluate_model(Oracle(np.zeros(data.n_items)), data, k=3, protocol="random")
    metrics = result["metrics"]
    for name in ("ndcg@3", "hit@3", "recall@3", "mrr@3"):
        assert metrics[name] == pytest.approx(1.0), name
    assert metrics["precision@3"] == pytest.approx(1 / 3)
    assert result["n_users"] == data.n_users
    assert result["split"] == "random" and result["model"] == "fixed"


def test_fixed_ranking_gives_hand_computed_ndcg() -> None:
    """Global order 7 > 6 > ... > 0; per user the test item's rank among unseen items is known."""
    data = tiny_train_data()
    model = FixedScores(np.arange(data.n_items, dtype=np.float32))
    topk = rank_users(model, data, np.arange(data.n_users), k=2)
    # user 0 saw 0,1,2 (train) and 3 (valid): ranking 7, 6, 5, 4; test item 5 is third
    np.testing.assert_array_equal(topk[0], [7, 6])
    # user 2 saw 4,5,6,7: ranking 3, 2, 1, 0; test item 3 is first
    np.testing.assert_array_equal(topk[2], [3, 2])
    result = evaluate_model(model, data, k=2)
    # test item rank among unseen items: u0 5 → miss, u1 6 → 2nd, u2 3 → 1st, u3 2 → 2nd,
    # u4 5 → miss (ranking 7, 6), u5 4 → miss
    expected_ndcg = (0 + 1 / np.log2(3) + 1 + 1 / np.log2(3) + 0 + 0) / 6
    assert result["metrics"]["ndcg@2"] == pytest.approx(expected_ndcg)
    assert result["metrics"]["hit@2"] == pytest.approx(3 / 6)


def test_evaluate_json_has_the_contract_keys() -> None:
    data = tiny_train_data()
    result = evaluate_model(EASE(reg_weight=1.0).fit(data), data, k=10, fit_seconds=0.25)
    assert set(result["metrics"]) >= EXPECTED_KEYS
    assert set(result) >= {"metrics", "n_users", "split", "model", "seconds"}
    assert set(result["seconds"]) == {"fit", "evaluate"} and result["seconds"]["fit"] == 0.25
    json.dumps(result)  # plain JSON types only


def test_user_subset_and_validation_part() -> None:
    data = tiny_train_data()
    model = EASE(reg_weight=1.0).fit(data)
    assert evaluate_model(model, data, users=[0, 2])["n_users"] == 2
    assert evaluate_model(model, data, split_part="valid")["split"] == "valid"


def test_history_scoring_equals_user_scoring_for_history_models() -> None:
    data = tiny_train_data()
    model = EASE(reg_weight=1.0).fit(data)
    users = np.arange(data.n_users)
    np.testing.assert_array_equal(rank_users(model, data, users, k=3),
                                  rank_users(model, data, users, k=3, use_histories=True))


def test_bad_rerank_and_k_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="rerank method"):
        RerankSpec("shuffle", 0.5)
    with pytest.raises(ConfigError, match=r"rerank weight must be in \[0, 1\]"):
        RerankSpec("mmr", 1.5)
    data = tiny_train_data()
    with pytest.raises(ConfigError, match="k must be a whole number >= 1"):
        evaluate_model(EASE().fit(data), data, k=0)


@pytest.mark.parametrize("method", ["mmr", "dpp", "calibrated"])
def test_rerank_at_weight_zero_is_the_relevance_order(method: str) -> None:
    data = tiny_train_data()
    model = EASE(reg_weight=1.0).fit(data)
    users = np.arange(data.n_users)
    plain = rank_users(model, data, users, k=3)
    # 8 items, 4 seen per user: every user is short of 200 candidates (the padded path)
    reranked = rank_users(model, data, users, k=3, rerank=RerankSpec(method, 0.0))
    np.testing.assert_array_equal(reranked, plain)


def test_calibrated_rerank_mixes_categories_for_a_one_category_ranking() -> None:
    data = tiny_train_data()
    model = FixedScores(np.array([8, 7, 6, 5, 1, 0.9, 0.8, 0.7], dtype=np.float32))
    # user 4 has one item of each category in training: its target is half a, half b
    plain = evaluate_model(model, data, k=2, users=[4], split_part="valid")
    mixed = evaluate_model(model, data, k=2, users=[4], split_part="valid",
                           rerank=("calibrated", 0.9))
    assert plain["metrics"]["category_coverage@2"] == 1.0
    assert mixed["metrics"]["category_coverage@2"] == 2.0
    assert mixed["rerank"] == {"method": "calibrated", "weight": 0.9, "n_candidates": 200,
                              "target_mix": 0.5}


def test_lists_longer_than_the_catalogue_are_padded() -> None:
    data = tiny_train_data()
    topk = rank_users(EASE().fit(data), data, np.arange(data.n_users), k=12)
    assert topk.shape == (data.n_users, 12)
    seen = np.array([len(h) + 1 for h in data.histories()])  # training items + one valid item
    np.testing.assert_array_equal((topk >= 0).sum(axis=1), data.n_items - seen)


# ---- calibration target mix: t = (1 − γ)·h + γ·g -----------------------------------------

def test_blend_target_by_hand() -> None:
    history = np.array([[1.0, 0.0], [0.0, 0.0]])  # second row: no history
    prior = np.array([0.5, 0.5])
    np.testing.assert_allclose(blend_target(history, prior, 0.5), [[0.75, 0.25], [0.5, 0.5]],
                               atol=1e-12)
    np.testing.assert_allclose(blend_target(history, prior, 0.0), [[1.0, 0.0], [0.5, 0.5]],
                               atol=1e-12)
    np.testing.assert_allclose(blend_target(history, prior, 1.0), [[0.5, 0.5], [0.5, 0.5]],
                               atol=1e-12)


def test_category_prior_is_the_mean_item_row() -> None:
    categories = np.array([[1, 0, 0], [1, 0, 0], [0, 0.5, 0.5], [0, 1, 0]], dtype=np.float32)
    np.testing.assert_allclose(category_prior(categories), [0.5, 0.375, 0.125], atol=1e-12)


def test_calibration_targets_on_the_tiny_catalogue() -> None:
    data = tiny_train_data()  # four items in a, four in b: the prior is (0.5, 0.5)
    # user 0 bought only a-items, user 4 one of each
    np.testing.assert_allclose(calibration_targets(data, np.array([0, 4]), 0.5),
                               [[0.75, 0.25], [0.5, 0.5]], atol=1e-12)
    np.testing.assert_allclose(calibration_targets(data, np.array([0]), 0.0), [[1.0, 0.0]],
                               atol=1e-12)


@pytest.mark.parametrize(("target_mix", "expected"), [(0.0, 2), (0.5, 2), (1.0, 4)])
def test_target_mix_moves_the_calibrated_pick(target_mix: float, expected: int) -> None:
    data = tiny_train_data()
    # b-items score highest; user 1 bought only a-items (0, 1, 3) and has a-item 2 unseen.
    # γ = 0 or 0.5 leans the target to a, so item 2 wins the single slot (KL 0 or 0.94 against
    # 3.11 for a b-item); γ = 1 aims at (0.5, 0.5), where one item of either category costs
    # the same KL, so relevance picks b-item 4.
    model = FixedScores(np.array([1, 0.9, 0.8, 0.7, 8, 7, 6, 5], dtype=np.float32))
    spec = RerankSpec("calibrated", 0.9, target_mix=target_mix)
    ranked = rank_users(model, data, np.array([1]), k=1, split_part="valid", rerank=spec)
    assert ranked.tolist() == [[expected]]


def test_target_mix_is_recorded_and_validated() -> None:
    data = tiny_train_data()
    model = FixedScores(np.arange(8, dtype=np.float32))
    result = evaluate_model(model, data, k=2, rerank=("calibrated", 0.5), target_mix=1.0)
    assert result["rerank"]["target_mix"] == 1.0
    spec = RerankSpec("calibrated", 0.5, target_mix=0.0)  # a spec keeps its own mix
    assert evaluate_model(model, data, k=2, rerank=spec,
                          target_mix=1.0)["rerank"]["target_mix"] == 0.0
    with pytest.raises(ConfigError, match=r"rerank target_mix must be in \[0, 1\]"):
        RerankSpec("calibrated", 0.5, target_mix=1.5)
    with pytest.raises(ConfigError, match="rerank target_mix must be a number"):
        RerankSpec("calibrated", 0.5, target_mix="half")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="target_mix must be in"):
        check_target_mix(float("nan"))


class NextAfterLast(FixedScores):
    """A sequential toy: ranks first the item that follows the history's last item."""

    name = "next"
    sequential = True

    def __init__(self, follow: dict[int, int], n_items: int) -> None:
        super().__init__(np.zeros(n_items, dtype=np.float32))
        self.follow = follow
        self.users_seen: list[np.ndarray] = []

    def score_histories(self, histories: list[np.ndarray], timestamps: Any = None,
                        user_idx: np.ndarray | None = None) -> np.ndarray:
        self.users_seen.append(np.asarray(user_idx))
        scores = np.zeros((len(histories), len(self.item_scores)), dtype=np.float32)
        for row, history in enumerate(histories):
            scores[row, self.follow.get(int(history[-1]), 0)] = 1.0
        return scores


def test_sequential_models_see_the_validation_item_before_the_test_item() -> None:
    data = tiny_train_data()
    model = NextAfterLast(dict(zip(VALID_ITEMS, TEST_ITEMS, strict=True)), data.n_items)
    result = evaluate_model(model, data, k=1)
    assert result["metrics"]["hit@1"] == 1.0  # the last item read was the validation item
    assert np.array_equal(np.concatenate(model.users_seen), np.arange(data.n_users))
    model.sequential = False  # scored from training histories: the follower is not the target
    assert evaluate_model(model, data, k=1)["metrics"]["hit@1"] < 1.0
