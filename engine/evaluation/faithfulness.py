"""Are the model's explanations faithful? Remove the history item they credit most, and see.

For each shopper, the model's top-k list (already-bought items left out) is explained with
`engine.models.credit.model_reasons`. For each listed item i, the history item with the
largest credit h* and one other distinct history item h_r drawn at random are each removed
from the history (every occurrence), the shopper is scored again, and the item's score drop
d(h) = s(i | history) − s(i | history without h) is compared: the explanation passes for i
when d(h*) > d(h_r) (a tie fails). Shoppers with fewer than two credited history items are
skipped. Reported (docs/explanations.md):

- `top_item_share`: share of shoppers for whom the check passes on the list's first item;
- `majority_share`: share of shoppers for whom it passes on more than half their list;
- `pair_share`: share of all (shopper, listed item) pairs that pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.models.credit import model_reasons


@dataclass(frozen=True)
class Faithfulness:
    """The check's outcome over a set of shoppers."""

    n_shoppers: int  # shoppers checked (two or more credited history items)
    n_pairs: int
    top_item_share: float
    majority_share: float
    pair_share: float
    tie_share: float  # pairs where both removals moved the score equally

    def to_dict(self) -> dict[str, float | int]:
        return {key: (round(value, 4) if isinstance(value, float) else value)
                for key, value in self.__dict__.items()}


def _scores(model: object, histories: list[np.ndarray], user: int) -> np.ndarray:
    """(len(histories), n_items) scores of ad-hoc histories, with the shopper's embedding
    where the model has one."""
    if model.scores_with_user:
        return model.score_histories(histories, user_idx=np.full(len(histories), user))
    return model.score_histories(histories)


def shopper_outcomes(model: object, history: np.ndarray, user: int, k: int,
                     rng: np.random.Generator, similarity: str = "tower",
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    """Per listed item: (passed, tied) booleans, or None when the shopper cannot be checked."""
    history = np.asarray(history, dtype=np.int64)
    base = _scores(model, [history], user)[0].astype(np.float64)
    base_masked = base.copy()
    base_masked[history] = -np.inf
    items = np.argsort(-base_masked, kind="stable")[:k]
    reasons = model_reasons(model, items, history, user, similarity)
    if reasons is None or len(reasons.history) < 2:
        return None
    distinct = reasons.history
    ablated = _scores(model, [history[history != h] for h in distinct], user)  # (H, n_items)
    drops = base[None, items] - ablated[:, items].astype(np.float64)  # (H, k)
    top = np.argmax(reasons.credit, axis=1)  # (k,) index into distinct
    other = (top + rng.integers(1, len(distinct), size=len(items))) % len(distinct)
    columns = np.arange(len(items))
    best, random = drops[top, columns], drops[other, columns]
    return best > random, np.isclose(best, random, rtol=0.0, atol=1e-7)


def faithfulness(model: object, histories: Sequence[np.ndarray], users: np.ndarray,
                 k: int = 10, seed: int = 0, similarity: str = "tower",
                 progress: Callable[[int, int], None] | None = None) -> Faithfulness:
    """Run the check over shoppers (their histories and model indices, -1 when unknown);
    `similarity` as in `model_reasons`."""
    rng = np.random.default_rng(seed)
    passed, tied, top_first, majority = [], [], [], []
    for row, (history, user) in enumerate(zip(histories, users, strict=True)):
        found = shopper_outcomes(model, history, int(user), k, rng, similarity)
        if found is not None:
            ok, tie = found
            passed.append(ok)
            tied.append(tie)
            top_first.append(bool(ok[0]))
            majority.append(ok.mean() > 0.5)
        if progress is not None:
            progress(row + 1, len(histories))
    pairs = np.concatenate(passed) if passed else np.zeros(0, dtype=bool)
    ties = np.concatenate(tied) if tied else np.zeros(0, dtype=bool)
    share = (lambda v: float(np.mean(v)) if len(v) else float("nan"))  # noqa: E731
    return Faithfulness(n_shoppers=len(passed), n_pairs=len(pairs),
                        top_item_share=share(top_first), majority_share=share(majority),
                        pair_share=share(pairs), tie_share=share(ties))

