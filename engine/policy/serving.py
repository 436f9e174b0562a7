"""Serve one shopper's list under a policy, with per-item attribution, without pandas.

`PolicyServer` wraps a Recommender and a PolicyStore: it resolves `name` / `name@version` /
the live version, compiles it once per (catalogue snapshot, policy version) and answers with
the `Recommendations` a plain request gets, plus the policy's name, each item's attribution and
what each stage removed. The live version is checked per
request through the store's publish counter (one indexed read), so a newly published version
is served without a restart.

Only policies whose scope covers the served run go live on it. A policy that fails while it is
applied (a bug, data it did not expect) raises `PolicyFailed`; the caller serves the plain
ranking for that request and says so, so one bad policy never takes serving down.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from engine.core.checks import check_k
from engine.core.errors import PrismError, RequestError
from engine.core.limits import check_work
from engine.core.messages import Explanation, Message
from engine.policy.attribution import list_attribution, removal_counts
from engine.policy.buy_again import with_buy_again
from engine.policy.compile import CompiledPolicy, compile_policy
from engine.policy.schema import DiversifyStage, Policy, split_reference
from engine.policy.store import PolicyStore
from engine.serving import requests as rq
from engine.serving.catalogue import Catalogue, bounded_cache
from engine.serving.ranking import Shopper, served_columns, shopper_lists
from engine.serving.results import Recommendations, object_column

COMPILED_CACHE_SIZE = 32


class PolicyFailed(PrismError):
    """Applying a policy failed; `reference` is name@version, the message says why."""

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(Message("policy_failed", reference=reference, reason=reason))
        self.reference, self.reason = reference, reason


@contextmanager
def applying(policy: Policy) -> Iterator[None]:
    """Any failure while `policy` is compiled or applied (a bug, data it did not expect)
    raises PolicyFailed: the caller serves the plain ranking for this request and counts it,
    so one bad policy never takes serving down."""
    try:
        yield
    except Exception as exc:  # the engine's own refusals say why in the reader's language
        said = exc.message if isinstance(exc, PrismError) else None
        raise PolicyFailed(policy.reference, said or f"{type(exc).__name__}: {exc}"[:300]) \
            from exc


class PolicyServer:
    """Policies for one Recommender: resolve, compile (cached), apply per request."""

    def __init__(self, recommender: Any, store: PolicyStore) -> None:
        self.recommender = recommender
        self.store = store
        # (name, version) -> (the snapshot it was compiled against, the compiled policy)
        self._compiled: dict[tuple[str, int], tuple[weakref.ref, CompiledPolicy]] = {}
        self._live: tuple[int, dict[str, int]] = (-1, {})
        self._policies: dict[tuple[str, int], Policy] = {}  # versions never change

    @property
    def run_name(self) -> str:
        return self.recommender.run.path.name

    def serves(self, policy: Policy) -> bool:
        """Whether `policy`'s scope covers the served run and its data set (no scope: every
        run)."""
        return policy.scope is None or policy.scope.covers(
            self.run_name, self.recommender.run.meta.get("dataset"))

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

    def _version(self, name: str, version: int) -> Policy:
        return bounded_cache(self._policies, (name, version), COMPILED_CACHE_SIZE,
                             lambda: self.store.get(name, version))

    def compiled(self, policy: Policy, catalogue: Catalogue | None = None) -> CompiledPolicy:
        """`policy` compiled against `catalogue` (default: the current snapshot), kept per
        stored version for as long as that snapshot is the one asked for."""
        catalogue = self.recommender.catalogue if catalogue is None else catalogue
        if policy.version is None:  # a draft: its name does not say what it holds
            return compile_policy(policy, catalogue)
        return bounded_cache(
            self._compiled, (policy.name, policy.version), COMPILED_CACHE_SIZE,
            lambda: (weakref.ref(catalogue), compile_policy(policy, catalogue)),
            fresh=lambda made: made[0]() is catalogue)[1]  # a new snapshot compiles anew

    def recommend(self, policy: Policy, **fields: Any) -> Recommendations:
        """`serve` for a request given as fields of `RecommendRequest` (user_id, history, k,
        exclude_seen, include_unavailable, alpha), checked by it."""
        return self.serve(policy, rq.RecommendRequest.of(**fields))

    def serve(self, policy: Policy, request: rq.RecommendRequest) -> Recommendations:
        """Top-k under `policy` for a shopper, a what-if history, or (unknown) trending.
        Items that cannot be bought now are left out unless the policy or the request
        includes them. The model scores at the request's `alpha`, else the diversify
        stage's, else the run's own (loss-conditioned runs). The request's own ranking
        knobs (method, weight, quotas, ...) give way to the policy's."""
        service = self.recommender
        catalogue = service.catalogue
        k = check_k(request.k, catalogue.n_items)
        stage = next((s for s in policy.stages if isinstance(s, DiversifyStage)), None)
        check_work(k, policy.n_candidates, "none" if stage is None else stage.method)
        if stage is not None and stage.quotas and set(stage.quotas) <= set(
                catalogue.category_names):  # quotas no list of k can meet: as a plain request
            rq.quota_map(stage.quotas, catalogue.category_names, k,
                         catalogue.category_supply)
        alpha = request.alpha
        if alpha is None and stage is not None and stage.alpha is not None:
            try:  # the stage's alpha is the policy's: one the run cannot take fails the policy
                service.model_at(stage.alpha)
            except RequestError as exc:
                raise PolicyFailed(policy.reference, str(exc)) from exc
            alpha = stage.alpha
        with applying(policy):
            compiled = self.compiled(policy, catalogue)
        with service.turns:  # one list at a time, as a plain request's (Recommender.turns)
            shopper = service.shopper(
                catalogue, compiled, request, k=k, alpha=alpha,
                include_unavailable=request.include_unavailable or policy.include_unavailable)
            with applying(policy):
                return self._apply(compiled, catalogue, shopper, k, request.exclude_seen)

    def _apply(self, compiled: CompiledPolicy, catalogue: Catalogue, shopper: Shopper,
               k: int, exclude_seen: bool) -> Recommendations:
        lists = shopper_lists(catalogue, compiled, shopper, k, exclude_seen=exclude_seen,
                              count_removed=True)
        found = [note for note in (shopper.notice, *compiled.notices, *lists.notices[0]) if note]
        columns = served_columns(catalogue, compiled, lists, shopper)
        columns["attribution"] = object_column(list_attribution(compiled, lists, 0))
        available = np.isfinite(shopper.scores)
        available[shopper.left_out] = False
        user = None if shopper.user < 0 else str(catalogue.user_index[shopper.user])
        columns = with_buy_again(compiled.buy_again, catalogue, user, columns,
                                 compiled.static_allowed & available, k)
        stage = compiled.diversify
        return Recommendations(columns=columns, notice=Explanation(found) if found else None,
                               policy=compiled.name, removed=removal_counts(lists, 0),
                               method="none" if stage is None else stage.method,
                               diversity_weight=0.0 if stage is None else stage.weight,
                               unavailable_left_out=len(shopper.left_out),
                               alpha=shopper.alpha)
