"""`prism exposure`: the exposure ledger of a run, and fitting prices that meet targets.

    prism exposure --run R --by brand --json OUT            the ledger of all test shoppers
    prism exposure --run R --targets T.json --json OUT      ledger + how far targets are
    prism exposure --run R --targets T.json --fit --prices P.json --json OUT
                                                            fit prices, save them, show after
    prism exposure --run R --prices P.json --by brand       the ledger with saved prices
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError
from tqdm import tqdm

from engine.cli.options import add_diversity_weight_option, integer
from engine.core.errors import ConfigError
from engine.core.files import write_json_atomic
from engine.core.messages import render
from engine.exposure.context import ExposureContext
from engine.exposure.groups import GroupSpec, grouping_for_run
from engine.exposure.ledger import exposure_ledger, format_table
from engine.exposure.prices import ExposurePrices, target_report, target_summary
from engine.exposure.targets import load_targets
from engine.policy.compile import compile_policy
from engine.policy.preview import load_inputs, replay
from engine.policy.schema import parse_policy
from engine.policy.store import PolicyStore
from engine.rerank.methods import QUOTA_FREE_METHODS

GROUPINGS = "brand|top_category|price_band|promo|new|popularity|COLUMN"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `exposure` to the `prism` parser."""
    parser = subparsers.add_parser("exposure", help="exposure ledger by group; fit prices that "
                                   "meet population exposure targets")
    parser.add_argument("--run", required=True, help="run folder")
    parser.add_argument("--data", default=None, help="dataset folder (default: the run's)")
    parser.add_argument("--by", default=None, help=f"grouping: {GROUPINGS} (default: the "
                        "targets' grouping, else brand)")
    parser.add_argument("--new-days", type=integer, default=30,
                        help="'new' = first seen in the last N days")
    parser.add_argument("--policy", default=None, help="ledger under a stored policy "
                        "(name or name@version) or a policy JSON file, instead of --method")
    parser.add_argument("--method", default="none", help="re-ranker after prices: "
                        + "|".join(QUOTA_FREE_METHODS))
    add_diversity_weight_option(parser, typed=True)
    parser.add_argument("--k", type=integer, default=10, help="list length")
    parser.add_argument("--users", type=integer, default=None,
                        help="test shoppers to sample (default all)")
    parser.add_argument("--targets", default=None, help="JSON target set (docs/exposure.md)")
    parser.add_argument("--fit", action="store_true", help="fit prices for --targets")
    parser.add_argument("--fit-users", type=integer, default=2000, help="shoppers to fit prices on")
    parser.add_argument("--prices", default=None, help="prices JSON: written by --fit, else read")
    parser.add_argument("--json", default=None, help="where to write the ledger JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run_exposure)


def _load_prices(path: str) -> Any:
    try:
        return ExposurePrices.model_validate_json(Path(path).read_text())
    except ValidationError as exc:
        raise ConfigError(render("{path} is not a prices file written by `prism exposure --fit` "
                                 "({n} {n:problem|problems}, first: {first})", path=path,
                                 n=exc.error_count(), first=exc.errors()[0]["msg"])) from None


def _fit(ctx: Any, targets: Any, args: argparse.Namespace, k: int) -> Any:
    """Fit on half of the --fit-users sample, report the targets on the other half."""
    rows = ctx.sample(args.fit_users, seed=0)
    with tqdm(total=None, desc="fitting prices", unit="step", disable=args.quiet,
              file=sys.stderr) as bar:
        checked = ctx.fit_and_check(targets, rows, k=k, on_iteration=lambda t, worst: (
            bar.update(1), bar.set_postfix(worst=f"{worst:.4f}")))
    fit = checked.fit
    for group, reach in fit.unreachable.items():
        print(f"prism: note: {group!r} can reach at most {reach:.2%} from the shoppers' "
              "candidates; it gets the largest price", file=sys.stderr)
    print(render("fitted {n} {n:price|prices} on {fit} shoppers in {seconds:.1f}s ({steps} "
                 "steps, largest violation {violation:.2%}); on the {check} other shoppers:",
                 n=len(fit.prices.prices), fit=len(checked.fit_rows), seconds=fit.seconds,
                 steps=fit.iterations, violation=fit.violation, check=len(checked.check_rows)))
    for label, report in (("before", checked.before), ("after", checked.after)):
        summary = target_summary(report)
        print(f"  {label}: {summary['met']} of {summary['n']} targets met exactly "
              f"(largest miss {100 * summary['worst']:.2f} pp)")
    return fit.prices


def _policy_ledger(args: argparse.Namespace, k: int) -> Any:
    """The ledger of the test shoppers' lists under a policy (the policy preview's replay)."""
    path = Path(args.policy)
    policy = parse_policy(path.read_text(), str(path)) if path.suffix == ".json" else \
        PolicyStore().resolve(args.policy)
    users = args.users
    inputs = load_inputs(args.run, args.data, users)
    lists = replay(inputs, [compile_policy(policy, inputs.catalogue)], k)[0].items
    grouping = grouping_for_run(inputs.run, GroupSpec(
        by=args.by or "brand", new_days=args.new_days))
    held_out = np.concatenate(inputs.truth) if inputs.truth else np.zeros(0, np.int64)
    return exposure_ledger(lists, grouping, held_out, {"n_shoppers": int(len(lists)),
                                                       "policy": policy.name,
                                                       "policy_version": policy.version})


def run_exposure(args: argparse.Namespace) -> int:
    """Print the ledger (and the targets' state); write JSON and fitted prices if asked."""
    k = args.k
    weight = args.diversity_weight
    if args.policy is not None:
        if args.targets or args.prices or args.method != "none":
            raise ConfigError("--policy replays a whole policy; leave out --method, --targets "
                              "and --prices (put an exposure_targets stage in the policy)")
        ledger = _policy_ledger(args, k)
        print(format_table(ledger))
        if args.json:
            write_json_atomic(Path(args.json), ledger.to_dict())
            print(f"ledger → {args.json}")
        return 0
    targets = load_targets(args.targets) if args.targets else None
    if args.fit and (targets is None or args.prices is None):
        raise ConfigError("--fit needs --targets FILE (what to meet) and --prices FILE (where "
                          "to save the fitted prices)")
    prices = _load_prices(args.prices) if args.prices and not args.fit else None
    ctx = ExposureContext.load(args.run, args.data)
    if targets is not None:
        ctx.grouping(targets.group_spec())  # unknown groups fail before any scoring
    if args.fit:
        prices = _fit(ctx, targets, args, k)
        write_json_atomic(Path(args.prices), json.loads(prices.model_dump_json()))
        print(f"prices → {args.prices}")
    spec = targets.group_spec() if targets is not None and args.by is None else GroupSpec(
        by=args.by or "brand", new_days=args.new_days)
    rows = ctx.sample(args.users)
    ledger = ctx.ledger(spec, rows, k=k, method=args.method, diversity_weight=weight,
                        prices=prices)
    print(format_table(ledger))
    if ledger.meta.get("note"):
        print(f"({ledger.meta['note']})")
    result = ledger.to_dict()
    if targets is not None:
        result["targets"] = target_report(ctx.lists(rows, k=k, method=args.method,
                                                    diversity_weight=weight, prices=prices),
                                          ctx.grouping(targets.group_spec()), targets, k)
        _print_targets(result["targets"])
    if args.json:
        write_json_atomic(Path(args.json), result)
        print(f"ledger → {args.json}")
    return 0


def _print_targets(report: list[dict[str, Any]]) -> None:
    summary = target_summary(report)
    print(f"targets: {summary['met']} of {summary['n']} met exactly, {summary['close']} within "
          f"1 pp (largest miss {100 * summary['worst']:.2f} pp)")
    for row in summary["missed"][:10]:
        sign = "≥" if row["bound"] == "min" else "≤"
        print(f"  {row['group']}: {row['share']:.2%} (target {sign} {row['target']:.2%})")
