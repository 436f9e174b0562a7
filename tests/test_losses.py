"""The joint loss pieces on tiny hand-computed cases, plus invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import losses


def t(values: list) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def test_relevance_loss_is_negative_log_probability_of_the_target() -> None:
    # p = 3 / (1 + 3) = 0.75 for item 1
    loss = losses.relevance_loss(t([[0.0, math.log(3.0)]]), torch.tensor([1]))
    assert loss.item() == pytest.approx(-math.log(0.75), abs=1e-6)


def test_relevance_loss_weights_events() -> None:
    logits = t([[0.0, 0.0], [0.0, math.log(3.0)]])
    loss = losses.relevance_loss(logits, torch.tensor([0, 1]), t([1.0, 3.0]))
    expected = (math.log(2.0) + 3 * -math.log(0.75)) / 4
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_multinomial_loss_averages_each_users_weighted_targets() -> None:
    logits = t([[0.0, math.log(3.0), 0.0], [0.0, 0.0, 0.0]])  # p = (.2, .6, .2), uniform
    weights = t([[1.0, 3.0, 0.0], [0.0, 0.0, 2.0]])
    first = (-math.log(0.2) + 3 * -math.log(0.6)) / 4
    expected = (first + -math.log(1 / 3)) / 2  # a plain mean over users
    loss = losses.multinomial_relevance_loss(logits, weights)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_multinomial_loss_with_one_target_per_row_is_the_relevance_loss() -> None:
    logits = torch.randn(4, 6, generator=torch.Generator().manual_seed(0))
    targets = torch.tensor([0, 3, 5, 1])
    one_hot = torch.nn.functional.one_hot(targets, 6).float()
    torch.testing.assert_close(losses.multinomial_relevance_loss(logits, one_hot),
                               losses.relevance_loss(logits, targets))


def test_logq_correction_subtracts_log_sampling_probability() -> None:
    corrected = losses.sampled_logits(
        pos_logits=t([2.0]), neg_logits=t([[1.0, 3.0]]),
        pos_log_q=t([math.log(0.5)]), neg_log_q=t([math.log(0.25), math.log(0.25)]))
    expected = [2 - math.log(0.5), 1 - math.log(0.25), 3 - math.log(0.25)]
    np.testing.assert_allclose(corrected.numpy(), [expected], rtol=1e-6)


def test_accidental_hits_are_masked_out() -> None:
    corrected = losses.sampled_logits(t([0.0]), t([[5.0, 0.0]]), t([0.0]), t([0.0, 0.0]),
                                      accidental_hits=torch.tensor([[True, False]]))
    # only the positive and the second negative remain: p(pos) = 1/2
    loss = losses.sampled_relevance_loss(corrected)
    assert loss.item() == pytest.approx(math.log(2.0), abs=1e-6)


def test_sampled_softmax_over_every_other_item_with_uniform_q_equals_full_softmax() -> None:
    logits = t([[0.3, -1.0, 2.0, 0.5]])
    full = losses.relevance_loss(logits, torch.tensor([0]))
    uniform = t([math.log(0.25)] * 3)
    corrected = losses.sampled_logits(logits[:, 0], logits[:, 1:], uniform[:1], uniform)
    assert losses.sampled_relevance_loss(corrected).item() == pytest.approx(full.item(), abs=1e-6)


def test_category_mass_sums_item_probabilities_per_category() -> None:
    categories = t([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])  # item 2 is in both
    mass = losses.category_mass(t([[0.5, 0.25, 0.25]]), categories)
    np.testing.assert_allclose(mass.numpy(), [[0.625, 0.375]])


def test_diversity_target_mixes_history_and_prior() -> None:
    target = losses.diversity_target(t([[1.0, 0.0]]), t([0.5, 0.5]), gamma=0.5)
    np.testing.assert_allclose(target.numpy(), [[0.75, 0.25]])


def test_kl_diversity_loss_hand_computed() -> None:
    loss = losses.kl_diversity_loss(t([[0.5, 0.5]]), t([[0.25, 0.75]]))
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_kl_treats_zero_target_mass_as_zero() -> None:
    loss = losses.kl_diversity_loss(t([[1.0, 0.0]]), t([[0.5, 0.5]]))
    assert loss.item() == pytest.approx(math.log(2.0), abs=1e-6)


def test_entropy_loss_is_negative_entropy() -> None:
    assert losses.entropy_diversity_loss(t([[0.5, 0.5]])).item() == pytest.approx(-math.log(2))
    assert losses.entropy_diversity_loss(t([[1.0, 0.0]])).item() == pytest.approx(0.0)


def test_joint_loss_weights_each_part() -> None:
    assert losses.joint_loss(t(2.0), t(5.0), alpha=0.3, beta=2.0).item() == pytest.approx(10.6)
    assert losses.joint_loss(t(2.0), t(5.0), alpha=0.0, beta=1.0).item() == pytest.approx(5.0)


def test_diversity_gradient_moves_mass_toward_the_target() -> None:
    logits = torch.zeros(1, 3, requires_grad=True)
    categories = t([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # q = (2/3, 1/3) at the start
    mass = losses.category_mass(logits.softmax(-1), categories)
    losses.kl_diversity_loss(t([[0.5, 0.5]]), mass).backward()
    assert logits.grad[0, 2] < 0 < logits.grad[0, 0]  # descending raises the lone b item


distributions = st.lists(st.floats(0.01, 10.0), min_size=2, max_size=6)


@settings(max_examples=50, deadline=None)
@given(distributions, st.randoms(use_true_random=False))
def test_kl_is_non_negative_and_zero_at_the_target(raw: list[float], rnd) -> None:
    target = t([raw]) / sum(raw)
    other = t([[rnd.uniform(0.01, 1.0) for _ in raw]])
    other = other / other.sum()
    assert losses.kl_diversity_loss(target, other).item() >= -1e-6
    assert losses.kl_diversity_loss(target, target).item() == pytest.approx(0.0, abs=1e-6)


@settings(max_examples=50, deadline=None)
@given(distributions)
def test_negative_entropy_lies_between_minus_log_c_and_zero(raw: list[float]) -> None:
    mass = t([raw]) / sum(raw)
    value = losses.entropy_diversity_loss(mass).item()
    assert -math.log(len(raw)) - 1e-5 <= value <= 1e-6
