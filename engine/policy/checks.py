"""Before a policy goes live: check it against the runs it will serve, then try it.

`servable_problems` compiles the policy on a run's catalogue (an unknown column is an error)
and lists everything that refers to what the run lacks — a brand, category or pinned item no
item carries, a segment no shopper can be in, a pin slot beyond the candidates — then serves
it to a sample of that run's shoppers (and an unknown one, who gets trending items). A policy
with any problem is refused by `require_servable` with one message naming each, so a bad
policy is stopped at publish instead of reaching shoppers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from engine.core.errors import ConfigError, RequestError
from engine.core.messages import Listing, Message
from engine.policy.compile import compile_policy, stage_label
from engine.policy.schema import Policy
from engine.policy.serving import PolicyFailed, PolicyServer

SAMPLE_SHOPPERS = 20
SAMPLE_K = 10


class PolicyRejected(ConfigError):
    """A policy that would fail or do nothing on a run it is published to."""


def sample_shoppers(user_ids: list[str], n: int = SAMPLE_SHOPPERS) -> list[str | None]:
    """`n` shoppers spread evenly over the run's list (deterministic), and an unknown one."""
    if not user_ids:
        return [None]
    picks = np.unique(np.linspace(0, len(user_ids) - 1, num=min(n, len(user_ids))).astype(int))
    return [user_ids[i] for i in picks.tolist()] + [None]


def _static_problems(policy: Policy, recommender: Any) -> list[str]:
    """The compiled policy's notices and its pins and alpha the run cannot take, each stage
    named by the label its notices and attribution use."""
    catalogue = recommender.catalogue
    try:
        compiled = compile_policy(policy, catalogue)
    except ConfigError as exc:
        return [str(exc)]
    largest = min(policy.n_candidates, catalogue.n_items)
    problems = list(compiled.notices)
    problems += [Message("slot_beyond", stage=pin.label, slot=pin.slot, largest=largest)
                 for pin in compiled.pins if pin.slot > largest]
    stage = compiled.diversify
    if stage is not None and stage.alpha is not None:
        try:
            recommender.model_at(stage.alpha)
        except RequestError as exc:
            problems.append(Message("stage_problem", stage=stage_label(stage),
                                    problem=exc.message or str(exc)))
    return problems


def servable_problems(policy: Policy, recommender: Any, store: Any) -> list[str]:
    """What stops `policy` from serving the run `recommender` serves (empty: nothing)."""
    server = PolicyServer(recommender, store)
    if not server.serves(policy):
        return [Message("scoped_elsewhere", scope=policy.scope.describe(), run=server.run_name)]
    problems = _static_problems(policy, recommender)
    if problems:
        return problems
    failures: list[str] = []
    shoppers = sample_shoppers(list(recommender.user_ids))
    for user in shoppers:
        try:
            server.recommend(policy, user_id=user, k=min(SAMPLE_K, recommender.catalogue.n_items))
        except PolicyFailed as exc:
            failures.append(exc.reason)
    if failures:
        problems.append(Message("failed_for_shoppers", failed=len(failures),
                                sampled=len(shoppers), first=failures[0]))
    return problems


def require_servable(policy: Policy, recommenders: Iterable[Any], store: Any) -> None:
    """Raise PolicyRejected naming every problem of `policy` on each of `recommenders`."""
    found = []
    for recommender in recommenders:
        problems = servable_problems(policy, recommender, store)
        if problems:
            found.append(Message("problems_on_run", run=recommender.run.path.name,
                                 problems=Listing(problems[:5], "; ")))
    if found:
        raise PolicyRejected(Message("not_published", reference=policy.reference,
                                     problems=Listing(found, " | ")))
