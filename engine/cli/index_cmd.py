"""`prism index build`: the candidate index a run serves large catalogues through."""

from __future__ import annotations

import argparse

from engine.access.roles import local_actor
from engine.cli.options import number
from engine.core.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `index` to the `prism` parser."""
    from engine.retrieval.runindex import DEFAULT_KIND, INDEX_KINDS

    index = subparsers.add_parser("index", help="a run's candidate index (large catalogues)")
    actions = index.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="build (or rebuild) the run's candidate index")
    build.add_argument("--run", required=True, help="run folder written by prism train")
    build.add_argument("--kind", default=DEFAULT_KIND, choices=INDEX_KINDS,
                       help=f"FAISS index kind (default {DEFAULT_KIND}; see "
                            "docs/benchmarks/ann_serving.md)")
    build.add_argument("--target-recall", type=number, default=0.95,
                       help="recall@100 against exact scoring the search setting is tuned to "
                            "reach on sample shoppers (default 0.95)")
    build.set_defaults(func=run_index_build)


def run_index_build(args: argparse.Namespace) -> int:
    from engine.access.gate import Gate
    from engine.retrieval.runindex import build_run_index

    Gate.require(local_actor("cli"), "train")  # the index changes what shoppers are shown
    if not 0.0 < args.target_recall <= 1.0:
        raise ConfigError(f"--target-recall must be in (0, 1], got {args.target_recall}")
    info = build_run_index(args.run, kind=args.kind, target_recall=args.target_recall)
    print(f"built a {info.kind} candidate index over {info.n_items:,} items of {args.run} in "
          f"{info.build_seconds:.1f}s: recall@{info.tune_n} {info.recall:.3f} against exact "
          f"scoring on {info.tune_queries} shoppers (setting {info.setting}, "
          f"{info.index_bytes / 2**20:.1f} MiB)")
    return 0
