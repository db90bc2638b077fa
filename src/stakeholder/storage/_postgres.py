"""The PostgreSQL back end (psycopg 3 and psycopg_pool): the optional extra
`stakeholder[postgres]`, imported only when a `postgresql://` store is opened.

A connection pool serves the store; every write call and every batch is one
transaction on one connection (nested batches are savepoints); a batch started in a
thread keeps its connection until it ends. Large writes go through COPY into a
temporary table and one `INSERT ... ON CONFLICT DO UPDATE`; small ones through
`executemany` (pipelined by psycopg). A connection lost in the middle of a batch raises
`StorageError`, and the server rolls the batch back.

`schema=` keeps the store's tables in their own PostgreSQL schema (created on open),
so that several stores (tests, tenants of a hosting service) can share a database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

from stakeholder._errors import MissingDependency, StorageError
from stakeholder.storage._migrations import LATEST_VERSION, VERSION_TABLE, pending
from stakeholder.storage._sql import (
    POSTGRES,
    READ_CHUNK,
    Row,
    SqlRepositories,
    stmt,
    upsert_action,
    upsert_sql,
)

try:
    import psycopg
    from psycopg import sql as pgsql
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependency(
        "the PostgreSQL store", "postgres", getattr(exc, "name", None) or "psycopg"
    ) from exc

__all__ = ["PostgresStore"]

#: Writes of at least this many rows go through COPY.
COPY_THRESHOLD: Final = 2000
_LOCK_KEY: Final = 0x5354_4B48  # "STKH": serialises migrations of one database


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


def _q(text: str) -> pgsql.SQL:
    """Our own SQL text (built from constants; values are always bound parameters)."""
    return pgsql.SQL(text)


class _PgSession:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._conn.cursor() as cur:
            cur.execute(_q(_pg(sql)), params)
            return cur.fetchall()

    def query_chunks(self, sql: str, params: Sequence[Any] = ()) -> Iterator[list[Row]]:
        # a client-side cursor: the result is already here; rows become tuples a chunk
        # at a time (in C), so they are converted while still in the CPU caches
        with self._conn.cursor() as cur:
            cur.execute(_q(_pg(sql)), params)
            while rows := cur.fetchmany(READ_CHUNK):
                yield rows

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._conn.cursor() as cur:
            cur.execute(_q(_pg(sql)), params)
            return cur.rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self._conn.cursor() as cur:
                cur.executemany(_q(_pg(sql)), rows)

    def upsert(
        self, table: str, columns: Sequence[str], keys: Sequence[str], rows: Sequence[Row]
    ) -> None:
        if not rows:
            return
        if len(rows) < COPY_THRESHOLD:
            self.executemany(upsert_sql(table, columns, keys, POSTGRES), rows)
            return
        stage = "stakeholder_stage_" + table
        names = ", ".join(columns)
        with self._conn.cursor() as cur:
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
                        upsert_action(columns, keys, POSTGRES),
                    )
                )
            )
            cur.execute(_q(stmt("TRUNCATE", stage)))


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


class PostgresStore:
    """A store in a PostgreSQL database (`open_store("postgresql://...")`).

    `conninfo` is a libpq URL or key=value string; `schema` the PostgreSQL schema for the
    tables (default: the connection's `search_path`, normally `public`); `min_size` and
    `max_size` bound the pool; `timeout` is how long to wait for a connection.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 8,
        timeout: float = 30.0,
    ) -> None:
        self.schema = schema
        self.dialect = POSTGRES
        self._conninfo = conninfo
        self._local = threading.local()
        self._pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            configure=self._configure,
            kwargs={"autocommit": True},
            open=False,
            name="stakeholder",
        )
        try:
            self._pool.open(wait=True, timeout=timeout)
            self._version = self._migrate()
        except (psycopg.Error, PoolTimeout) as exc:
            self._pool.close()
            raise _error(exc, "opening the store") from exc
        except BaseException:
            self._pool.close()
            raise
        repositories = SqlRepositories(self)
        self.accounts = repositories.accounts
        self.contacts = repositories.contacts
        self.decisions = repositories.decisions
        self.overrides = repositories.overrides
        self.sync_issues = repositories.sync_issues
        self.runs = repositories.runs

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        if self.schema is not None:
            conn.execute(
                pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.schema))
            )

    def _migrate(self) -> int:
        with self._pool.connection() as conn:
            return migrate(conn, self.schema)

    @property
    def schema_version(self) -> int:
        return self._version

    @property
    def pool(self) -> ConnectionPool[Any]:
        """The connection pool, for reading the tables directly."""
        return self._pool

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._pool.connection() as conn:  # errors are reported by the callers
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    @contextmanager
    def session(self) -> Iterator[_PgSession]:
        try:
            with self._connection() as conn, conn.transaction():
                yield _PgSession(conn)
        except psycopg.Error as exc:
            raise _error(exc, "a write") from exc

    @contextmanager
    def reading(self) -> Iterator[_PgSession]:
        # pool connections are in autocommit mode: a read outside a batch is one
        # statement, one round trip; inside a batch it joins the batch's transaction
        try:
            with self._connection() as conn:
                yield _PgSession(conn)
        except psycopg.Error as exc:
            raise _error(exc, "a query") from exc

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self.session():
            yield

    def close(self) -> None:
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
