"""A throwaway PostgreSQL server for tests (initdb + pg_ctl in a temp folder, free port).

Skipped only where the server binaries are absent and ``CI`` is unset; in CI it must run.
Usage: ``from tests.pg import pg_url`` and request the ``pg_url`` fixture.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], **kw: object) -> None:
    # PostgreSQL refuses to run as root: drop to the "postgres" user when we are root.
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, capture_output=True, timeout=120, **kw)  # type: ignore[call-overload]


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a fresh PostgreSQL database, stopped at the end of the session."""
    bindir = _bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries (initdb, pg_ctl) are required in CI")
        pytest.skip("PostgreSQL binaries not installed")
    root = tmp_path_factory.mktemp("pg")
    if os.geteuid() == 0:
        # pytest's temp folders are private to root; the server user needs its own.
        root = Path(tempfile.mkdtemp(prefix="socialguide-pg-"))
        shutil.chown(root, "postgres")
    data = root / "data"
    port = _free_port()
    _run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
          "--no-sync", "-E", "UTF8"])
    log = root / "server.log"
    _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o",
          f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
          " -c full_page_writes=off", "start"])
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[str]:
    """URL of a new, empty database on the throwaway server (one per test)."""
    import uuid

    from sqlalchemy import create_engine, text

    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
