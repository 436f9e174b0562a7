"""`prism policy list | show | create | preview | publish | rollback | export | log`.

Policies live in the store in $PRISM_HOME (`engine.policy.store`). Writes go through
`engine.access.Gate` as the local user with the publisher role and source "cli" (whoever can
run the CLI can write the store's file anyway); `log` prints the audit log. Bad input (an
invalid policy file, an unknown name, a stale edit) is a PrismError: one line, exit code 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from engine.access.gate import Gate
from engine.access.roles import local_actor
from engine.cli.options import integer, names_a_file, positive_integer
from engine.core.errors import ConfigError
from engine.core.files import write_json_atomic
from engine.core.messages import fixed, render
from engine.core.paths import runs_dir
from engine.policy.checks import require_servable
from engine.policy.preview import load_inputs, preview
from engine.policy.schema import parse_policy, split_reference
from engine.policy.store import PolicyStore
from engine.runs.listing import list_runs
from engine.serving.recommender import Recommender


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `prism policy ...` to the parser."""
    policy = subparsers.add_parser("policy", help="merchandising policies: compose, preview, "
                                                  "publish")
    commands = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    listing = commands.add_parser("list", help="stored policies with their live versions")
    listing.set_defaults(func=run_list)
    show = commands.add_parser("show", help="one policy (name or name@version) as JSON")
    show.add_argument("policy")
    show.set_defaults(func=run_show)
    create = commands.add_parser("create", help="store a policy from a JSON file (new version)")
    create.add_argument("--file", required=True, help="policy JSON (see examples/policies/)")
    create.add_argument("--base", type=integer, default=None,
                        help="the version you edited; refused if the policy moved on since")
    create.add_argument("--note", default="", help="a note kept with the version")
    create.set_defaults(func=run_create)
    publish = commands.add_parser("publish", help="check a version against the runs it will "
                                                  "serve, then make it live (default: the "
                                                  "latest)")
    publish.add_argument("policy", help="name or name@version")
    publish.add_argument("--run", action="append", default=None,
                         help="a run folder it will serve, checked first (repeatable; default: "
                              "every run in the Prism home its scope covers)")
    publish.set_defaults(func=run_publish)
    rollback = commands.add_parser("rollback", help="re-publish the version live before")
    rollback.add_argument("policy", help="name")
    rollback.set_defaults(func=run_rollback)
    export = commands.add_parser("export", help="write a stored version to a JSON file")
    export.add_argument("policy", help="name or name@version")
    export.add_argument("--out", required=True)
    export.set_defaults(func=run_export)
    log = commands.add_parser("log", help="who published, rolled back or changed targets, "
                                          "when, which version, from where")
    log.add_argument("policy", nargs="?", default=None, help="only this policy (name)")
    log.add_argument("--limit", type=positive_integer, default=None, help="the newest N entries")
    log.add_argument("--json", action="store_true", help="print JSON instead of a table")
    log.set_defaults(func=run_log)
    _register_preview(commands)


def _register_preview(commands: argparse._SubParsersAction) -> None:
    preview = commands.add_parser("preview", help="replay held-out shoppers under the policy "
                                                  "and another; paired 95%% intervals")
    preview.add_argument("--run", required=True, help="run folder written by prism train")
    preview.add_argument("--policy", required=True,
                         help="stored name[@version], or a policy JSON file")
    preview.add_argument("--against", default="none",
                         help="'none' (the model alone), 'live' (the live version of the same "
                              "policy) or another name[@version] / JSON file")
    preview.add_argument("--users", type=integer, default=None,
                         help="this many random test shoppers")
    preview.add_argument("--k", type=integer, default=10, help="list length")
    preview.add_argument("--data", default=None, help="dataset folder (default: the run's)")
    preview.add_argument("--seed", type=integer, default=0, help="seed for the shopper sample")
    preview.add_argument("--json", required=True, help="where to write the report")
    preview.set_defaults(func=run_preview)


def _store() -> Any:
    return PolicyStore()


def _gate() -> Any:
    return Gate()


def cli_actor() -> Any:
    """The person at the shell: the local user, as a publisher, from the CLI."""
    return local_actor("cli")


def run_list(args: argparse.Namespace) -> int:
    rows = _store().names()
    if not rows:
        print("no policies yet; create one with: prism policy create --file POLICY.json")
        return 0
    print(f"{'name':<28} {'latest':>6} {'live':>5} {'stages':>6}  description")
    for row in rows:
        live = "-" if row["live"] is None else str(row["live"])
        print(f"{row['name']:<28} {row['latest']:>6} {live:>5} {row['stages']:>6}  "
              f"{row['description'][:50]}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    store = _store()
    policy = store.resolve(args.policy)
    live = store.live_versions().get(policy.name)
    print(json.dumps({**policy.to_json(), "live_version": live}, indent=2, ensure_ascii=False))
    return 0


def read_policy_file(path: str) -> Any:
    source = Path(path)
    if not source.is_file():
        raise ConfigError(f"{path}: no such file; give a policy JSON file")
    return parse_policy(source.read_text(encoding="utf-8"), str(path))


def run_create(args: argparse.Namespace) -> int:
    policy = read_policy_file(args.file)
    base = args.base
    saved = _gate().save_draft(cli_actor(), policy, base, args.note)
    print(f"saved {saved.name}@{saved.version} ({len(saved.stages)} stages); publish it with: "
          f"prism policy publish {saved.name}@{saved.version}")
    return 0


def runs_to_check(policy: Any, given: list[str] | None) -> list[Path]:
    """The run folders `policy` will serve: those given, else the home's runs it covers."""
    if given:
        return [Path(run) for run in given]
    home_runs = list_runs() if runs_dir().is_dir() else []
    return [entry.path for entry in home_runs if policy.scope is None or
            policy.scope.covers(entry.name, entry.meta.get("dataset"))]


def run_publish(args: argparse.Namespace) -> int:
    name, version = split_reference(args.policy)
    gate = _gate()

    def check(policy: Any) -> None:
        folders = runs_to_check(policy, args.run)
        if not folders:
            print(f"warning: no run in the Prism home is covered by {name}@{policy.version}, so "
                  "it was not checked; pass --run RUN to check it on the run that will serve "
                  "it (a server falls back to the plain ranking if it fails)", file=sys.stderr)
            return
        print(render("checking {name}@{version} on {n} {n:run|runs} …", name=name,
                     version=policy.version, n=len(folders)), file=sys.stderr)
        require_servable(policy, (Recommender.load(folder) for folder in folders), gate.store)

    live = gate.publish(cli_actor(), name, version, check=check)
    print(f"{name}@{live} is live")
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    live = _gate().rollback(cli_actor(), args.policy)
    print(f"rolled back: {args.policy}@{live} is live")
    return 0


def run_export(args: argparse.Namespace) -> int:
    policy = _store().resolve(args.policy)
    write_json_atomic(Path(args.out), policy.to_json())
    print(f"wrote {policy.name}@{policy.version} to {args.out}")
    return 0


def run_log(args: argparse.Namespace) -> int:
    """The audit log, newest first, as a table or (with --json) a JSON list."""
    rows = _gate().log(args.policy, args.limit)
    for row in rows:
        row["at"] = dt.datetime.fromtimestamp(row["at"], dt.UTC).isoformat(timespec="seconds")
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("the audit log is empty: nothing was published, rolled back or targeted yet")
        return 0
    print(f"{'when (UTC)':<25} {'policy':<24} {'version':>7}  {'action':<9} {'who':<28} "
          f"{'role':<9} from")
    for row in rows:
        print(f"{row['at']:<25} {row['policy'][:24]:<24} {row['version']:>7}  "
              f"{row['action']:<9} {(row['actor'] or '(not recorded)')[:28]:<28} "
              f"{row['role'] or '-':<9} {row['source'] or '-'}")
    return 0


def _policy_arg(store: Any, text: str) -> Any:
    """A JSON file path or a stored reference."""
    if text.endswith(".json") or names_a_file(text):
        return read_policy_file(text)
    return store.resolve(text)


def _against(store: Any, text: str, policy: Any) -> Any:
    if text == "none":
        return None
    if text == "live":
        live = store.live_versions().get(policy.name)
        if live is None:
            raise ConfigError(f"--against live: policy {policy.name!r} has no live version; "
                              "publish one or use --against none")
        return store.get(policy.name, live)
    return _policy_arg(store, text)


def run_preview(args: argparse.Namespace) -> int:
    """Replay the run's test shoppers under both policies, print the table, write JSON."""
    store = _store()
    policy = _policy_arg(store, args.policy)
    against = _against(store, args.against, policy)
    k = args.k
    n_users = args.users
    inputs = load_inputs(args.run, args.data, n_users, args.seed)
    with tqdm(total=len(inputs.users), desc="preview", unit="shopper") as bar:
        report = preview(inputs, policy, against, k=k,
                         on_progress=lambda done, total: bar.update(done - bar.n))
    report["run"] = str(args.run)
    write_json_atomic(Path(args.json), report)
    print_report(report)
    return 0


def print_report(report: dict[str, Any]) -> None:
    """The impact table: metric, A, B, A − B, 95% interval, a * where it excludes zero."""
    print(f"{report['policy']} vs {report['against']} over {report['n_users']} shoppers, "
          f"k={report['k']} ({report['interval']})")
    rows = report["metrics"] + report["exposure"]["brand"][:4] + \
        report["exposure"]["category"][:4] + report["rules"]
    for row in rows:
        star = "*" if row["excludes_zero"] else " "
        print(f"{row['metric'][:52]:<52} {fixed(row['a']):>8} {fixed(row['b']):>8} "
              f"{fixed(row['diff'], sign='+'):>9} [{fixed(row['ci_low'], sign='+')}, "
              f"{fixed(row['ci_high'], sign='+')}] {star}")
    changed = report["lists_changed"]
    print(f"lists changed: {changed['n']} ({changed['share']:.1%}); mean rank displacement "
          f"{report['mean_rank_displacement']['a']:.2f}; {report['seconds']['replay']:.2f} s",
          file=sys.stdout)
