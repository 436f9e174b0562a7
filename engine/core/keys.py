"""Keys Prism makes for itself, kept in `$PRISM_HOME/secrets/` (folder 0700, files 0600).

The shopper-id key turns an e-mail address into a pseudonymous shopper id with HMAC-SHA256.
Unlike a plain hash, the id cannot be computed from a known address by anyone without the
key, so an id neither leads to a person nor tells whether someone is a customer. The key is
made once per Prism home (the same address gives the same id across imports of that home)
and never written into a data set or a run.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from engine.core import paths
from engine.core.errors import ConfigError

SECRETS_DIR = "secrets"
SHOPPER_KEY = "shopper-ids.key"
KEY_BYTES = 32


def _folder(home: Path | None) -> Path:
    folder = (paths.prism_home() if home is None else Path(home)) / SECRETS_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def _create(path: Path) -> None:
    """Write a fresh key with mode 0600 from the first byte; a key already there wins."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_bytes(KEY_BYTES))
        handle.flush()
        os.fsync(handle.fileno())


def shopper_key(home: Path | None = None) -> bytes:
    """This Prism home's shopper-id key, made on first use."""
    path = _folder(home) / SHOPPER_KEY
    if not path.exists():
        _create(path)
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ConfigError(f"{path}: the shopper-id key is damaged ({len(key)} bytes, expected "
                          f"{KEY_BYTES}); restore it from a backup (a new key gives every "
                          "shopper imported from e-mails a new id)")
    return key


def keyed_shopper_id(value: str, key: bytes) -> str:
    """`u_` + the first 16 hex digits of HMAC-SHA256(key, value)."""
    return "u_" + hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
