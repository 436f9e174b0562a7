"""`prism data generate | inspect | convert | import`: the data layer from the command line."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from engine.cli import import_cmd
from engine.cli.data_report import inspect_text
from engine.core.config import DataConfig
from engine.core.errors import DataError
from engine.data import (
    generate_shop,
    load_dataset,
    parse_column_map,
    write_dataset_dir,
    write_tables,
)
from engine.data.loading import imported_config
from engine.data.synthetic_faq import write_synthetic_faq

if TYPE_CHECKING:  # pandas-heavy imports stay inside the handlers so `prism --help` is fast
    from engine.data import Dataset



def _config(args: argparse.Namespace) -> DataConfig:
    """The options as a DataConfig; without --depth, the depth the dataset was imported with
    (else the default)."""
    depth = args.depth
    if depth is None:
        imported = imported_config(Path(args.path).expanduser())
        depth = imported.category_depth if imported else DataConfig.category_depth
    return DataConfig(category_depth=depth, min_user_events=args.min_user_events,
                      min_item_events=args.min_item_events)


def _load(args: argparse.Namespace) -> Dataset:
    return load_dataset(args.path, fmt=args.format, column_map=parse_column_map(args.map),
                        config=_config(args), progress=True)


@contextmanager
def _writing(target: Path) -> Iterator[None]:
    """Turn OS errors while writing (permissions, full disk) into one clear line."""
    try:
        yield
    except OSError as exc:
        raise DataError(f"{target}: cannot write ({exc.strerror or exc}); choose a folder "
                        "you can write to, with free space") from None


def cmd_inspect(args: argparse.Namespace) -> int:
    print(inspect_text(_load(args)))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    source, target = Path(args.path).expanduser().resolve(), Path(args.out).expanduser().resolve()
    if target == source or source in target.parents:
        raise DataError(f"--out {target} is inside the input folder {source}; Prism never "
                        "writes into the input: choose a folder elsewhere")
    dataset = _load(args)
    with _writing(target):
        out = write_dataset_dir(dataset.items, dataset.events, target, fmt="parquet",
                                progress=True)
    print(f"wrote {dataset.n_items:,} items and {len(dataset.events):,} events to {out} "
          f"(Parquet); cleaning touched {dataset.report.total:,} rows/cells")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    with tqdm(total=2, desc="synthetic shop", disable=None, leave=False) as bar:
        items, events = generate_shop(n_items=args.items, n_users=args.users, seed=args.seed,
                                      consumables=args.consumables)
        bar.update(1)
        with _writing(Path(args.out)):
            paths = write_tables(items, events, args.out, fmt=args.out_format, progress=True)
            faq = write_synthetic_faq(Path(args.out), items, events)
        bar.update(1)
    print(f"wrote {len(items):,} items to {paths[0]}, {len(events):,} events to {paths[1]} "
          f"and the shop's FAQ to {faq} (seed {args.seed})")
    return 0


def _add_load_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="folder with the data (generic, RecBole or MovieLens)")
    parser.add_argument("--format", default="auto",
                        help="auto (default), generic, recbole or movielens")
    parser.add_argument("--map", action="append", default=[], metavar="TARGET=SOURCE,...",
                        help="column map, e.g. item_id=sku,title=name")
    parser.add_argument("--depth", type=int, default=None,
                        help="category depth used for diversity (default: the depth the "
                             f"dataset was imported with, else {DataConfig.category_depth})")
    parser.add_argument("--min-user-events", type=int, default=1)
    parser.add_argument("--min-item-events", type=int, default=1)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `prism data ...` to the `prism` parser."""
    data = subparsers.add_parser("data", help="generate, inspect and convert datasets")
    commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    gen = commands.add_parser("generate", help="write the synthetic shop (items, events and FAQ)")
    gen.add_argument("--out", required=True, help="output folder")
    gen.add_argument("--items", type=int, default=2000)
    gen.add_argument("--users", type=int, default=1000)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--consumables", type=float, default=0.0, metavar="SHARE",
                     help="share of items bought again on a purchase cycle (0 to 1, default "
                          "0: none)")
    gen.add_argument("--format", dest="out_format", choices=("csv", "parquet"), default="csv")
    gen.set_defaults(func=cmd_generate)
    inspect = commands.add_parser("inspect", help="sizes, categories, events, cleaning report")
    _add_load_options(inspect)
    inspect.set_defaults(func=cmd_inspect)
    convert = commands.add_parser("convert", help="clean and write the generic Parquet layout")
    _add_load_options(convert)
    convert.add_argument("--out", required=True, help="output folder (never the input)")
    convert.set_defaults(func=cmd_convert)
    import_cmd.register(commands)
