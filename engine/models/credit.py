"""Why a model scored an item: credit to each history item, and the item vector's parts.

Each model explains through its own arithmetic (docs/explanations.md):

- two-tower: history item h gets Σ_slots a_s · (W ĥ_s) · v_i, a_s the user tower's attention
  weight of a slot holding h (the weights the served score pooled with), W ĥ_s that slot as
  the user vector receives it (attended slot, FiLM scale, output layer without its bias) and
  v_i the listed item's vector: the slot's exact term in the user vector before its bias,
  user embedding and normalisation are added. The score cos(u, v_i) splits exactly into the
  text, ID and category parts of v_i plus the LayerNorm offset (`ItemTower.parts`), and for
  a loss-conditioned model the alpha·u·d_i term of the item's diversity direction;
- EASE: h gets B[h, i], its term in the score Σ_h B[h, i] (removing h lowers it by exactly that);
- item-kNN: h gets sim(h, i) when h is among i's neighbours, its term in the score.

Other models (most-popular) have no per-history credit: `model_reasons` returns None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.messages import Message

# how credit was computed and the score parts' names: Messages, so the studio says them in
# its language (their English text is what the API and CLI show)
ATTENTION = Message("credit_attention")
EASE_WEIGHT = Message("credit_ease")
KNN_SIMILARITY = Message("credit_knn")
PART_NAMES = {name: Message(f"part_{name}") for name in ("text", "id", "category", "offset",
                                                        "diversity")}


@dataclass(frozen=True)
class ModelReasons:
    """Per listed item: credit of each distinct history item and (two-tower) score parts."""

    history: np.ndarray  # (H,) distinct history item positions, in order of last occurrence
    credit: np.ndarray  # (k, H) credit of history item j for listed item i
    method: str  # how credit was computed (one of the constants above)
    parts: dict[str, np.ndarray] | None = None  # name -> (k,) share of the score


def last_occurrences(history: np.ndarray) -> np.ndarray:
    """Positions in a history of each distinct item's last occurrence, in history order."""
    reversed_first = np.unique(history[::-1], return_index=True)[1]
    return np.sort(len(history) - 1 - reversed_first)


def distinct_history(history: np.ndarray) -> np.ndarray:
    """Distinct items of a history, ordered by their last occurrence."""
    history = np.asarray(history, dtype=np.int64)
    return history[last_occurrences(history)]


def model_reasons(model: object, items: np.ndarray, history: np.ndarray,
                  user: int = -1, similarity: str = "tower") -> ModelReasons | None:
    """The model's own reasons for `items` (positions) given a shopper's `history`, or None
    for a model without per-history credit or an empty history. `similarity` (two-tower):
    "tower" measures a history slot as the user vector receives it, "cosine" uses the cosine
    of the two item vectors (a weaker stand-in, kept for the faithfulness comparison)."""
    items = np.asarray(items, dtype=np.int64)
    history = np.asarray(history, dtype=np.int64)
    if not len(history) or not len(items):
        return None
    if model.credit_method == ATTENTION:
        return _twotower_reasons(model, items, history, user, similarity == "cosine")
    distinct = distinct_history(history)
    block = model.history_credit(distinct, items)  # (H, k) or None
    return None if block is None else ModelReasons(distinct, block.T, model.credit_method)


def _twotower_reasons(model, items: np.ndarray, history: np.ndarray,  # noqa: ANN001
                      user: int, cosine: bool) -> ModelReasons:
    import torch

    from engine.models.tower_pass import shopper_pass

    padded, _ = model._padded([history], np.array([user], dtype=np.int64))
    net = model.net_
    vectors = model._item_tensor()
    device = vectors.device
    with torch.no_grad():  # the attention pass that scored this shopper, when it did
        found = shopper_pass(net, padded, user, vectors, model.alpha_)
        weights, values, user_vec = found.tensors(device, vectors.dtype)  # (L,), (L, d), (d,)
        slots = found.slots  # (L,)
        parts = {key: (value @ user_vec).float().cpu().numpy().astype(np.float64)
                 for key, value in net.item_parts(torch.as_tensor(items, device=device)).items()}
        if net.item_offset is not None:  # the score's alpha·u·d_i term
            offsets = net.item_offset(torch.as_tensor(items, device=device)) @ user_vec
            parts["diversity"] = (model.alpha_ * offsets).double().cpu().numpy()
        # (L, k): each slot's value as the user vector receives it, against each listed item
        listed = vectors[torch.as_tensor(items, device=device)]  # (k, d)
        slot_vecs = vectors[torch.as_tensor(slots, device=device).clamp_min(0)] if cosine \
            else values  # (L, d)
        similarity = slot_vecs @ listed.T
        per_slot = (weights[:, None] * similarity).double().cpu().numpy()
    distinct = distinct_history(slots[slots >= 0])
    # per distinct item, the summed credit of the slots holding it
    credit = np.stack([per_slot[slots == h].sum(axis=0) for h in distinct], axis=1)  # (k, H)
    return ModelReasons(distinct, credit, ATTENTION, parts)
