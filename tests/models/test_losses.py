"""The joint loss pieces on tiny hand-computed cases, plus invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.models import losses


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
                               losses.relevance_loss(logits, targets), rtol=1.3e-6, atol=1e-5)


def test_logq_correction_subtracts_log_sampling_probability() -> None:
    corrected = losses.sampled_logits(
        pos_logits=t([2.0]), neg_logits=t([[1.0, 3.0]]),
        pos_log_q=t([math.log(0.5)]), neg_log_q=t([math.log(0.25), math.log(0.25)]))
    expected = [2 - math.log(0.5), 1 - math.log(0.25), 3 - math.log(0.25)]
    np.testing.assert_allclose(corrected.numpy(), [expected], rtol=1e-6, atol=1e-6)


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
    np.testing.assert_allclose(mass.numpy(), [[0.625, 0.375]], atol=1e-6)


def test_diversity_target_mixes_history_and_prior() -> None:
    target = losses.diversity_target(t([[1.0, 0.0]]), t([0.5, 0.5]), gamma=0.5)
    np.testing.assert_allclose(target.numpy(), [[0.75, 0.25]], atol=1e-6)


def test_kl_diversity_loss_hand_computed() -> None:
    loss = losses.kl_diversity_loss(t([[0.5, 0.5]]), t([[0.25, 0.75]]).log())
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_kl_treats_zero_target_mass_as_zero() -> None:
    loss = losses.kl_diversity_loss(t([[1.0, 0.0]]), t([[0.5, 0.5]]).log())
    assert loss.item() == pytest.approx(math.log(2.0), abs=1e-6)


def test_entropy_loss_is_negative_entropy() -> None:
    assert losses.entropy_diversity_loss(t([[0.5, 0.5]]).log()).item() == \
        pytest.approx(-math.log(2))
    assert losses.entropy_diversity_loss(t([[1.0, 0.0]]).log()).item() == pytest.approx(0.0)


def test_joint_loss_weights_each_part() -> None:
    assert losses.joint_loss(t(2.0), t(5.0), alpha=0.3, beta=2.0).item() == pytest.approx(10.6)
    assert losses.joint_loss(t(2.0), t(5.0), alpha=0.0, beta=1.0).item() == pytest.approx(5.0)


def test_diversity_gradient_moves_mass_toward_the_target() -> None:
    logits = torch.zeros(1, 3, requires_grad=True)
    categories = t([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # q = (2/3, 1/3) at the start
    log_mass = losses.log_category_mass(logits, losses.category_index(categories))
    losses.kl_diversity_loss(t([[0.5, 0.5]]), log_mass).backward()
    assert logits.grad[0, 2] < 0 < logits.grad[0, 0]  # descending raises the lone b item


distributions = st.lists(st.floats(0.01, 10.0), min_size=2, max_size=6)


@settings(max_examples=50, deadline=None)
@given(distributions, st.randoms(use_true_random=False))
def test_kl_is_non_negative_and_zero_at_the_target(raw: list[float], rnd) -> None:
    target = t([raw]) / sum(raw)
    other = t([[rnd.uniform(0.01, 1.0) for _ in raw]])
    other = other / other.sum()
    assert losses.kl_diversity_loss(target, other.log()).item() >= -1e-6
    assert losses.kl_diversity_loss(target, target.log()).item() == pytest.approx(0.0, abs=1e-6)


@settings(max_examples=50, deadline=None)
@given(distributions)
def test_negative_entropy_lies_between_minus_log_c_and_zero(raw: list[float]) -> None:
    mass = t([raw]) / sum(raw)
    value = losses.entropy_diversity_loss(mass.log()).item()
    assert -math.log(len(raw)) - 1e-5 <= value <= 1e-6


def test_log_category_mass_matches_the_probability_form() -> None:
    categories = t([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    logits = torch.randn(5, 4, generator=torch.Generator().manual_seed(1)) * 3
    exact = losses.category_mass(logits.softmax(-1), categories)
    log_mass = losses.log_category_mass(logits, losses.category_index(categories))
    np.testing.assert_allclose(log_mass.exp().numpy(), exact.numpy(), rtol=1e-5, atol=1e-7)


def test_a_collapsed_category_still_gets_a_gradient() -> None:
    # category 1's only item has mass 1e-12: a clamped log(mass) would give it no gradient
    categories = t([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    logits = torch.tensor([[0.0, 0.0, math.log(2e-12)]], requires_grad=True)
    log_mass = losses.log_category_mass(logits, losses.category_index(categories))
    assert log_mass[0, 1].item() == pytest.approx(math.log(1e-12), rel=1e-4)
    losses.kl_diversity_loss(t([[0.5, 0.5]]), log_mass).backward()
    assert logits.grad[0, 2].item() == pytest.approx(-0.5, abs=1e-6)  # d KL / d s = q - t


def test_gradient_survives_masses_below_float32_range() -> None:
    categories = t([[1.0, 0.0], [0.0, 1.0]])
    logits = torch.tensor([[0.0, -200.0]], requires_grad=True)  # mass e^-200 underflows
    log_mass = losses.log_category_mass(logits, losses.category_index(categories))
    assert log_mass[0, 1].item() == pytest.approx(-200.0, rel=1e-5)
    losses.kl_diversity_loss(t([[0.5, 0.5]]), log_mass).backward()
    np.testing.assert_allclose(logits.grad.numpy(), [[0.5, -0.5]], atol=1e-6)


def _sampled_estimates(logits: torch.Tensor, categories: torch.Tensor, target: int,
                       q: torch.Tensor, n_samples: int, draws: int,
                       seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Means over `draws` of the sampled estimates of Z_c and of q_c = Z_c / Z for one user."""
    gen = torch.Generator().manual_seed(seed)
    partitions, masses = [], []
    for _ in range(draws):
        neg = torch.multinomial(q, n_samples, replacement=True, generator=gen)
        args = (logits[[target]], logits[neg].unsqueeze(0), q[neg].log(), categories[[target]],
                categories[neg], (neg == target).unsqueeze(0))
        partitions.append(losses.sampled_log_category_partition(*args).exp()[0].numpy())
        masses.append(losses.sampled_log_category_mass(*args).exp()[0].numpy())
    return np.mean(partitions, axis=0), np.mean(masses, axis=0)


def test_sampled_category_partition_is_unbiased() -> None:
    gen = torch.Generator().manual_seed(0)
    n_items, n_cats = 200, 4
    categories = torch.nn.functional.one_hot(torch.arange(n_items) % n_cats, n_cats).float()
    logits = torch.randn(n_items, generator=gen)
    q = torch.rand(n_items, generator=gen) + 0.2
    q = q / q.sum()
    exact_z = categories.T @ logits.exp()  # (C,)
    partition, mass = _sampled_estimates(logits, categories, 7, q, 64, 400, seed=1)
    np.testing.assert_allclose(partition, exact_z.numpy(), rtol=0.05,
                               atol=1e-6 * float(exact_z.abs().max()))
    # q = Z_c / Z is a ratio of unbiased estimates, biased by O(1/S): 0.027 measured at S=64
    exact = (exact_z / exact_z.sum()).numpy()
    np.testing.assert_allclose(mass, exact, atol=0.04)
    assert mass.sum() == pytest.approx(1.0, abs=1e-5)


def test_sampled_mass_always_includes_the_targets_category() -> None:
    categories = t([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    log_mass = losses.sampled_log_category_mass(
        t([0.0]), t([[1.0, 1.0]]), t([math.log(0.5)] * 2), categories[[0]], categories[[1, 2]])
    assert torch.isfinite(log_mass).all()  # category 0 has no negative but has its positive


def test_top_region_mass_counts_only_the_best_items() -> None:
    categories = t([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    logits = t([[2.0, 2.0, -9.0, 0.0, -5.0]])  # region: items 0, 1 and category 1's best, 3
    index = losses.category_index(categories)
    log_mass = losses.log_top_region_mass(logits, index, top=2)
    share = 1.0 / (2 * math.exp(2.0) + 1.0)
    np.testing.assert_allclose(log_mass.exp().numpy(), [[1 - share, share]], rtol=1e-5,
                               atol=1e-7)


def test_expected_coverage_rewards_spread() -> None:
    spread = losses.expected_coverage_loss(t([[0.5, 0.5]]).log(), k=2)
    narrow = losses.expected_coverage_loss(t([[1.0, 0.0]]).log(), k=2)
    assert spread.item() == pytest.approx(-(2 * (1 - 0.25)) / 2, abs=1e-5)
    assert narrow.item() == pytest.approx(-0.5, abs=1e-5)


def test_expected_coverage_lifts_a_rare_category_and_saturates() -> None:
    cats = torch.zeros(6, 2)
    cats[torch.arange(6), torch.tensor([0, 0, 0, 0, 1, 1])] = 1.0
    index = losses.category_index(cats)

    def gradient(raw: list[float]) -> torch.Tensor:
        logits = t([raw]).requires_grad_(True)
        mass = losses.log_top_region_mass(logits, index, top=4)
        losses.expected_coverage_loss(mass, k=5).backward()
        return logits.grad[0]

    rare = gradient([3.0, 3.0, 2.0, 2.0, 1.0, 0.0])  # category 1 holds ~6% of the region
    assert rare[4] < 0 < rare[0]  # descent lifts the rare category's best item, lowers the top
    even = gradient([3.0, 2.0, 1.0, 0.0, 3.0, 2.0])  # both categories likely in a 5-item list
    assert even.abs().max() < rare.abs().max() / 4  # no push once a category is likely in


def test_diversity_losses_weight_examples() -> None:
    log_mass = t([[0.5, 0.5], [0.9, 0.1]]).log()
    target = t([[0.5, 0.5], [0.5, 0.5]])
    per_row = [losses.kl_diversity_loss(target[[i]], log_mass[[i]]).item() for i in (0, 1)]
    weighted = losses.kl_diversity_loss(target, log_mass, t([1.0, 3.0])).item()
    assert weighted == pytest.approx((per_row[0] + 3 * per_row[1]) / 4, abs=1e-6)


def _region_case(multi: bool) -> tuple[torch.Tensor, torch.Tensor, losses.CategoryIndex]:
    """Random logits (12, 40) over 5 categories (the last one empty); `multi`: a third of
    the items split between two categories."""
    generator = torch.Generator().manual_seed(3)
    cats = torch.zeros(40, 5)
    cats[torch.arange(40), torch.randint(0, 4, (40,), generator=generator)] = 1.0
    if multi:
        cats[torch.arange(0, 40, 3), torch.randint(0, 4, (14,), generator=generator)] += 1.0
        cats = cats / cats.sum(1, keepdim=True)
    return torch.randn(12, 40, generator=generator) * 3, cats, losses.category_index(cats)


def _mass_and_grad(logits: torch.Tensor, index: losses.CategoryIndex,
                   rows: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    scores = logits.clone().requires_grad_(True)
    mass = losses.log_top_region_mass(scores, index, 6, rows)
    losses.expected_coverage_loss(mass, k=5).backward()
    return mass.detach(), scores.grad


def test_top_region_mass_matches_the_region_softmax_by_hand() -> None:
    logits, cats, index = _region_case(multi=False)
    assert index.one_each
    mass = losses.log_top_region_mass(logits, index, 6).exp()
    for row, scores in enumerate(logits):
        region = set(scores.topk(6).indices.tolist())
        owner = cats.argmax(1)
        region |= {int(torch.nonzero(owner == c).reshape(-1)[scores[owner == c].argmax()])
                   for c in range(4)}
        picked = torch.tensor(sorted(region))
        share = torch.zeros(5).index_add_(0, owner[picked], scores[picked].softmax(0))
        torch.testing.assert_close(mass[row], share, atol=1e-6, rtol=0)


@pytest.mark.parametrize("multi", [False, True])
def test_top_region_mass_of_some_rows_is_theirs_alone_and_paths_agree(multi: bool) -> None:
    """Rows picked inside the loss give the mass and gradient of those rows' logits alone
    (exactly), and the one-category-per-item shortcut agrees with the general path."""
    logits, _, index = _region_case(multi)
    rows = torch.tensor([1, 4, 5, 10])
    mass, grad = _mass_and_grad(logits, index, rows)
    alone, alone_grad = _mass_and_grad(logits[rows], index, None)
    assert torch.equal(mass, alone) and torch.equal(grad[rows], alone_grad)
    assert not grad[[0, 2, 3]].any()  # rows left out get no gradient
    general = index._replace(one_each=False)
    for picked in (rows, None):
        (fast, fast_grad), (slow, slow_grad) = (_mass_and_grad(logits, i, picked)
                                                for i in (index, general))
        torch.testing.assert_close(fast, slow, atol=1e-6, rtol=0)
        torch.testing.assert_close(fast_grad, slow_grad, atol=1e-6, rtol=0)
