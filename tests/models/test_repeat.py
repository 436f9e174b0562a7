"""Buy again: the repeat-purchase model, the synthetic consumables, the stage and its evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import ConfigError
from engine.models.repeat import RepeatModel, buy_again_candidates, merge_buy_again
from engine.policy.schema import parse_policy

DAY = 86_400


def _hand_model() -> RepeatModel:
    # shopper 0 buys item 0 every 7 days; shopper 1 buys item 0 once; item 1 never again;
    # item 2 twice within minutes (one order counted twice: not a repeat)
    users = np.array([0, 0, 0, 1, 0, 1, 1])
    items = np.array([0, 0, 0, 0, 1, 2, 2])
    times = np.array([0, 7 * DAY, 14 * DAY, 3 * DAY, DAY, 5 * DAY, 5 * DAY + 60])
    return RepeatModel.fit(users, items, times, n_items=4)


def test_rate_and_interval_come_from_the_shops_own_purchases() -> None:
    model = _hand_model()
    assert model.rate[0] == pytest.approx(1 / (2 + 2), abs=1e-9)  # 1 rebuyer of 2 buyers
    assert model.interval[0] == pytest.approx(7 * DAY, abs=1.0)
    assert model.rate[1] == 0 and model.rate[2] == 0 and model.rate[3] == 0
    assert model.n_repeatable == 1


def test_due_peaks_at_the_usual_interval_and_never_rebought_items_stay_out() -> None:
    model = _hand_model()
    elapsed = np.array([1, 3, 7, 20, 60]) * DAY
    due = np.array([model.due(np.array([0]), np.array([0]), now)[0] for now in elapsed])
    assert int(np.argmax(due)) == 2
    assert due[2] == pytest.approx(model.rate[0], abs=1e-9)
    items, scores = buy_again_candidates(model, np.array([1, 0, 2]),
                                         np.array([0, 0, 0]), now=7 * DAY)
    assert items.tolist() == [0] and scores[0] > 0


def test_merge_puts_due_items_first_without_duplicates() -> None:
    merged, marked = merge_buy_again(np.array([5, 6, 7, 8]), np.array([7, 9, 1]), 2, 4)
    assert merged.tolist() == [7, 9, 5, 6] and marked.tolist() == [True, True, False, False]
    plain, none = merge_buy_again(np.array([5, 6, -1]), np.array([9]), 0, 3)
    assert plain.tolist() == [5, 6, -1] and not none.any()


def test_synthetic_consumables_are_an_option_that_leaves_the_default_alone() -> None:
    from engine.data import generate_shop

    base = generate_shop(n_items=120, n_users=80, seed=4)
    same = generate_shop(n_items=120, n_users=80, seed=4, consumables=0.0)
    assert all(a.equals(b) for a, b in zip(base, same, strict=True))
    _, events = generate_shop(n_items=120, n_users=80, seed=4, consumables=0.5)
    bought = events[events["event"] == "purchase"]
    pairs = bought.groupby(["user_id", "item_id"]).size()
    assert (pairs > 1).sum() > (base[1][base[1]["event"] == "purchase"]
                                .groupby(["user_id", "item_id"]).size() > 1).sum()
    with pytest.raises(ConfigError, match="consumables"):
        generate_shop(n_items=10, n_users=5, consumables=1.5)


def test_buy_again_stage_is_validated() -> None:
    policy = parse_policy({"name": "again", "stages": [
        {"kind": "buy_again", "mode": "learned", "slots": 2, "min_due": 0.1}]})
    assert policy.stages[0].slots == 2
    with pytest.raises(ConfigError, match="at most one buy_again"):
        parse_policy({"name": "twice", "stages": [{"kind": "buy_again"},
                                                  {"kind": "buy_again"}]})
    with pytest.raises(ConfigError, match="mode"):
        parse_policy({"name": "bad", "stages": [{"kind": "buy_again", "mode": "always"}]})


def test_repeat_purchases_count_as_hits_only_when_brought_back() -> None:
    from engine.data import build_dataset, generate_shop
    from engine.evaluation.buy_again import (
        fit_repeat_model,
        learn_setting,
        ndcg_with,
        repeat_split,
        shoppers_at,
    )
    from engine.models.base import TrainData
    from engine.models.baselines import EASE

    items, events = generate_shop(n_items=150, n_users=150, seed=2, consumables=0.3)
    dataset = build_dataset(items, events, name="consumables")
    rsplit = repeat_split(dataset.events)
    data = TrainData.from_split(dataset, rsplit.split)
    model = EASE().fit(data)
    repeat = fit_repeat_model(rsplit, data.item_ids)
    test = shoppers_at(model, data, rsplit, repeat, "test", 10)
    repeats = [bool(np.isin(t, h).any()) for t, h in
               zip(test.targets, [data.histories()[u] for u in test.users], strict=True)]
    assert sum(repeats) > 0
    plain = ndcg_with(test, 0, 0.0, 10)
    assert np.all(plain[np.array(repeats)] == 0.0)  # a seen item is never in the plain list
    slots, min_due, _ = learn_setting(shoppers_at(model, data, rsplit, repeat, "valid", 10), 10)
    assert slots > 0
    assert ndcg_with(test, slots, min_due, 10).mean() > plain.mean()
