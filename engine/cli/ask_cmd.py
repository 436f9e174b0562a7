"""`prism ask --run R --question "..."`: the FAQ entries and products that answer a shopper's
question, each with why it matched (personalised with --user).

The FAQ is the one imported with the run's data (`prism data import` reads a faq.csv beside the
items and events); `--faq FILE` answers from an FAQ file instead. Bad input is one line on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

from engine.cli.options import integer
from engine.cli.serve_cmds import _list_options, _load, _run_option, print_result
from engine.data.faq import read_faq
from engine.serving.ask import Asker, check_question

ANSWER_CHARS = 160


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `prism ask` to the parser."""
    ask = subparsers.add_parser("ask", help="answer a shopper's question from the FAQ and the "
                                            "catalogue")
    _run_option(ask)
    ask.add_argument("--question", required=True, help="the shopper's question")
    ask.add_argument("--user", default=None, help="shopper id to personalise for")
    ask.add_argument("--faq", default=None, metavar="FILE",
                     help="answer from this faq.csv instead of the FAQ imported with the data")
    ask.add_argument("--n-faq", type=integer, default=3, help="FAQ entries to show")
    _list_options(ask)
    ask.set_defaults(func=run_ask)


def run_ask(args: argparse.Namespace) -> int:
    check_question(args.question)  # before the run is loaded
    faq = read_faq(args.faq)[0] if args.faq else None
    answer = Asker(_load(args), faq).ask(
        args.question, user_id=args.user, k=args.k, n_faq=args.n_faq, method=args.method,
        diversity_weight=args.diversity_weight, include_unavailable=args.include_unavailable)
    if args.json_out:
        print(json.dumps(answer.records(), indent=2, ensure_ascii=False))
        return 0
    if answer.notice:
        print(f"prism: note: {answer.notice}", file=sys.stderr)
    print("FAQ")
    for row in answer.faq.itertuples(index=False):
        print(f"{row.rank:>3}. [{row.faq_id}] {row.question}  (relevance {row.relevance:.2f})")
        print(textwrap.indent(textwrap.shorten(row.answer, ANSWER_CHARS), "     "))
        print(f"     why: {row.explanation}")
    print("\nproducts")
    print_result(answer.products)
    return 0
