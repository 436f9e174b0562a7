"""Candidate generation for serving: the run's index finds a shopper's best items, exactly scored.

A run with a candidate index (`engine.retrieval.runindex`) scores a shopper through it: the
index's top `candidates` items for the shopper's query vector, together with every item the
request or policy names (`Focus.must`: pins, promoted and boosted items, a search's matches)
and every item added since the index was built, are scored exactly (query · item vector).
Every other item gets -inf, which ranking and policies already read as "not available", so
filters, boosts, caps, quotas, pins and diversification run unchanged on the candidates.

When filters would leave fewer than `Focus.need` candidates, the index search widens (up to
`WIDEN_LIMIT`×); if that is still too few, the shopper is scored exactly over every item.
A run without an index, a model without query vectors (EASE, ItemKNN, Pop) or
`retrieval="exact"` scores every item exactly, as before: the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.checks import check_k
from engine.core.errors import ConfigError
from engine.rerank.plan import RankPlan

DEFAULT_CANDIDATES = 1000  # index candidates per shopper (at least the request's n_candidates)
WIDEN_LIMIT = 8
RETRIEVAL_MODES = ("auto", "exact")


@dataclass(frozen=True)
class Focus:
    """What one request needs from candidate generation."""

    must: np.ndarray | None = None  # positions always scored exactly
    allowed: np.ndarray | None = None  # (n_items,) bool: items the request may show
    need: int = 0  # allowed candidates the ranking wants (its n_candidates)
    search: bool = True  # False: score `must` only (a text search's matches)


class Retrieval:
    """The hook where a shopper's scores are computed: index candidates, or None (exact)."""

    def __init__(self, index=None, candidates: int = DEFAULT_CANDIDATES) -> None:  # noqa: ANN001
        self.index, self.candidates = index, check_k(candidates, field="candidates")

    @classmethod
    def for_run(cls, run, n_items: int, mode: str = "auto",  # noqa: ANN001 - a Run
                candidates: int | None = None) -> Retrieval:
        """The run's saved index when it matches the served model, else exact scoring."""
        from engine.retrieval.runindex import load_item_index, read_index_info

        if mode not in RETRIEVAL_MODES:
            raise ConfigError(f"retrieval must be one of {', '.join(RETRIEVAL_MODES)}, "
                              f"got {mode!r}")
        from engine.retrieval.ann import FAISS_INSTALL_HINT, faiss_available

        count = DEFAULT_CANDIDATES if candidates is None else candidates
        info = read_index_info(run.path) if mode == "auto" else None
        if info is not None and not faiss_available():
            raise ConfigError(f"run {run.path.name} has a candidate index, which needs the "
                              f"optional faiss package: {FAISS_INSTALL_HINT}; or serve it "
                              "exactly (--retrieval exact)")
        usable = (info is not None and info.part == run.part and info.n_items <= n_items
                  and hasattr(run.model, "query_vectors"))
        return cls(load_item_index(run.path) if usable else None, count)

    @property
    def active(self) -> bool:
        return self.index is not None

    def describe(self) -> dict:
        """What serving uses, for health pages: kind, items indexed, candidates per shopper."""
        if self.index is None:
            return {"retrieval": "exact"}
        info = self.index.info
        return {"retrieval": info.kind, "indexed_items": info.n_items,
                "candidates": self.candidates, "recall_at_tuning": info.recall}

    def scores(self, model, vectors: np.ndarray | None, n_items: int, *,  # noqa: ANN001
               user: int = -1, history: np.ndarray | None = None,
               focus: Focus | None = None) -> np.ndarray | None:
        """(n_items,) scores with -inf outside the candidates, or None to score exactly.

        `history` (item positions, oldest first) is scored as an ad-hoc history with `user`'s
        learned vector where the model has one (-1: none); without it, the training user.
        """
        if self.index is None or vectors is None or not hasattr(model, "query_vectors"):
            return None
        focus = focus or Focus()
        histories = None if history is None else [np.asarray(history, dtype=np.int64)]
        query = model.query_vectors(np.array([user], dtype=np.int64), histories)[0]
        positions = self.positions(query, n_items, focus, 0 if history is None else
                                   len(history))
        if positions is None:
            return None
        out = np.full(n_items, -np.inf, dtype=np.float64)
        table = getattr(model, "scoring_vectors", lambda: vectors)()
        out[positions] = table[positions] @ query
        return out

    def positions(self, query: np.ndarray, n_items: int, focus: Focus,
                  seen: int) -> np.ndarray | None:
        """Sorted candidate positions: index top-n ∪ `must` ∪ items newer than the index."""
        parts = [np.arange(min(self.index.n_items, n_items), n_items, dtype=np.int64)]
        if focus.must is not None:
            parts.append(np.asarray(focus.must, dtype=np.int64))
        if focus.search:
            found = self._search(query, max(self.candidates, focus.need) + seen, focus)
            if found is None:
                return None
            parts.append(found)
        return np.unique(np.concatenate(parts))

    def _search(self, query: np.ndarray, width: int, focus: Focus) -> np.ndarray | None:
        """Index positions for `query`, widened while the filters leave too few."""
        limit = min(width * WIDEN_LIMIT, self.index.n_items)
        width = min(width, self.index.n_items)
        while True:
            found = self.index.search(query[None, :], width)[1][0]
            found = found[found >= 0]
            have = None if focus.allowed is None else int(focus.allowed[found].sum())
            enough = have is None or have >= focus.need or \
                have >= int(focus.allowed.sum())  # counted only when short
            if enough:
                return found
            if width >= limit:
                return None
            width = min(width * 2, limit)


def plan_focus(plan: RankPlan, left_out: np.ndarray) -> Focus:
    """What a plan (a plain request's or a policy's) needs from the index: its pins, the items
    its boosts raise on balance (an item in a boosted and a buried category by the same amount
    is not raised, so it cannot climb into the candidates) and the items its promotions and
    quota floors may need are always scored; its filters and the unavailable items decide
    which candidates count."""
    must = [np.array([pin.item for pin in plan.pins], dtype=np.int64),
            np.flatnonzero(plan.boost_vector > 0)]
    must += [np.flatnonzero(rule.mask) for rule in plan.at_least]
    allowed = plan.static_allowed.copy()
    allowed[left_out] = False
    return Focus(must=np.concatenate(must), allowed=allowed, need=plan.n_candidates)
