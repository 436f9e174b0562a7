"""From catalogue scores to a re-ranked list: filter, boost, take candidates, re-rank.

relevance = min-max scaled model score over the allowed items (so boosts are in units of the
score range: a boost of 0.1 moves an item by a tenth of the range), plus category and promo
boosts; the top `n_candidates` by that relevance go to the re-ranker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.errors import RequestError
from engine.rerank.quotas import check_supply
from engine.rerank.scaling import min_max
from engine.serving.catalogue import Catalogue
from engine.serving.requests import RankRequest


@dataclass(frozen=True)
class RankedList:
    """Catalogue positions in final order, with the per-slot parts of the decision."""

    items: np.ndarray  # (k',) catalogue positions
    relevance: np.ndarray  # (k',) candidate-scaled relevance in [0, 1]
    diversity_gain: np.ndarray  # (k',) the re-ranker's diversity part for the slot
    score: np.ndarray  # (k',) the re-ranker's objective for the slot
    relevance_only: np.ndarray  # (k',) plain top-k by relevance, for side-by-side views
    relevance_only_scores: np.ndarray  # (k',) their candidate-scaled relevance
    boosts: np.ndarray  # (k',) category + promo boost each final item received
    n_allowed: int  # items that passed the filters


def allowed_mask(catalogue: Catalogue, request: RankRequest, scores: np.ndarray,
                 exclude: np.ndarray) -> np.ndarray:
    """(n_items,) items that may appear: finite score, not excluded, in an allowed category."""
    allowed = np.isfinite(scores)
    allowed[exclude] = False
    if request.allowed_categories is not None:
        allowed &= catalogue.item_categories[:, request.allowed_categories].sum(axis=1) > 0
    if not allowed.any():
        raise RequestError("no item is left after the category filter, the already-seen "
                           "items and the items that cannot be bought now are removed; widen "
                           "the categories, set exclude_seen=false or include_unavailable=true")
    return allowed


def boost_vector(catalogue: Catalogue, request: RankRequest) -> np.ndarray:
    """(n_items,) additive relevance boost from category boosts and the promo boost."""
    boosts = np.zeros(catalogue.n_items, dtype=np.float64)
    if request.category_boosts is not None:
        boosts += catalogue.item_categories @ request.category_boosts
    if request.promo_boost:
        boosts += request.promo_boost * catalogue.promo
    return boosts


def top_by(values: np.ndarray, allowed: np.ndarray, n: int) -> np.ndarray:
    """Up to n allowed positions by descending value (ties by position)."""
    positions = np.flatnonzero(allowed)
    n = min(n, len(positions))
    chosen = values[positions]
    if n < len(positions):
        part = np.argpartition(-chosen, n - 1)[:n]
        positions, chosen = positions[part], chosen[part]
    order = np.lexsort((positions, -chosen))
    return positions[order]


def rank(catalogue: Catalogue, scores: np.ndarray, request: RankRequest, *,
         exclude: np.ndarray, target: np.ndarray | None) -> RankedList:
    """Filter, boost, take the candidates and re-rank them with `engine.rerank`."""
    allowed = allowed_mask(catalogue, request, scores, exclude)
    boosts = boost_vector(catalogue, request)
    relevance = min_max(scores, allowed) + boosts
    candidates = top_by(relevance, allowed, request.n_candidates)
    quotas = _candidate_quotas(catalogue, request, candidates)
    result = _rerank(catalogue, request, candidates, relevance[candidates], target, quotas)
    order = np.asarray(result.order, dtype=np.int64)
    scaled = min_max(relevance[candidates])
    return RankedList(
        items=candidates[order], relevance=scaled[order],
        diversity_gain=diversity_gains(request, result.diversity_part, target),
        score=np.asarray(result.objective, dtype=np.float64),
        relevance_only=candidates[: request.k], relevance_only_scores=scaled[: request.k],
        boosts=boosts[candidates[order]],
        n_allowed=int(allowed.sum()),
    )


def diversity_gains(request: RankRequest, diversity_part: np.ndarray,
                    target: np.ndarray | None) -> np.ndarray:
    """Per slot, what the item added to the list's diversity term.

    One scale for every method, larger = more variety added. MMR's (and Quotas') term is the
    penalty −w·max sim; shifted by w it reads w·(1 − max sim) ≥ 0, the same greedy choice
    (every candidate gets the same +w). DPP's term is already a marginal log-determinant gain.
    The calibrated term is −w·KL of the whole list so far; its gain is the change from the list
    before the item (the empty list's share is all zeros).
    """
    part = np.asarray(diversity_part, dtype=np.float64)
    if request.method in ("mmr", "quota"):
        return part + request.diversity_weight
    if request.method != "calibrated" or target is None or len(part) == 0:
        return part
    from engine.metrics.diversity import calibration_kl

    empty = -request.diversity_weight * float(
        calibration_kl(target[None, :], np.zeros((1, len(target))))[0])
    return np.diff(np.r_[empty, part])


def _candidate_quotas(catalogue: Catalogue, request: RankRequest, candidates: np.ndarray,
                      ) -> dict[int, tuple[int | None, int | None]] | None:
    """Quotas checked against what the candidate pool can actually supply."""
    if request.quotas is None:
        return None
    available = (catalogue.item_categories[candidates] > 0).sum(axis=0)
    names = catalogue.category_names
    check_supply({names[p]: bounds for p, bounds in request.quotas.items()},
                 {names[p]: available[p] for p in request.quotas}, None,
                 f"of the {len(candidates)} candidates",
                 "lower the floor or raise n_candidates")
    return request.quotas


def _rerank(catalogue: Catalogue, request: RankRequest, candidates: np.ndarray,
            relevance: np.ndarray, target: np.ndarray | None,
            quotas: dict[int, tuple[int | None, int | None]] | None):  # noqa: ANN202
    """Call the re-ranker; its input errors become RequestError for the caller."""
    from engine.rerank import rerank

    similarity = catalogue.similarity_vectors() if request.method != "none" else None
    vectors = None if similarity is None else similarity[candidates]
    try:
        return rerank(request.method, relevance, request.k, request.diversity_weight,
                      item_vectors=vectors, item_categories=catalogue.item_categories[candidates],
                      target=target, quotas=quotas)
    except RequestError:
        raise
    except ValueError as exc:
        raise RequestError(f"cannot re-rank with method {request.method!r}: {exc}") from exc
