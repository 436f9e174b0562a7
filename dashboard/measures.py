"""What the studio's numbers are called and mean, in words (no `st.*`, no computation).

Every metric's name, definition and explanation come from the engine's one vocabulary
(`engine.metrics.registry`), through the translation table (`metrics.<key>.*`); this module
names metric columns in the active language, holds the Explorer's explanation panel, and
the rounding that keeps a displayed zero from reading -0.000.
"""

from __future__ import annotations

import json
from pathlib import Path

from dashboard import state
from dashboard.i18n import t
from engine.core.messages import fixed
from engine.metrics.registry import parse_column

BENCHMARKS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
# The data sets the Training page's advice quotes, by the prefix its message uses
FRONTIER_DATASETS = {"ml": "ml-100k", "amz": "amazon-scientific"}
# The α the Training page recommends for a model trained at one α (its α slider starts at
# engine.core.config.DEFAULT_ALPHA; the primary button trains over DEFAULT_ALPHA_RANGE): with
# the default term it reaches +30% category entropy on
# Amazon-Scientific for about 2% of NDCG@10 (docs/benchmarks/frontier.md)
RECOMMENDED_ALPHA = 0.5

# The Explorer's "What do these numbers mean?" panel: the metrics it shows, then the two
# controls' meanings (catalogue `explained.<key>.*`: not metrics, so not in the registry)
EXPLAINED_METRICS = ("category_entropy", "category_coverage", "precision", "ild_vec", "ndcg")
EXPLAINED_CONTROLS = ("alpha", "explanation")
SCOPES = {"shopper": "metrics.scope_shopper", "sample": "metrics.scope_sample"}


def metric_name(key: str, k: int | str = "k") -> str:
    """A registry metric's name in the active language (catalogue `metrics.<key>.name`; the
    English messages equal `engine.metrics.registry`, a test keeps them so)."""
    return t(f"metrics.{key}.name", k=k)


def metric_help(key: str) -> str:
    """A registry metric's definition, for a tile's or column's tooltip."""
    return t(f"metrics.{key}.definition")


def column_label(column: str, k: int | str | None = None) -> str:
    """A metric column as the studio names it: `sample ild@10 low` → 'Sample · Category
    dissimilarity@10 low' (`k` given: shown in place of the column's, e.g. "k" for a row that
    holds each list's own length); a column that is not a metric keeps its name."""
    scope, _, rest = str(column).partition(" ")
    prefix = ""
    if scope in SCOPES and rest:
        prefix, column = t(SCOPES[scope]) + " · ", rest
    parsed = parse_column(column)
    if parsed is None:
        return prefix + str(column)
    metric, column_k, bound = parsed
    bound_text = f" {t('metrics.bound_' + bound)}" if bound else ""
    return prefix + metric_name(metric.key, column_k if k is None else k) + bound_text


def explained() -> dict[str, tuple[str, str]]:
    """{name: (definition in plain words, worked example)} in the active language."""
    rows = {metric_name(key): (t(f"metrics.{key}.explanation"), t(f"metrics.{key}.example"))
            for key in EXPLAINED_METRICS}
    rows.update({t(f"explained.{key}.name"): (t(f"explained.{key}.definition"),
                                              t(f"explained.{key}.example"))
                 for key in EXPLAINED_CONTROLS})
    return rows


def tile_texts(value: float, before: float | None, places: int) -> tuple[str, str | None]:
    """A metric tile's value and its change since `before` with `places` decimals, neither
    ever -0.000 (a one-category entropy, a change of -0.0003); no change shown when it
    rounds to zero or there is nothing before."""
    change = None if before is None else fixed(value - before, places)
    return fixed(value, places), None if change == fixed(0.0, places) else change


def measured_frontier(report: Path = BENCHMARKS / "frontier.json") -> dict[str, float] | None:
    """The joint loss against re-ranking alone over the entropy range both reach (the
    frontier's area), as bench/quality/frontier.py wrote it: joint − re-rank NDCG@10 and its paired
    95% interval per quoted data set (`ml_diff`, `ml_low`, `ml_high`, `amz_…`). None when the
    report is missing, unreadable or lacks a data set: the page then quotes nothing."""
    try:
        rows = {row["dataset"]: row for row in state.static_json(str(report))["datasets"]}
        quoted: dict[str, float] = {}
        for prefix, name in FRONTIER_DATASETS.items():
            area = rows[name]["comparison"]["difference"][-1]
            if area.get("at") != "area":
                return None
            quoted.update({f"{prefix}_diff": float(area["joint_minus_rerank"]),
                           f"{prefix}_low": float(area["low"]),
                           f"{prefix}_high": float(area["high"])})
    except (OSError, ValueError, KeyError, IndexError, TypeError, json.JSONDecodeError):
        return None
    return quoted


def privacy_values(privacy: dict) -> dict[str, str | int]:
    """run.json's privacy record as the cell's numbers, rounded for reading."""
    return {"epsilon": f"{privacy['epsilon']:g}",
            "spent": f"{privacy.get('epsilon_spent', privacy['epsilon']):.3g}",
            "delta": f"{privacy['delta']:.2g}", "noise": f"{privacy['noise_multiplier']:.3g}",
            "clip": f"{privacy['clip']:g}", "rate": f"{privacy['sample_rate']:.3g}",
            "epochs": int(privacy["epochs"])}
