"""Two trained runs on the same held-out shoppers: paired differences with 95% intervals.

A comparison of two runs' mean metrics says nothing about noise; this one ranks the test
shoppers both runs hold out (the same data by content, split and split seed: a copy of a
data folder imported elsewhere compares with the original), computes each list metric per
shopper for both, and bootstraps the per-shopper differences with one draw of shoppers for
every metric (a paired bootstrap, engine/metrics/stats.py). A difference is called a win only
when its interval excludes zero.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from engine.core.errors import ConfigError, DataError
from engine.evaluation.protocol import rank_users
from engine.metrics.stats import DEFAULT_RESAMPLES, bootstrap_means, comparison
from engine.metrics.summary import per_user_metrics
from engine.runs.data import load_run_split

METRICS = ("ndcg", "precision", "hit", "category_entropy", "category_coverage")


def same_shoppers(meta_a: dict[str, Any], meta_b: dict[str, Any]) -> str | None:
    """Why two runs do not hold out the same shoppers by their settings (None when they may:
    the data themselves are compared by `data_fingerprint`, not by folder)."""
    for key, what in (("split", "split"), ("seed", "split seed")):
        if meta_a.get(key) != meta_b.get(key):
            return (f"the runs differ in their {what} ({meta_a.get(key)!r} against "
                    f"{meta_b.get(key)!r}), so they were tested on different shoppers")
    return None


def data_fingerprint(data: Any) -> str:
    """A digest of a split's content: every (shopper id, item id) pair of its training,
    validation and test parts, by id and in sorted order, so the same events read from
    another folder or file format give the same digest."""
    digest = hashlib.sha256()
    users, items = np.asarray(data.user_ids, dtype=object), np.asarray(data.item_ids,
                                                                       dtype=object)
    for part in (data.train, data.valid, data.test):
        pairs = pd.DataFrame({"user": users[part["user_idx"].to_numpy()],
                              "item": items[part["item_idx"].to_numpy()]})
        pairs = pairs.sort_values(["user", "item"], kind="stable", ignore_index=True)
        digest.update(pd.util.hash_pandas_object(pairs, index=False).to_numpy().tobytes())
        digest.update(b"|")
    return digest.hexdigest()


def _load(run: Any) -> Any:
    """The run's TrainData re-read from its data folder (DataError when it is gone)."""
    loaded = load_run_split(run.meta, run.path)
    if loaded is None:
        raise DataError(f"run {run.path.name}: its data folder {run.meta.get('data_path')!r} "
                        "is gone, so its test shoppers cannot be ranked again; bring the data "
                        "back or compare runs whose data is present")
    return loaded[1]


def _per_shopper(run: Any, data: Any, k: int) -> tuple[list[str], dict[str, np.ndarray]]:
    """(test shopper ids, metric -> per-shopper values) of one run on its own split."""
    users, truth = data.truth(data.test)
    if len(users) == 0:
        raise DataError(f"run {run.path.name} has no test shoppers to compare on")
    top = rank_users(run.model, data, users, k=k)
    values = per_user_metrics(top, truth, k=k, item_categories=data.item_categories,
                              item_popularity=data.item_popularity,
                              category_names=data.category_names)
    return [data.user_ids[u] for u in users], values


def compare_runs(run_a: Any, run_b: Any, *, k: int = 10,
                 n_resamples: int | None = None) -> list[dict[str, Any]]:
    """One row per metric: A, B, A − B and its paired 95% interval over the shared shoppers.

    Rows: metric, a, b, diff, ci_low, ci_high, excludes_zero, n_shoppers. ConfigError when
    the runs were not tested on the same shoppers.
    """
    if (reason := same_shoppers(run_a.meta, run_b.meta)) is not None:
        raise ConfigError(f"cannot compare {run_a.path.name} with {run_b.path.name}: {reason}; "
                          "compare runs trained on the same data with the same split")
    data_a, data_b = _load(run_a), _load(run_b)
    if data_fingerprint(data_a) != data_fingerprint(data_b):
        raise ConfigError(f"cannot compare {run_a.path.name} with {run_b.path.name}: their data "
                          f"differ ({run_a.meta.get('data_path')!r} against "
                          f"{run_b.meta.get('data_path')!r} hold other events), so they were "
                          "tested on different shoppers; compare runs trained on the same data")
    users_a, values_a = _per_shopper(run_a, data_a, k)
    users_b, values_b = _per_shopper(run_b, data_b, k)
    position_b = {user: index for index, user in enumerate(users_b)}
    shared = [(index, position_b[user]) for index, user in enumerate(users_a)
              if user in position_b]
    if not shared:
        raise DataError(f"runs {run_a.path.name} and {run_b.path.name} share no test shopper")
    rows_a, rows_b = (np.array(side) for side in zip(*shared, strict=True))
    names = [f"{metric}@{k}" for metric in METRICS]
    a = np.vstack([values_a[name][rows_a] for name in names])
    b = np.vstack([values_b[name][rows_b] for name in names])
    # one draw of shoppers for every metric: column i is `paired_difference(a[i], b[i])`
    resampled = bootstrap_means(a - b, n_resamples or DEFAULT_RESAMPLES, seed=0)
    return [comparison(name, a[index].mean(), b[index].mean(), resampled[:, index],
                       {"n_shoppers": len(shared)}) for index, name in enumerate(names)]
