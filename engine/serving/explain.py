"""Why an item was recommended: the history items that carried it, and its category's effect.

With the model that scored the list, the history items named are the model's own credit
(`engine.models.credit`: attention × tower similarity for the two-tower, with its score split
into text, ID and category parts; item-item weights for EASE and item-kNN). Without it (most
popular), the history contribution of past item h to recommended item i = sim(i, h) ·
recency(h), where sim is the cosine of the model's item vectors or, for models without
vectors, the cosine of the items' co-purchase columns (who bought both), and recency halves
every `RECENCY_HALF_LIFE_STEPS` steps back in the history, like the user tower's recency
prior.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.core.columns import UNKNOWN_CATEGORY
from engine.core.messages import Explanation, Listing, Message, shown_value
from engine.metrics.diversity import counted_categories
from engine.models.credit import PART_NAMES, last_occurrences, model_reasons
from engine.serving.catalogue import Catalogue

RECENCY_HALF_LIFE_STEPS = 5.0
N_REASONS = 2
N_CARRIERS = 3  # history items named per item from the model's own credit
MIN_CREDIT = 1e-4
MIN_CONTRIBUTION = 0.01
MIN_GAIN_SHOWN = 0.005
TITLE_CHARS = 32


def recency_weights(n_history: int) -> np.ndarray:
    """(H,) 1 for the latest item, halving every RECENCY_HALF_LIFE_STEPS steps back."""
    steps_back = np.arange(n_history - 1, -1, -1, dtype=np.float64)
    return np.exp2(-steps_back / RECENCY_HALF_LIFE_STEPS)


def similarities(catalogue: Catalogue, items: np.ndarray, others: np.ndarray) -> np.ndarray:
    """(len(items), len(others)) cosine of item vectors, else of co-purchase columns."""
    if catalogue.item_vectors is not None:
        vectors = catalogue.item_vectors
        return vectors[items] @ vectors[others].T
    matrix = catalogue.item_users
    dots = (matrix[items] @ matrix[others].T).toarray()
    counts = np.diff(matrix.indptr).astype(np.float64)
    norms = np.sqrt(np.outer(counts[items], counts[others]))
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)


def history_contributions(catalogue: Catalogue, items: np.ndarray,
                          history: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct history items (latest occurrence) and their (k, H') contributions."""
    positions = last_occurrences(history)
    distinct = history[positions]
    weights = recency_weights(len(history))[positions]
    return distinct, similarities(catalogue, items, distinct) * weights


def _short(title: object) -> str:
    text = str(title)
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def history_reason(catalogue: Catalogue, distinct: np.ndarray, row: np.ndarray,
                   method: str | None = None) -> str | None:
    """'similar to "A" (0.81), "B" (0.40)' for the strongest positive contributions; with the
    model's credit `method`, 'carried by "A" (0.31), "B" (0.12), "C" (0.05) (attention ×
    similarity)': the history items with the largest positive credit in its own arithmetic."""
    many, least = (N_REASONS, MIN_CONTRIBUTION) if method is None else (N_CARRIERS, MIN_CREDIT)
    top = [j for j in np.argsort(-row, kind="stable")[:many] if row[j] > least]
    if not top:
        return None
    titles = catalogue.columns.titles
    shown = ", ".join(f"\"{_short(titles[int(distinct[j])])}\" ({row[j]:.2f})" for j in top)
    return Message("similar_to", items=shown) if method is None else \
        Message("carried_by", items=shown, method=method)


def category_reason(label: str, is_new: bool | None, gain: float,
                    has_category: bool = True) -> Message:
    """The category term: new to the shopper or a known interest, with the diversity gain
    when it is visible; an item without a category says so (it is no category of its own)."""
    code = ("no_category" if not has_category or label == UNKNOWN_CATEGORY
            else "category" if is_new is None else "category_new" if is_new
            else "category_known")
    values: dict[str, object] = {} if code == "no_category" else {"label": label}
    if abs(gain) >= MIN_GAIN_SHOWN:
        return Message(f"{code}_gain", gain=gain, **values)
    return Message(code, **values)


def parts_reason(parts: dict[str, np.ndarray], slot: int) -> str:
    """'score parts: text +0.41, ID +0.12, category +0.05, shared offset +0.01 (cosine 0.59)'."""
    values = {name: float(value[slot]) for name, value in parts.items()}
    shown = Listing([Message("score_part", name=PART_NAMES[name], value=shown_value(value))
                     for name, value in values.items()])
    return Message("score_parts", parts=shown, total=shown_value(sum(values.values())))


def explain(catalogue: Catalogue, items: np.ndarray, history: np.ndarray,
            diversity_gain: np.ndarray, extras: list[list[str]] | None = None,
            model: object | None = None, user: int = -1) -> list[str]:
    """One explanation per recommended item (positions into the catalogue): an
    `Explanation`, the reasons joined with "; " that keeps each as a `Message`.

    With the `model` that scored the list (and the shopper's model index `user`, -1 when
    unknown), the history reason is the model's own credit (`engine.models.credit`) and a
    two-tower adds its score parts; otherwise similarity × recency stands in."""
    items, history = np.asarray(items, dtype=np.int64), np.asarray(history, dtype=np.int64)
    rows = counted_categories(catalogue.item_categories[np.r_[items, history]],
                              catalogue.category_names)  # only the rows read: O(k + history)
    counted, history_rows = rows[:len(items)], rows[len(items):]
    # per slot: new to the shopper (None without a history), carrying a category at all
    is_new = counted @ history_rows.sum(axis=0) == 0 if len(history) else [None] * len(items)
    has_category = counted.sum(axis=1) > 0
    reasons = None if model is None else model_reasons(model, items, history, user)
    if len(history):
        distinct, contributions = (history_contributions(catalogue, items, history)
                                   if reasons is None else (reasons.history, reasons.credit))
    out = []
    for slot, item in enumerate(items):
        parts: list[str] = []
        if len(history):
            reason = history_reason(catalogue, distinct, contributions[slot],
                                    None if reasons is None else reasons.method)
            if reason:
                parts.append(reason)
        if reasons is not None and reasons.parts is not None:
            parts.append(parts_reason(reasons.parts, slot))
        parts.append(category_reason(catalogue.category_label(int(item)), is_new[slot],
                                     float(diversity_gain[slot]), bool(has_category[slot])))
        out.append(Explanation(parts + (extras[slot] if extras else [])))
    return out


def fallback_notice(user_id: object, history: list[str] | None) -> str:
    """Why a list shows trending items instead of a shopper's own (`history`: a valid
    request's)."""
    if history is not None and not history:
        return Message("empty_history")
    if user_id is None:
        return Message("no_shopper")
    return Message("unknown_shopper_trending", user=repr(user_id))


def trending_note(scores: np.ndarray, days: float = 7.0) -> Callable[[int], str | None]:
    """A trending item's note from its decayed popularity: 'popular lately (…)'; None for an
    item that is not trending (a pinned one)."""
    return lambda position: Message("popular_lately", score=scores[position], days=days) \
        if np.isfinite(scores[position]) else None


def slot_notes(note_for: Callable[[int], str | None] | None, positions: np.ndarray,
               boosts: np.ndarray) -> list[list[str]]:
    """Per slot, the note `note_for(position)` adds to the item's reasons (none for None), and
    "boosted +0.10" where a boost (`boosts`, one per slot) moved its relevance."""
    notes = [[] if note_for is None or (note := note_for(int(p))) is None else [note]
             for p in positions]
    return [n + ([Message("boosted", boost=shown_value(b))] if abs(b) > 1e-9 else [])
            for n, b in zip(notes, boosts, strict=True)]
