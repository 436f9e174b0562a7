"""The two-tower nn.Modules: shapes, normalisation, padding, recency and cold-start items."""

from __future__ import annotations

import torch

from engine.core.config import ModelConfig
from engine.models.network import PAD, TwoTowerNet

N_ITEMS, N_USERS, TEXT_DIM, HISTORY_LEN = 6, 3, 5, 4


def make_net(**changes) -> TwoTowerNet:
    torch.manual_seed(0)
    categories = torch.zeros(N_ITEMS, 2)
    categories[:3, 0] = categories[3:, 1] = 1.0
    config = ModelConfig(dim=8, dropout=0.0, **changes)
    return TwoTowerNet(torch.randn(N_ITEMS, TEXT_DIM), categories, N_USERS, HISTORY_LEN,
                       config).eval()


def test_forward_gives_logits_for_every_item_within_one_over_temperature() -> None:
    net = make_net(temperature=0.5)
    history = torch.tensor([[PAD, 0, 1, 2], [3, 4, 5, 0]])
    logits, item_vecs = net(history, torch.tensor([0, 1]))
    assert logits.shape == (2, N_ITEMS)
    assert item_vecs.shape == (N_ITEMS, 8)
    assert logits.abs().max() <= 1 / 0.5 + 1e-5  # cosine / temperature


def test_item_and_user_vectors_are_unit_length() -> None:
    net = make_net()
    item_vecs = net.item_vectors()
    users = net.user_vectors(torch.tensor([[PAD, PAD, 1, 2]]), torch.tensor([1]), item_vecs)
    torch.testing.assert_close(item_vecs.norm(dim=1), torch.ones(N_ITEMS), rtol=1.3e-6, atol=1e-5)
    torch.testing.assert_close(users.norm(dim=1), torch.ones(1), rtol=1.3e-6, atol=1e-5)


def test_padding_does_not_change_the_user_vector() -> None:
    net = make_net()
    item_vecs = net.item_vectors()
    short = net.user_vectors(torch.tensor([[PAD, PAD, 1, 2]]), torch.tensor([0]), item_vecs)
    with torch.no_grad():
        net.item_tower.id_emb.weight[0] += 5.0  # item 0 is not in the history
    shifted = net.user_vectors(torch.tensor([[PAD, PAD, 1, 2]]), torch.tensor([0]),
                               net.item_vectors())
    torch.testing.assert_close(short, shifted, rtol=1.3e-6, atol=1e-5)


def test_empty_history_and_unknown_user_still_give_a_finite_vector() -> None:
    net = make_net()
    users = net.user_vectors(torch.full((1, HISTORY_LEN), PAD), torch.tensor([-1]),
                             net.item_vectors())
    assert torch.isfinite(users).all()


def test_recency_embedding_makes_order_matter() -> None:
    net = make_net(use_user_embedding=False)
    with torch.no_grad():
        net.user_tower.pos_emb.weight.normal_(std=1.0)
    item_vecs = net.item_vectors()
    one = net.user_vectors(torch.tensor([[PAD, PAD, 0, 4]]), torch.tensor([-1]), item_vecs)
    other = net.user_vectors(torch.tensor([[PAD, PAD, 4, 0]]), torch.tensor([-1]), item_vecs)
    assert not torch.allclose(one, other)


def test_user_embedding_separates_users_with_the_same_history() -> None:
    net = make_net(use_user_embedding=True)
    history = torch.tensor([[PAD, 0, 1, 2]] * 2)
    vecs = net.user_vectors(history, torch.tensor([0, 1]), net.item_vectors())
    assert not torch.allclose(vecs[0], vecs[1])


def test_add_items_appends_text_only_items_with_zero_id_embedding() -> None:
    net = make_net()
    before = net.item_vectors()
    net.add_items(torch.randn(2, TEXT_DIM), torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    after = net.item_vectors()
    assert after.shape == (N_ITEMS + 2, 8)
    torch.testing.assert_close(after[:N_ITEMS], before, rtol=1.3e-6, atol=1e-5)
    torch.testing.assert_close(net.item_tower.id_emb.weight[N_ITEMS:], torch.zeros(2, 8),
                               rtol=1.3e-6, atol=1e-5)


def test_hidden_id_embedding_equals_a_cold_item() -> None:
    net = make_net()
    keep = torch.ones(N_ITEMS)
    keep[0] = 0.0
    hidden = net.item_vectors(id_keep=keep)[0]
    net.add_items(net.text_embeddings[:1].clone(), net.item_categories[:1].clone())
    torch.testing.assert_close(net.item_vectors()[N_ITEMS], hidden, rtol=1.3e-6, atol=1e-5)


def test_item_tower_without_text_or_ids_uses_categories_only() -> None:
    net = make_net(use_text=False, use_id=False)
    item_vecs = net.item_vectors()
    torch.testing.assert_close(item_vecs[0], item_vecs[1],
                               rtol=1.3e-6, atol=1e-5)  # same category, nothing else
    assert not torch.allclose(item_vecs[0], item_vecs[3])
