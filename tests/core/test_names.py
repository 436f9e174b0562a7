"""One rule for the names people give things: a policy, a data set, an experiment and its arms
take the same names and refuse the same ones in the same words."""

from __future__ import annotations

import pytest

from engine.core.errors import PrismError
from engine.core.messages import Message
from engine.core.names import is_name, name_problem

RULE = ("use 1-64 letters (of any script), digits, '.', '_' or '-', starting with a letter "
        "or digit")
GOOD = ["spring", "Spring-sale_2.0", "春季促销", "été-2025", "9lives", "a" * 64]
BAD = ["", "-spring", "_spring", ".hidden", "spring sale", "sale!", "a" * 65, "a/b"]


def _checks() -> dict[str, object]:
    """Each thing's own check, as the CLI, the API and the studio call it."""
    from engine.data.importing import check_name as dataset
    from engine.experiments.assign import check_name as experiment
    from engine.policy.schema import parse_policy

    return {"dataset": dataset,
            "experiment": lambda name: experiment(name, "experiment name"),
            "arm": lambda name: experiment(name, "arm name"),
            "policy": lambda name: parse_policy({"name": name, "stages": []}, "policy")}


@pytest.mark.parametrize("name", GOOD)
def test_every_thing_takes_the_same_names(name: str) -> None:
    assert is_name(name)
    for check in _checks().values():
        check(name)  # no error


@pytest.mark.parametrize("name", BAD)
def test_every_thing_refuses_the_same_names_in_the_same_words(name: str) -> None:
    assert not is_name(name)
    for kind, check in _checks().items():
        with pytest.raises((PrismError, ValueError)) as refused:
            check(name)
        assert str(refused.value).endswith(RULE), (kind, str(refused.value))


def test_a_refusal_names_the_thing_and_the_name() -> None:
    assert not is_name("spring\n")  # the whole name matches, not a line of it
    assert str(name_problem("a b", "run")) == f"run name 'a b': {RULE}"
    assert str(Message("name_rule")) == RULE


def test_a_dataset_name_writers_use_for_their_folders_is_refused() -> None:
    from engine.data.importing import check_name

    with pytest.raises(PrismError, match="kept for folders being written or replaced"):
        check_name("shop.tmp-1a2b")


def test_a_run_name_is_cleaned_into_the_rule_where_it_stays_readable() -> None:
    from engine.core.names import clean_name

    assert clean_name(" spring sale/2 ") == "spring-sale-2" and is_name("spring-sale-2")
    assert clean_name("春季 促销") == "春季-促销"
    assert clean_name("...") == "" and not is_name(clean_name("r" * 70))
