"""Atomic writes: a reader sees a file's old content or its new content, never half of it.

Every file Prism writes (run folders, exports, studio settings, embedding caches, datasets)
goes through here. A file is written under a unique hidden name in its own folder (so two
processes never share a temporary file and the rename never crosses file systems), flushed
to disk, then renamed onto the target with `os.replace`, which is atomic on POSIX and Windows.
If writing fails, the temporary file is removed and the old file stays as it was.

Folders are swapped the same way (`swap_folder`): built beside the target, then renamed in,
with the old folder set aside until the new one is in place. Every file of a swapped-in
folder gets the same mode (`FILE_MODE`), whichever library wrote it.

Temporary names carry the writer's host and process id (`<name>.tmp-<host>-<pid>-<token>`),
so `clean_stale` can remove what a killed writer left behind without touching the files of
a writer still at work.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FILE_MODE = 0o644  # what `open(..., "w")` gives under the usual umask; tables are ordinary files
FOLDER_MODE = 0o755
STAGING_MARK, RETIRED_MARK = ".tmp-", ".old-"  # run and dataset listings skip these names
_OWNER = re.compile(r"\.(tmp|old)-(?:([A-Za-z0-9]+)-(\d+)-)?[0-9a-f]+$")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16] or "host"


def _token() -> str:
    return f"{_host()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def is_swap_name(name: str) -> bool:
    """True for the temporary and retired names writers use (never a dataset or a run)."""
    return STAGING_MARK in name or RETIRED_MARK in name


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _stale(entry: Path) -> bool:
    """A staging name whose writer is gone (this host, dead pid, or no owner recorded); a
    retired folder only once its replacement is in place (else it is the only copy)."""
    match = _OWNER.search(entry.name)
    if match is None:
        return False
    kind, host, pid = match.groups()
    if host is not None and (host != _host() or _alive(int(pid))):
        return False
    if kind == "old":
        original = entry.name[:match.start()].removeprefix(".")
        return (entry.parent / original).exists()
    return True


def clean_stale(folder: str | Path) -> list[str]:
    """Remove what killed writers left in `folder` (one level); returns the names removed."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not is_swap_name(entry.name) or not _stale(entry):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry.name)
    return removed


def _same_modes(folder: Path) -> None:
    """Every file FILE_MODE and every folder FOLDER_MODE (libraries pick their own modes)."""
    os.chmod(folder, FOLDER_MODE)
    for root, dirs, names in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(root, name), FOLDER_MODE)
        for name in names:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, FILE_MODE)


def staging_name(path: Path) -> Path:
    """A unique hidden temporary path beside `path` (`.<name>.tmp-<token>`)."""
    return path.with_name(f".{path.name}{STAGING_MARK}{_token()}")


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


@contextmanager
def staged_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on a clean exit it replaces `path` atomically.

    For writers that take a file name (safetensors, Parquet, numpy). The parent folder is
    created if needed. On any error (including Ctrl-C) the temporary file is removed and
    `path` is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_name(target)
    try:
        yield staging
        _fsync(staging)
        os.chmod(staging, FILE_MODE)
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` atomically; returns `path`."""
    with staged_file(path) as staging:
        staging.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically; returns `path`."""
    return write_bytes_atomic(path, text.encode(encoding))


def json_default(value: Any) -> Any:
    """JSON for the values numpy and pathlib hand us: numpy scalars/arrays, paths."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()  # numpy scalar
    if hasattr(value, "tolist"):
        return value.tolist()  # numpy array
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def write_json_atomic(path: str | Path, value: Any, *, indent: int | None = 2,
                      ensure_ascii: bool = True) -> Path:
    """Write `value` as JSON (plus a final newline) to `path` atomically; returns `path`."""
    text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, default=json_default)
    return write_text_atomic(path, text + "\n")


def write_lines_atomic(path: str | Path, lines: Iterable[str]) -> Path:
    """Write `lines` (one record each, newline added) to `path` atomically; returns `path`."""
    return write_text_atomic(path, "".join(f"{line}\n" for line in lines))


def replace_files(moves: Iterable[tuple[Path, Path]]) -> None:
    """Rename complete staged files onto their targets (each rename atomic), in order."""
    for staged, target in moves:
        os.replace(staged, target)


def swap_folder(out: str | Path, fill: Callable[[Path], None], *, copy_existing: bool = False,
                hidden: bool = False) -> Path:
    """Build a folder beside `out` with `fill`, then swap it into place at `out`.

    The staging folder is `<out>.tmp-<token>` (`.<out>.tmp-<token>` with `hidden`). With
    `copy_existing` it starts as a copy of `out` (an in-place update). The old folder is set
    aside as `<out>.old-<token>` until the new one is in place, and put back if anything fails
    (including Ctrl-C), so `out` is always whole: old or new.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    prefix, token = ("." if hidden else ""), _token()
    staging = out.with_name(f"{prefix}{out.name}{STAGING_MARK}{token}")
    retired = out.with_name(f"{prefix}{out.name}{RETIRED_MARK}{token}")
    try:
        if copy_existing:
            shutil.copytree(out, staging)
        else:
            staging.mkdir()
        fill(staging)
        _same_modes(staging)
        if out.exists():
            os.replace(out, retired)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if retired.exists() and not out.exists():
            os.replace(retired, out)
        raise
    shutil.rmtree(retired, ignore_errors=True)
    return out


@contextmanager
def staging_folder(beside: str | Path) -> Iterator[Path]:
    """Yield an empty hidden folder beside `beside` (same file system), removed on exit."""
    target = Path(beside)
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = staging_name(target)
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
