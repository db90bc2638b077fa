"""Storage a hosted multi-tenant service can trust (issue 17): PostgreSQL keys after the
md5 migration, schema names PostgreSQL would cut, `replace_all` under 8 concurrent
processes with an observer, overlapping shuffled batches from 8 processes, timeouts
(a silent listener, a refused port, a frozen backend), and SQLite files that are not
stores or sit in a read-only directory.

Every concurrency test is bounded (a few hundred writes) and asserts outcomes, never
timings; the timeout tests allow the configured timeout plus one second.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stakeholder import Account, ConfigurationError, StorageError, SyncIssue
from stakeholder.cli import main
from stakeholder.storage import MemoryStore, SQLiteStore, Store, open_store
from stakeholder.testing.contract import MD5_COLLIDING_PAIR
from storage_backends import postgres_schema, postgres_url

WRITERS = 8
REPLACEMENTS = 15
SET_SIZE = 4

# --------------------------------------------------------------------------- helpers

_REPLACER = """
import os, sys, time
from stakeholder import SyncIssue
from stakeholder.storage import open_store

url, writer, rounds, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
store = open_store(url)
issues = [SyncIssue(f"w{writer}-d{i}.com", ("a", "b"), f"writer {writer}", "s")
          for i in range(%(size)d)]
while not os.path.exists(go):
    time.sleep(0.01)
for _ in range(rounds):
    result = store.sync_issues.replace_all("tenant", issues)
    assert result.written == len(issues), result
store.close()
print("done", flush=True)
"""

_BATCHER = """
import os, random, sys, time
from stakeholder import Contact, StorageError
from stakeholder._routing import RouteStatus, RoutingDecision
from stakeholder.storage import open_store

url, writer, rounds, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
store = open_store(url)
rng = random.Random(writer)
ids = [f"id-{i:03d}" for i in range(120)]
while not os.path.exists(go):
    time.sleep(0.01)
failures = written = 0
for round_ in range(rounds):
    rng.shuffle(ids)
    chosen = ids[: rng.randint(60, 120)]
    contacts = [Contact(i, f"acct-{writer}", name=f"w{writer}") for i in chosen]
    decisions = [RoutingDecision(i, RouteStatus.ROUTED, (f"acct-{writer}", "shared"))
                 for i in chosen]
    try:
        written += store.contacts.put_many("tenant", contacts).written
        written += store.decisions.put_many("tenant", decisions).written
    except StorageError as exc:
        failures += 1
        print("FAILED", exc, file=sys.stderr, flush=True)
store.close()
print("written", written, "failures", failures, flush=True)
"""


def _children(script: str, url: str, rounds: int, go: Path) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), url, str(w), str(rounds), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WRITERS)
    ]


def _finish(children: list[subprocess.Popen[str]]) -> list[str]:
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=240)
        assert child.returncode == 0, err[-2000:]
        outputs.append(out)
    return outputs


def _observe(store: Store, children: list[subprocess.Popen[str]]) -> tuple[int, int]:
    """Read the tenant's issues until every writer ends: (snapshots, mixed ones)."""
    snapshots = mixed = 0
    while any(child.poll() is None for child in children):
        domains = [i.domain for i in store.sync_issues.list("tenant")]
        writers = {d.partition("-")[0] for d in domains}
        snapshots += 1
        if domains and (len(writers) != 1 or len(domains) != SET_SIZE):
            mixed += 1
        time.sleep(0.005)
    return snapshots, mixed


def _replace_all_race(url: str, observer: Store, tmp_path: Path) -> None:
    go = tmp_path / "go"
    children = _children(_REPLACER % {"size": SET_SIZE}, url, REPLACEMENTS, go)
    go.touch()
    snapshots, mixed = _observe(observer, children)
    _finish(children)
    final = observer.sync_issues.list("tenant")
    assert snapshots > 0
    assert mixed == 0, f"{mixed} of {snapshots} snapshots mixed two writers' sets"
    assert len(final) == SET_SIZE
    assert len({i.domain.partition("-")[0] for i in final}) == 1


def _overlapping_batches(url: str, store: Store, tmp_path: Path) -> None:
    go = tmp_path / "go"
    children = _children(_BATCHER, url, 6, go)
    go.touch()
    outputs = _finish(children)
    failures = [int(out.split()[-1]) for out in outputs]
    assert failures == [0] * WRITERS, outputs  # every deadlock was retried, none reported
    contacts = store.contacts.list("tenant")
    decisions = store.decisions.list("tenant")
    # nothing lost: every id some writer wrote is there, whole, from one writer
    assert len(contacts) == len(decisions) == 120
    for contact in contacts:
        assert contact.account_id == f"acct-{contact.name[1:]}"
    for decision in decisions:
        timeline = store.decisions.timeline("tenant", decision.account_ids[0])
        assert decision in timeline
    assert len(store.decisions.timeline("tenant", "shared")) == 120


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = postgres_url()
    with postgres_schema(url) as schema:
        yield f"{url}?schema={schema}"


# --------------------------------------------------------------------------- replace_all


@pytest.mark.postgres
def test_postgres_replace_all_from_8_processes_never_mixes_sets(
    pg_url: str, tmp_path: Path
) -> None:
    with open_store(pg_url) as observer:
        _replace_all_race(pg_url, observer, tmp_path)


def test_sqlite_replace_all_from_8_processes_never_mixes_sets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    with open_store(url) as observer:
        _replace_all_race(url, observer, tmp_path)


def test_memory_replace_all_from_8_threads_never_mixes_sets() -> None:
    store = MemoryStore()
    snapshots = mixed = 0

    def writer(w: int) -> None:
        issues = [SyncIssue(f"w{w}-d{i}.com", ("a", "b"), "r", "s") for i in range(SET_SIZE)]
        for _ in range(REPLACEMENTS * 4):
            store.sync_issues.replace_all("tenant", issues)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    while snapshots == 0 or any(t.is_alive() for t in threads):
        domains = [i.domain for i in store.sync_issues.list("tenant")]
        snapshots += 1
        if domains and (len({d.partition("-")[0] for d in domains}) != 1
                        or len(domains) != SET_SIZE):
            mixed += 1
    assert mixed == 0
    assert len(store.sync_issues.list("tenant")) == SET_SIZE


# --------------------------------------------------------------------------- deadlocks


@pytest.mark.postgres
def test_postgres_overlapping_shuffled_batches_from_8_processes(
    pg_url: str, tmp_path: Path
) -> None:
    with open_store(pg_url) as store:
        _overlapping_batches(pg_url, store, tmp_path)


def test_sqlite_overlapping_shuffled_batches_from_8_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'batches.db'}"
    with open_store(url) as store:
        _overlapping_batches(url, store, tmp_path)


@pytest.mark.postgres
def test_postgres_retries_deadlocks_a_bounded_number_of_times(pg_url: str) -> None:
    """A write the server rolls back as a deadlock or serialisation failure runs again
    (`retries` times at most, then the error says so); other errors are not retried,
    and a batch is never re-run behind the caller's back."""
    from psycopg import errors

    def failing(times: int, error: type[Exception]) -> tuple[list[int], Any]:
        calls: list[int] = []

        def work(session: Any) -> Any:
            calls.append(1)
            if len(calls) <= times:
                raise error("simulated by the test")
            return session.query("SELECT 1")

        return calls, work

    with open_store(pg_url, retries=2) as store:
        calls, work = failing(2, errors.DeadlockDetected)
        assert store.transact(work) == [(1,)]  # type: ignore[attr-defined]
        assert len(calls) == 3
        calls, work = failing(3, errors.SerializationFailure)
        with pytest.raises(StorageError, match="gave up after 3 attempts"):
            store.transact(work)  # type: ignore[attr-defined]
        assert len(calls) == 3
        calls, work = failing(1, errors.UniqueViolation)
        with pytest.raises(StorageError):
            store.transact(work)  # type: ignore[attr-defined]
        assert len(calls) == 1
        calls, work = failing(1, errors.DeadlockDetected)
        with pytest.raises(StorageError), store.batch():
            store.transact(work)  # type: ignore[attr-defined]
        assert len(calls) == 1


# --------------------------------------------------------------------------- keys


@pytest.mark.postgres
def test_postgres_migration_moves_md5_keys_of_an_existing_database(pg_url: str) -> None:
    import psycopg
    from psycopg import sql

    from stakeholder.storage import _postgres

    base, _, schema = pg_url.partition("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        assert _postgres.migrate(conn, schema, target=3) == 3
        conn.execute(
            "INSERT INTO accounts VALUES (%s, %s, 'Old', 'customer', 'active', NULL, '[]', '[]')",
            ("t", MD5_COLLIDING_PAIR[0]),
        )

    def key_indexes() -> list[str]:
        with psycopg.connect(base) as conn:
            rows = conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = %s", (schema,)
            ).fetchall()
        return [r[0] for r in rows]

    assert any("md5(" in d for d in key_indexes())
    with open_store(pg_url) as store:
        assert not any("md5(" in d for d in key_indexes())
        assert sum("stakeholder_key(" in d for d in key_indexes()) >= 8
        assert store.accounts.get("t", MD5_COLLIDING_PAIR[0]) == Account(
            MD5_COLLIDING_PAIR[0], "Old"
        )
        store.accounts.put("t", Account(MD5_COLLIDING_PAIR[1], "New"))
        assert store.accounts.count("t") == 2
        assert store.accounts.get("t", MD5_COLLIDING_PAIR[0]) == Account(
            MD5_COLLIDING_PAIR[0], "Old"
        )


@pytest.mark.postgres
@pytest.mark.parametrize("schema", ["s" * 64, "é" * 32, "x" * 63 + "-a", "x" * 63 + "-b"])
def test_postgres_refuses_schema_names_it_would_cut(schema: str) -> None:
    url = postgres_url()
    with pytest.raises(ConfigurationError, match="63 bytes"):
        open_store(f"{url}?schema={schema}")
    with pytest.raises(ConfigurationError, match="63 bytes"):
        open_store(url, schema=schema)


@pytest.mark.postgres
def test_postgres_accepts_a_63_byte_schema_name() -> None:
    import psycopg
    from psycopg import sql

    url = postgres_url()
    schema = f"stakeholder_test_{uuid.uuid4().hex}".ljust(63, "n")
    try:
        with open_store(url, schema=schema) as store:
            store.accounts.put("t", Account("a", "A"))
            assert store.accounts.count("t") == 1
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


# --------------------------------------------------------------------------- timeouts


@contextlib.contextmanager
def _silent_listener() -> Iterator[int]:
    """A loopback TCP port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield int(server.getsockname()[1])


def test_postgres_open_against_a_silent_server_times_out() -> None:
    pytest.importorskip("psycopg")
    with _silent_listener() as port:
        started = time.monotonic()
        with pytest.raises(StorageError, match=r"(?i)time"):
            open_store(f"postgresql://nobody@127.0.0.1:{port}/db", connect_timeout=2)
        assert time.monotonic() - started < 2 + 1


def test_postgres_open_on_a_refused_port_fails_fast_with_the_cause() -> None:
    pytest.importorskip("psycopg")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(StorageError, match=r"(?i)refused"):
        open_store(f"postgresql://nobody@127.0.0.1:{port}/db")
    assert time.monotonic() - started < 2


@pytest.mark.postgres
def test_postgres_unknown_role_is_the_error() -> None:
    import psycopg

    url = postgres_url()
    base = url.partition("://")[2].partition("@")[2]  # host:port/db
    started = time.monotonic()
    with pytest.raises(StorageError, match="no_such_role_stakeholder"):
        open_store(f"postgresql://no_such_role_stakeholder@{base}")
    assert time.monotonic() - started < 5
    assert psycopg.conninfo.conninfo_to_dict(url)  # the URL was a PostgreSQL URL


@pytest.mark.postgres
@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs POSIX signals")
def test_postgres_frozen_backend_is_an_error_within_the_statement_timeout(
    pg_url: str,
) -> None:
    limit = 1.5
    with open_store(pg_url, statement_timeout=limit, min_size=1, max_size=1) as store:
        store.accounts.put("t", Account("a", "A"))
        with store.pool.connection() as conn:  # type: ignore[attr-defined]
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        try:
            os.kill(pid, signal.SIGSTOP)
        except (PermissionError, ProcessLookupError):
            pytest.skip("the PostgreSQL server runs elsewhere or as another user")
        try:
            started = time.monotonic()
            with pytest.raises(StorageError, match="did not answer"):
                store.accounts.put_many("t", [Account("b", "B")])
            assert time.monotonic() - started < limit + 1
        finally:
            os.kill(pid, signal.SIGCONT)
        # the store goes on with a new connection; the frozen write left nothing
        assert store.accounts.list("t") == [Account("a", "A")]


@pytest.mark.postgres
def test_postgres_no_free_pooled_connection_says_why(pg_url: str) -> None:
    with open_store(pg_url, min_size=1, max_size=1, timeout=1) as store:
        errors: list[BaseException] = []

        def count() -> None:
            try:
                store.accounts.count("t")
            except StorageError as exc:
                errors.append(exc)

        with store.batch():  # this thread holds the only connection
            other = threading.Thread(target=count)
            started = time.monotonic()
            other.start()
            other.join(30)
        assert time.monotonic() - started < 1 + 5
        assert len(errors) == 1
        assert "within 1 s" in str(errors[0])
        assert "busy" in str(errors[0])


def test_postgres_timeout_options_are_checked() -> None:
    pytest.importorskip("psycopg")
    for options in ({"statement_timeout": 0}, {"connect_timeout": -1},
                    {"timeout": float("nan")}, {"retries": -1}):
        with pytest.raises(ConfigurationError):
            open_store("postgresql://nobody@127.0.0.1:1/db", **options)


# --------------------------------------------------------------------------- SQLite files


def test_sqlite_refuses_a_foreign_database_without_changing_it(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
    before = path.read_bytes()
    with pytest.raises(StorageError, match="not a stakeholder store"):
        SQLiteStore(path)
    assert path.read_bytes() == before  # still in rollback-journal mode: not WAL
    assert not Path(f"{path}-wal").exists()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_sqlite_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 100)
    with pytest.raises(StorageError, match="not a database"):
        SQLiteStore(path)
    assert path.read_text() == "not a database\n" * 100


def _run_unprivileged(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a Python that permissions apply to: this one, or, for root (which
    ignores them), the system Python as `nobody` with the library on its path."""
    if os.geteuid() != 0:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=60, check=False)
    python = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    if not os.access(python, os.X_OK):
        pytest.skip(f"running as root and {python} is missing: cannot drop privileges")
    import attrs

    import stakeholder

    paths = [str(Path(stakeholder.__file__).parents[1]), str(Path(attrs.__file__).parents[1])]
    try:
        return subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=60, check=False,
            user="nobody", env={"PYTHONPATH": os.pathsep.join(paths), "PATH": "/usr/bin"},
        )
    except (PermissionError, KeyError) as exc:
        pytest.skip(f"cannot run Python as nobody: {exc}")


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_sqlite_in_a_read_only_directory_names_the_wal_files() -> None:
    directory = Path(tempfile.mkdtemp(prefix="stakeholder-ro-"))
    try:
        path = directory / "store.db"
        SQLiteStore(path).close()
        os.chmod(path, 0o644)
        os.chmod(directory, 0o555)
        code = textwrap.dedent(f"""
            from stakeholder import StorageError
            from stakeholder.storage import SQLiteStore
            try:
                SQLiteStore({str(path)!r})
            except StorageError as exc:
                print(exc)
        """)
        done = _run_unprivileged(code)
        assert f"{path}-wal" in done.stdout, done.stdout + done.stderr
        assert "not writable" in done.stdout
    finally:
        os.chmod(directory, stat.S_IRWXU)
        for child in directory.iterdir():
            child.unlink()
        directory.rmdir()


def test_demo_with_an_unopenable_store_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = tmp_path / "foreign.db"
    with contextlib.closing(sqlite3.connect(foreign)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    for url in (f"sqlite:///{tmp_path / 'missing' / 'x.db'}", f"sqlite:///{foreign}",
                "mysql://nowhere/db"):
        assert main(["demo", "--db", url]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert len(captured.err.strip().splitlines()) == 1
        assert captured.err.startswith("stakeholder: error: --db ")
