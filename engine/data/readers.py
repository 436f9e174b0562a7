"""Reading CSV/TSV/Parquet files into string tables, with errors a shop owner can act on.

Everything is read as text (ids stay ids: "007" is not 7); the cleaning rules parse numbers
and dates. Files are only ever read, never modified.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd

from engine.core.errors import DataError
from engine.core.messages import Listing, Message
from engine.data.encodings import AmbiguousEncoding, candidates_for, detect, settle_together

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
_OTHER_DELIMITERS = {";": Message("delimiter_semicolon"), "\t": Message("delimiter_tab"),
                     "|": Message("delimiter_pipe")}


def find_table(folder: Path, stem: str) -> Path | None:
    """`folder/stem.{csv,tsv,parquet,pq}`, whichever exists first."""
    for suffix in TABLE_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _check_not_empty(path: Path) -> None:
    if not path.is_file():
        raise DataError(Message("no_such_file", path=str(path)))
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head.strip():
        raise DataError(Message("file_empty_header", path=str(path)))


def _bad_byte_message(path: Path, data: bytes, exc: UnicodeDecodeError, encoding: str) -> str:
    line = data.count(b"\n", 0, exc.start) + 1
    others = candidates_for(data, encoding)
    options = Listing([Message("encoding_option", name=e) for e in others[:3]], " or ")
    fix = (Message("bad_byte_options", options=options) if others
           else Message("bad_byte_no_options"))
    return Message("bad_byte", file=path.name, byte=data[exc.start], line=line,
                   encoding=encoding.upper(), row=max(line - 1, 1), fix=fix)


def check_encoding(path: Path, encoding: str, data: bytes | None = None) -> None:
    """Find the first undecodable byte so the message can point at its line."""
    data = path.read_bytes() if data is None else data
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(_bad_byte_message(path, data, exc, encoding)) from None
    except LookupError:
        raise DataError(Message("unknown_encoding", encoding=encoding)) from None


def detect_encoding(path: Path, data: bytes | None = None) -> str:
    """The encoding `path` was saved in (see `engine.data.encodings`), or a `DataError`."""
    return detect_with_evidence(path, data).encoding


def detect_together(paths: list[Path]) -> dict[str, tuple[str, str]]:
    """{path: (encoding, evidence)} of the text tables of one import, detected together: a
    file ambiguous on its own takes a sibling's encoding (`encodings.settle_together`)."""
    found: dict = {}
    for path in paths:
        if path.suffix.lower() in (".parquet", ".pq", ".xml") or not path.is_file() \
                or path.stat().st_size == 0:
            continue
        try:
            found[str(path)] = detect_with_evidence(path)
        except AmbiguousEncoding as exc:
            found[str(path)] = exc
    return {name: (d.encoding, d.evidence) for name, d in settle_together(found).items()}


def detect_with_evidence(path: Path, data: bytes | None = None):  # noqa: ANN201 - Detected
    """The encoding of `path` and the evidence for it (`engine.data.encodings.Detected`)."""
    return detect(Path(path.name), path.read_bytes() if data is None else data)


def _delimiter_name(sep: str) -> str:
    return Message("delimiter_tab") if sep == "\t" else repr(sep)


def _check_delimiter(path: Path, frame: pd.DataFrame, sep: str) -> None:
    """A single column whose name holds another delimiter means the wrong delimiter."""
    if len(frame.columns) != 1:
        return
    header = str(frame.columns[0])
    for other, name in _OTHER_DELIMITERS.items():
        if other != sep and other in header:
            raise DataError(Message("wrong_delimiter", path=str(path), header=header[:60],
                                    found=name, used=_delimiter_name(sep)))


def codec(encoding: str) -> str:
    """The Python codec that reads a file in a detected `encoding`: a UTF-8 file may start
    with a byte-order mark, which is not text."""
    return "utf-8-sig" if encoding == "utf-8" else encoding


def read_csv_text(path: Path, sep: str = ",", encoding: str = "utf-8",
                  names: list[str] | None = None) -> pd.DataFrame:
    """A delimited text file as a DataFrame of strings ("" for empty cells).

    `encoding="auto"` detects the encoding from the bytes (`detect_encoding`).
    """
    _check_not_empty(path)
    if encoding == "auto":
        encoding = detect_encoding(path)
    header = None if names else "infer"
    multi_char = len(sep) > 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path, sep=sep, encoding=codec(encoding),
                dtype=str, keep_default_na=False,
                header=header, names=names, index_col=False,
                engine="python" if multi_char else "c",
                quoting=csv.QUOTE_NONE if multi_char else csv.QUOTE_MINIMAL,
            )
    except UnicodeDecodeError:
        check_encoding(path, encoding)
        raise
    except pd.errors.EmptyDataError:
        raise DataError(Message("no_header_or_rows", path=str(path))) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise DataError(Message("cannot_parse", path=str(path), used=_delimiter_name(sep),
                                error=str(exc).strip().splitlines()[-1])) from None
    if names is None:
        _check_delimiter(path, frame, sep)
        frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def read_parquet_table(path: Path) -> pd.DataFrame:
    """A Parquet file; ids are converted to strings later by the cleaning rules."""
    if path.stat().st_size == 0:
        raise DataError(Message("file_empty", path=str(path)))
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise DataError(Message("not_parquet", path=str(path), error=str(exc))) from None


def read_table(path: Path, encoding: str = "auto") -> pd.DataFrame:
    """Read a generic-layout table by its suffix (.csv, .tsv, .parquet/.pq)."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return read_parquet_table(path)
    return read_csv_text(path, sep="\t" if suffix in (".tsv", ".txt") else ",",
                         encoding=encoding)


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...], source: str | Path) -> None:
    """Raise naming every missing required column and the file."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns)) or Message("no_columns")
        raise DataError(Message("missing_columns", source=str(source), missing=", ".join(missing),
                                n=len(missing),
                                found=found, first=missing[0]))
