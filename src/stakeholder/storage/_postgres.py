"""The PostgreSQL back end (psycopg 3 and psycopg_pool): the optional extra
`stakeholder[postgres]`, imported only when a `postgresql://` store is opened.

A connection pool serves the store; every write call and every batch is one
transaction on one connection (nested batches are savepoints); a batch started in a
thread keeps its connection until it ends. Large writes go through COPY into a
temporary table and one `INSERT ... ON CONFLICT DO UPDATE`; small ones through
`executemany` (pipelined by psycopg). Each write is applied in a canonical key order,
and a write call outside `batch()` that the server rolls back as a deadlock or a
serialisation failure is run again (`retries` times at most). A connection lost in
the middle of a batch raises `StorageError`, and the server rolls the batch back.

Timeouts (see docs/storage.md): `connect_timeout` bounds opening a connection,
`statement_timeout` bounds each statement both on the server (PostgreSQL's own
`statement_timeout`) and in this client (a watchdog closes the socket of a connection
whose server has not answered shortly after it, so a frozen server is an error, not a
hang), `timeout` bounds the wait for a pooled connection.

`schema=` keeps the store's tables in their own PostgreSQL schema (created on open),
so that several stores (tests, tenants of a hosting service) can share a database.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, TypeVar

from stakeholder._errors import ConfigurationError, MissingDependency, StorageError
from stakeholder.storage._migrations import LATEST_VERSION, VERSION_TABLE, pending
from stakeholder.storage._sql import (
    POSTGRES,
    READ_CHUNK,
    Row,
    Session,
    SqlRepositories,
    purge_tenant,
    stmt,
    upsert_action,
    upsert_sql,
)

try:
    import psycopg
    from psycopg import errors as pgerrors
    from psycopg import sql as pgsql
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependency(
        "the PostgreSQL store", "postgres", getattr(exc, "name", None) or "psycopg"
    ) from exc

__all__ = ["PostgresStore"]

T = TypeVar("T")

#: Writes of at least this many rows go through COPY.
COPY_THRESHOLD: Final = 2000
_LOCK_KEY: Final = 0x5354_4B48  # "STKH": serialises migrations of one database
#: The longest identifier PostgreSQL keeps (NAMEDATALEN - 1 bytes); longer ones it cuts.
MAX_IDENTIFIER_BYTES: Final = 63
#: Defaults of the timeout options, in seconds (documented in docs/storage.md).
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
DEFAULT_STATEMENT_TIMEOUT: Final = 300.0
#: How long after `statement_timeout` the client gives up on a server that does not
#: answer at all (the server's own timeout normally answers first).
_CLIENT_GRACE: Final = 0.25
_RETRYABLE: Final = (pgerrors.SerializationFailure, pgerrors.DeadlockDetected)


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


def _q(text: str) -> pgsql.SQL:
    """Our own SQL text (built from constants; values are always bound parameters)."""
    return pgsql.SQL(text)


def check_schema_name(schema: object) -> str | None:
    """`schema` if PostgreSQL can hold it unchanged; `ConfigurationError` otherwise
    (PostgreSQL would silently cut a name longer than 63 bytes, and two stores whose
    names differ only after that would share one schema)."""
    if schema is None:
        return None
    if not isinstance(schema, str) or not schema or "\x00" in schema:
        raise ConfigurationError(f"schema must be a non-empty string without NUL: {schema!r}")
    try:
        size = len(schema.encode("utf-8"))
    except UnicodeEncodeError:
        raise ConfigurationError(f"schema {schema!r} is not valid text (lone surrogate)") from None
    if size > MAX_IDENTIFIER_BYTES:
        raise ConfigurationError(
            f"schema {schema[:20]!r}... is {size} bytes long; PostgreSQL keeps at most "
            f"{MAX_IDENTIFIER_BYTES} bytes of a name and would cut it silently"
        )
    return schema


class _Watchdog:
    """Closes the socket of a connection whose statement runs past its deadline, so that
    a server that stopped answering (a frozen backend, a silent network) ends in an error
    instead of blocking the caller forever. One thread per store, started on first use."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[float, psycopg.Connection[Any]]] = {}
        self._fired: set[int] = set()
        self._next = 0
        self._thread: threading.Thread | None = None
        self._stopped = False

    @contextmanager
    def guard(self, conn: psycopg.Connection[Any], seconds: float | None) -> Iterator[None]:
        """Run the block; if it lasts more than `seconds`, the connection is cut and the
        block's error becomes a `StorageError` saying so."""
        if seconds is None:
            yield
            return
        with self._cond:
            self._next += 1
            token = self._next
            self._armed[token] = (time.monotonic() + seconds, conn)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="stakeholder-postgres-watchdog", daemon=True
                )
                self._thread.start()
            elif len(self._armed) == 1:
                self._cond.notify()
        try:
            yield
        except psycopg.Error as exc:
            if self._disarm(token):
                raise StorageError(
                    f"PostgreSQL did not answer within {seconds:g} s (statement_timeout); "
                    f"the connection was closed: {exc}"
                ) from exc
            raise
        else:
            self._disarm(token)

    def _disarm(self, token: int) -> bool:
        """Disarm `token`; whether it had fired."""
        with self._cond:
            self._armed.pop(token, None)
            if token in self._fired:
                self._fired.discard(token)
                return True
            return False

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                due = [t for t, (deadline, _c) in self._armed.items() if deadline <= now]
                for token in due:
                    _deadline, conn = self._armed.pop(token)
                    self._fired.add(token)
                    _cut(conn)
                waits = [deadline - now for deadline, _c in self._armed.values()]
                self._cond.wait(min(waits) if waits else None)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()


def _cut(conn: psycopg.Connection[Any]) -> None:
    """Shut the connection's socket down: the blocked read in the client wakes with an
    error at once, whatever the server is doing."""
    import socket  # noqa: PLC0415 - only the watchdog's cut needs it

    with contextlib.suppress(OSError, psycopg.Error, ValueError):
        fd = conn.pgconn.socket
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)


class _PgSession:
    def __init__(
        self, conn: psycopg.Connection[Any], watchdog: _Watchdog, timeout: float | None
    ) -> None:
        self._conn = conn
        self._watchdog = watchdog
        self._timeout = timeout

    def _guard(self) -> contextlib.AbstractContextManager[None]:
        return self._watchdog.guard(self._conn, self._timeout)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._conn.cursor() as cur, self._guard():
            cur.execute(_q(_pg(sql)), params)
            return cur.fetchall()

    def query_chunks(self, sql: str, params: Sequence[Any] = ()) -> Iterator[list[Row]]:
        # a client-side cursor: the result is already here; rows become tuples a chunk
        # at a time (in C), so they are converted while still in the CPU caches
        with self._conn.cursor() as cur:
            with self._guard():
                cur.execute(_q(_pg(sql)), params)
            while rows := cur.fetchmany(READ_CHUNK):
                yield rows

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._conn.cursor() as cur, self._guard():
            cur.execute(_q(_pg(sql)), params)
            return cur.rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self._conn.cursor() as cur, self._guard():
                cur.executemany(_q(_pg(sql)), rows)

    def upsert(
        self, table: str, columns: Sequence[str], keys: Sequence[str], rows: Sequence[Row]
    ) -> None:
        """Insert or replace `rows` in canonical key order (so that overlapping batches
        lock rows in the same order and do not deadlock); a `StorageError` if a row was
        neither inserted nor updated (two different keys with one digest)."""
        if not rows:
            return
        positions = [columns.index(k) for k in keys]
        ordered = sorted(rows, key=lambda row: [row[i] for i in positions])
        if len(rows) < COPY_THRESHOLD:
            with self._conn.cursor() as cur, self._guard():
                cur.executemany(_q(_pg(upsert_sql(table, columns, keys, POSTGRES))), ordered)
                changed = cur.rowcount
        else:
            changed = self._copy_upsert(table, columns, keys, ordered)
        if changed >= 0 and changed != len(rows) and len(keys) < len(columns):
            raise StorageError(
                f"{len(rows) - changed} row(s) of {table} share a key digest with a "
                "different stored key; nothing of the write was kept"
            )

    def _copy_upsert(
        self, table: str, columns: Sequence[str], keys: Sequence[str], rows: Sequence[Row]
    ) -> int:
        stage = "stakeholder_stage_" + table
        names = ", ".join(columns)
        with self._conn.cursor() as cur, self._guard():
            cur.execute(
                _q(
                    stmt(
                        "CREATE TEMP TABLE IF NOT EXISTS", stage, "(LIKE", table,
                        "INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
                    )
                )
            )
            with cur.copy(_q(stmt("COPY", stage, "(", names, ") FROM STDIN"))) as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(
                _q(
                    stmt(
                        "INSERT INTO", table, "(", names, ") SELECT", names, "FROM", stage,
                        "ORDER BY", ", ".join(keys),
                        upsert_action(columns, keys, POSTGRES, table),
                    )
                )
            )
            changed = cur.rowcount
            cur.execute(_q(stmt("TRUNCATE", stage)))
        return changed


def migrate(
    conn: psycopg.Connection[Any], schema: str | None, target: int = LATEST_VERSION
) -> int:
    """Bring the database (its `schema`, created if missing) to `target` in one
    transaction, serialised with other processes by an advisory lock; the version it
    is at."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        if schema is not None:
            conn.execute(
                pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(schema))
            )
            conn.execute(pgsql.SQL("SET LOCAL search_path TO {}").format(pgsql.Identifier(schema)))
        conn.execute(
            _q(
                stmt(
                    "CREATE TABLE IF NOT EXISTS", VERSION_TABLE,
                    "(version INTEGER PRIMARY KEY, description TEXT NOT NULL)",
                )
            )
        )
        row = conn.execute(_q(stmt("SELECT MAX(version) FROM", VERSION_TABLE))).fetchone()
        version = int(row[0] or 0) if row else 0
        if version > LATEST_VERSION:
            raise StorageError(
                f"the database is at schema version {version}, newer than this "
                f"library's {LATEST_VERSION}: upgrade stakeholder"
            )
        for migration in pending(version, target):
            for statement in migration.postgres:
                conn.execute(_q(statement))
            conn.execute(
                _q(stmt("INSERT INTO", VERSION_TABLE, "(version, description) VALUES (%s, %s)")),
                (migration.version, migration.description),
            )
            version = migration.version
    return version


def _error(exc: BaseException, what: str) -> StorageError:
    return StorageError(f"{what} failed in PostgreSQL: {exc}")


def _seconds(value: object, name: str, *, allow_none: bool) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, not {value!r}")
    if not math.isfinite(value):
        raise ConfigurationError(f"{name} must be a finite number of seconds, not {value!r}")
    return float(value)


def _connect_timeout(conninfo: str, given: float | None) -> float:
    """`given`, else the connection string's `connect_timeout`, else the default."""
    if given is None:
        try:
            found = psycopg.conninfo.conninfo_to_dict(conninfo).get("connect_timeout")
        except psycopg.Error as exc:
            raise ConfigurationError(f"not a PostgreSQL connection string: {exc}") from exc
        try:
            given = float(found) if found else DEFAULT_CONNECT_TIMEOUT
        except (TypeError, ValueError):
            raise ConfigurationError(f"connect_timeout={found!r} is not a number") from None
    return float(_seconds(given, "connect_timeout", allow_none=False) or 0)


_TENANT_TABLES: Final = """SELECT c.table_name,
    COALESCE((SELECT array_agg(DISTINCT r.relname::text)
              FROM pg_catalog.pg_constraint f
              JOIN pg_catalog.pg_class t ON t.oid = f.conrelid
              JOIN pg_catalog.pg_class r ON r.oid = f.confrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
              WHERE f.contype = 'f' AND n.nspname = current_schema()
                AND t.relname = c.table_name), '{}')
FROM information_schema.columns c
WHERE c.table_schema = current_schema() AND c.column_name = 'tenant'"""


class PostgresStore:
    """A store in a PostgreSQL database (`open_store("postgresql://...")`).

    `conninfo` is a libpq URL or key=value string; `schema` the PostgreSQL schema for the
    tables (default: the connection's `search_path`, normally `public`; at most 63
    bytes, or `ConfigurationError`); `min_size` and `max_size` bound the pool.

    Timeouts, in seconds: `connect_timeout` (default: the URL's `connect_timeout`, else
    10; libpq counts whole seconds, at least 2, per address tried) bounds opening each
    connection; `statement_timeout` (default 300, `None` for none) bounds each
    statement; `timeout` (default 30) bounds the wait for a free pooled connection.
    `retries` (default 5) is how many times a write call outside `batch()` is run
    again after a deadlock or a serialisation failure.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 8,
        timeout: float = 30.0,
        connect_timeout: float | None = None,
        statement_timeout: float | None = DEFAULT_STATEMENT_TIMEOUT,
        retries: int = 5,
    ) -> None:
        self.schema = check_schema_name(schema)
        self.dialect = POSTGRES
        self._conninfo = conninfo
        self._local = threading.local()
        self._watchdog = _Watchdog()
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigurationError(f"retries must be a non-negative integer, not {retries!r}")
        self.retries = retries
        self.timeout = float(_seconds(timeout, "timeout", allow_none=False) or 0)
        self.statement_timeout = _seconds(statement_timeout, "statement_timeout", allow_none=True)
        self.connect_timeout = _connect_timeout(conninfo, connect_timeout)
        self._connect_kwargs: dict[str, Any] = {
            "autocommit": True,
            # libpq's unit is whole seconds, at least 2
            "connect_timeout": max(2, math.ceil(self.connect_timeout)),
        }
        try:  # one direct connection first: its error is the real cause, and it is fast
            with psycopg.connect(conninfo, **self._connect_kwargs) as conn:
                self._version = migrate(conn, self.schema)
        except psycopg.Error as exc:
            raise _error(exc, "opening the store") from exc
        self._pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=self.timeout,
            configure=self._configure,
            kwargs=self._connect_kwargs,
            open=False,
            name="stakeholder",
        )
        self._pool.open(wait=False)
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

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        if self.schema is not None:
            conn.execute(
                pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.schema))
            )
        milliseconds = 0 if self.statement_timeout is None else int(self.statement_timeout * 1000)
        conn.execute(pgsql.SQL("SET statement_timeout = {}").format(milliseconds))

    @property
    def schema_version(self) -> int:
        return self._version

    @property
    def pool(self) -> ConnectionPool[Any]:
        """The connection pool, for reading the tables directly."""
        return self._pool

    def _unreachable(self, exc: PoolTimeout) -> StorageError:
        """Why no pooled connection came: a direct attempt gives the server's answer."""
        try:
            with psycopg.connect(self._conninfo, **self._connect_kwargs):
                cause = "the pool is busy (all connections in use)"
        except psycopg.Error as direct:
            cause = str(direct).strip()
        return StorageError(f"no PostgreSQL connection within {self.timeout:g} s: {cause}")

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with contextlib.ExitStack() as stack:
            try:
                conn = stack.enter_context(self._pool.connection())
            except PoolTimeout as exc:
                raise self._unreachable(exc) from exc
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    @contextmanager
    def _transaction(self, conn: psycopg.Connection[Any]) -> Iterator[None]:
        """`conn.transaction()` with BEGIN and COMMIT under the watchdog too."""
        guard = self._watchdog.guard
        transaction = conn.transaction()
        with guard(conn, self._client_timeout):
            transaction.__enter__()
        try:
            yield
        except BaseException as exc:
            with guard(conn, self._client_timeout):
                if not transaction.__exit__(type(exc), exc, exc.__traceback__):
                    raise
        else:
            with guard(conn, self._client_timeout):
                transaction.__exit__(None, None, None)

    @property
    def _client_timeout(self) -> float | None:
        limit = self.statement_timeout
        return None if limit is None else limit + _CLIENT_GRACE

    @contextmanager
    def session(self) -> Iterator[_PgSession]:
        try:
            with self._connection() as conn, self._transaction(conn):
                yield _PgSession(conn, self._watchdog, self._client_timeout)
        except psycopg.Error as exc:
            raise _error(exc, "a write") from exc

    def transact(self, work: Callable[[_PgSession], T]) -> T:
        """`work(session)` in one transaction; outside a batch, run again (up to
        `retries` times, after a short random pause) when the server rolled it back as a
        deadlock or a serialisation failure."""
        if getattr(self._local, "conn", None) is not None:
            with self.session() as s:  # inside the caller's batch: the caller decides
                return work(s)
        attempt = 0
        while True:
            try:
                with self.session() as s:
                    return work(s)
            except StorageError as exc:
                if not isinstance(exc.__cause__, _RETRYABLE):
                    raise
                if attempt >= self.retries:
                    raise StorageError(f"{exc} (gave up after {attempt + 1} attempts)") from exc
            attempt += 1
            pause = min(0.5, 0.005 * 2**attempt)
            time.sleep(random.uniform(pause / 2, pause))  # noqa: S311 - jitter, not security

    @contextmanager
    def reading(self) -> Iterator[_PgSession]:
        # pool connections are in autocommit mode: a read outside a batch is one
        # statement, one round trip; inside a batch it joins the batch's transaction
        try:
            with self._connection() as conn:
                yield _PgSession(conn, self._watchdog, self._client_timeout)
        except psycopg.Error as exc:
            raise _error(exc, "a query") from exc

    def tenant_tables(self, session: Session) -> list[tuple[str, tuple[str, ...]]]:
        """Every table of the store's schema with a `tenant` column, and the tables
        its foreign keys refer to."""
        return [(str(name), tuple(refs)) for name, refs in session.query(_TENANT_TABLES)]

    def purge_tenant(self, tenant: str) -> dict[str, int]:
        """Delete everything of `tenant` in one transaction; rows deleted per table."""
        return purge_tenant(self, tenant)

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self.session():
            yield

    def close(self) -> None:
        self._watchdog.stop()
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        parts = psycopg.conninfo.conninfo_to_dict(self._conninfo)
        shown = " ".join(f"{k}={v}" for k, v in sorted(parts.items()) if k != "password")
        schema = "" if self.schema is None else f", schema={self.schema!r}"
        return f"PostgresStore({shown!r}{schema})"
