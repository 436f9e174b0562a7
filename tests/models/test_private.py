"""Private training (DP-SGD over shoppers): per-shopper gradients, the accountant, run.json."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_twotower import two_camps

from engine.core.config import ModelConfig, TrainConfig
from engine.core.errors import ConfigError
from engine.metrics.diversity import category_prior
from engine.models.base import ITEM_IDX, USER_IDX
from engine.models.examples import make_examples
from engine.models.private import PrivateTrainer, default_delta, private_settings
from engine.models.twotower import TwoTowerModel, _build_net

pytest.importorskip("opacus", reason="private training needs the privacy extra (opacus)")


def private_config(epsilon: float = 2.0, **changes: object) -> TrainConfig:
    return TrainConfig(**{"epochs": 2, "batch_size": 8, "seed": 0, "device": "cpu",
                          "history_len": 5, **private_settings(epsilon), **changes})


def make_trainer(model_config: ModelConfig, config: TrainConfig) -> PrivateTrainer:
    data = two_camps(n_users=24)
    net = _build_net(data.text_embeddings, data.item_categories, data.n_users,
                     config.history_len, model_config)
    train = data.train
    examples = make_examples(train[USER_IDX].to_numpy(), train[ITEM_IDX].to_numpy(),
                             train["weight"].to_numpy(), config.history_len, "user",
                             data.n_items)
    prior = category_prior(data.item_categories, "catalog").astype(np.float32)
    return PrivateTrainer(net, config, examples, data.user_category_dist(), prior, None,
                          torch.device("cpu"))


@pytest.mark.parametrize("alpha_max", [None, 1.0])
def test_each_shoppers_gradient_is_the_gradient_of_their_own_loss(alpha_max: float | None
                                                                  ) -> None:
    model_config = ModelConfig(dim=8, dropout=0.0, id_dropout=0.0, n_layers=1,
                               alpha_film=alpha_max is not None,
                               alpha_items=alpha_max is not None)
    trainer = make_trainer(model_config, private_config(alpha=0.5 if alpha_max is None else 0.0,
                                                        alpha_max=alpha_max))
    rows = np.array([0, 3, 5])
    torch.manual_seed(0)
    alphas = trainer._draw_alphas(len(rows))
    trainer.generator.manual_seed(0)
    grads, _ = trainer._per_shopper(rows)
    for position, row in enumerate(rows):  # one shopper at a time, plain autograd
        trainer.net.zero_grad()
        batch = trainer._to_device(trainer.examples.batch(rows[position:position + 1]))
        alpha = alphas[position:position + 1] if isinstance(alphas, torch.Tensor) else alphas
        logits, _ = trainer.net(batch["history"], batch["users"], None,
                                alpha if isinstance(alpha, torch.Tensor) else None)
        trainer.full_softmax_losses(logits, batch, alpha)[0].backward()
        for name, param in trainer.net.named_parameters():
            expected = torch.zeros_like(param) if param.grad is None else param.grad
            np.testing.assert_allclose(grads[name][position].numpy(), expected.numpy(),
                                       atol=1e-5, err_msg=f"shopper {row}, {name}")


def test_a_private_fit_meets_the_requested_epsilon_and_records_how() -> None:
    data = two_camps(n_users=40)
    model = TwoTowerModel(ModelConfig(dim=8), private_config(2.0)).fit(data)
    privacy = model.privacy_
    assert privacy["epsilon_spent"] <= 2.0 + 1e-9
    assert privacy["epsilon_spent"] > 0.5  # the steps taken were counted
    assert privacy["delta"] == pytest.approx(default_delta(40), abs=1e-12)
    assert privacy["noise_multiplier"] > 0 and privacy["clip"] == pytest.approx(1.0, abs=0)
    assert privacy["sample_rate"] == pytest.approx(8 / 40, abs=1e-12)
    assert privacy["steps_done"] == privacy["steps"] == 2 * 5
    assert privacy["unit"] == "shopper" and privacy["shoppers"] == 40
    assert len(model.logs_) == 2  # a fixed number of epochs: no choice on validation
    tensors, meta = model.get_state()
    assert TwoTowerModel.from_state(tensors, meta).privacy_ == privacy


def test_a_smaller_epsilon_means_more_noise() -> None:
    small = make_trainer(ModelConfig(dim=8), private_config(1.0)).privacy
    large = make_trainer(ModelConfig(dim=8), private_config(8.0)).privacy
    assert small["noise_multiplier"] > large["noise_multiplier"] > 0


@pytest.mark.parametrize(("epsilon", "delta"), [(0.0, None), (-1.0, None), (float("inf"), None),
                                                (float("nan"), None), (2.0, 0.0), (2.0, 1.5)])
def test_settings_refuse_a_budget_that_means_nothing(epsilon: float, delta: float | None
                                                     ) -> None:
    with pytest.raises(ConfigError, match="epsilon|delta"):
        private_settings(epsilon, delta)


def test_private_training_refuses_per_shopper_embeddings() -> None:
    with pytest.raises(ConfigError, match="use_user_embedding"):
        make_trainer(ModelConfig(dim=8, use_user_embedding=True), private_config())
