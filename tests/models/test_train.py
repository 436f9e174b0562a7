"""The trainer: training examples, early stopping, callbacks, cancelling, seeding, alpha."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from engine.core.columns import TIMESTAMP, WEIGHT
from engine.core.config import ModelConfig, TrainConfig
from engine.core.device import resolve_device
from engine.core.errors import ConfigError
from engine.metrics import category_entropy_at_k
from engine.models.base import ITEM_IDX, USER_IDX, TrainData
from engine.models.callbacks import JsonLinesLogger, tensorboard_logger
from engine.models.examples import TrainingExamples, UserExamples, pad_histories
from engine.models.network import PAD
from engine.models.trainer import StopTraining, Trainer
from engine.models.twotower import TwoTowerModel, _build_net

USERS = np.array([0, 0, 0, 1, 1])
ITEMS = np.array([5, 6, 7, 8, 9])


def test_past_histories_are_the_items_before_each_target() -> None:
    examples = TrainingExamples(USERS, ITEMS, np.ones(5), history_len=2, mode="past")
    expected = [[PAD, PAD], [PAD, 5], [5, 6], [PAD, PAD], [PAD, 8]]
    np.testing.assert_array_equal(examples.histories(np.arange(5)), expected)


def test_rest_histories_are_the_users_other_items() -> None:
    examples = TrainingExamples(USERS, ITEMS, np.ones(5), history_len=2, mode="rest")
    expected = [[6, 7], [5, 7], [5, 6], [PAD, 9], [PAD, 8]]
    np.testing.assert_array_equal(examples.histories(np.arange(5)), expected)


def test_rest_histories_keep_the_most_recent_items_when_too_long() -> None:
    examples = TrainingExamples(np.zeros(4, int), np.array([1, 2, 3, 4]), np.ones(4), 2, "rest")
    np.testing.assert_array_equal(examples.histories(np.array([0, 2])), [[3, 4], [2, 4]])


def test_user_examples_hold_each_users_whole_weighted_item_set() -> None:
    examples = UserExamples(USERS, ITEMS, np.array([1.0, 2.0, 1.0, 1.0, 3.0]), history_len=2,
                            n_items=10)
    assert len(examples) == 2
    batch = examples.batch(np.array([1, 0]))
    np.testing.assert_array_equal(batch["history"], [[8, 9], [6, 7]])  # the last two items
    np.testing.assert_array_equal(batch["users"], [1, 0])
    expected = np.zeros((2, 10), np.float32)
    expected[0, [8, 9]] = [1.0, 3.0]
    expected[1, [5, 6, 7]] = [1.0, 2.0, 1.0]  # every item, not only the visible history
    np.testing.assert_array_equal(batch["target_weights"], expected)


def test_user_examples_train_a_model_that_prefers_the_users_main_category() -> None:
    data = tiny_data()
    model = fit(example_history="user", epochs=30, batch_size=8, lr=1e-2, patience=30)
    scores = model.score_users(np.arange(data.n_users))
    main = scores[:, :6].mean(1)  # category A, where every user buys most
    other = scores[:, 6:].mean(1)
    assert (main > other).mean() > 0.9


def test_user_examples_refuse_the_sampled_softmax() -> None:
    with pytest.raises(ConfigError, match="example_history.*full softmax"):
        fit(example_history="user", sampled_softmax_threshold=4)


def test_pad_histories_right_aligns_the_most_recent_items() -> None:
    padded = pad_histories([np.array([1, 2, 3]), np.array([], int)], length=2)
    np.testing.assert_array_equal(padded, [[2, 3], [PAD, PAD]])


def tiny_data(n_users: int = 24, seed: int = 0) -> TrainData:
    """Three categories of 6 items; every user buys mostly category 0 (A), a little B and C."""
    rng = np.random.default_rng(seed)
    categories = np.repeat(np.eye(3, dtype=np.float32), 6, axis=0)  # (18, 3)
    rows = []
    for user in range(n_users):
        items = list(rng.choice(6, 5, replace=False)) + [6 + rng.integers(6), 12 + rng.integers(6)]
        rows += [(user, item, step) for step, item in enumerate(rng.permutation(items))]
    users, items, times = (np.array(col, dtype=np.int64) for col in zip(*rows, strict=True))
    frame = pd.DataFrame({USER_IDX: users, ITEM_IDX: items, TIMESTAMP: times,
                          WEIGHT: np.ones(len(rows), dtype=np.float32)})
    last = np.r_[np.diff(users) != 0, True]
    return TrainData(
        user_ids=[str(u) for u in range(n_users)], item_ids=[str(i) for i in range(18)],
        train=frame[~last].reset_index(drop=True), valid=frame[last].reset_index(drop=True),
        test=frame.iloc[:0], item_categories=categories, category_names=["a", "b", "c"],
        item_popularity=np.bincount(items, minlength=18).astype(np.float64),
        text_embeddings=None)


def fit(callbacks: tuple = (), **train_changes) -> TwoTowerModel:
    settings = dict(epochs=3, batch_size=16, seed=0, device="cpu", history_len=4)
    config = TrainConfig(**{**settings, **train_changes})
    model = TwoTowerModel(ModelConfig(dim=8, use_text=False), config)
    return model.fit(tiny_data(), callbacks=callbacks)


def make_trainer(validate, **changes) -> Trainer:
    data = tiny_data()
    config = TrainConfig(**{"epochs": 5, "batch_size": 32, "patience": 1, "device": "cpu",
                            "history_len": 4, **changes})
    net = _build_net(None, data.item_categories, data.n_users, 4,
                     ModelConfig(dim=8, use_text=False))
    train = data.train
    examples = TrainingExamples(train[USER_IDX].to_numpy(), train[ITEM_IDX].to_numpy(),
                                train[WEIGHT].to_numpy(), 4)
    return Trainer(net, config, examples, data.user_category_dist(), np.full(3, 1 / 3),
                   validate, torch.device("cpu"))


class Recorder:
    def __init__(self, trainer: Trainer | None = None):
        self.trainer, self.epochs, self.batches, self.snapshots = trainer, [], [], []

    def on_batch_end(self, step: int, total: int) -> None:
        self.batches.append((step, total))

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.epochs.append(logs)
        if self.trainer is not None:
            self.snapshots.append({k: v.clone() for k, v in self.trainer.net.state_dict().items()})


def test_early_stopping_restores_the_best_epoch() -> None:
    scores = iter([0.2, 0.5, 0.4, 0.3, 0.9])
    trainer = make_trainer(lambda: next(scores), patience=2)
    recorder = Recorder(trainer)
    logs = trainer.fit([recorder])
    assert [log["epoch"] for log in logs] == [1, 2, 3, 4]  # two epochs without gain, stop
    assert logs[-1]["best"] == 0.5
    for key, value in trainer.net.state_dict().items():
        torch.testing.assert_close(value, recorder.snapshots[1][key], rtol=1.3e-6, atol=1e-5)


def test_callbacks_see_every_batch_and_epoch_with_the_losses() -> None:
    trainer = make_trainer(lambda: 0.1, epochs=2, patience=5, alpha=0.5)
    recorder = Recorder()
    trainer.fit([recorder])
    per_epoch = -(-len(trainer.examples) // 32)
    assert recorder.batches == [(s, per_epoch) for s in range(1, per_epoch + 1)] * 2
    assert len(recorder.epochs) == 2
    first = recorder.epochs[0]
    assert {"L", "L_r", "L_d", "val_ndcg@10", "epoch", "seconds"} <= set(first)
    assert first["L"] == pytest.approx(0.5 * first["L_d"] + first["L_r"], rel=1e-4)


def test_stop_training_from_a_callback_cancels_and_keeps_a_usable_model() -> None:
    class Cancel:
        def on_batch_end(self, step: int, total: int) -> None:
            raise StopTraining

    model = fit(epochs=5, callbacks=[Cancel()])
    assert model.logs_ == []
    assert np.isfinite(model.score_users(np.arange(3))).all()


def test_same_seed_same_model_other_seed_other_model() -> None:
    users = np.arange(5)
    first, again, other = fit(seed=1), fit(seed=1), fit(seed=2)
    np.testing.assert_array_equal(first.score_users(users), again.score_users(users))
    assert not np.allclose(first.score_users(users), other.score_users(users))


def test_raising_alpha_raises_category_entropy_of_the_top_lists() -> None:
    data = tiny_data()

    def entropy(ratio: float, **loss) -> float:  # α/β; α lies in [0, 1], so β = 1/ratio
        alpha, beta = (ratio, 1.0) if ratio <= 1 else (1.0, 1.0 / ratio)
        config = TrainConfig(alpha=alpha, beta=beta, epochs=15, batch_size=16, lr=1e-2, patience=15,
                             seed=0, device="cpu", history_len=4, **loss)
        model = TwoTowerModel(ModelConfig(dim=8, use_text=False, dropout=0.0), config).fit(data)
        top = np.argsort(-model.score_users(np.arange(data.n_users)), axis=1)[:, :5]
        return float(category_entropy_at_k(top, data.item_categories, 5).mean())

    plain = entropy(0.0)
    assert entropy(5.0, gamma=1.0, diversity_prior="uniform",
                   diversity_top=0) > plain + 0.3  # KL to uniform, whole catalogue
    assert entropy(20.0, diversity_loss="entropy") > plain + 0.3
    # list-level: KL of the top region's category mass (top 5 + each category's best item)
    assert entropy(5.0, gamma=1.0, diversity_prior="uniform", diversity_top=5,
                   diversity_loss="kl") > plain + 0.3


def test_top_region_needs_the_full_softmax() -> None:
    with pytest.raises(ConfigError, match="diversity_top: the top region needs the full"):
        make_trainer(None, sampled_softmax_threshold=4, alpha=1.0, diversity_top=5)


def test_auto_top_region_is_the_best_50_under_full_softmax_only() -> None:
    from engine.models.trainer import AUTO_DIVERSITY_TOP

    assert TrainConfig().diversity_top == "auto"
    assert make_trainer(None, alpha=1.0).diversity_top == AUTO_DIVERSITY_TOP == 50
    sampled = make_trainer(None, sampled_softmax_threshold=4, alpha=1.0)  # no error
    assert sampled.diversity_top == 0  # sampled softmax reads the whole catalogue's mass
    assert make_trainer(None, alpha=1.0, diversity_top=0).diversity_top == 0


def test_auto_diversity_loss_is_coverage_on_a_top_region_and_kl_on_the_catalogue() -> None:
    assert TrainConfig().diversity_loss == "auto"
    assert make_trainer(None, alpha=1.0).diversity_loss == "coverage"
    assert make_trainer(None, alpha=1.0, diversity_top=0).diversity_loss == "kl"
    assert make_trainer(None, sampled_softmax_threshold=4, alpha=1.0).diversity_loss == "kl"
    assert make_trainer(None, alpha=1.0, diversity_loss="entropy").diversity_loss == "entropy"


def test_sampled_softmax_trains_when_the_catalogue_is_large() -> None:
    model = fit(sampled_softmax_threshold=4, num_negatives=6, alpha=0.3)
    assert model.logs_ and np.isfinite(model.logs_[-1]["L"])


def test_sampled_softmax_updates_only_the_id_rows_a_batch_touches() -> None:
    trainer = make_trainer(None, sampled_softmax_threshold=4, num_negatives=2)
    table = trainer.net.item_tower.id_emb
    assert table.sparse and trainer.sparse_optimizer is not None
    batch = trainer._to_device(trainer.examples.batch(np.arange(3)))
    generator_state = trainer.generator.get_state()
    sample = trainer._sampled_logits(batch)  # the items this batch will touch
    trainer.generator.set_state(generator_state)
    touched = torch.unique(torch.cat([sample.targets, sample.negatives,
                                      batch["history"][batch["history"] != PAD]]))
    before = table.weight.detach().clone()
    loss, _, _ = trainer.batch_loss(batch)
    trainer._step(loss)
    changed = (table.weight.detach() != before).any(1)
    assert changed[touched].sum() >= len(touched) // 2  # (ID dropout may hide a few)
    untouched = torch.ones(len(before), dtype=torch.bool)
    untouched[touched] = False
    assert untouched.any() and not changed[untouched].any()


def test_full_softmax_keeps_dense_gradients() -> None:
    trainer = make_trainer(None)
    assert not trainer.net.item_tower.id_emb.sparse and trainer.sparse_optimizer is None


def test_json_lines_logger_writes_one_line_per_epoch(tmp_path: Path) -> None:
    fit(epochs=2, patience=5, callbacks=[JsonLinesLogger(tmp_path)])
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]


def test_tensorboard_logger_only_when_installed(tmp_path: Path) -> None:
    logger = tensorboard_logger(tmp_path)
    assert (logger is None) == (importlib.util.find_spec("tensorboard") is None)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_a_gpu_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="TrainConfig.device"):
        resolve_device("cuda", "TrainConfig.device")
    with pytest.raises(ConfigError, match="must be one of auto, cpu, cuda"):
        resolve_device("gpu0")


@pytest.mark.parametrize(("changes", "message"), [
    ({"alpha": -0.1}, "alpha: must be in \\[0, 1\\]"),
    ({"beta": -1.0}, "beta: must be >= 0"),
    ({"alpha": 0.0, "beta": 0.0}, "cannot both be 0"),
    ({"alpha": "high"}, "alpha: must be a number"),
    ({"gamma": 1.5}, "gamma: must be in"),
    ({"diversity_loss": "gini"}, "diversity_loss: must be auto, kl, entropy or coverage"),
    ({"example_history": "future"}, "example_history"),
    ({"device": "tpu"}, "device"),
])
def test_train_config_rejects_bad_settings(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**changes)


def test_model_config_needs_an_item_feature() -> None:
    with pytest.raises(ConfigError, match="at least one item feature"):
        ModelConfig(use_text=False, use_id=False, use_category=False)


@pytest.mark.parametrize("diversity", [("coverage", 2), ("kl", 0)])
def test_a_conditioned_batch_leaves_out_the_diversity_term_only_where_alpha_is_zero(
        diversity: tuple[str, int]) -> None:
    """L_d of examples at alpha = 0 is never computed: the loss and its gradient stay those
    of the whole batch's L_d weighted by each example's alpha."""
    trainer = make_trainer(None, alpha_max=1.0, diversity_loss=diversity[0],
                           diversity_top=diversity[1])
    rows = np.arange(len(trainer.examples))
    batch = trainer._to_device(trainer.examples.batch(rows))
    alpha = torch.tensor([0.0, 0.4, 0.0, 1.0, 0.7])[torch.arange(len(rows)) % 5]
    chosen = trainer._weighted_rows(alpha)
    assert chosen.tolist() == [r for r in rows if r % 5 not in (0, 2)]
    logits = torch.randn(len(rows), trainer.net.n_items, generator=torch.Generator().manual_seed(0))
    results = []
    for subset in (chosen, None):
        scores = logits.clone().requires_grad_(True)
        loss, _, shown = trainer.full_softmax_losses(scores, batch, alpha, subset)
        loss.backward()
        results.append((loss.item(), scores.grad, shown.item()))
    (loss, grad, shown), (whole_loss, whole_grad, _) = results
    assert loss == pytest.approx(whole_loss, abs=1e-6)
    torch.testing.assert_close(grad, whole_grad, atol=1e-6, rtol=0)
    assert shown != 0.0  # the logged L_d is the mean over the examples that weigh it
