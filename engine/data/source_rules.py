"""What the studio may read: server folders below named roots, named databases, size limits.

Anyone who reaches the studio can ask it to read, so its sources are confined by a file the
server's operator writes, `$PRISM_HOME/sources.toml`:

    [folders]
    roots = ["/srv/exports"]           # server folders only below these (default: imports/)

    [databases.shop]                   # a database the Import page offers, by name
    url_env = "SHOP_DB_URL"            # its URL from this environment variable...
    # url_file = "/etc/prism/shop.url" # ...or from this file (never typed, never shown)

    [uploads]
    max_mb = 200                       # per table, decompressed (Parquet counted unpacked)
    max_rows = 5000000                 # per table

A path is resolved (`~`, `..` and links followed) before it is compared with the roots, so a
link that leads out of a root is refused like any other outside path. The command line is
run by the operator and reads what they name; these rules are the studio's.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from engine.core import paths
from engine.core.errors import DataError
from engine.core.messages import Message
from engine.data.sql import resolve_url

RULES_FILE = "sources.toml"
DEFAULT_ROOT = "imports"  # $PRISM_HOME/imports when no roots are named
DEFAULT_MAX_ROWS = 5_000_000
PARQUET = (".parquet", ".pq")


@dataclass(frozen=True)
class Database:
    """A database the studio may import from: its URL comes from exactly one place."""

    name: str
    url_env: str | None = None
    url_file: str | None = None


@dataclass(frozen=True)
class SourceRules:
    roots: tuple[Path, ...]
    databases: dict[str, Database] = field(default_factory=dict)
    max_bytes: int | None = None  # None: the caller's own limit (the studio's upload size)
    max_rows: int = DEFAULT_MAX_ROWS


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"{RULES_FILE} in the Prism home cannot be read ({exc}); fix the "
                        "file (see docs/importing.md)") from None


def _databases(section: object) -> dict[str, Database]:
    if not isinstance(section, dict):
        return {}
    found = {}
    for name, entry in section.items():
        entry = entry if isinstance(entry, dict) else {}
        env, file = entry.get("url_env"), entry.get("url_file")
        if bool(env) == bool(file):
            raise DataError(f"{RULES_FILE}: database {name!r} needs exactly one of url_env or "
                            "url_file")
        found[str(name)] = Database(str(name), env and str(env), file and str(file))
    return found


def _section(config: dict, name: str) -> dict:
    section = config.get(name) or {}
    if not isinstance(section, dict):
        raise DataError(f"{RULES_FILE}: [{name}] must be a table of settings")
    return section


def _number(section: dict, name: str, default: float | None) -> float | None:
    value = section.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise DataError(f"{RULES_FILE}: [uploads] {name} must be a positive number, not "
                        f"{value!r}")
    return float(value)


def load_rules(home: Path | None = None) -> SourceRules:
    """The rules in `home` (default the Prism home); safe defaults when there is no file."""
    home = paths.prism_home() if home is None else Path(home)
    config = _read(home / RULES_FILE)
    named = _section(config, "folders").get("roots") or []
    if isinstance(named, str):
        named = [named]
    if not isinstance(named, list) or not all(isinstance(r, str) and r for r in named):
        raise DataError(f"{RULES_FILE}: [folders] roots must be a list of folder paths")
    # absolute roots stay as named; relative ones are below the Prism home
    roots = [home / Path(root).expanduser() for root in named] or [home / DEFAULT_ROOT]
    uploads = _section(config, "uploads")
    max_mb = _number(uploads, "max_mb", None)
    return SourceRules(tuple(root.resolve() for root in roots),
                       _databases(config.get("databases")),
                       None if max_mb is None else int(max_mb * 2**20),
                       int(_number(uploads, "max_rows", DEFAULT_MAX_ROWS) or DEFAULT_MAX_ROWS))


def _inside(path: Path, rules: SourceRules) -> bool:
    return any(path == root or path.is_relative_to(root) for root in rules.roots)


def _roots_text(rules: SourceRules) -> str:
    return ", ".join(str(root) for root in rules.roots)


def server_path(text: str, rules: SourceRules) -> Path:
    """The resolved folder or file `text` names, refused unless it lies below a root.

    A relative path is taken below the first root. Every file directly in a folder must
    resolve below a root too (no link out of it).
    """
    text = str(text).strip()
    if not text:
        raise DataError(Message("folder_needed", roots=_roots_text(rules)))
    given = Path(text).expanduser()
    resolved = (given if given.is_absolute() else rules.roots[0] / given).resolve()
    if not _inside(resolved, rules):
        raise DataError(Message("folder_outside", path=text, roots=_roots_text(rules),
                                rules=RULES_FILE))
    if not resolved.exists():
        raise DataError(Message("folder_missing", path=text, roots=_roots_text(rules)))
    if resolved.is_dir():
        for entry in sorted(resolved.iterdir()):
            if not _inside(entry.resolve(), rules):
                raise DataError(Message("folder_link_out", path=text, entry=entry.name,
                                        roots=_roots_text(rules)))
    return resolved


def database_url(name: str, rules: SourceRules) -> str:
    """The URL of the named database (never shown), from its environment variable or file."""
    database = rules.databases.get(str(name))
    if database is None:
        offered = ", ".join(rules.databases) or Message("no_columns")
        raise DataError(Message("database_not_offered", name=name, offered=offered,
                                rules=RULES_FILE))
    return resolve_url(env=database.url_env, file=database.url_file)


def _parquet_size(path: Path, max_bytes: int, max_rows: int) -> tuple[int, int]:
    """(bytes unpacked, rows) of a Parquet file: from its footer first, then by streaming
    its batches (a footer may understate), stopping as soon as a limit is passed."""
    try:
        parquet = pq.ParquetFile(path)
        meta = parquet.metadata
        declared = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if declared > max_bytes or meta.num_rows > max_rows:
            return declared, meta.num_rows
        unpacked = rows = 0
        for batch in parquet.iter_batches(batch_size=65_536):
            unpacked, rows = unpacked + batch.nbytes, rows + batch.num_rows
            if unpacked > max_bytes or rows > max_rows:
                break
        return max(unpacked, declared), rows
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise DataError(Message("parquet_unreadable", file=path.name,
                                error=type(exc).__name__)) from None


def _text_size(path: Path, max_rows: int) -> tuple[int, int]:
    lines = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += block.count(b"\n")
            if lines > max_rows + 1:
                break
    return path.stat().st_size, max(lines - 1, 0)


def check_limits(files: list[Path], max_bytes: int, max_rows: int) -> None:
    """Refuse any table over `max_bytes` unpacked or `max_rows` rows (names file and limit)."""
    for path in files:
        if not path.is_file():
            continue
        if path.suffix.lower() in PARQUET:
            size, rows = _parquet_size(path, max_bytes, max_rows)
        else:
            size, rows = _text_size(path, max_rows)
        if size > max_bytes:
            raise DataError(Message("table_too_big", file=path.name, mb=size / 2**20,
                                    limit=max_bytes / 2**20))
        if rows > max_rows:
            raise DataError(Message("table_too_long", file=path.name, rows=max_rows))


def folder_files(path: Path) -> list[Path]:
    """The files a folder source reads (a file source is itself)."""
    return sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
