"""The SQLite back end (stdlib `sqlite3`): the embedded default.

One connection per store, in WAL mode with foreign keys on; every write call and every
batch is one `BEGIN IMMEDIATE` transaction (nested batches are savepoints), so a
crash or a kill in the middle of a batch leaves nothing of it. Several processes may
write the same file: a writer waits for the others (`busy_timeout`, 30 s by default).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

from stakeholder._errors import StorageError
from stakeholder.storage._migrations import LATEST_VERSION, VERSION_TABLE, pending
from stakeholder.storage._sql import (
    READ_CHUNK,
    SQLITE,
    Row,
    Session,
    SqlRepositories,
    purge_tenant,
    upsert_sql,
)

__all__ = ["SQLiteStore"]

T = TypeVar("T")

_TENANT_TABLES: Final = """SELECT m.name,
    (SELECT group_concat(f."table", char(31)) FROM pragma_foreign_key_list(m.name) f)
FROM sqlite_master m
WHERE m.type = 'table'
  AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'tenant')"""


class _SqliteSession:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def query_chunks(self, sql: str, params: Sequence[Any] = ()) -> Iterator[list[Row]]:
        cursor = self._conn.execute(sql, params)
        try:
            while rows := cursor.fetchmany(READ_CHUNK):
                yield rows
        finally:  # a reader that stops early must not keep its snapshot open
            cursor.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._conn.executemany(sql, rows)

    def upsert(
        self, table: str, columns: Sequence[str], keys: Sequence[str], rows: Sequence[Row]
    ) -> None:
        if rows:
            self._conn.executemany(upsert_sql(table, columns, keys), rows)


def _error(exc: sqlite3.Error, what: str) -> StorageError:
    return StorageError(f"{what} failed in SQLite: {exc}")


def _open_error(exc: sqlite3.Error, path: str) -> StorageError:
    """Why a file could not be opened, in words that name what to fix: SQLite in WAL
    mode writes two files beside the database, so a read-only directory fails even
    when the file itself is readable (SQLite then only says "readonly database")."""
    if path != ":memory:":
        directory = os.path.dirname(os.path.abspath(path))
        if not os.access(directory, os.W_OK):
            return StorageError(
                f"opening {path!r} failed in SQLite: {exc}; the store keeps its "
                f"write-ahead log in {path}-wal and {path}-shm beside the file, and the "
                f"directory {directory!r} is not writable"
            )
        if os.path.exists(path) and not os.access(path, os.W_OK):
            return StorageError(f"opening {path!r} failed in SQLite: {exc}; the file is read-only")
    return _error(exc, f"opening {path!r}")


def current_version(conn: sqlite3.Connection) -> int:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE}"
        " (version INTEGER PRIMARY KEY, description TEXT NOT NULL)"
    )
    row = conn.execute(f"SELECT MAX(version) FROM {VERSION_TABLE}").fetchone()  # noqa: S608 - table and column names are constants
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> int:
    """Bring the database to `target` in one transaction; the version it is at."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = current_version(conn)
        if version > LATEST_VERSION:
            raise StorageError(
                f"the database is at schema version {version}, newer than this library's "
                f"{LATEST_VERSION}: upgrade stakeholder"
            )
        for migration in pending(version, target):
            for statement in migration.sqlite:
                conn.execute(statement)
            conn.execute(
                f"INSERT INTO {VERSION_TABLE} (version, description) VALUES (?, ?)",  # noqa: S608 - table and column names are constants
                (migration.version, migration.description),
            )
            version = migration.version
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return version


def check_not_foreign(conn: sqlite3.Connection, path: str) -> None:
    """Refuse, before anything is changed, a database that holds tables but is not a
    store (no schema-version table): the store would add its tables to someone else's
    database and switch it to WAL for good."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    if names and VERSION_TABLE not in names:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise StorageError(
            f"{path!r} is a SQLite database of something else (tables: {shown}), not a "
            "stakeholder store; it was left unchanged"
        )


def connect(path: str, *, timeout: float = 30.0) -> sqlite3.Connection:
    """A connection configured as the store uses it (autocommit; we issue BEGIN)."""
    conn = sqlite3.connect(
        path, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    try:
        check_not_foreign(conn, path)
    except BaseException:
        conn.close()
        raise
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    if path != ":memory:":
        _while_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"), timeout)
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _while_locked(step: Callable[[], object], timeout: float) -> None:
    """Run `step`, retrying for up to `timeout` seconds while the file is locked.

    Switching a new file to WAL can answer "database is locked" at once, without
    waiting in the busy handler, when several processes open the same new file together.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        else:
            return


class SQLiteStore:
    """A store in one SQLite file (`open_store("sqlite:///path.db")`), or in memory
    (`path=":memory:"`). The schema is created or migrated on open."""

    def __init__(self, path: str | Path = ":memory:", *, timeout: float = 30.0) -> None:
        self.path = str(path)
        self.dialect = SQLITE
        self.url = "sqlite://" if self.path == ":memory:" else f"sqlite:///{self.path}"
        try:
            self._conn = connect(self.path, timeout=timeout)
            versions: list[int] = []
            _while_locked(lambda: versions.append(migrate(self._conn)), timeout)
            self._version = versions[-1]
        except sqlite3.Error as exc:
            raise _open_error(exc, self.path) from exc
        self._lock = threading.RLock()
        self._depth = 0
        self._closed = False
        repositories = SqlRepositories(self)
        self.accounts = repositories.accounts
        self.contacts = repositories.contacts
        self.decisions = repositories.decisions
        self.overrides = repositories.overrides
        self.sync_issues = repositories.sync_issues
        self.runs = repositories.runs
        self.sponsors = repositories.sponsors
        self.ctas = repositories.ctas
        self.escalations = repositories.escalations
        self.outbox = repositories.outbox
        self.inbox = repositories.inbox

    @property
    def schema_version(self) -> int:
        return self._version

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection, for reading the tables directly (see the schema in
        docs/storage.md). Writing through it bypasses the store's rules."""
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[_SqliteSession]:
        with self._lock:
            if self._closed:
                raise StorageError("the store is closed")
            depth = self._depth
            savepoint = f"stakeholder_{depth}"
            try:
                self._conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT {savepoint}")
            except sqlite3.Error as exc:
                raise _error(exc, "starting a transaction") from exc
            self._depth += 1
            try:
                yield _SqliteSession(self._conn)
            except BaseException as exc:
                self._depth -= 1
                self._rollback(depth, savepoint)
                if isinstance(exc, sqlite3.Error):
                    raise _error(exc, "a write") from exc
                raise
            self._depth -= 1
            try:
                self._conn.execute("COMMIT" if depth == 0 else f"RELEASE {savepoint}")
            except sqlite3.Error as exc:
                self._rollback(depth, savepoint)
                raise _error(exc, "a commit") from exc

    def _rollback(self, depth: int, savepoint: str) -> None:
        try:
            if depth == 0:
                self._conn.execute("ROLLBACK")
            else:
                self._conn.execute(f"ROLLBACK TO {savepoint}")
                self._conn.execute(f"RELEASE {savepoint}")
        except sqlite3.Error:  # the transaction is already gone (SQLite rolled it back)
            pass

    @contextmanager
    def session(self) -> Iterator[_SqliteSession]:
        with self._lock:
            if self._depth:
                try:
                    yield _SqliteSession(self._conn)
                except sqlite3.Error as exc:
                    raise _error(exc, "a statement") from exc
                return
            with self._transaction() as session:
                yield session

    @contextmanager
    def reading(self) -> Iterator[_SqliteSession]:
        with self._lock:
            if self._closed:
                raise StorageError("the store is closed")
            try:
                yield _SqliteSession(self._conn)
            except sqlite3.Error as exc:
                raise _error(exc, "a query") from exc

    def transact(self, work: Callable[[_SqliteSession], T]) -> T:
        """`work(session)` in one transaction (SQLite admits one writer at a time, and a
        writer waits for the others up to `timeout`: nothing to retry)."""
        with self.session() as s:
            return work(s)

    def tenant_tables(self, session: Session) -> list[tuple[str, tuple[str, ...]]]:
        """Every table with a `tenant` column, and the tables its foreign keys name."""
        rows = session.query(_TENANT_TABLES)
        return [(str(name), tuple(refs.split("\x1f")) if refs else ()) for name, refs in rows]

    def purge_tenant(self, tenant: str) -> dict[str, int]:
        """Delete everything of `tenant` in one transaction; rows deleted per table."""
        return purge_tenant(self, tenant)

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self._transaction():
            yield

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"
