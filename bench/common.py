"""What the benchmarks share: where reports go and how they are written, the machine line, the
data sets and re-rank methods measured, finding (or training) a run, and percentiles.

Every benchmark is run from the repository root as `python -m bench.<concern>.<script>` and
writes `<name>.json` plus its Markdown table to `--out` (docs/benchmarks/ by default).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Reports are written through the engine's one atomic writer: a reader never sees half a file.
from engine.core.files import write_json_atomic as write_json
from engine.core.files import write_text_atomic as write_atomic
from engine.rerank.methods import DIVERSIFY_METHODS, METHODS, SWEEP_METHODS

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "docs" / "benchmarks"
SHARED_DATA = REPO.parent / "shared" / "data"
AMAZON = SHARED_DATA / "amazon-scientific"

# The public data sets measured, each with its split: ML-100K as RecBole splits it (random
# 8:1:1 per user), Amazon-Scientific by time (leave-last-out).
DATASETS: dict[str, str] = {"ml-100k": "random", "amazon-scientific": "leave-last-out"}

# The engine's re-rank methods (engine.rerank.methods), never listed again here: those that
# diversify, those a weight sweep covers (quota needs per-category floors and caps, so sweeps
# leave it out), and those the serving benchmarks request (the sweep's and `none`).
DIVERSIFY = DIVERSIFY_METHODS
SWEEP = SWEEP_METHODS
SERVE_METHODS: tuple[str, ...] = tuple(m for m in METHODS if m == "none" or m in SWEEP)

# Two-tower settings measured best per data set (docs/benchmarks.md, "Two-tower model: what
# was measured"), passed to `prism train` as --set options. ML-100K: titles alone carry
# little; films carry several genres each and the catalogue's genre prior is
# Drama/Comedy-heavy, so the diversity target mixes in a uniform prior.
DATASET_SETTINGS: dict[str, list[str]] = {
    "ml-100k": ["use_text=false", "diversity_prior=uniform"]}

RESAMPLES = 2000  # bootstrap resamples of every shopper-level interval in the reports


def add_out(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `--out` option every benchmark takes: the folder its reports are written to."""
    parser.add_argument("--out", type=Path, default=OUT_DIR,
                        help="folder for the JSON and Markdown reports (default docs/benchmarks)")
    return parser


def write_results(out_dir: Path, name: str, results: dict[str, Any],
                  render: Callable[[dict[str, Any]], str]) -> None:
    """Write `results` to `<out_dir>/<name>.json` and `render(results)` to `<name>.md`."""
    write_json(Path(out_dir) / f"{name}.json", results)
    write_atomic(Path(out_dir) / f"{name}.md", render(results))


def read_json(path: Path) -> dict[str, Any]:
    """A report written before (to merge a rerun part into), or {} when there is none."""
    return json.loads(path.read_text()) if path.exists() else {}


def load_average() -> list[float]:
    """The 1-, 5- and 15-minute load averages: how busy the shared machine was."""
    return [round(x, 2) for x in os.getloadavg()]


def process_memory_gb() -> dict[str, float]:
    """This process's resident memory now and its peak, GiB. Read from /proc/self/status
    (VmRSS, VmHWM): `getrusage`'s ru_maxrss would report the peak of the process that started
    this one when that was larger, since Linux carries it across fork and exec."""
    try:
        fields = dict(line.split(":", 1) for line in
                      Path("/proc/self/status").read_text().splitlines() if ":" in line)
        now, peak = (int(fields[name].split()[0]) for name in ("VmRSS", "VmHWM"))
    except (OSError, KeyError, ValueError):  # no /proc: the peak is the best known
        import resource

        now = peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rss_gb": round(now / 2**20, 3), "peak_rss_gb": round(peak / 2**20, 3)}  # KiB


def machine() -> dict[str, Any]:
    """Where the numbers come from, including how busy the machine was when they were taken."""
    return {"machine": platform.machine(), "cpu_cores": os.cpu_count(),
            "system": platform.system(), "python": platform.python_version(),
            "load_average_1min": load_average()[0]}


def machine_line(info: dict[str, Any] | str) -> str:
    """`machine()` as the sentence a report prints (a report written before it: as written)."""
    if isinstance(info, str):
        return info
    return (f"{info['machine']}, {info['cpu_cores']} CPU cores, Python {info['python']}, "
            f"1-minute load average {info.get('load_average_1min', '?')} when measured "
            "(the machine is shared, so absolute numbers vary run to run)")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(round(q / 100.0 * len(ordered) + 0.5)))
    return ordered[min(rank, len(ordered)) - 1]


def ensure_run(run: str | None, data: Path, out: Path, model: str, epochs: int) -> Path:
    """`run` when given; else train `model` on `data` into `out` (reused when already there)."""
    if run:
        return Path(run)
    if not data.is_dir():
        sys.exit(f"bench: data folder {data} not found; pass --run RUN or --data DIR")
    if (out / "run.json").exists():
        return out
    from engine.core.config import EncoderConfig, TrainConfig
    from engine.models.registry import get_model_class
    from engine.training.pipeline import train
    from engine.training.spec import TrainSpec

    print(f"bench: training a quick {model} run on {data.name} into {out}", file=sys.stderr)
    model_class = get_model_class(model)  # as `prism train --data D --model M --epochs E`
    train(TrainSpec(data, out=out, model=model, search_vectors=True,
                    train_config=TrainConfig(epochs=epochs) if model_class.trains_in_epochs
                    else None,
                    encoder_config=EncoderConfig() if model_class.reads_text else None))
    return out


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
