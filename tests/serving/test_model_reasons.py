"""The model's own explanations: exact decompositions, and faithful credit to history items."""

from __future__ import annotations

import numpy as np
import torch

from engine.evaluation.faithfulness import faithfulness
from engine.models.credit import model_reasons
from engine.serving.recommender import Recommender

pytest_plugins = ["serving_runs"]


def _shoppers(service: Recommender, n: int = 60) -> tuple[list[np.ndarray], np.ndarray]:
    users = np.arange(min(n, len(service.catalogue.user_items)))
    return [service.catalogue.user_items[u] for u in users], users


def test_item_vector_parts_sum_to_the_item_vector(twotower_service: Recommender) -> None:
    model = twotower_service.model
    with torch.no_grad():
        parts = model.net_.item_parts(torch.arange(model.item_vectors_.shape[0]))
    assert set(parts) == {"text", "id", "category", "offset"}
    total = sum(parts.values()).numpy()
    np.testing.assert_allclose(total, model.item_vectors_, atol=1e-5)


def test_slot_credit_rebuilds_the_pooled_user_vector(twotower_service: Recommender) -> None:
    """Σ_j a_j · value_j + the output bias, normalised, is the served user vector."""
    model = twotower_service.model
    history = twotower_service.catalogue.user_items[0]
    padded, users = model._padded([history], np.array([-1]))
    vectors = model._item_tensor()
    hist, who = torch.as_tensor(padded), torch.as_tensor(users)
    with torch.no_grad():
        weights, values, from_attention = model.net_.user_tower.attention(hist, vectors, who)
        pooled = (weights[0, :, None] * values[0]).sum(0) + model.net_.user_tower.out.bias
        served = model.net_.user_vectors(hist, who, vectors)[0]
    np.testing.assert_allclose((pooled / pooled.norm()).numpy(), served.numpy(), atol=1e-5)
    np.testing.assert_allclose(from_attention[0].numpy(), served.numpy(), atol=1e-6)


def test_score_parts_add_up_to_the_cosine(twotower_service: Recommender) -> None:
    model = twotower_service.model
    history = twotower_service.catalogue.user_items[0]
    items = np.arange(5)
    reasons = model_reasons(model, items, history)
    cosine = model.score_histories([history])[0][items] * model.model_config.temperature
    np.testing.assert_allclose(sum(reasons.parts.values()), cosine, atol=1e-4)


def test_removing_the_top_credited_item_hurts_more_than_a_random_one(
        twotower_service: Recommender, ease_service: Recommender) -> None:
    histories, users = _shoppers(twotower_service)
    found = faithfulness(twotower_service.model, histories, users, k=5)
    assert found.n_shoppers >= 30
    assert found.majority_share > 0.5, found
    ease = faithfulness(ease_service.model, *_shoppers(ease_service), k=5)
    # EASE's score is Σ_h B[h, i]: the credit is exactly the drop, so only ties can fail
    assert ease.pair_share + ease.tie_share >= 1.0 - 1e-9


def test_served_lists_explain_with_the_model(twotower_service: Recommender,
                                             ease_service: Recommender) -> None:
    user = twotower_service.user_ids[0]
    table = twotower_service.recommend(user_id=user, k=5).table
    codes = [[part.code for part in text.parts] for text in table["explanation"]]
    assert all("score_parts" in row for row in codes)
    assert any("carried_by" in row for row in codes)
    assert "attention" in table["explanation"].iloc[0] or "carried_by" not in codes[0]
    ease_text = ease_service.recommend(user_id=ease_service.user_ids[0], k=5).table
    first = ease_text["explanation"].iloc[0]
    assert first.startswith("carried by \"") and "EASE item-item weight" in first


def test_the_explanation_reads_the_attention_pass_that_scored_the_shopper(
        twotower_service: Recommender) -> None:
    """One shopper scored on this thread: the explanation reuses that pass (the same
    tensors), and its credit equals a pass made afresh; a batch keeps no pass."""
    from engine.models import tower_pass

    model = twotower_service.model
    history = twotower_service.catalogue.user_items[2]
    items = np.arange(6)
    padded, _ = model._padded([history], np.array([-1]))
    model.score_histories([history])
    kept = tower_pass._LAST.value
    assert tower_pass.shopper_pass(model.net_, padded, -1, model._item_tensor(),
                                   model.alpha_) is kept
    reused = model_reasons(model, items, history)
    tower_pass._LAST.value = None
    fresh = model_reasons(model, items, history)
    np.testing.assert_allclose(reused.credit, fresh.credit, atol=1e-6)
    np.testing.assert_array_equal(reused.history, fresh.history)
    for name, value in fresh.parts.items():
        np.testing.assert_allclose(reused.parts[name], value, atol=1e-6)
    model.score_histories([history, twotower_service.catalogue.user_items[3]])
    assert tower_pass._LAST.value is None
    other = tower_pass.shopper_pass(model.net_, padded, 0, model._item_tensor(), model.alpha_)
    assert other.user == 0 and other is not kept  # another shopper: a pass of its own


def test_the_kept_pass_holds_no_torch_memory(twotower_service: Recommender) -> None:
    """The pass stays in the scoring thread's local storage and is freed when that thread
    ends, perhaps while the interpreter shuts down, when freeing a torch tensor aborts the
    process: it holds host arrays that own their memory, never a tensor or a view of one."""
    from engine.models import tower_pass

    twotower_service.model.score_histories([twotower_service.catalogue.user_items[2]])
    kept = tower_pass._LAST.value
    assert not [name for name, value in vars(kept).items() if isinstance(value, torch.Tensor)]
    for part in (kept.slots, kept.weights, kept.values, kept.user_vec):
        assert isinstance(part, np.ndarray) and part.base is None


def test_a_part_just_below_zero_reads_as_zero_not_minus_zero() -> None:
    from engine.serving.explain import parts_reason, slot_notes

    text = str(parts_reason({"text": np.array([0.004]), "diversity": np.array([-0.001])}, 0))
    assert text == "score parts: text +0.00, diversity direction (α) +0.00 (cosine 0.00)"
    assert str(slot_notes(None, np.array([0]), np.array([-0.001]))[0][0]) == "boosted +0.00"
