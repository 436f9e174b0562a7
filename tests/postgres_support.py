"""A real PostgreSQL server for tests: started on 127.0.0.1 from the Debian package's binaries
(apt-get install postgresql), trust authentication, stopped and removed afterwards."""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
needs_postgres = pytest.mark.skipif(not BINARIES, reason="PostgreSQL server binaries not found "
                                    "(Debian: apt-get install postgresql)")


def _run_as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(bin_dir: Path, port: int, server: subprocess.Popen) -> None:
    """Poll pg_isready until the server accepts connections (or stops)."""
    while subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port),
                          "-t", "1"], capture_output=True).returncode != 0:
        assert server.poll() is None, server.stderr.read() if server.stderr else "stopped"


@contextlib.contextmanager
def running_postgres(setup_sql: str | None = None) -> Iterator[str]:
    """A fresh server; yields its SQLAlchemy URL (user `shop`, database `postgres`) after
    running `setup_sql` in it."""
    import psycopg

    bin_dir = BINARIES[-1].parent
    base = Path(tempfile.mkdtemp(prefix="prism-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    data, port = base / "data", _free_port()
    subprocess.run(_run_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A",
                                        "trust", "-U", "shop", "-E", "UTF8"]),
                   check=True, capture_output=True)
    server = subprocess.Popen(_run_as_server_user(
        [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(base),
         "-h", "127.0.0.1", "-c", "fsync=off"]), stderr=subprocess.PIPE, text=True)
    try:
        _wait_ready(bin_dir, port, server)
        if setup_sql:
            with psycopg.connect(f"host=127.0.0.1 port={port} user=shop dbname=postgres",
                                 autocommit=True) as connection:
                connection.execute(setup_sql)
        yield f"postgresql+psycopg://shop:s3cret@127.0.0.1:{port}/postgres"
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=60)
        if server.poll() is None:
            server.kill()
            server.wait()
        shutil.rmtree(base, ignore_errors=True)


_DATABASES = itertools.count()


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[str]:
    """One server per test module (skipped with the reason when it cannot be started)."""
    if not BINARIES:
        pytest.skip("PostgreSQL server binaries not found (Debian: apt-get install postgresql)")
    pytest.importorskip("psycopg", reason="needs the psycopg driver (pip install psycopg)")
    with running_postgres() as url:
        yield url


def fresh_database(server: str, prefix: str) -> str:
    """A new empty database on `server` (a URL from running_postgres); returns its URL."""
    import psycopg

    name = f"{prefix}_{next(_DATABASES)}"
    port = server.rsplit(":", 1)[1].split("/")[0]
    with psycopg.connect(f"host=127.0.0.1 port={port} user=shop dbname=postgres",
                         autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"
