"""GPU check: the engine's own code on CUDA against the CPU, stage by stage, on the synthetic shop.

    bash bench/gpu/check.sh                                  # picks a CUDA python, runs this
    python -m bench.gpu.check --device cuda                  # the full check, by hand
    python -m bench.gpu.check --smoke --device cpu --out /tmp/gc   # tiny CPU-only smoke

Stages, each under its own time limit (a stage that fails or runs out of time records its
error and the next stage runs; results are rewritten after every stage):
- data: `generate_shop(items, users)` → `build_dataset` → leave-last-out split;
- train: `TwoTowerModel.fit` (full softmax, bf16 autocast on CUDA) on the device for a few
  epochs and on the CPU for a capped number of batches; seconds per epoch = steady seconds
  per batch × batches per epoch (the CPU figure is extrapolated when the cap stops it early);
- score: `engine.evaluation.protocol.rank_users` (user tower + full-catalogue scores + `top_n` with
  seen items hidden) for the test users on each device, and the raw matmul + `torch.topk`
  bound on the same user vectors;
- rerank: `engine.rerank.rerank_batch` (mmr, dpp, calibrated) on each user's top candidates,
  numpy against torch on the device;
- encode: `engine.text.encoders.TextEncoder` (bf16 autocast on CUDA) over item texts on the device,
  and over a subset on the CPU (per-text rate, extrapolated to the device's text count).
Item text features in training are random unit vectors of the default encoder's width (384):
training cost does not depend on their values, and the CPU cannot encode 50,000 texts in time.
When the bundled encoder package is not installed, the encode stage uses a stand-in of the
same architecture (random weights, a WordPiece vocabulary trained on the shop's text) and
says so in the results. Results → docs/benchmarks/gpu.{json,md} (and $OUT when set); --smoke
writes to --out or a temporary folder, never to docs/. The smoke has no time limits: it trains
one whole epoch per fit and re-ranks every sampled user, so its results do not depend on how
fast or busy the machine is (`--deadline` applies to the full check only).

This script holds the sizes and the run; beside it, stages.py holds the stages,
timing.py the clocks and time limits, encoders.py the encoder choice and its stand-in,
report.py the results files and tables.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch

from bench.common import OUT_DIR
from bench.gpu.report import NAME, environment, print_table, write
from bench.gpu.stages import STAGES, Check
from bench.gpu.timing import StageTimeout, log, time_limit

FULL = {"items": 50_000, "users": 20_000, "epochs": 3, "train_soft_s": 60.0,
        "cpu_train_soft_s": 40.0, "score_users": 0, "rerank_users": 8192, "candidates": 200,
        "encode_texts": 5000, "cpu_encode_texts": 400,
        "budgets": {"data": 50, "train": 140, "score": 80, "rerank": 40, "encode": 60}}
# The smoke counts work, never seconds: one full epoch of batches per fit, every rerank user,
# no stage time limits, so a busy or slow machine gives the same (complete) results, later.
SMOKE = {"items": 400, "users": 150, "epochs": 1, "train_soft_s": None,
         "cpu_train_soft_s": None, "score_users": 0, "rerank_users": 64, "candidates": 40,
         "encode_texts": 12, "cpu_encode_texts": 4, "budgets": None}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"),
                        help="the accelerated side (cpu: same code path, for the smoke)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for gpu.json and gpu.md (default docs/benchmarks; "
                             "with --smoke a temporary folder)")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--deadline", type=float, default=420.0,
                        help="seconds for the whole run; stage limits shrink to fit")
    parser.add_argument("--encoder", default="auto",
                        help="auto | stand-in | a model folder (default: the bundled model, "
                             "else a stand-in of its shape)")
    parser.add_argument("--items", type=int)
    parser.add_argument("--users", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--score-users", type=int, help="0: every test user")
    parser.add_argument("--encode-texts", type=int)
    parser.add_argument("--cpu-encode-texts", type=int)
    return parser.parse_args(argv)


def stage_budget(sizes: dict[str, Any], name: str, deadline: float, later: int,
                 ) -> float | None:
    """Seconds a stage may run (shrunk so the later stages keep 10 s each); None: no limit."""
    if sizes["budgets"] is None:
        return None
    return min(sizes["budgets"][name], deadline - time.perf_counter() - 10 * later - 5)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    deadline = started + args.deadline
    sizes = {key: (value.copy() if isinstance(value, dict) else value)
             for key, value in (SMOKE if args.smoke else FULL).items()}
    for key in ("items", "users", "epochs", "score_users", "encode_texts", "cpu_encode_texts"):
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"no CUDA device visible to torch {torch.__version__}; use --device cpu",
              file=sys.stderr)
        return 2
    names = [name for name in args.stages.split(",") if name]
    unknown = sorted(set(names) - set(STAGES))
    if unknown:
        print(f"unknown stage(s) {unknown}; choose from {', '.join(STAGES)}", file=sys.stderr)
        return 2
    out_dir = args.out or (Path(tempfile.gettempdir()) / "prism-gpu-check-smoke" if args.smoke
                           else OUT_DIR)
    folders = [out_dir] + ([Path(os.environ["OUT"])] if os.environ.get("OUT") else [])
    check = Check(args, sizes)
    results: dict[str, Any] = {
        "command": "python -m bench.gpu.check " + " ".join(argv if argv is not None
                                                           else sys.argv[1:]),
        "smoke": args.smoke, "device": args.device, "environment": environment(check.device),
        "sizes": {k: v for k, v in sizes.items() if k != "budgets"}, "stages": {},
        "errors": {}, "budgets": {}, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    env = results["environment"]
    log(f"card {env['card']}, torch {env['torch']}, CUDA {env['cuda']}, "
        f"{env['cpu_threads']} CPU threads; sizes {results['sizes']}")
    for index, name in enumerate(names):
        budget = stage_budget(sizes, name, deadline, later=len(names) - index - 1)
        results["budgets"][name] = None if budget is None else round(budget, 1)
        if name != "data" and check.data is None:
            results["errors"][name] = "skipped: no data (the data stage failed)"
            continue
        if budget is not None and budget < 5:
            results["errors"][name] = "skipped: out of time"
            log(f"{name}: skipped, out of time")
            continue
        log(f"{name}: start" + ("" if budget is None else f" (limit {budget:.0f} s)"))
        stage_started = time.perf_counter()
        try:
            with contextlib.nullcontext() if budget is None else time_limit(budget):
                out = results["stages"][name] = {}  # kept, as far as it got, on failure
                getattr(check, f"stage_{name}")(
                    out, float("inf") if budget is None else stage_started + budget)
        except (Exception, StageTimeout) as exc:
            message = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300]
            results["errors"][name] = message
            log(f"{name}: FAILED {message}")
            if not isinstance(exc, StageTimeout):
                traceback.print_exc(limit=4)
        else:
            log(f"{name}: done in {time.perf_counter() - stage_started:.1f} s")
        results["total_seconds"] = round(time.perf_counter() - started, 1)
        write(results, folders)
    if not names:
        write(results, folders)
    print_table(results)
    print(f"\nwrote {', '.join(str(f / (NAME + '.json')) for f in folders)} (and .md)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
