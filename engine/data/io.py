"""Atomic writes of the generic layout: a reader never sees a half-written table.

Each file is written through `engine.core.files` (a temporary name in the target folder,
then a rename); large tables are written in chunks with a progress bar.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from engine.core.errors import DataError
from engine.core.files import replace_files, staged_file, staging_folder, swap_folder

FORMATS = ("csv", "parquet")
CHUNK_ROWS = 500_000


def _write_csv(frame: pd.DataFrame, path: Path, progress: bool) -> None:
    starts = range(0, max(len(frame), 1), CHUNK_ROWS)
    with path.open("w", encoding="utf-8", newline="") as handle:
        for start in tqdm(starts, desc=f"writing {path.name.lstrip('.')}", unit="chunk",
                          disable=not progress or len(starts) < 2 or None, leave=False):
            frame.iloc[start:start + CHUNK_ROWS].to_csv(handle, index=False,
                                                        header=start == 0, lineterminator="\n")


def _write_parquet(frame: pd.DataFrame, path: Path, progress: bool) -> None:
    first = pa.Table.from_pandas(frame.iloc[:CHUNK_ROWS], preserve_index=False)
    starts = range(CHUNK_ROWS, len(frame), CHUNK_ROWS)
    with pq.ParquetWriter(path, first.schema) as writer:
        writer.write_table(first)
        for start in tqdm(starts, desc=f"writing {path.name.lstrip('.')}", unit="chunk",
                          disable=not progress or None, leave=False):
            chunk = frame.iloc[start:start + CHUNK_ROWS]
            writer.write_table(pa.Table.from_pandas(chunk, schema=first.schema,
                                                    preserve_index=False))


def write_frame(frame: pd.DataFrame, path: Path, progress: bool = False) -> None:
    """Write one table (format from the suffix) atomically: temp file, then rename."""
    with staged_file(path) as staging:
        if path.suffix == ".parquet":
            _write_parquet(frame, staging, progress)
        else:
            _write_csv(frame, staging, progress)


def write_tables(items: pd.DataFrame, events: pd.DataFrame, out_dir: str | Path,
                 fmt: str = "csv", progress: bool = False) -> tuple[Path, Path]:
    """Write `items.<ext>` and `events.<ext>` into `out_dir` (created if needed)."""
    if fmt not in FORMATS:
        raise DataError(f"unknown output format {fmt!r}; use csv or parquet")
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder; choose another --out")
    paths = out / f"items.{fmt}", out / f"events.{fmt}"
    write_frame(items, paths[0], progress)
    write_frame(events, paths[1], progress)
    return paths


def write_dataset_dir(items: pd.DataFrame, events: pd.DataFrame, out_dir: str | Path,
                      fmt: str = "parquet", progress: bool = False) -> Path:
    """Write a complete generic-layout folder: built beside `out_dir`, then renamed in.

    An existing `out_dir` keeps its other files; its items/events tables are replaced.
    """
    out = Path(out_dir).expanduser().resolve()
    if not out.exists():
        return swap_folder(out, lambda staging: write_tables(items, events, staging, fmt,
                                                             progress), hidden=True)
    if not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder; choose another --out")
    with staging_folder(out) as staging:  # both tables complete before either is replaced
        staged = write_tables(items, events, staging, fmt, progress)
        replace_files((path, out / path.name) for path in staged)
    return out
