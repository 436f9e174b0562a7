"""What the benchmark scripts share: writing a result as `<name>.json` plus its Markdown table."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def write_results(out_dir: Path, name: str, results: dict[str, Any],
                  render: Callable[[dict[str, Any]], str]) -> None:
    """Write `results` to `<out_dir>/<name>.json` and `render(results)` to `<name>.md`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (out_dir / f"{name}.md").write_text(render(results))


# Two-tower settings measured best per data set (docs/benchmarks.md, "Two-tower model: what
# was measured"), passed to `prism train` as --set options. ML-100K: titles alone carry
# little; films carry several genres each and the catalogue's genre prior is
# Drama/Comedy-heavy, so the diversity target mixes in a uniform prior.
DATASET_SETTINGS: dict[str, list[str]] = {
    "ml-100k": ["use_text=false", "diversity_prior=uniform"]}


RESAMPLES = 2000  # bootstrap resamples of every shopper-level interval in the reports


def test_ndcg_interval(model: Any, data: Any, k: int = 10) -> dict[str, Any]:
    """Test NDCG@k of a fitted model per shopper: its 95% bootstrap interval over shoppers."""
    from engine.evaluation.protocol import rank_users
    from engine.metrics import ndcg_at_k
    from engine.metrics.stats import mean_interval

    users, truth = data.truth(data.test)
    interval = mean_interval(ndcg_at_k(rank_users(model, data, users, k=k), truth, k),
                             n_resamples=RESAMPLES)
    return {"low": round(interval.low, 4), "high": round(interval.high, 4),
            "n_shoppers": int(len(users)), "resamples": RESAMPLES}


def machine() -> str:
    """The machine line every report starts with: architecture, CPU count, system."""
    return f"{platform.machine()} {os.cpu_count()} CPUs, {platform.system()}"
