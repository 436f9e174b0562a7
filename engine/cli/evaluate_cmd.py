"""`prism evaluate`: score a saved run on a dataset's split, optionally re-ranked."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli.options import (
    SPLITS,
    add_data_options,
    add_diversity_weight_option,
    add_target_mix_option,
    positive_integer,
    rerank_method,
)
from engine.cli.progress import summary
from engine.cli.quota_option import (
    add_quotas_option,
    check_quota_method,
    parse_quotas_option,
    quota_indices,
)
from engine.core.errors import ConfigError, DataError
from engine.core.files import write_json_atomic
from engine.evaluation.protocol import RerankSpec, evaluate_model
from engine.runs.data import load_run_split
from engine.runs.store import load_run, write_evaluation


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `evaluate` to the `prism` parser."""
    evaluate = subparsers.add_parser("evaluate", help="evaluate a run folder on a dataset")
    evaluate.add_argument("--run", required=True, help="run folder written by prism train")
    evaluate.add_argument("--data", required=True, help="dataset folder")
    add_data_options(evaluate, split_default=None)
    evaluate.add_argument("--k", default=10, type=positive_integer, help="list length K")
    evaluate.add_argument("--rerank", default="none", type=rerank_method,
                          help="none, mmr, dpp, calibrated or quota")
    add_diversity_weight_option(evaluate, typed=True)
    add_target_mix_option(evaluate, typed=True)
    add_quotas_option(evaluate)
    evaluate.add_argument("--json", required=True, help="where to write the evaluation JSON")
    evaluate.set_defaults(func=evaluate_command)


def evaluate_command(args: argparse.Namespace) -> int:
    """Evaluate a saved run on the dataset's split (the run's own split unless --split)."""
    named_quotas = parse_quotas_option(args.quotas)
    check_quota_method(args.rerank, named_quotas, "--rerank")
    if named_quotas and args.rerank == "none":
        raise ConfigError("--quotas applies to a re-ranked list: add --rerank quota (or mmr, "
                          "dpp, calibrated with quotas as constraints)")
    run = load_run(args.run)
    rerank = None if args.rerank == "none" else RerankSpec(
        args.rerank, args.diversity_weight, target_mix=args.target_mix,
        quotas=quota_indices(named_quotas, run.category_names))
    protocol = args.split or run.meta.get("split", "leave-last-out")
    if protocol not in SPLITS:
        raise DataError(f"run {args.run} records an unknown split {protocol!r}; pass --split "
                        f"({' or '.join(SPLITS)})")
    _, data = load_run_split(run.meta, run.path, data_path=args.data,  # type: ignore[misc]
                             fmt=args.format, protocol=protocol)  # --data given: never None
    if data.item_ids != run.item_ids:
        raise DataError(f"dataset {args.data} has {data.n_items} items but run {args.run} was "
                        f"trained on {len(run.item_ids)} different ones; evaluate on the data "
                        "the run was trained on, or retrain.")
    same_split = protocol == run.meta.get("split") and data.user_ids == run.user_ids
    if not same_split:
        print(f"prism: note: run {args.run} was trained on the {run.meta.get('split')} split; "
              f"scoring {protocol} from histories (known test items may have been trained on)",
              file=sys.stderr)
    evaluation = evaluate_model(run.model, data, k=args.k, rerank=rerank, protocol=protocol,
                                use_histories=not same_split,
                                fit_seconds=float(run.meta.get("fit_seconds", 0.0)))
    write_json_atomic(Path(args.json), evaluation)
    write_evaluation(run.path, evaluation)
    print(f"evaluated {run.model.name} on {Path(args.data).resolve().name} ({protocol}, "
          f"{evaluation['n_users']} users): {summary(evaluation)} → {args.json}")
    return 0
