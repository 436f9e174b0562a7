"""The Recommender service: load a run once, then recommend, search, show trends and histories.

One instance is shared by every thread of the API or dashboard. Requests only read: they take
the current catalogue snapshot at their start and never mutate it. `add_items` (cold start) is
the one writer: it is serialised by a lock and publishes a new snapshot when it is done.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import engine.serving.requests as rq
from engine.core.checks import check_k
from engine.core.errors import RequestError
from engine.core.messages import Message
from engine.models.topn import top_n
from engine.rerank.plan import RankPlan
from engine.rerank.scaling import min_max
from engine.runs.store import load_run
from engine.serving.availability import left_out_positions
from engine.serving.catalogue import Catalogue, bounded_cache, catalogue_from_run
from engine.serving.coldstart import add_items
from engine.serving.explain import fallback_notice, trending_note
from engine.serving.live import LiveHistory, history_frame
from engine.serving.ranking import RankRequest, Shopper, compile_request, rank, served_columns
from engine.serving.results import Recommendations, item_columns, plain_value
from engine.serving.retrieve import Focus, Retrieval, plan_focus
from engine.serving.trending import trending_scores
from engine.text.matching import SEARCH_TITLES, SearchIndex, TitleIndex, stored_title_embeddings
from engine.text.search import (
    TextIndex,
    encoder_config_from_meta,
    stored_text_embeddings,
    write_search_vectors,
)

SEARCH_USER_BLEND = 0.3  # share of the shopper's affinity in personalised search relevance
TREND_CACHE_SIZE = 8


class Recommender:
    """Serve one run: `recommend`, `search`, `hot_items`, `history`, `add_items`."""

    def __init__(self, run, retrieval: str = "auto",  # noqa: ANN001 - a Run
                 candidates: int | None = None) -> None:
        self.run = run
        self.model = run.model
        self._catalogue = catalogue_from_run(run)
        self.retrieval = Retrieval.for_run(run, self._catalogue.n_items, retrieval, candidates)
        config = encoder_config_from_meta(run.meta)
        self._text = TextIndex(config, stored_text_embeddings(run.path))
        self._search = SearchIndex(self._text, TitleIndex(
            config, stored_title_embeddings(run.path), share=self._text))
        self._write_lock = threading.Lock()
        # Lists are worked out one at a time (a shopper's, a policy's, trending, a search's):
        # the work is CPU-bound Python and small torch ops that hand the GIL back and forth,
        # so requests running at once in a server's threads only slow each other down (up to
        # 2x fewer lists a second on 2 cores); parallelism comes from worker processes.
        # Re-entrant: a shopper's or a policy's list holds it around its scoring and ranking.
        self.turns = threading.RLock()
        self.live = LiveHistory()  # events since the run, per shopper (shared across a swap)

    @classmethod
    def load(cls, run_dir: str | Path, torch_threads: int | None = None,
             model: str = "serving", retrieval: str = "auto",
             candidates: int | None = None) -> Recommender:
        """Load a run folder once (RunError says what is missing); `model`: "serving" (refit on
        every event, every event as history) or "evaluation" (never saw the held-out events).
        `retrieval` ("auto": the run's candidate index if any; "exact"), `candidates`: retrieve.py.
        `torch_threads` sets torch's intra-op threads for the whole process (one is fastest for
        one shopper at a time: a server gets its parallelism from concurrent requests)."""
        if torch_threads is not None:
            import torch

            torch.set_num_threads(check_k(torch_threads, field="torch_threads"))
        return cls(load_run(run_dir, model=model), retrieval, candidates)

    @property
    def catalogue(self) -> Catalogue:
        """The current read-only snapshot."""
        return self._catalogue

    @property
    def category_names(self) -> list[str]:
        return list(self._catalogue.category_names)

    @property
    def user_ids(self) -> list[str]:
        return self._catalogue.user_index.tolist()

    # ---- requests -------------------------------------------------------------------------

    def model_at(self, alpha: float | None):  # noqa: ANN201 - a BaseModel
        """The model scoring at loss weight `alpha` (None: the run's own; a number the request
        or policy model checked); RequestError when it cannot take it (not loss-conditioned,
        or outside the trained range)."""
        return self.model if alpha is None else self.model.at_alpha(float(alpha))

    def _scores(self, catalogue: Catalogue, model: Any, *, user: int = -1,
                history: np.ndarray | None = None, focus: Focus | None = None) -> np.ndarray:
        """(n_items,) scores by `model` (`model_at` an alpha) for a training user, or for a
        history (item positions, oldest first) with `user`'s learned vector where the model
        takes one; through the candidate index when the run has one (-inf outside the
        candidates)."""
        found = self.retrieval.scores(model, catalogue.item_vectors, catalogue.n_items,
                                      user=user, history=history, focus=focus)
        if found is not None:
            return found
        if history is None:
            raw = model.score_users(np.array([user], dtype=np.int64))[0]
        elif user >= 0 and "user_idx" in inspect.signature(model.score_histories).parameters:
            raw = model.score_histories([history], user_idx=np.array([user], dtype=np.int64))[0]
        else:
            raw = model.score_histories([history])[0]
        scores = np.full(catalogue.n_items, -np.inf, dtype=np.float64)
        n = min(len(raw), catalogue.n_items)  # a cold-start add may be half-published
        scores[:n] = raw[:n]
        return scores

    # ---- public API -----------------------------------------------------------------------

    def recommend(self, user_id: str | None = None, history: Sequence[str] | None = None,
                  **fields: Any) -> Recommendations:
        """Top-k for a shopper (`user_id`) or a what-if session (`history` of item ids); the
        other fields (k, method, diversity_weight, quotas, ...) are `RecommendRequest`'s,
        checked by it (RequestError with its one-line message)."""
        return self.serve(rq.RecommendRequest.of(user_id=user_id, history=history, **fields))

    def serve(self, request: rq.RecommendRequest) -> Recommendations:
        """Top-k for a valid request (the API's body, the CLI's and the studio's request).

        `alpha` is the model's loss weight for a loss-conditioned run (one user-tower pass at
        that alpha; RequestError outside the trained range); `diversity_weight` the re-ranker's.
        An unknown shopper, or no shopper at all, gets trending items and a `notice` saying so.
        Items that cannot be bought now are left out (and counted) unless
        `include_unavailable`. 'calibrated' aims at `target` when given, else at
        (1 − γ)·h + γ·g: the shopper's category mix h blended with the catalogue's g by
        γ = `target_mix`.
        """
        catalogue = self._catalogue
        ranking = compile_request(catalogue, request)
        with self.turns:
            shopper = self.shopper(catalogue, ranking.plan, request, k=ranking.k,
                                   alpha=request.alpha,
                                   include_unavailable=request.include_unavailable)
            return self._finish(catalogue, ranking, shopper, exclude_seen=request.exclude_seen)

    def shopper(self, catalogue: Catalogue, plan: RankPlan, request: rq.RecommendRequest, *,
                k: int, alpha: float | None, include_unavailable: bool) -> Shopper:
        """The shopper a list under `plan` is for, a plain request's and a policy's alike:
        a what-if `history` (no shopper's own vector), else a known shopper's history with
        the events since the run, scored at `alpha` (RequestError when the run cannot take
        it) through the candidate index when the run has one; with neither, trending items
        and a notice saying why. Unavailable items are left out unless `include_unavailable`.
        The shopper's model index makes the list's explanation the model's own."""
        model = self.model_at(alpha)
        left_out = left_out_positions(catalogue.unavailable, include_unavailable)
        focus = plan_focus(plan, left_out) if self.retrieval.active else None
        user_id, history = request.user_id, request.history
        if history is not None and len(history):
            past = catalogue.positions_of(history)
            scores = self._scores(catalogue, model, history=past, focus=focus)
            return Shopper(past, scores, left_out, -1, model, model.alpha_)
        user = catalogue.user_position(user_id)
        new = self.live.positions(user_id, self.run.events_through)
        if user < 0 and not len(new):
            return self._trending(catalogue, k, left_out, alpha=model.alpha_,
                                  notice=fallback_notice(user_id, history))
        past = catalogue.user_items[user] if user >= 0 else new[:0]
        if len(new):  # events since the run: score the whole history as it is now
            past = np.concatenate([past, new])
        scores = self._scores(catalogue, model, user=user, history=past if len(new) else None,
                              focus=focus)
        return Shopper(past, scores, left_out, user, model, model.alpha_)

    def record_event(self, user_id: str, item_id: str, event: str, timestamp: float,
                     event_id: int | None = None) -> None:
        """Add a stored event (`event_id` in the store) to the shopper's history for their next
        request (RequestError for an item this run does not know)."""
        position = self._catalogue.positions_of([item_id])[0]
        self.live.add(user_id, int(position), timestamp, event, event_id)

    def _finish(self, catalogue: Catalogue, request: RankRequest, shopper: Shopper,
                exclude_seen: bool = False, **found: Any) -> Recommendations:
        """Rank, explain and package a plain request's list; `found`: a search's match.
        Trending and search lists take their turn here (`turns`); a shopper's takes it
        around its scoring as well (`serve`)."""
        with self.turns:
            lists, n_allowed = rank(catalogue, request, shopper, exclude_seen)
            columns = served_columns(catalogue, request.plan, lists, shopper)
        notice, n = shopper.notice, len(columns["rank"])
        if n < request.k and notice is None:
            notice = Message("only_n_match", n=n, k=request.k)
        pool = lists.candidates[0, :request.k]
        top = pool[pool >= 0]  # the plain top-k by relevance
        return Recommendations(
            columns=columns, notice=notice,
            relevance_columns={**item_columns(catalogue, top), "relevance": np.round(
                lists.candidate_relevance[0, :len(top)], 4)},
            method=request.plan.diversify.method,
            diversity_weight=request.plan.diversify.weight,
            n_candidates=n_allowed, unavailable_left_out=len(shopper.left_out),
            alpha=shopper.alpha, **found)

    def _trending(self, catalogue: Catalogue, k: int, left_out: np.ndarray,
                  half_life_days: float = 7.0, **fields: Any) -> Shopper:
        """No shopper: trending items, each saying how popular it was lately. The scores are
        memoised on the snapshot per half-life (a few entries at most); items nobody bought
        lately are left out (-inf) when at least k items trend."""
        trend = bounded_cache(catalogue.trend_cache, float(half_life_days), TREND_CACHE_SIZE,
                              lambda: trending_scores(catalogue.events, catalogue.n_items,
                                                      half_life_days))
        scores = np.where(trend > 0, trend, -np.inf) if (trend > 0).sum() >= k else trend
        return Shopper(np.empty(0, dtype=np.int64), scores, left_out,
                       note_for=trending_note(scores, half_life_days), **fields)

    def hot_items(self, k: int = 10, diversity_weight: float = 0.0, method: str = "mmr",
                  half_life_days: float = 7.0, include_unavailable: bool = False,
                  ) -> Recommendations:
        """Trending items (time-decayed popularity), diversified like any list (from the
        request model's default number of candidates)."""
        catalogue = self._catalogue
        request = compile_request(catalogue, rq.ListRequest.of(
            k=k, method=method, diversity_weight=diversity_weight,
            include_unavailable=include_unavailable))  # checks the flag too
        left_out = left_out_positions(catalogue.unavailable, include_unavailable)
        return self._finish(catalogue, request, self._trending(catalogue, request.k, left_out,
                                                               half_life_days))

    def search(self, query: str, **fields: Any) -> Recommendations:
        """Items matching a text query, blended with the affinity of the shopper `user_id`,
        diversified; the fields (user_id, k, method, diversity_weight, n_candidates,
        target_mix, include_unavailable) are `ListRequest`'s, checked by it. Items that
        cannot be bought now are left out unless `include_unavailable`."""
        if not isinstance(query, str) or not query.strip():
            raise RequestError(Message("empty_query"))
        catalogue, listed = self._catalogue, rq.ListRequest.of(**fields)
        request, user_id = compile_request(catalogue, listed), listed.user_id
        found = self._search.match(catalogue.items, query.strip())
        match = found.similarity  # (n_items,)
        left_out = left_out_positions(catalogue.unavailable, listed.include_unavailable)
        searchable = match.astype(np.float64)
        searchable[left_out] = -np.inf
        pool = top_n(searchable[None, :], None, request.plan.n_candidates)[0]
        pool = pool[pool >= 0]
        relevance = min_max(match[pool])
        user = catalogue.user_position(user_id)
        notice, history = None, np.empty(0, dtype=np.int64)
        if user >= 0:
            affinity = min_max(self._scores(catalogue, self.model, user=user,
                                            focus=Focus(must=pool, search=False))[pool])
            relevance = (1 - SEARCH_USER_BLEND) * relevance + SEARCH_USER_BLEND * affinity
            history = catalogue.user_items[user]
        elif user_id is not None:
            notice = Message("unknown_shopper_search", user=repr(user_id))
        scores = np.full(catalogue.n_items, -np.inf)
        scores[pool] = relevance
        if not found.good:
            notice = Message("no_good_match", query=repr(query.strip()), best=found.best,
                             ceiling=found.ceiling)
        shopper = Shopper(history, scores, left_out, notice=notice,
                          note_for=lambda position: Message("text_match", score=match[position]))
        return self._finish(catalogue, request, shopper, best_match=found.best,
                            good_match=found.good)

    def search_ready(self) -> bool:
        """True when every catalogue item's text vector is known (search answers at once)."""
        return self._search.ready(self._catalogue.n_items)

    def warm_search(self) -> threading.Thread:
        """Start loading the query encoder in the background (the studio calls this on load)."""
        return self._text.warm()

    def prepare_search(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Encode the catalogue text not yet known (progress per chunk) and keep the vectors
        in the run folder so the next load starts warm."""
        if self.search_ready():
            return
        text, titles = self._search.prepare(self._catalogue.items, progress=progress)
        write_search_vectors(self.run.path, text)
        write_search_vectors(self.run.path, titles, SEARCH_TITLES)

    def history(self, user_id: str) -> pd.DataFrame:
        """The shopper's history as served: item_id, title, category, timestamp (UTC), weight."""
        catalogue = self._catalogue
        user = catalogue.user_position(user_id)
        new = self.live.events(user_id, self.run.events_through)
        if user < 0 and not new:
            raise RequestError(Message("unknown_shopper", user=user_id))
        rows = catalogue.events.iloc[catalogue.user_rows(user) if user >= 0 else []]
        return history_frame(catalogue.columns, rows, new)

    def item(self, item_id: str) -> dict:
        """One catalogue item as a JSON-able dict (RequestError when unknown)."""
        catalogue = self._catalogue
        position = int(catalogue.item_index.get_indexer([str(item_id)])[0])
        if position < 0:
            raise RequestError(Message("unknown_item", item=item_id))
        row = catalogue.items.iloc[position]
        out = {key: plain_value(value) for key, value in row.items()}
        out["diversity_category"] = catalogue.category_label(position)
        out["popularity"] = int(catalogue.item_users[position].nnz)
        return out

    def add_items(self, items: pd.DataFrame) -> pd.DataFrame:
        """Cold start: encode new items' text, append them to the model and the run folder."""
        with self._write_lock:
            catalogue, added = add_items(self.run, self.model, self._text, self._catalogue, items)
            self._catalogue = catalogue
        return added
