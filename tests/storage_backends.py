"""Back ends for the storage tests (a helper module, not a conftest): store factories for
SQLite files and for PostgreSQL schemas, and finding a PostgreSQL server.

PostgreSQL: `STAKEHOLDER_TEST_POSTGRES_URL` when set; otherwise a throw-away server is
started from the Debian/Ubuntu packages when they are installed; otherwise the
PostgreSQL tests skip with a loud reason, except in CI (`CI=true`), where they fail.
Every store factory works in its own uniquely named PostgreSQL schema, dropped at the end.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stakeholder.storage import SQLiteStore, Store

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
URL_VARIABLE = "STAKEHOLDER_TEST_POSTGRES_URL"
TABLES = ("accounts", "contacts", "decisions", "decision_accounts", "overrides", "sync_issues",
          "runs")

_server: dict[str, str | None] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server() -> tuple[str | None, str]:
    """Start a private PostgreSQL server; (url, "") or (None, why not)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    pg_ctl = found[-1] if found else shutil.which("pg_ctl")
    if pg_ctl is None:
        return None, "no PostgreSQL server binaries (pg_ctl) are installed"
    bindir = Path(pg_ctl).parent
    data = Path(tempfile.mkdtemp(prefix="stakeholder-test-pg-"))
    port = _free_port()
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0

    def run(*command: str) -> None:
        line = " ".join(command)
        args = ["su", "postgres", "-c", line] if as_root else ["sh", "-c", line]
        subprocess.run(args, check=True, capture_output=True, timeout=120)

    try:
        if as_root:
            shutil.chown(data, "postgres", "postgres")
        run(str(bindir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8")
        run(str(pg_ctl), "-D", str(data / "db"), "-l", str(data / "server.log"), "-w", "-o",
            f"'-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off'", "start")
    except (subprocess.SubprocessError, OSError, LookupError) as exc:
        shutil.rmtree(data, ignore_errors=True)
        detail = getattr(exc, "stderr", b"") or b""
        return None, f"could not start PostgreSQL with {pg_ctl}: {exc} {detail[-300:]!r}"

    def stop() -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            run(str(pg_ctl), "-D", str(data / "db"), "-m", "immediate", "stop")
        shutil.rmtree(data, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", ""


def postgres_url() -> str:
    """The PostgreSQL URL for tests; skips loudly (fails in CI) when there is none."""
    if "url" not in _server:
        url = os.environ.get(URL_VARIABLE) or None
        why = ""
        if url is None:
            url, why = _start_server()
        _server["url"], _server["why"] = url, why
    url = _server["url"]
    if url is None:
        message = (
            f"PostgreSQL suite NOT RUN: {URL_VARIABLE} is not set and no server could be "
            f"started ({_server['why']})"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return url


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A uniquely named, empty PostgreSQL schema, dropped afterwards."""
    import psycopg
    from psycopg import sql

    schema = f"stakeholder_test_{uuid.uuid4().hex[:16]}"
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def truncate(store: Store) -> None:
    """Empty every table of a PostgresStore's schema but the schema version (cheaper than
    a new schema per example; the tables of later features included)."""
    from psycopg import sql

    pool = store.pool  # type: ignore[attr-defined]
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            " AND tablename <> 'stakeholder_schema_version' ORDER BY tablename"
        ).fetchall()
        tables = [row[0] for row in rows] or list(TABLES)
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in tables)
            )
        )


@contextlib.contextmanager
def postgres_stores(url: str) -> Iterator[Callable[[], Store]]:
    """A store factory over one fresh schema: each call returns the same store, emptied."""
    from stakeholder.storage import PostgresStore

    with postgres_schema(url) as schema:
        store = PostgresStore(url, schema=schema, max_size=4)
        try:

            def make() -> Store:
                truncate(store)
                return store

            yield make
        finally:
            store.close()


@contextlib.contextmanager
def sqlite_stores(directory: Path) -> Iterator[Callable[[], Store]]:
    """A store factory: each call opens a new SQLite file in `directory`."""
    opened: list[SQLiteStore] = []

    def make() -> Store:
        opened.append(SQLiteStore(directory / f"store-{len(opened)}.db"))
        return opened[-1]

    try:
        yield make
    finally:
        for store in opened:
            store.close()
