"""Schema migrations: from every earlier version to the latest, idempotent, refusing a
newer database, safe when several openers race."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stakeholder import Account, Contact, StorageError, SyncIssue
from stakeholder._routing import Evidence, Override, RoutingDecision
from stakeholder.storage import LATEST_VERSION, MIGRATIONS, SQLiteStore, Store, _sqlite, open_store
from stakeholder.storage import _codec as codec
from stakeholder.storage._migrations import VERSION_TABLE, pending
from stakeholder.storage._sql import insert_sql
from storage_backends import postgres_schema, postgres_url

T0 = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
ACCOUNT = Account("acme-'1", "Acme; DROP TABLE accounts", domains={"acme.com"})
CONTACT = Contact("c-1", ACCOUNT.id, email="Jane@Acme.com", tags={"vip"}, created_at=T0)
DECISION = RoutingDecision(
    "m-1",
    "routed",
    (ACCOUNT.id,),
    evidence=(Evidence("unique_contact", "strong", (ACCOUNT.id,), "jane@acme.com", "from"),),
    rule="unique_contact",
    confidence=0.9,
    occurred_at=T0,
)
OVERRIDE = Override((ACCOUNT.id,), "ann", "CEO asked", T0, comm_id="m-1")
ISSUE = SyncIssue("globex.com", ("g1", "g2"), "two owners", "allow sharing")


def _rows_for_version_1(tenant: str) -> list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
    """(table, columns, rows) holding one of each value, as version 1 stores them."""
    decision, timeline = codec.decision_rows(tenant, DECISION)
    return [
        ("accounts", ("tenant", *codec.ACCOUNT_COLUMNS), [codec.account_row(tenant, ACCOUNT)]),
        ("contacts", ("tenant", *codec.CONTACT_COLUMNS), [codec.contact_row(tenant, CONTACT)]),
        ("decisions", ("tenant", *codec.DECISION_COLUMNS), [decision]),
        (
            "decision_accounts",
            ("tenant", "account_id", "comm_id", "position", "occurred_us"),
            list(timeline),
        ),
        # version 1 had no `address` / `host` columns (migration 7 added them)
        (
            "overrides",
            ("tenant", *codec.OVERRIDE_COLUMNS[:-2], "at_us"),
            [codec.override_row(tenant, OVERRIDE)[:7] + codec.override_row(tenant, OVERRIDE)[9:]],
        ),
        # version 1 had no `kind` column (migration 4 added it)
        (
            "sync_issues",
            ("tenant", *codec.SYNC_ISSUE_COLUMNS[:-1]),
            [codec.sync_issue_row(tenant, ISSUE)[:-1]],
        ),
    ]


def _check_data_survived(store: Store, tenant: str) -> None:
    assert store.accounts.list(tenant) == [ACCOUNT]
    assert store.contacts.list(tenant) == [CONTACT]
    assert store.contacts.find_by_email(tenant, "jane@acme.com") == [CONTACT]  # v2 index
    assert store.decisions.timeline(tenant, ACCOUNT.id) == [DECISION]
    assert store.overrides.active(tenant) == [OVERRIDE]
    assert store.sync_issues.list(tenant) == [ISSUE]


def test_migrations_are_numbered_in_order_with_both_dialects() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))
    assert LATEST_VERSION >= 2  # the mechanism is exercised by at least one upgrade
    for migration in MIGRATIONS:
        # a step may concern one dialect only (4 changed PostgreSQL's keys), never none
        assert migration.sqlite or migration.postgres
        assert migration.description
    assert pending(0) == MIGRATIONS
    assert pending(LATEST_VERSION) == ()
    assert [m.version for m in pending(1, 1)] == []


# --------------------------------------------------------------------------- SQLite


def _sqlite_versions(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute(f"SELECT version FROM {VERSION_TABLE} ORDER BY 1")]


@pytest.mark.parametrize("start", range(LATEST_VERSION + 1))
def test_sqlite_upgrades_from_every_earlier_version(tmp_path: Path, start: int) -> None:
    path = tmp_path / "old.db"
    conn = _sqlite.connect(str(path))
    assert _sqlite.migrate(conn, target=start) == start
    if start >= 1:
        for table, columns, rows in _rows_for_version_1("t"):
            conn.executemany(insert_sql(table, columns), rows)
    conn.close()

    with SQLiteStore(path) as store:
        assert store.schema_version == LATEST_VERSION
        if start >= 1:
            _check_data_survived(store, "t")
        else:
            store.accounts.put("t", ACCOUNT)
    assert _sqlite_versions(path) == list(range(1, LATEST_VERSION + 1))

    # applied on open and idempotent: opening again changes nothing
    with open_store(f"sqlite:///{path}") as again:
        assert again.schema_version == LATEST_VERSION
        assert again.accounts.list("t") == [ACCOUNT]
    assert _sqlite_versions(path) == list(range(1, LATEST_VERSION + 1))


def test_sqlite_refuses_a_newer_database(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"INSERT INTO {VERSION_TABLE} VALUES (?, 'from the future')",
                     (LATEST_VERSION + 1,))
    with pytest.raises(StorageError, match="newer"):
        SQLiteStore(path)


def test_sqlite_openers_racing_on_a_new_file_all_succeed(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    versions: list[int] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            with SQLiteStore(path) as store:
                versions.append(store.schema_version)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert versions == [LATEST_VERSION] * 4
    assert _sqlite_versions(path) == list(range(1, LATEST_VERSION + 1))


def test_sqlite_store_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "x.db") as store:
        conn = store.connection
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        store.decisions.put("t", DECISION)
        # the timeline rows hang off their decision
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO decision_accounts VALUES ('t', 'a', 'no such decision', 0, NULL)"
            )


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    url = postgres_url()
    with postgres_schema(url) as schema:
        yield url, schema


def _pg_connect(url: str, schema: str) -> Any:
    import psycopg
    from psycopg import sql

    conn = psycopg.connect(url, autocommit=True)
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    return conn


@pytest.mark.postgres
@pytest.mark.parametrize("start", range(LATEST_VERSION + 1))
def test_postgres_upgrades_from_every_earlier_version(
    pg_schema: tuple[str, str], start: int
) -> None:
    from stakeholder.storage import _postgres

    url, schema = pg_schema
    with _pg_connect(url, schema) as conn:
        assert _postgres.migrate(conn, schema, target=start) == start
        if start >= 1:
            for table, columns, rows in _rows_for_version_1("t"):
                with conn.cursor() as cur:
                    cur.executemany(insert_sql(table, columns).replace("?", "%s"), rows)

    def versions() -> list[int]:
        with _pg_connect(url, schema) as conn:
            rows = conn.execute(f"SELECT version FROM {VERSION_TABLE} ORDER BY 1").fetchall()
            return [r[0] for r in rows]

    with open_store(f"{url}?schema={schema}") as store:
        assert store.schema_version == LATEST_VERSION
        if start >= 1:
            _check_data_survived(store, "t")
    assert versions() == list(range(1, LATEST_VERSION + 1))
    with open_store(url, schema=schema) as again:
        assert again.schema_version == LATEST_VERSION
    assert versions() == list(range(1, LATEST_VERSION + 1))


@pytest.mark.postgres
def test_postgres_refuses_a_newer_database(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    open_store(url, schema=schema).close()
    with _pg_connect(url, schema) as conn:
        conn.execute(f"INSERT INTO {VERSION_TABLE} VALUES (%s, 'from the future')",
                     (LATEST_VERSION + 1,))
    with pytest.raises(StorageError, match="newer"):
        open_store(url, schema=schema)


@pytest.mark.postgres
def test_postgres_openers_racing_on_a_new_schema_all_succeed(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    versions: list[int] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            with open_store(url, schema=schema, max_size=1) as store:
                versions.append(store.schema_version)
        except BaseException as exc:  # reported below
            errors.append(exc)

    run_all([open_one] * 4)
    assert errors == []
    assert versions == [LATEST_VERSION] * 4


def run_all(functions: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=f) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
