"""Reliability: a writer killed with SIGKILL in the middle of a batch, writers racing on
overrides, a PostgreSQL connection dropped in the middle of a batch."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stakeholder import Account, StorageError
from stakeholder.storage import SQLiteStore, Store, open_store
from storage_backends import postgres_schema, postgres_url

WRITERS = 2
OVERRIDES_EACH = 150

_KILLED_WRITER = """
import sys
from stakeholder import Contact
from stakeholder.storage import open_store

store = open_store(sys.argv[1])
with store.batch():
    for chunk in range(10_000):
        contacts = [Contact(f"batch-{chunk}-{i}", "acme") for i in range(500)]
        store.contacts.put_many("t", contacts)
        if chunk == 2:
            print("in the batch", flush=True)
raise SystemExit("the batch should have been killed before it finished")
"""

_OVERRIDE_WRITER = """
import datetime as dt, os, sys, time
from stakeholder._routing import Override
from stakeholder.storage import open_store

url, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
store = open_store(url)
while not os.path.exists(go):
    time.sleep(0.01)
at = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
for i in range(count):
    override = Override(("acme",), name, f"reason {i}", at + dt.timedelta(seconds=i),
                        comm_id=f"m-{i % 7}")
    if i % 10 == 9:
        with store.batch():
            store.overrides.add(f"tenant", override)
            store.accounts.count("tenant")
    else:
        store.overrides.add("tenant", override)
store.close()
print("done", flush=True)
"""


def _child(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# --------------------------------------------------------------------------- SQLite


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sqlite_writer_killed_mid_batch_leaves_nothing_of_it(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    with SQLiteStore(path) as store:
        store.accounts.put_many("t", [Account("acme", "Acme"), Account("globex", "Globex")])
        before = store.accounts.list("t")

    writer = _child(_KILLED_WRITER, f"sqlite:///{path}")
    assert writer.stdout is not None
    line = writer.stdout.readline()
    assert line.strip() == "in the batch", writer.stderr.read() if writer.stderr else ""
    time.sleep(0.2)  # let it write more of the batch
    assert writer.poll() is None, "the writer finished before it could be killed"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    assert (tmp_path / "killed.db-wal").exists()  # the batch reached the write-ahead log

    with SQLiteStore(path) as store:  # openable
        conn = store.connection
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert store.contacts.count("t") == 0  # nothing of the batch
        assert store.accounts.list("t") == before  # everything from before
        store.contacts.put_many("t", [])  # and writable
        assert store.accounts.delete("t", "globex")


def _race_overrides(url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    writers = [
        _child(_OVERRIDE_WRITER, url, f"writer-{n}", str(OVERRIDES_EACH), str(go))
        for n in range(WRITERS)
    ]
    time.sleep(0.5)
    go.touch()
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        assert out.strip() == "done"


def _check_no_override_lost(store: Store) -> None:
    history = store.overrides.history("tenant")
    assert store.overrides.count("tenant") == WRITERS * OVERRIDES_EACH
    seen = {(r.override.author, r.override.reason) for r in history}
    expected = {(f"writer-{n}", f"reason {i}") for n in range(WRITERS) for i in range(OVERRIDES_EACH)}
    assert seen == expected
    # one active override per communication: the latest, ties broken by author
    active = store.overrides.active("tenant")
    assert [o.comm_id for o in active] == [f"m-{k}" for k in range(7)]
    assert all(o.author == "writer-0" for o in active)


def test_sqlite_two_processes_writing_overrides_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    SQLiteStore(path).close()
    _race_overrides(f"sqlite:///{path}", tmp_path)
    with SQLiteStore(path) as store:
        _check_no_override_lost(store)
        assert store.connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_sqlite_failed_write_is_a_storage_error_and_leaves_nothing(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "x.db") as store:
        store.accounts.put("t", Account("acme", "Acme"))
        store.connection.execute("CREATE TRIGGER no_globex BEFORE INSERT ON accounts "
                                 "WHEN NEW.id = 'globex' BEGIN SELECT RAISE(ABORT, 'no'); END")

        def write_both() -> None:
            with store.batch():
                store.accounts.put("t", Account("initech", "Initech"))
                store.accounts.put("t", Account("globex", "Globex"))

        with pytest.raises(StorageError):
            write_both()
        assert [a.id for a in store.accounts.list("t")] == ["acme"]
        with pytest.raises(StorageError):
            store.accounts.put_many("t", [Account("umbrella", "U"), Account("globex", "G")])
        assert [a.id for a in store.accounts.list("t")] == ["acme"]


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = postgres_url()
    with postgres_schema(url) as schema:
        yield f"{url}?schema={schema}"


@pytest.mark.postgres
def test_postgres_two_processes_writing_overrides_lose_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    open_store(pg_url).close()
    _race_overrides(pg_url, tmp_path)
    with open_store(pg_url) as store:
        _check_no_override_lost(store)


@pytest.mark.postgres
def test_postgres_connection_dropped_mid_batch_is_reported_and_leaves_nothing(
    pg_url: str,
) -> None:
    import psycopg

    from stakeholder.storage import PostgresStore

    store = open_store(pg_url, max_size=2)
    assert isinstance(store, PostgresStore)
    try:
        store.accounts.put("t", Account("acme", "Acme"))

        def batch_losing_its_connection() -> None:
            with store.batch():
                store.accounts.put_many("t", [Account(f"a{i}", "A") for i in range(3000)])
                pid = store._local.conn.info.backend_pid  # the batch's own connection
                with psycopg.connect(pg_url.partition("?")[0], autocommit=True) as killer:
                    killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
                store.accounts.put("t", Account("late", "Late"))

        with pytest.raises(StorageError):
            batch_losing_its_connection()
        # the store carries on with a fresh connection, and nothing of the batch is there
        assert [a.id for a in store.accounts.list("t")] == ["acme"]
        store.accounts.put("t", Account("after", "After"))
        assert store.accounts.count("t") == 2
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_unreachable_server_is_a_storage_error() -> None:
    url = postgres_url()
    host_and_db = url.rpartition("@")[2]
    port = int(host_and_db.split(":")[1].split("/")[0])
    with pytest.raises(StorageError):
        open_store(f"postgresql://nobody@127.0.0.1:{port}/no_such_database", timeout=2)


def test_sqlite_unopenable_path_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        SQLiteStore(tmp_path / "no" / "such" / "dir" / "x.db")
    (tmp_path / "garbage.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError):
        SQLiteStore(tmp_path / "garbage.db")
    assert sqlite3.sqlite_version  # the stdlib engine is what we test against
