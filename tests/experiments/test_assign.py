"""Sticky keyed assignment, shares, and arm definitions."""

from __future__ import annotations

import pytest

from engine.core.errors import ConfigError
from engine.experiments.assign import Arm, Experiment, arm_for, check_arms

KEY = b"k" * 32


def _experiment(name: str = "spring", shares: tuple[float, float] = (0.3, 0.7)) -> Experiment:
    return Experiment(name, (Arm("A", "none", shares[0]), Arm("B", "spring@2", shares[1])))


def test_a_shopper_always_gets_the_same_arm_and_shares_hold() -> None:
    experiment = _experiment()
    first = [arm_for(experiment, f"u{n}", KEY).name for n in range(10_000)]
    assert first == [arm_for(experiment, f"u{n}", KEY).name for n in range(10_000)]
    assert first.count("A") / 10_000 == pytest.approx(0.3, abs=0.02)


def test_experiments_and_keys_split_shoppers_independently() -> None:
    one, two = _experiment("one", (0.5, 0.5)), _experiment("two", (0.5, 0.5))
    same = sum(arm_for(one, f"u{n}", KEY) == arm_for(two, f"u{n}", KEY) for n in range(4000))
    assert same / 4000 == pytest.approx(0.5, abs=0.04)
    other_key = sum(arm_for(one, f"u{n}", KEY) == arm_for(one, f"u{n}", b"x" * 32)
                    for n in range(4000))
    assert other_key / 4000 == pytest.approx(0.5, abs=0.04)


@pytest.mark.parametrize(("arms", "message"), [
    ([], "at least one arm"),
    ([Arm("A", "none", 0.5), Arm("A", "x", 0.5)], "must differ"),
    ([Arm("A", "none", 0.5), Arm("B", "x", 0.4)], "add up to 0.9"),
    ([Arm("A", "none", 0.0), Arm("B", "x", 1.0)], "above 0"),
    ([Arm("a b", "none", 1.0)], "arm name"),
])
def test_bad_arms_are_refused_with_what_to_do(arms: list[Arm], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_arms(arms)
