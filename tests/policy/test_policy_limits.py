"""Policy size limits: stages, listed values, slots and versions are bounded, and a bound
passed is a readable ConfigError naming the field and the limit."""

from __future__ import annotations

import pytest

from engine.core.errors import ConfigError
from engine.core.limits import MAX_MATCH_VALUES, MAX_SLOT, MAX_STAGES
from engine.policy.schema import parse_policy, split_reference


def test_too_many_stages_is_refused() -> None:
    stages = [{"kind": "boost", "match": {"brands": [f"b{i}"]}, "strength": 0.1}
              for i in range(MAX_STAGES + 1)]
    with pytest.raises(ConfigError, match=f"stages: List should have at most {MAX_STAGES}"):
        parse_policy({"name": "big", "stages": stages})


def test_too_many_listed_values_is_refused() -> None:
    brands = [f"b{i}" for i in range(MAX_MATCH_VALUES + 1)]
    with pytest.raises(ConfigError, match="stages.0.match.brands"):
        parse_policy({"name": "big", "stages": [{"kind": "boost", "match": {"brands": brands},
                                                 "strength": 0.1}]})


def test_a_slot_beyond_the_longest_list_is_refused() -> None:
    with pytest.raises(ConfigError, match=f"slot: Input should be less than or equal to "
                                          f"{MAX_SLOT}"):
        parse_policy({"name": "far", "stages": [{"kind": "pin", "item_id": "i1",
                                                 "slot": 10**12}]})


def test_a_lone_surrogate_in_a_policy_is_refused() -> None:
    with pytest.raises(ConfigError, match="lone surrogate"):
        parse_policy({"name": "odd", "description": "\ud800", "stages": []})


@pytest.mark.parametrize("reference", ["a@99999999999999999999", "a@" + "9" * 5000,
                                       "a@0", "a@" + "0" * 5000])
def test_a_version_out_of_range_is_a_config_error(reference: str) -> None:
    with pytest.raises(ConfigError, match="a version is a whole number from 1 to"):
        split_reference(reference)


def test_ordinary_references_still_split() -> None:
    assert split_reference("spring-sale@12") == ("spring-sale", 12)
    assert split_reference("spring-sale") == ("spring-sale", None)
