"""`prism data import SOURCE... --name NAME`: a shop's exports or database as a Prism dataset.

Reads a folder or files (generic, RecBole, MovieLens, a Merchant Center feed, Shopify or
WooCommerce exports) or two SQL queries, cleans them and writes `$PRISM_HOME/data/NAME`
atomically, then prints the cleaning report. Database credentials come from an environment
variable or a file and are never printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm.auto import tqdm

from engine.access.gate import Gate
from engine.access.roles import local_actor
from engine.cli.data_report import inspect_text
from engine.core.config import DataConfig
from engine.core.errors import DataError
from engine.data import parse_column_map
from engine.data.faq import find_faq, import_faq, is_faq_file
from engine.data.importing import check_name, import_source, sql_source
from engine.data.sources import read_source
from engine.data.sql import resolve_url

EPILOG = """examples:
  prism data import shop/products_export.csv shop/orders_export.csv --name myshop
  prism data import feed.xml events.csv --name feedshop
  prism data import --sql-url-env SHOP_DB --items-query "SELECT ..." \\
      --events-query "SELECT ..." --name fromdb
"""


def _source(args: argparse.Namespace, column_map: dict[str, str]):  # noqa: ANN202 - Source

    if args.sql or args.sql_url_env or args.sql_url_file:
        if args.source:
            raise DataError("give either files/folders or a database (--sql...), not both")
        url = resolve_url(args.sql, args.sql_url_env, args.sql_url_file)
        return sql_source(url, args.items_query or "", args.events_query or "")
    if not args.source:
        raise DataError("nothing to import: pass a folder or the exported files, or a database "
                        "with --sql-url-env VARIABLE --items-query ... --events-query ...")
    return read_source(args.source, fmt=args.format, encoding=args.encoding,
                       column_map=column_map)


def cmd_import(args: argparse.Namespace) -> int:
    Gate.require(local_actor("cli"), "import")  # the one gate, as the studio's Import page
    check_name(args.name)
    config = DataConfig(category_depth=args.depth, decimal_mark=args.decimal_mark,
                        min_user_events=args.min_user_events,
                        min_item_events=args.min_item_events)
    faq_path = _take_faq(args)
    with tqdm(total=2, desc=f"importing {args.name}", disable=None, leave=False) as bar:
        column_map = parse_column_map(args.map)  # applied before the files are recognised
        source = _source(args, column_map)
        bar.update(1)
        dataset, path = import_source(source, args.name, column_map, config, progress=True)
        bar.update(1)
    print(inspect_text(dataset))
    print(f"\nimported {source.fmt} data (encoding: {source.encoding}) from {source.label}")
    for name, evidence in source.evidence.items():
        print(f"  encoding of {name}: {evidence}")
    print(f"wrote {dataset.n_items:,} items and {len(dataset.events):,} events to {path}")
    if faq_path is not None:
        count = import_faq(faq_path, path, encoding=args.encoding)
        print(f"FAQ: {count.line()}")
    return 0


def _take_faq(args: argparse.Namespace):  # noqa: ANN202 - Path | None
    """The FAQ file among the sources (taken out of them), or the faq.csv of a source folder."""
    paths = [Path(p).expanduser() for p in args.source]
    faqs = [p for p in paths if is_faq_file(p)]
    if len(faqs) > 1:
        raise DataError(f"several FAQ files given ({', '.join(map(str, faqs))}); give one")
    args.source = [str(p) for p in paths if p not in faqs]
    if faqs:
        return faqs[0]
    return find_faq(paths[0]) if len(paths) == 1 else None


def register(commands: argparse._SubParsersAction) -> None:
    """Add `import` under `prism data`."""
    parser = commands.add_parser(
        "import", help="import a shop's exports, feed or database as a dataset",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", nargs="*", help="a folder or the exported files")
    parser.add_argument("--name", required=True, help="dataset name ($PRISM_HOME/data/NAME)")
    parser.add_argument("--format", default="auto",
                        help="auto (default: recognised by the headers), generic, recbole, "
                             "movielens")
    parser.add_argument("--encoding", default="auto",
                        help="auto (detected from the bytes, refused with the candidates when "
                             "unclear), or utf-8, utf-16, cp1252, latin-1, gb18030, ... (any "
                             "Python codec name)")
    parser.add_argument("--decimal-mark", choices=("auto", ".", ","), default="auto",
                        help="the decimal mark of prices and quantities, for values that read "
                             "two ways such as 1,299 (auto: such values are counted and left "
                             "unknown)")
    parser.add_argument("--map", action="append", default=[], metavar="TARGET=SOURCE,...",
                        help="column map, e.g. item_id=sku,title=name; applied before the "
                             "files are recognised, so a table named anyhow can be read")
    parser.add_argument("--sql", help="database URL (prefer --sql-url-env: a URL typed here "
                                      "stays in the shell history)")
    parser.add_argument("--sql-url-env", metavar="VARIABLE",
                        help="environment variable holding the database URL")
    parser.add_argument("--sql-url-file", metavar="FILE", help="file holding the database URL")
    parser.add_argument("--items-query", help="SELECT returning the items table")
    parser.add_argument("--events-query", help="SELECT returning the events table")
    parser.add_argument("--depth", type=int, default=DataConfig.category_depth)
    parser.add_argument("--min-user-events", type=int, default=1)
    parser.add_argument("--min-item-events", type=int, default=1)
    parser.set_defaults(func=cmd_import)
