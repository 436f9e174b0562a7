"""`prism data generate | inspect | convert | import`: the data layer from the command line."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from engine.cli import import_cmd
from engine.columns import CATEGORY, EVENT, MULTI_CATEGORY_SEP, UNKNOWN_CATEGORY
from engine.config import DataConfig
from engine.errors import DataError

if TYPE_CHECKING:  # pandas-heavy imports stay inside the handlers so `prism --help` is fast
    from engine.data import Dataset

MAX_DEPTH_SHOWN = 6
MAX_NAMES_SHOWN = 30


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain aligned text table; numbers right-aligned with thousands separators."""
    cells = [[f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v) for v in r]
             for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(r[i], int | float) for r in rows)
               for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in cells)])


def _config(args: argparse.Namespace) -> DataConfig:
    return DataConfig(category_depth=args.depth, min_user_events=args.min_user_events,
                      min_item_events=args.min_item_events)


def _load(args: argparse.Namespace) -> Dataset:
    from engine.data import load_dataset, parse_column_map

    return load_dataset(args.path, fmt=args.format, column_map=parse_column_map(args.map),
                        config=_config(args), progress=True)


def _category_section(dataset: Dataset) -> list[str]:
    from engine.data.schema import category_counts_by_depth

    categories = dataset.items[CATEGORY]
    counts = category_counts_by_depth(categories, MAX_DEPTH_SHOWN)
    lines = ["", "Categories per depth (distinct paths with at least that many levels)",
             format_table(["depth", "categories", "items"], counts)]
    n_unknown = int((categories.str.strip() == "").sum())
    n_multi = int(categories.str.contains(MULTI_CATEGORY_SEP.strip(), regex=False).sum())
    matrix, names = dataset.category_matrix()
    lines.append(f"items without a category: {n_unknown:,} (counted as {UNKNOWN_CATEGORY!r}); "
                 f"items with several categories: {n_multi:,}")
    lines.append(f"diversity depth {dataset.config.category_depth}: {len(names)} categories "
                 f"over {matrix.shape[0]:,} items")
    if len(names) <= MAX_NAMES_SHOWN:
        lines.append(textwrap.fill(", ".join(names), width=100, initial_indent="  ",
                                   subsequent_indent="  "))
    return lines


def inspect_text(dataset: Dataset) -> str:
    """Everything `prism data inspect` prints, as one string."""
    events = dataset.events
    n_with_events = int(dataset.items["item_id"].isin(events["item_id"]).sum())
    sizes = [("users", dataset.n_users), ("items", dataset.n_items), ("events", len(events)),
             ("items without events", dataset.n_items - n_with_events),
             ("items without a description", int((dataset.items["description"] == "").sum()))]
    per_type = events[EVENT].value_counts().reindex(["view", "click", "cart", "purchase"])
    type_rows = [(kind, int(n)) for kind, n in per_type.dropna().items()]
    lines = [f"Dataset {dataset.name} (format: {dataset.fmt})", format_table(["", "count"], sizes),
             "", "Events per type", format_table(["event", "count"], type_rows)]
    lines += _category_section(dataset)
    lines += ["", "Cleaning report", format_table(["rule", "count", "action"],
                                                  dataset.report.rows())]
    return "\n".join(lines)


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
    from engine.data import write_dataset_dir

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
    from tqdm.auto import tqdm

    from engine.data import generate_shop, write_tables

    with tqdm(total=2, desc="synthetic shop", disable=None, leave=False) as bar:
        items, events = generate_shop(n_items=args.items, n_users=args.users, seed=args.seed)
        bar.update(1)
        with _writing(Path(args.out)):
            paths = write_tables(items, events, args.out, fmt=args.out_format, progress=True)
        bar.update(1)
    print(f"wrote {len(items):,} items to {paths[0]} and {len(events):,} events to {paths[1]} "
          f"(seed {args.seed})")
    return 0


def _add_load_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="folder with the data (generic, RecBole or MovieLens)")
    parser.add_argument("--format", default="auto",
                        help="auto (default), generic, recbole or movielens")
    parser.add_argument("--map", action="append", default=[], metavar="TARGET=SOURCE,...",
                        help="column map, e.g. item_id=sku,title=name")
    parser.add_argument("--depth", type=int, default=DataConfig.category_depth,
                        help="category depth used for diversity (default 2)")
    parser.add_argument("--min-user-events", type=int, default=1)
    parser.add_argument("--min-item-events", type=int, default=1)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `prism data ...` to the `prism` parser."""
    data = subparsers.add_parser("data", help="generate, inspect and convert datasets")
    commands = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    gen = commands.add_parser("generate", help="write the synthetic shop (items + events)")
    gen.add_argument("--out", required=True, help="output folder")
    gen.add_argument("--items", type=int, default=2000)
    gen.add_argument("--users", type=int, default=1000)
    gen.add_argument("--seed", type=int, default=0)
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
