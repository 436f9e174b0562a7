"""Which columns a cap per value may use: brand, category, price band and item columns with a
few repeating values; a cap per an id, a title, a description or a price is refused."""

from __future__ import annotations

import numpy as np
import pytest
from policy_support import make_catalogue

from engine.core.errors import ConfigError
from engine.policy.compile import cap_columns, compile_policy
from engine.policy.schema import parse_policy


def shop():
    """Eight items: two brands, two categories, prices 1..7 and one item without a price."""
    return make_catalogue(["a", "b"] * 4, ["x", "y"] * 4,
                          prices=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, np.nan],
                          extra={"description": [f"text {j}" for j in range(8)],
                                 "colour": ["red", "blue"] * 4,
                                 "weight_kg": [0.5 + j for j in range(8)]})


def test_only_columns_a_cap_per_value_means_something_for_are_offered():
    assert cap_columns(shop().items) == ["brand", "category", "price_band", "colour"]


def test_no_price_band_without_prices():
    items = make_catalogue(["a", "b"], ["x", "y"]).items
    assert "price_band" not in cap_columns(items)


@pytest.mark.parametrize("column", ["description", "title", "item_id", "price"])
def test_a_cap_per_a_text_or_a_price_is_refused_naming_the_column(column: str):
    with pytest.raises(ConfigError, match=f"a cap per '{column}' caps nothing"):
        parse_policy({"name": "t", "stages": [{"kind": "cap", "column": column,
                                               "max_items": 1}]})


def test_a_cap_per_price_band_groups_items_by_price_quintile():
    policy = parse_policy({"name": "t", "stages": [{"kind": "cap", "column": "price_band",
                                                    "max_items": 1}]})
    rule = compile_policy(policy, shop()).caps[0]
    assert rule.codes[-1] == -1  # no price: in no band, never capped
    assert len(set(rule.codes[:-1].tolist())) == 5
    assert (np.diff(rule.codes[:-1]) >= 0).all()  # dearer items, a higher band


@pytest.mark.parametrize(("column", "said"), [("brand", "cap brand ≤ 2"),
                                              ("price_band", "cap price band ≤ 2"),
                                              ("colour", "cap colour ≤ 2")])
def test_a_cap_is_labelled_by_its_grouping_in_words(column: str, said: str):
    from engine.policy.compile import stage_label
    from engine.policy.schema import CapStage

    assert stage_label(CapStage(kind="cap", column=column, max_items=2)) == said


def test_a_version_stored_before_the_check_still_loads(tmp_path):
    """The check refuses new input; a cap per a price saved before it keeps loading (and
    serving) as written, so a live policy never stops at the next request."""
    from engine.policy.store import PolicyStore

    body = {"name": "old", "stages": [{"kind": "cap", "column": "price", "max_items": 2}]}
    store = PolicyStore(tmp_path / "store.sqlite")
    store.save(parse_policy(body, stored=True))
    assert store.get("old").stages[0].column == "price"
    with pytest.raises(ConfigError, match="caps nothing"):
        parse_policy(body)
