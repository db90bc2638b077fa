"""The sponsor-tracking storage contract against memory, SQLite and PostgreSQL, and the
sponsor tables in the schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stakeholder.storage import MemoryStore, SQLiteStore, Store
from stakeholder.storage._migrations import LATEST_VERSION, MIGRATIONS
from stakeholder.testing.contract import (
    SponsorStoreContract,
    StoreFactory,
    run_sponsor_lockstep,
)
from storage_backends import postgres_stores, postgres_url, sqlite_stores

SPONSOR_TABLES = ("sponsor_tracking", "sponsor_observations", "sponsor_suggestions",
                  "sponsor_updates", "sponsor_history")


class TestMemorySponsors(SponsorStoreContract):
    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        return MemoryStore


class TestSQLiteSponsors(SponsorStoreContract):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Iterator[StoreFactory]:
        with sqlite_stores(tmp_path) as make:
            yield make


def _emptied(make: StoreFactory) -> StoreFactory:
    """The shared factory empties the core tables; empty the sponsor tables too."""
    from psycopg import sql

    def fresh() -> Store:
        store = make()
        with store.pool.connection() as conn:  # type: ignore[attr-defined]
            conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in SPONSOR_TABLES)))
        return store

    return fresh


@pytest.mark.postgres
class TestPostgresSponsors(SponsorStoreContract):
    @pytest.fixture
    def store_factory(self) -> Iterator[StoreFactory]:
        with postgres_stores(postgres_url()) as make:
            yield _emptied(make)


def test_memory_and_sqlite_agree_in_lockstep(tmp_path: Path) -> None:
    with sqlite_stores(tmp_path) as sqlite:
        run_sponsor_lockstep({"memory": MemoryStore, "sqlite": sqlite})


@pytest.mark.postgres
def test_memory_sqlite_and_postgres_agree_in_lockstep(tmp_path: Path) -> None:
    with sqlite_stores(tmp_path) as sqlite, postgres_stores(postgres_url()) as postgres:
        run_sponsor_lockstep({"memory": MemoryStore, "sqlite": sqlite,
                              "postgres": _emptied(postgres)})


def test_one_migration_adds_the_sponsor_tables() -> None:
    mine = [m for m in MIGRATIONS if "sponsor" in m.description]
    assert len(mine) == 1
    with SQLiteStore() as store:
        assert store.schema_version == LATEST_VERSION
        names = {r[0] for r in store.connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(SPONSOR_TABLES) <= names


def test_every_back_end_has_the_sponsor_repositories(tmp_path: Path) -> None:
    for store in (MemoryStore(), SQLiteStore(tmp_path / "s.db")):
        assert isinstance(store, Store)
        assert repr(store.sponsors).endswith("Sponsors()")
        store.close()
