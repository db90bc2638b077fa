"""The alert repositories' contract (CTAs, escalations, outbox, inbox) against memory,
SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stakeholder.storage import MemoryStore, Store
from stakeholder.testing._contract_alerts import run_alert_lockstep
from stakeholder.testing.contract import AlertStoreContract
from storage_backends import postgres_schema, postgres_url, sqlite_stores

_ALERT_TABLES = ("alert_ctas", "alert_escalations", "alert_outbox", "alert_inbox")


class TestMemoryAlerts(AlertStoreContract):
    @pytest.fixture
    def store_factory(self) -> Callable[[], Store]:
        return MemoryStore


class TestSQLiteAlerts(AlertStoreContract):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Iterator[Callable[[], Store]]:
        with sqlite_stores(tmp_path) as make:
            yield make


@contextlib.contextmanager
def _postgres_alert_stores(url: str) -> Iterator[Callable[[], Store]]:
    """One schema; each call empties the alert tables of the same store."""
    from psycopg import sql

    from stakeholder.storage import PostgresStore

    with postgres_schema(url) as schema:
        store = PostgresStore(url, schema=schema, max_size=2)
        try:

            def make() -> Store:
                with store.pool.connection() as conn:
                    conn.execute(
                        sql.SQL("TRUNCATE {}").format(
                            sql.SQL(", ").join(sql.Identifier(t) for t in _ALERT_TABLES)
                        )
                    )
                return store

            yield make
        finally:
            store.close()


@pytest.mark.postgres
class TestPostgresAlerts(AlertStoreContract):
    @pytest.fixture
    def store_factory(self) -> Iterator[Callable[[], Store]]:
        with _postgres_alert_stores(postgres_url()) as make:
            yield make


def test_purge_tenant_removes_the_alert_tables(tmp_path: Path) -> None:
    import datetime as dt

    from stakeholder.alerts import CTA, CtaSource

    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cta = CTA.open(account_id="a", source=CtaSource.rule("r"), type="t", reason="r",
                   category="other", priority="low", at=at)
    with sqlite_stores(tmp_path) as make:
        for store in (MemoryStore(), make()):
            store.ctas.put("t", cta)
            store.ctas.put("u", cta)
            counts = store.purge_tenant("t")
            assert counts["alert_ctas"] == 1
            assert store.ctas.count("t") == 0
            assert store.ctas.count("u") == 1


def test_memory_and_sqlite_agree_in_lockstep(tmp_path: Path) -> None:
    with sqlite_stores(tmp_path) as sqlite:
        run_alert_lockstep({"memory": MemoryStore, "sqlite": sqlite})


@pytest.mark.postgres
def test_memory_sqlite_and_postgres_agree_in_lockstep(tmp_path: Path) -> None:
    with sqlite_stores(tmp_path) as sqlite, _postgres_alert_stores(postgres_url()) as pg:
        run_alert_lockstep({"memory": MemoryStore, "sqlite": sqlite, "postgres": pg})
