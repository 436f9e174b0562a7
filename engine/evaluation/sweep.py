"""The accuracy–diversity trade-off: evaluate a run under every re-ranker and diversity weight.

`sweep` gives one row per (method, weight) with the evaluation harness's metrics — the data
for the Pareto chart. Users are scored once and the scores replayed for every point, so a
sweep costs one scoring pass plus the re-ranking. `best_at_equal_entropy` compares methods
fairly: each method's NDCG-vs-entropy curve is interpolated on a common entropy grid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Self

import numpy as np
import pandas as pd

from engine.core.checks import check_target_mix, parse_number
from engine.core.errors import ConfigError, RunError
from engine.data import Dataset
from engine.evaluation.protocol import (
    RerankSpec,
    evaluate_model,
    held_out_scores,
    histories_before_test,
)
from engine.models.base import BaseModel, TrainData, seen_matrix
from engine.rerank.targets import DEFAULT_TARGET_MIX
from engine.runs.data import split_like_run

SCORE_CACHE_BYTES = 1024 * 2**20  # above this, score on the fly instead of caching
TIE = "tie"
TIE_TOLERANCE = 1e-12  # NDCG differences below this are float noise
ALPHA_METHOD = "alpha"  # sweep rows of a loss-conditioned model at its own alpha (weight = alpha)


class ScoreReplay(BaseModel):
    """Wraps a fitted model: scores the given test users once, then replays those rows.

    The rows are what the harness scores for the test part: a sequential model reads each
    user's training + validation history (as `engine.evaluation.protocol.rank_users` does), so the
    replay itself is not sequential and `score_users` returns those rows.
    """

    sequential = False

    def __init__(self, model: BaseModel, users: np.ndarray, data: TrainData) -> None:
        self.model = model
        self.name = model.name
        self.position = np.full(data.n_users, -1, dtype=np.int64)
        self.position[users] = np.arange(len(users))
        history = histories_before_test(data) if model.sequential else None
        blocks = [held_out_scores(model, data, users[s:s + 1024], history)
                  for s in range(0, len(users), 1024)]
        self.scores = np.concatenate(blocks) if blocks else np.zeros((0, 0), dtype=np.float32)

    def fit(self, data: TrainData, callbacks: Sequence[Any] = ()) -> Self:
        return self

    def score_users(self, user_idx: np.ndarray) -> np.ndarray:
        rows = self.position[np.asarray(user_idx, dtype=np.int64)]
        if (rows < 0).any():
            raise RunError("this score replay holds only the sampled test users")
        return self.scores[rows]

    def score_histories(self, histories: list[np.ndarray],
                        timestamps: list[np.ndarray] | None = None) -> np.ndarray:
        return self.model.score_histories(histories, timestamps)

    def item_vectors(self) -> np.ndarray | None:
        return self.model.item_vectors()

    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return self.model.get_state()

    @classmethod
    def from_state(cls, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> Self:
        raise RunError("a score replay is not saved; save the wrapped model instead")


def train_data_for(run: Any, data: Any) -> TrainData:
    """TrainData for a run: given as is, or split from a Dataset the way the run was."""
    if isinstance(data, Dataset):
        _, data = split_like_run(data, run.meta)
    if not isinstance(data, TrainData):
        raise ConfigError(f"sweep needs a Dataset or TrainData, got {type(data).__name__}")
    if list(data.item_ids) != run.item_ids:
        raise RunError(f"the data's catalogue ({data.n_items} items) is not the run's "
                       f"({len(run.item_ids)} items, same order); sweep the run with the data "
                       "it was trained on")
    return data


def sample_users(data: TrainData, n_users: int | None, seed: int) -> np.ndarray:
    """Test users to evaluate: all of them, or `n_users` drawn reproducibly."""
    users, _ = data.truth(data.test)
    if n_users is None or n_users >= len(users):
        return users
    if n_users < 1:
        raise ConfigError(f"n_users must be >= 1, got {n_users}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(users, size=n_users, replace=False))


def safe_candidates(data: TrainData, n_candidates: int) -> int:
    """Candidate pool no larger than what every user has left unseen.

    The harness pads short candidate lists with -1 and -inf relevance, which the re-rankers
    reject; a pool every user can fill avoids the padding on small catalogues.
    """
    most_seen = int(np.diff(seen_matrix(data, "test").indptr).max(initial=0))
    return max(1, min(n_candidates, data.n_items - most_seen))


def sweep_points(methods: Sequence[str], weights: Sequence[float],
                 quotas: dict[int, tuple[int | None, int | None]] | None = None,
                 ) -> list[tuple[str, float]]:
    """(method, weight) pairs; 'none' ignores the weight, so it is evaluated once at 0.
    'quota' needs `quotas`."""
    if not methods or not weights:
        raise ConfigError("sweep needs at least one method and one weight")
    points: list[tuple[str, float]] = []
    for method in dict.fromkeys(methods):
        for weight in ([0.0] if method == "none" else sorted(set(map(float, weights)))):
            RerankSpec(method, weight, quotas=quotas)  # validates name, range, quotas
            points.append((method, weight))
    return points


def sweep(run: Any, data: Any, methods: Sequence[str], weights: Sequence[float], *, k: int = 10,
          n_users: int | None = None, seed: int = 0, n_candidates: int = 200,
          on_point: Callable[[str, float], None] | None = None,
          target_mix: float = DEFAULT_TARGET_MIX,
          quotas: dict[int, tuple[int | None, int | None]] | None = None,
          intervals: int = 0, alphas: Sequence[float] = ()) -> pd.DataFrame:
    """One row per (method, weight): method, weight, then every metric of the harness.

    `alphas`: rows of method ALPHA_METHOD, the run's loss-conditioned model scored at each
    alpha with no re-ranking (weight = alpha): the model's own trade-off curve beside the
    re-rankers'. A run that cannot take an alpha raises RequestError before any work.

    `intervals` > 0 adds `<metric> low`/`high` columns: 95% bootstrap intervals over the
    sampled shoppers with that many resamples.

    `target_mix` (γ) sets the calibrated re-ranker's target (1 − γ)·h_u + γ·g; `quotas`
    (category column -> (floor, cap)) constrain every method's lists ('quota' needs them).
    """
    target_mix = check_target_mix(target_mix)
    points = sweep_points(methods, weights, quotas) if methods else []
    alpha_models = [(float(a), run.model.at_alpha(float(a))) for a in sorted(set(alphas))]
    if not points and not alpha_models:
        raise ConfigError("sweep needs at least one method and one weight, or alphas")
    data = train_data_for(run, data)
    users = sample_users(data, n_users, seed)
    n_candidates = safe_candidates(data, n_candidates)
    model = _replayed(run.model, users, data)
    rows = []

    def add(method: str, weight: float, scorer: BaseModel, spec: Any) -> None:
        result = evaluate_model(scorer, data, k=k, rerank=spec, users=users,
                                intervals=intervals)
        rows.append({"method": method, "weight": weight, **result["metrics"],
                     "n_users": result["n_users"], "seconds": result["seconds"]["evaluate"]})
        if on_point is not None:
            on_point(method, weight)

    for method, weight in points:
        add(method, weight, model, RerankSpec(method, weight, n_candidates, target_mix,
                                              quotas if method != "none" else None))
    for alpha, at_alpha in alpha_models:
        add(ALPHA_METHOD, alpha, _replayed(at_alpha, users, data), None)
    return pd.DataFrame(rows)


def _replayed(model: BaseModel, users: np.ndarray, data: TrainData) -> BaseModel:
    """The model, or its scores for `users` cached once when they fit in SCORE_CACHE_BYTES."""
    if 4 * len(users) * data.n_items <= SCORE_CACHE_BYTES:
        return ScoreReplay(model, users, data)
    return model


def _metric_column(frame: pd.DataFrame, prefix: str) -> str:
    columns = [c for c in frame.columns if str(c).startswith(prefix)]
    if not columns:
        raise ConfigError(f"sweep table has no {prefix}K column; columns: {list(frame.columns)}")
    return columns[0]


def best_at_equal_entropy(frame: pd.DataFrame, n_grid: int = 21) -> pd.DataFrame:
    """NDCG@K of each method interpolated on a common category-entropy grid, and the best.

    The grid spans the entropy range every method reaches (the overlap of their curves), so
    no method is extrapolated. Methods with a single point ('none') are left out. Returns
    columns `entropy`, one per method, and `best` (`"tie"` where the top NDCG is shared);
    empty when the curves do not overlap.
    """
    quality, entropy = _metric_column(frame, "ndcg@"), _metric_column(frame, "category_entropy@")
    curves = {}
    for method, group in frame.groupby("method", sort=False):
        points = group.groupby(entropy)[quality].max()  # equal entropy: keep the better point
        if len(points) >= 2:
            curves[method] = (points.index.to_numpy(float), points.to_numpy(float))
    if not curves:
        return pd.DataFrame(columns=["entropy", "best"])
    low = max(x.min() for x, _ in curves.values())
    high = min(x.max() for x, _ in curves.values())
    if high < low:
        return pd.DataFrame(columns=["entropy", *curves, "best"])
    grid = np.linspace(low, high, n_grid)
    table = pd.DataFrame({"entropy": grid})
    for method, (x, y) in curves.items():
        table[method] = np.interp(grid, x, y)
    values = table[list(curves)]
    # at weight 0 every method gives the same list: a shared maximum is nobody's win
    shared = (values >= values.max(axis=1).to_numpy()[:, None] - TIE_TOLERANCE).sum(axis=1) > 1
    table["best"] = values.idxmax(axis=1).where(~shared, TIE)
    return table


def equal_entropy_summary(grid: pd.DataFrame) -> dict[str, Any]:
    """Which method wins most grid points (ties count for nobody), and mean NDCG per method."""
    methods = [c for c in grid.columns if c not in ("entropy", "best")]
    if grid.empty or not methods:
        return {"winner": None, "wins": {}, "ties": 0, "mean_ndcg": {}, "entropy_range": None}
    wins = grid["best"].value_counts().reindex(methods, fill_value=0)
    return {"winner": str(wins.idxmax()) if wins.max() > 0 else None,
            "wins": {m: int(wins[m]) for m in methods},
            "ties": int((grid["best"] == TIE).sum()),
            "mean_ndcg": {m: round(float(grid[m].mean()), 5) for m in methods},
            "entropy_range": [round(float(grid["entropy"].min()), 4),
                              round(float(grid["entropy"].max()), 4)]}


def parse_weights(text: str, option: str = "--diversity-weights") -> list[float]:
    """'0,0.25,0.5' or '0,0.1,...,1' (a to c in steps of b − a) → sorted weights."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) == 4 and parts[2] == "...":
        first, second, last = (parse_number(p, option) for p in (parts[0], parts[1], parts[3]))
        step = second - first
        if step <= 0 or last < first:
            raise ConfigError(f"{option} {text!r}: write 'a,b,...,c' with a < b and a <= c")
        count = int(round((last - first) / step)) + 1
        return [round(first + i * step, 10) for i in range(count)]
    if not parts or "..." in parts:
        raise ConfigError(f"{option} {text!r}: give numbers like 0,0.5,1 or 0,0.1,...,1")
    return [parse_number(p, option) for p in parts]
