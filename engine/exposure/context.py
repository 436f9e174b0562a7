"""What the CLI, API, studio and benchmark share: a run, its held-out shoppers, their pools.

`ExposureContext.load(run)` reads the run and the data it was trained on (the run's own
`data_path`, or the folder given), splits it the way the run was split, and keeps the test
shoppers and their held-out items. `ledger` and `fit` then work on any sample of them;
`fit_and_check` is the one protocol that judges fitted prices: fit on every other shopper of a
sample, report the targets on the shoppers the prices never saw (the studio's Ledger page and
`prism exposure --fit` both use it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.core.errors import ConfigError, DataError
from engine.core.messages import Message
from engine.evaluation.protocol import RerankSpec
from engine.exposure.groups import Grouping, GroupSpec, grouping_for_run
from engine.exposure.ledger import Ledger, exposure_ledger
from engine.exposure.pool import Pool, candidate_pool, reranked
from engine.exposure.prices import ExposurePrices, PriceFit, fit_prices, target_report
from engine.exposure.targets import TargetSet
from engine.runs.data import load_run_split
from engine.runs.store import load_run

DEFAULT_CANDIDATES = 200


@dataclass
class CheckedFit:
    """Prices fitted on one half of a sample and the targets' state on the other half."""

    fit: PriceFit
    fit_rows: np.ndarray  # context rows the prices were fitted on
    check_rows: np.ndarray  # the held-out half they are judged on
    before: list[dict[str, Any]]  # target report on the check half without the prices
    after: list[dict[str, Any]]  # ... and with them


@dataclass
class ExposureContext:
    """A loaded run with its test shoppers (model user indices) and held-out items."""

    run: Any
    data: Any  # engine.models.base.TrainData
    users: np.ndarray  # (U,) test shoppers
    truth: list[np.ndarray]  # held-out item indices per shopper
    pools: dict[int, Pool] = field(default_factory=dict)
    groupings: dict[str, Grouping] = field(default_factory=dict)  # per GroupSpec (as JSON)

    @classmethod
    def load(cls, run: Any, data_path: str | Path | None = None) -> ExposureContext:
        run = load_run(run) if isinstance(run, str | Path) else run
        path = data_path or run.meta.get("data_path")
        if not path or not Path(path).exists():
            raise DataError(Message("run_data_gone", run=str(run.path), path=path or "unknown"))
        _, data = load_run_split(run.meta, run.path, data_path=path)  # type: ignore[misc]
        return cls.from_data(run, data, str(path))

    @classmethod
    def from_data(cls, run: Any, data: Any, where: str = "the data") -> ExposureContext:
        """A context over an already split TrainData (the studio keeps one per run)."""
        if list(data.item_ids) != run.item_ids:
            raise DataError(Message("run_data_differs", where=where, n=data.n_items,
                                    run=str(run.path), trained=len(run.item_ids)))
        users, truth = data.truth(data.test)
        return cls(run, data, users, truth)

    def sample(self, n_users: int | None = None, seed: int = 0) -> np.ndarray:
        """Row positions of `n_users` test shoppers drawn reproducibly (all when None)."""
        if n_users is None or n_users >= len(self.users):
            return np.arange(len(self.users))
        if n_users < 1:
            raise ConfigError(f"n_users must be >= 1, got {n_users}")
        return np.sort(np.random.default_rng(seed).choice(len(self.users), n_users,
                                                          replace=False))

    def subset(self, rows: np.ndarray) -> ExposureContext:
        """The same run restricted to some test shoppers (pools are scored anew)."""
        return ExposureContext(self.run, self.data, self.users[rows],
                               [self.truth[r] for r in rows], groupings=self.groupings)

    def pool(self, n_candidates: int = DEFAULT_CANDIDATES) -> Pool:
        """Every test shopper's candidate pool, scored once and kept."""
        if n_candidates not in self.pools:
            self.pools[n_candidates] = candidate_pool(self.run.model, self.data, self.users,
                                                      n_candidates)
        return self.pools[n_candidates]

    def grouping(self, spec: GroupSpec) -> Grouping:
        """The run's items grouped by `spec`, built once per spec and kept (the grouping reads
        every item: a million-item catalogue must not pay that on every ledger)."""
        key = spec.model_dump_json()
        if key not in self.groupings:
            self.groupings[key] = grouping_for_run(self.run, spec)
        return self.groupings[key]

    def lists(self, rows: np.ndarray, *, k: int = 10, method: str = "none",
              diversity_weight: float = 0.0, prices: ExposurePrices | None = None,
              n_candidates: int = DEFAULT_CANDIDATES) -> np.ndarray:
        """(len(rows), k) lists for those shoppers: prices added, then the re-ranker.

        `diversity_weight` is the serve-time re-rank weight in [0, 1] (0 = relevance order).
        """
        pool = self.pool(n_candidates).subset(rows)
        bonus = None if prices is None else prices.item_bonus(self.grouping(prices.group))
        return reranked(pool, k, RerankSpec(method, diversity_weight, n_candidates), self.run.model,
                        self.data, bonus)

    def ledger(self, spec: GroupSpec, rows: np.ndarray | None = None, **options: Any) -> Ledger:
        """The exposure ledger of those shoppers' lists (all test shoppers by default)."""
        rows = np.arange(len(self.users)) if rows is None else rows
        lists = self.lists(rows, **options)
        truth = [self.truth[r] for r in rows]
        held_out = np.concatenate(truth) if truth else np.zeros(0, np.int64)
        meta = {"n_shoppers": int(len(rows)), "method": options.get("method", "none"),
                "diversity_weight": float(options.get("diversity_weight", 0.0)),
                "prices": None if options.get("prices") is None else options["prices"].prices}
        return exposure_ledger(lists, self.grouping(spec), held_out, meta)

    def fit(self, targets: TargetSet, rows: np.ndarray, *, k: int = 10,
            n_candidates: int = DEFAULT_CANDIDATES,
            on_iteration: Callable[[int, float], None] | None = None, **options: Any) -> PriceFit:
        """Fit prices for `targets` on those shoppers (plain top-k of relevance + price)."""
        pool = self.pool(n_candidates).subset(rows)
        return fit_prices(pool, self.grouping(targets.group_spec()), targets, k=k,
                          on_iteration=on_iteration, **options)

    def fit_and_check(self, targets: TargetSet, rows: np.ndarray, *, k: int = 10,
                      on_iteration: Callable[[int, float], None] | None = None) -> CheckedFit:
        """Fit prices on every other shopper of `rows` and report the targets before and
        after on the rest: the shares new shoppers would see, not those the prices fitted."""
        rows = np.asarray(rows)
        fit_rows, check_rows = rows[::2], rows[1::2]
        fit = self.fit(targets, fit_rows, k=k, on_iteration=on_iteration)
        grouping = self.grouping(targets.group_spec())
        before = target_report(self.lists(check_rows, k=k), grouping, targets, k)
        after = target_report(self.lists(check_rows, k=k, prices=fit.prices), grouping,
                              targets, k)
        return CheckedFit(fit, fit_rows, check_rows, before, after)
