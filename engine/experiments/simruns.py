"""Many simulated experiments at once, on the in-process path (lists made once per shopper,
behaviour drawn with numpy): the A/A false-winner rate, the planted-lift detection rate, and
the coverage of off-policy intervals. The API path (engine.experiments.simapi) runs the same
shop end to end, in fewer runs.

Each run is a fresh experiment name, so the keyed hash splits the shoppers anew; visits draw
shoppers uniformly with replacement (a shopper may come back, always to the same arm); the
merchandiser looks `peeks` times, evenly spaced, and a winner is declared at the first look
whose verdict is earned (engine.experiments.compare).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from engine.experiments.assign import Arm, Experiment, arm_for
from engine.experiments.compare import compare
from engine.experiments.explore import position_probabilities, sample_ranks
from engine.experiments.offpolicy import estimate
from engine.experiments.simulate import Shop


def list_grid(shop: Shop, item_index, rank: Callable[[str], Sequence[str]],  # noqa: ANN001
              k: int) -> np.ndarray:
    """(U, k) catalogue positions of `rank(user)` for every simulated shopper (−1 pads)."""
    grid = np.full((len(shop.users), k), -1, dtype=np.int64)
    for row, user in enumerate(shop.users):
        items = list(rank(user))[:k]
        grid[row, :len(items)] = item_index.get_indexer(items)
    return grid


def _arms(shop: Shop, experiment: Experiment, key: bytes) -> np.ndarray:
    names = [arm.name for arm in experiment.arms]
    return np.array([names.index(arm_for(experiment, user, key).name) for user in shop.users])


def one_experiment(shop: Shop, experiment: Experiment, grids: Sequence[np.ndarray],
                   lifts: Sequence[float], visits: int, peeks: int, key: bytes,
                   rng: np.random.Generator) -> dict:
    """One simulated experiment: the first look with a verdict (None: never) and the calls."""
    arm_of_user = _arms(shop, experiment, key)
    users = rng.integers(len(shop.users), size=visits)
    arm_of = arm_of_user[users]
    stacked = np.stack(grids)  # (arms, U, k)
    items = stacked[arm_of, users]
    clicks, buys = shop.draw(rng, users, items, np.asarray(lifts)[arm_of])
    values = {"clicks_per_list": clicks.sum(axis=1).astype(float),
              "conversion": buys.any(axis=1).astype(float)}
    values = {experiment.metric: values[experiment.metric]}
    for look in range(1, peeks + 1):
        seen = visits * look // peeks
        _, verdict = compare(experiment, {m: v[:seen] for m, v in values.items()},
                             arm_of[:seen], users[:seen])
        if verdict.decided:
            return {"look": look, "lists": seen, "calls": verdict.arms}
    return {"look": None, "lists": visits, "calls": {}}


def experiment_rates(shop: Shop, grids: Sequence[np.ndarray], lifts: Sequence[float], *,
                     runs: int, visits: int, peeks: int, key: bytes, seed: int = 0,
                     shares: Sequence[float] | None = None, label: str = "sim",
                     progress: Callable[[int, int], None] | None = None) -> dict:
    """Share of `runs` two-arm experiments (control A, test B) that declared a winner, and
    how many of those called B the winner when its planted lift is the larger."""
    shares = shares or (0.5, 0.5)
    rng = np.random.default_rng(seed)
    decided = right = 0
    looks: list[int] = []
    expected = "winner" if lifts[1] > lifts[0] else "loser"
    arms = (Arm("A", "none", float(shares[0])), Arm("B", "none", float(shares[1])))
    for run in range(runs):
        experiment = Experiment(name=f"{label}-{seed}-{run}", arms=arms)
        outcome = one_experiment(shop, experiment, grids, lifts, visits, peeks, key, rng)
        if outcome["look"] is not None:
            decided += 1
            looks.append(outcome["lists"])
            right += outcome["calls"].get("B") == expected
        if progress is not None:
            progress(run + 1, runs)
    return {"runs": runs, "lists_per_run": visits, "looks": peeks,
            "declared": decided, "declared_rate": round(decided / runs, 4),
            "b_called_as_planted": right,
            "median_lists_at_verdict": int(np.median(looks)) if looks else None}


def offpolicy_runs(shop: Shop, pool: np.ndarray, candidate: np.ndarray, *, k: int,
                   temperature: float, runs: int, visits: int, seed: int = 0,
                   progress: Callable[[int, int], None] | None = None) -> dict:
    """Log `visits` randomised lists (Plackett–Luce around `pool`, the logging ranking) per
    run and estimate the `candidate` lists' clicks per list; compare with the truth."""
    rng = np.random.default_rng(seed)
    m = pool.shape[1]
    table = position_probabilities(m, k, float(temperature))
    everyone = np.arange(len(shop.users))
    truth = float(shop.expected_clicks(everyone, candidate).mean())
    logging_truth = float(shop.expected_clicks(everyone, pool[:, :k]).mean())
    inside = float(np.mean([np.isin(candidate[u][candidate[u] >= 0], pool[u]).mean()
                            for u in everyone]))
    cover = {"ips": 0, "snips": 0, "dr": 0}
    estimates: dict[str, list[float]] = {"ips": [], "snips": [], "dr": []}
    widths: dict[str, list[float]] = {name: [] for name in cover}
    for run in range(runs):
        users = rng.integers(len(shop.users), size=visits)
        ranks = sample_ranks(m, k, temperature, rng, size=visits)
        shown = np.take_along_axis(pool[users], ranks, axis=1)
        propensity = table[ranks, np.arange(ranks.shape[1])[None, :]]
        clicks, _ = shop.draw(rng, users, shown)
        result = estimate(clicks, propensity, candidate[users] == shown, shown,
                          candidate[users])
        for name in cover:
            interval = getattr(result, name)
            cover[name] += interval.low <= truth <= interval.high
            estimates[name].append(interval.estimate)
            widths[name].append(interval.high - interval.low)
        if progress is not None:
            progress(run + 1, runs)
    return {"runs": runs, "lists_per_run": visits, "temperature": temperature, "pool": m,
            "truth_clicks_per_list": round(truth, 5),
            "logging_policy_clicks_per_list": round(logging_truth, 5),
            "candidate_items_in_pool": round(inside, 4),
            **{f"{name}_mean_estimate": round(float(np.mean(values)), 5)
               for name, values in estimates.items()},
            **{f"{name}_interval_covers_truth": round(cover[name] / runs, 4) for name in cover},
            **{f"{name}_mean_width": round(float(np.mean(values)), 5)
               for name, values in widths.items()},
            "last_run": result.to_dict()}
