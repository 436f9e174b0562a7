"""`prism recommend | search | hot | sweep | items add | serve`: serving from the command line.

Heavy imports happen inside the handlers so `prism --help` stays fast. Bad input raises a
PrismError, which the dispatcher prints as one line with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import uvicorn
from tqdm import tqdm

from engine.cli.options import (
    add_diversity_weight_option,
    add_target_mix_option,
    integer,
    non_negative_integer,
    number,
    parse_target_mix,
    positive_integer,
)
from engine.cli.quota_option import (
    add_quotas_option,
    check_quota_method,
    parse_quotas_option,
    quota_indices,
)
from engine.core.errors import ConfigError
from engine.core.files import write_json_atomic
from engine.core.messages import fixed, render
from engine.evaluation.sweep import (
    best_at_equal_entropy,
    equal_entropy_summary,
    parse_weights,
    sweep,
    sweep_points,
)
from engine.rerank.methods import METHODS, SWEEP_METHODS
from engine.runs.data import load_run_dataset
from engine.runs.store import load_run
from engine.serving.availability import left_out_note
from engine.serving.coldstart import read_new_items
from engine.serving.recommender import Recommender
from engine.serving.requests import RecommendRequest

SHOWN_COLUMNS = ["rank", "item_id", "title", "category", "relevance", "diversity_gain", "score"]
TITLE_CHARS = 42
DEFAULT_WEIGHTS = "0,0.1,...,1"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the serving subcommands to the `prism` parser."""
    rec = subparsers.add_parser("recommend", help="top-k for a shopper or a what-if history")
    _run_option(rec)
    rec.add_argument("--user", default=None, help="shopper id (unknown → trending items)")
    rec.add_argument("--history", default=None, help="what-if session: item ids, comma-separated")
    rec.add_argument("--categories", default=None, help="only these categories (comma-separated)")
    rec.add_argument("--include-seen", action="store_true", help="keep already-bought items")
    rec.add_argument("--alpha", type=number, default=None,
                     help="the model's loss weight alpha, for a run trained over a range "
                          "(prism train --alpha 0:1); default: the run's own. The re-rank "
                          "weight is --diversity-weight")
    _list_options(rec)
    _retrieval_options(rec)
    add_target_mix_option(rec)
    add_quotas_option(rec)
    rec.set_defaults(func=run_recommend)

    search = subparsers.add_parser("search", help="text search, personalised with --user")
    _run_option(search)
    search.add_argument("--query", required=True, help="what to look for")
    search.add_argument("--user", default=None, help="shopper id to personalise for")
    _list_options(search)
    _retrieval_options(search)
    add_target_mix_option(search)
    search.set_defaults(func=run_search)

    hot = subparsers.add_parser("hot", help="trending items (time-decayed popularity)")
    _run_option(hot)
    hot.add_argument("--half-life", type=number, default=7.0,
                     help="days for a past interaction to halve")
    _list_options(hot)
    hot.set_defaults(func=run_hot)

    _register_sweep(subparsers)
    _register_items(subparsers)

    serve = subparsers.add_parser("serve", help="HTTP API (FastAPI + uvicorn) over a run")
    _run_option(serve)
    serve.add_argument("--port", type=integer, default=8000, help="TCP port (default 8000)")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--torch-threads", type=integer, default=1,
                       help="torch threads per scoring call (default 1: requests run in "
                            "parallel instead)")
    serve.add_argument("--workers", type=integer, default=1,
                       help="server processes, each with its own copy of the model (use the "
                            "number of cores for throughput)")
    _retrieval_options(serve)
    serve.set_defaults(func=run_serve)


def _register_sweep(subparsers: argparse._SubParsersAction) -> None:
    sweep = subparsers.add_parser("sweep", help="accuracy vs diversity for re-rankers × weights")
    _run_option(sweep)
    sweep.add_argument("--data", required=True, help="the dataset folder the run was trained on")
    sweep.add_argument("--methods", default=",".join(SWEEP_METHODS),
                       help=f"comma-separated, from {'|'.join(METHODS)}")
    sweep.add_argument("--diversity-weights", dest="diversity_weights", default=DEFAULT_WEIGHTS,
                       help="serve-time re-rank weights, comma-separated; 'a,b,...,c' means a "
                            "to c in steps of b-a")
    sweep.add_argument("--weights", dest="diversity_weights", default=argparse.SUPPRESS,
                       help=argparse.SUPPRESS)
    sweep.add_argument("--alphas", default=None,
                       help="also score a loss-conditioned run's model at these alphas "
                            "(e.g. 0,0.25,...,1), without re-ranking: rows of method 'alpha'")
    sweep.add_argument("--json", required=True, help="where to write the sweep JSON")
    sweep.add_argument("--users", type=integer, default=None,
                       help="evaluate this many random test users")
    sweep.add_argument("--k", type=integer, default=10, help="list length K")
    sweep.add_argument("--seed", type=integer, default=0, help="seed for the user sample")
    sweep.add_argument("--format", default="auto", help="dataset format (auto|csv|parquet|...)")
    sweep.add_argument("--intervals", type=non_negative_integer, default=1000, metavar="RESAMPLES",
                       help="bootstrap resamples of the 95%% intervals over shoppers printed "
                            "beside NDCG and entropy (0: none)")
    add_target_mix_option(sweep)
    add_quotas_option(sweep)
    sweep.set_defaults(func=run_sweep)


def _register_items(subparsers: argparse._SubParsersAction) -> None:
    items = subparsers.add_parser("items", help="manage a run's catalogue")
    commands = items.add_subparsers(dest="items_command", metavar="ACTION", required=True)
    add = commands.add_parser("add", help="add cold-start items (text, no events) to a run")
    add.add_argument("path", help="CSV or Parquet with item_id, title[, description, category, "
                                  "brand, price, promo]")
    _run_option(add)
    add.set_defaults(func=run_items_add)


def _run_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True, help="run folder written by prism train")


def _retrieval_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--retrieval", default="auto", choices=("auto", "exact"),
                        help="auto: score shoppers through the run's candidate index when it "
                             "has one (prism index build); exact: score every item")
    parser.add_argument("--candidates", type=positive_integer, default=None, metavar="N",
                        help="index candidates per shopper, re-ranked exactly (default 1000)")


def _list_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--k", type=integer, default=10, help="list length")
    parser.add_argument("--method", default="mmr", help="|".join(METHODS))
    add_diversity_weight_option(parser, typed=True)
    parser.add_argument("--json", dest="json_out", action="store_true",
                        help="print JSON rows instead of a table")
    parser.add_argument("--include-unavailable", action="store_true",
                        help="also list items that cannot be bought now (out of stock, draft, "
                             "archived; left out by default)")


def _load(args: argparse.Namespace) -> Any:

    return Recommender.load(args.run, retrieval=getattr(args, "retrieval", "auto"),
                            candidates=getattr(args, "candidates", None))


def _ids(text: str | None) -> list[str] | None:
    if text is None:
        return None
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        raise ConfigError(f"expected comma-separated ids, got {text!r}")
    return ids


def print_result(result: Any, as_json: bool = False) -> None:
    """A ranked list as an aligned table (explanations below) or JSON rows."""
    if result.notice:
        print(f"prism: note: {result.notice}", file=sys.stderr)
    if getattr(result, "alpha", None) is not None:
        print(f"prism: note: scored by the model at alpha {result.alpha:g}", file=sys.stderr)
    if result.unavailable_left_out:
        print(f"prism: note: {left_out_note(result.unavailable_left_out)}", file=sys.stderr)
    if as_json:
        print(json.dumps(result.records(), indent=2, ensure_ascii=False))
        return
    table = result.table[SHOWN_COLUMNS].copy()
    table["title"] = table["title"].map(lambda t: t if len(t) <= TITLE_CHARS
                                        else t[: TITLE_CHARS - 1] + "…")
    print(table.to_string(index=False))
    for rank, text in zip(result.table["rank"], result.table["explanation"], strict=True):
        print(f"{rank:>4}. {text}")


def run_recommend(args: argparse.Namespace) -> int:
    """The flags as the one request model (checked before the run is loaded), then served."""
    request = RecommendRequest.of(
        user_id=args.user, history=_ids(args.history), k=args.k, method=args.method,
        diversity_weight=args.diversity_weight, exclude_seen=not args.include_seen,
        categories=_ids(args.categories), target_mix=parse_target_mix(args.target_mix),
        quotas=parse_quotas_option(args.quotas), include_unavailable=args.include_unavailable,
        alpha=args.alpha)
    print_result(_load(args).serve(request), args.json_out)
    return 0


def run_search(args: argparse.Namespace) -> int:
    result = _load(args).search(
        args.query, user_id=args.user, k=args.k, method=args.method,
        diversity_weight=args.diversity_weight,
        target_mix=parse_target_mix(args.target_mix),
        include_unavailable=args.include_unavailable)
    print_result(result, args.json_out)
    return 0


def run_hot(args: argparse.Namespace) -> int:
    result = _load(args).hot_items(
        k=args.k, method=args.method,
        diversity_weight=args.diversity_weight,
        half_life_days=args.half_life, include_unavailable=args.include_unavailable)
    print_result(result, args.json_out)
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    """Evaluate every (method, weight), print the table, write JSON atomically."""
    methods, weights = _ids(args.methods) or [], parse_weights(args.diversity_weights)
    n_users = args.users
    k = args.k
    target_mix = parse_target_mix(args.target_mix)
    named_quotas = parse_quotas_option(args.quotas)
    for method in methods:
        check_quota_method(method, named_quotas, "--methods")
    run = load_run(args.run)
    quotas = quota_indices(named_quotas, run.category_names)
    points = sweep_points(methods, weights, quotas)  # fail on a bad method before loading data
    alphas = [] if args.alphas is None else parse_weights(args.alphas, "--alphas")
    for alpha in alphas:  # fail on an alpha the run cannot take before loading data
        run.model.at_alpha(alpha)
    dataset = load_run_dataset(run.meta, run.path, data_path=args.data, fmt=args.format)
    with tqdm(total=len(points) + len(set(alphas)), desc="sweep", unit="point") as bar:
        frame = sweep(run, dataset, methods, weights, k=k, n_users=n_users,
                      seed=args.seed, target_mix=target_mix,
                      quotas=quotas, on_point=lambda method, weight: bar.update(1),
                      intervals=args.intervals, alphas=alphas)
    grid = best_at_equal_entropy(frame)
    summary = equal_entropy_summary(grid)
    shown = ["method", "weight", f"ndcg@{k}", f"precision@{k}", f"category_entropy@{k}",
             f"category_coverage@{k}", f"ild@{k}", f"catalog_coverage@{k}"]
    table = frame[shown].copy()
    for column in (f"ndcg@{k}", f"category_entropy@{k}"):
        if f"{column} low" in frame:  # the 95% interval beside the mean
            table[column] = [f"{fixed(v)} [{fixed(lo)}, {fixed(hi)}]" for v, lo, hi in zip(
                frame[column], frame[f"{column} low"], frame[f"{column} high"], strict=True)]
    print(table.to_string(index=False, float_format=fixed))
    if summary["winner"]:
        print(f"best NDCG@{k} at equal entropy: {summary['winner']} "
              f"(wins {summary['wins']}, entropy {summary['entropy_range']})")
    write_json_atomic(Path(args.json), {
        "run": str(run.path), "data": str(args.data), "model": run.model.name, "k": k,
        "target_mix": target_mix, "quotas": named_quotas,
        "n_users": int(frame["n_users"].iloc[0]) if len(frame) else 0,
        "points": frame.to_dict(orient="records"), "equal_entropy": summary,
        "equal_entropy_grid": grid.to_dict(orient="records")})
    return 0



def run_items_add(args: argparse.Namespace) -> int:

    added = _load(args).add_items(read_new_items(args.path))
    print(render("added {n} {n:item|items} to {run}: {ids}{more}", n=len(added), run=args.run,
                 ids=", ".join(added["item_id"].astype(str).head(10)),
                 more=" ..." if len(added) > 10 else ""))
    return 0


RUN_ENV, THREADS_ENV = "PRISM_SERVE_RUN", "PRISM_SERVE_TORCH_THREADS"
RETRIEVAL_ENV, CANDIDATES_ENV = "PRISM_SERVE_RETRIEVAL", "PRISM_SERVE_CANDIDATES"
# uvicorn kills a worker whose health ping goes unanswered this long; its default (5 s) kills
# busy workers on a loaded host and drops their in-flight requests
WORKER_HEALTHCHECK_S = 120


def app_from_env() -> Any:
    """The API app for the run named in $PRISM_SERVE_RUN (each uvicorn worker builds one; the
    workers share the stores, so each follows the events the others store)."""
    from engine.api.app import create_app

    candidates = os.environ.get(CANDIDATES_ENV, "")
    return create_app(os.environ[RUN_ENV], torch_threads=int(os.environ.get(THREADS_ENV, "1")),
                      warm_search=True, retrieval=os.environ.get(RETRIEVAL_ENV, "auto"),
                      candidates=int(candidates) if candidates else None, follow_store=True,
                      settle_heap=True)


def run_serve(args: argparse.Namespace) -> int:
    """Load the run once per worker, then serve the API with uvicorn until interrupted."""
    from engine.api.app import create_app

    port = args.port
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port must be in 1..65535, got {port}")
    threads = args.torch_threads
    workers = args.workers
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    print(render("serving {run} on http://{host}:{port} with {n} {n:worker|workers} "
                 "(docs at /docs)", run=args.run, host=args.host, port=port, n=workers),
          file=sys.stderr)
    if workers == 1:
        app = create_app(args.run, torch_threads=threads, warm_search=True,
                         retrieval=args.retrieval, candidates=args.candidates, settle_heap=True)
        uvicorn.run(app, host=args.host, port=port, log_level="warning")
        return 0

    load_run(args.run)  # fail here, with one clear line, before starting the workers
    os.environ[RUN_ENV], os.environ[THREADS_ENV] = str(Path(args.run).resolve()), str(threads)
    os.environ[RETRIEVAL_ENV] = args.retrieval
    os.environ[CANDIDATES_ENV] = str(args.candidates or "")
    uvicorn.run("engine.cli.serve_cmds:app_from_env", factory=True, workers=workers,
                host=args.host, port=port, log_level="warning",
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_S)
    return 0
