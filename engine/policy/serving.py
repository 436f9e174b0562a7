"""Serve one shopper's list under a policy, with per-item attribution, without pandas.

`PolicyServer` wraps a Recommender and a PolicyStore: it resolves `name` / `name@version` /
the live version, compiles it once per (catalogue snapshot, policy version) and answers with
plain lists and dicts that the API turns into JSON directly. The live version is checked per
request through the store's publish counter (one indexed read), so a newly published version
is served without a restart.

Only policies whose scope covers the served run go live on it. A policy that fails while it is
applied (a bug, data it did not expect) raises `PolicyFailed`; the caller serves the plain
ranking for that request and says so, so one bad policy never takes serving down.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from engine.core.checks import check_k
from engine.core.errors import PrismError, RequestError
from engine.core.limits import check_work
from engine.core.messages import Explanation, Message
from engine.policy.attribution import list_attribution, removal_counts
from engine.policy.buy_again import with_buy_again
from engine.policy.compile import CompiledPolicy, compile_policy
from engine.policy.schema import DiversifyStage, Policy, split_reference
from engine.policy.store import PolicyStore
from engine.rerank.pipeline import PolicyLists, ShopperBatch, apply_policy
from engine.serving import requests as rq
from engine.serving.availability import left_out_positions
from engine.serving.catalogue import Catalogue
from engine.serving.explain import explain, fallback_notice, slot_notes, trending_note
from engine.serving.ranking import list_parts
from engine.serving.results import json_rows, list_columns
from engine.serving.retrieve import plan_focus

COMPILED_CACHE_SIZE = 32


class PolicyFailed(PrismError):
    """Applying a policy failed; `reference` is name@version, the message says why."""

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(Message("policy_failed", reference=reference, reason=reason))
        self.reference, self.reason = reference, reason


@dataclass
class PolicyResult:
    """A served list: JSON-ready rows (each with `attribution`), notice, removal counts."""

    items: list[dict[str, Any]]
    notice: str | None
    policy: str
    removed: dict[str, int] = field(default_factory=dict)
    method: str = "none"
    diversity_weight: float = 0.0
    unavailable_left_out: int = 0  # items left out because they cannot be bought now
    alpha: float | None = None  # the model's loss weight (loss-conditioned runs only)


def shopper_batch(catalogue: Catalogue, scores: np.ndarray, history: np.ndarray,
                  exclude_seen: bool, policy: CompiledPolicy) -> ShopperBatch:
    """A one-row ShopperBatch for a shopper with these scores and past item positions."""
    n_items = catalogue.n_items
    past = np.unique(history) if len(history) else np.empty(0, dtype=np.int64)
    seen = sp.csr_matrix((np.ones(len(past)), (np.zeros(len(past), dtype=np.int64), past)),
                         shape=(1, n_items))
    top = int(np.argmax(catalogue.item_categories[history].sum(axis=0))) if len(history) else -1
    stage, targets = policy.diversify, None
    if stage is not None and stage.method == "calibrated":
        targets = catalogue.calibration_target(history, stage.target_mix)[None, :]
    return ShopperBatch(scores=scores[None, :], seen=seen, top_category=np.array([top]),
                        targets=targets, exclude_seen=exclude_seen)


def result_rows(catalogue: Catalogue, policy: CompiledPolicy, lists: PolicyLists,
                history: np.ndarray, note_for: Callable[[int], str | None] | None,
                scorer: tuple[Any, int]) -> list[dict[str, Any]]:
    """JSON-ready rows for shopper 0 of `lists` (rank, ids, terms, explanation, attribution);
    `note_for(position)` adds a note to an item's reason; `scorer`: (model, shopper index)
    that scored the list, for the model's own reasons."""
    weight = 0.0 if policy.diversify is None else policy.diversify.weight
    positions, relevance, gains, score = list_parts(policy, lists, weight)  # as plain lists
    texts = explain(catalogue, positions, history, gains,
                    slot_notes(note_for, positions), model=scorer[0], user=scorer[1])
    attribution = list_attribution(policy, lists, 0)
    rows = json_rows(list_columns(catalogue, positions, relevance, gains, score, texts))
    for row, touched in zip(rows, attribution, strict=True):
        row["attribution"] = touched
    return rows


class PolicyServer:
    """Policies for one Recommender: resolve, compile (cached), apply per request."""

    def __init__(self, recommender: Any, store: PolicyStore) -> None:
        self.recommender = recommender
        self.store = store
        self._compiled: dict[tuple[int, str, int], CompiledPolicy] = {}
        self._live: tuple[int, dict[str, int]] = (-1, {})
        self._policies: dict[tuple[str, int], Policy] = {}  # versions never change
        self._lock = threading.Lock()

    @property
    def run_name(self) -> str:
        return self.recommender.run.path.name

    @property
    def dataset(self) -> str | None:
        return self.recommender.run.meta.get("dataset")

    def serves(self, policy: Policy) -> bool:
        """Whether `policy`'s scope covers the served run (no scope: every run)."""
        return policy.scope is None or policy.scope.covers(self.run_name, self.dataset)

    def live_versions(self) -> dict[str, int]:
        """{name: live version}, re-read only when the store's publish counter moved."""
        if not self.store.exists():  # nothing stored: never create the file to find out
            return {}
        counter = self.store.publish_counter()
        cached_counter, cached = self._live
        if counter != cached_counter:
            cached = self.store.live_versions()
            self._live = (counter, cached)
        return cached

    def resolve(self, reference: str | None) -> Policy | None:
        """The policy a request asks for: None → the live one (if any), 'none' → no policy."""
        if reference is not None and reference.strip().lower() == "none":
            return None
        if reference is None:  # the most recently published one that covers this run
            live = self.live_versions()
            return next((p for p in (self._version(n, v) for n, v in live.items())
                         if self.serves(p)), None)
        name, version = split_reference(reference)
        if version is None:
            version = self.live_versions().get(name)
        found = self.store.get(name) if version is None else self._version(name, version)
        if not self.serves(found):
            raise RequestError(Message("policy_scoped_to", reference=found.reference,
                                       scope=found.scope.describe(), run=self.run_name))
        return found

    def _cached(self, cache: dict, key: tuple, make: Callable[[], Any]) -> Any:
        """`cache[key]`, made and kept on first use (the cache is emptied when full)."""
        found = cache.get(key)
        if found is None:
            found = make()
            with self._lock:
                if len(cache) >= COMPILED_CACHE_SIZE:
                    cache.clear()
                cache[key] = found
        return found

    def _version(self, name: str, version: int) -> Policy:
        return self._cached(self._policies, (name, version), lambda: self.store.get(name, version))

    def compiled(self, policy: Policy) -> CompiledPolicy:
        catalogue = self.recommender.catalogue
        return self._cached(self._compiled, (id(catalogue), policy.name, int(policy.version or 0)),
                            lambda: compile_policy(policy, catalogue))

    def recommend(self, policy: Policy, **fields: Any) -> PolicyResult:
        """`serve` for a request given as fields of `RecommendRequest` (user_id, history, k,
        exclude_seen, include_unavailable, alpha), checked by it."""
        return self.serve(policy, rq.RecommendRequest.of(**fields))

    def serve(self, policy: Policy, request: rq.RecommendRequest) -> PolicyResult:
        """Top-k under `policy` for a shopper, a what-if history, or (unknown) trending.
        Items that cannot be bought now are left out unless the policy or the request
        includes them. The model scores at the request's `alpha`, else the diversify
        stage's, else the run's own (loss-conditioned runs). The request's own ranking
        knobs (method, weight, quotas, ...) give way to the policy's."""
        service = self.recommender
        catalogue = service.catalogue
        user_id, history, alpha = request.user_id, request.history, request.alpha
        exclude_seen, include_unavailable = request.exclude_seen, request.include_unavailable
        k = check_k(request.k, catalogue.n_items)
        stage = next((s for s in policy.stages if isinstance(s, DiversifyStage)), None)
        check_work(k, policy.n_candidates, "none" if stage is None else stage.method)
        note_for, notice = None, None
        if stage is not None and stage.quotas and set(stage.quotas) <= set(
                catalogue.category_names):  # quotas no list of k can meet: as a plain request
            rq.quota_map(stage.quotas, catalogue.category_names, k,
                         catalogue.category_supply)
        if alpha is None and stage is not None and stage.alpha is not None:
            try:  # the stage's alpha is the policy's: one the run cannot take fails the policy
                service.model_at(stage.alpha)
            except RequestError as exc:
                raise PolicyFailed(policy.reference, str(exc)) from exc
            alpha = stage.alpha
        served_alpha = service.served_alpha(alpha)
        left_out = left_out_positions(catalogue.unavailable,
                                      include_unavailable or policy.include_unavailable)
        focus = plan_focus(self.compiled(policy), left_out) \
            if service.retrieval.active else None
        shopper = service._shopper_scores(catalogue, user_id, history, alpha, focus=focus)
        if shopper is not None:
            past, scores, user = shopper
        else:
            past, scores, user = np.empty(0, dtype=np.int64), service.trending(catalogue, k), -1
            notice, note_for = fallback_notice(user_id, history), trending_note(scores)
        scores = np.array(scores, dtype=np.float64)
        scores[left_out] = -np.inf
        try:
            result = self._apply(policy, catalogue, scores, past, k, exclude_seen,
                                 (notice, note_for), len(left_out), (service.model_at(alpha), user))
        except Exception as exc:  # any failure of a policy must not take serving down:
            # the caller serves the plain ranking for this request and counts it
            raise PolicyFailed(policy.reference, f"{type(exc).__name__}: {exc}"[:300]) \
                from exc
        return dataclasses.replace(result, alpha=served_alpha)

    def _apply(self, policy: Policy, catalogue: Catalogue, scores: np.ndarray,
               past: np.ndarray, k: int, exclude_seen: bool,
               notes: tuple[str | None, Callable[[int], str | None] | None], left_out: int,
               scorer: tuple[Any, int]) -> PolicyResult:
        notice, note_for = notes
        compiled = self.compiled(policy)
        batch = shopper_batch(catalogue, scores, past, exclude_seen, compiled)
        lists = apply_policy(compiled, batch, k, count_removed=True)
        found = ([notice] if notice else []) + [*compiled.notices, *lists.notices[0]]
        stage = compiled.diversify
        rows = result_rows(catalogue, compiled, lists, past, note_for, scorer)
        user = scorer[1]
        rows = with_buy_again(compiled.buy_again, catalogue,
                              None if user < 0 else str(catalogue.user_index[user]), rows,
                              compiled.static_allowed & np.isfinite(scores), k)
        return PolicyResult(items=rows,
                            notice=Explanation(found) if found else None,
                            policy=compiled.name,
                            removed=removal_counts(lists, 0),
                            method="none" if stage is None else stage.method,
                            diversity_weight=0.0 if stage is None else stage.weight,
                            unavailable_left_out=left_out)
