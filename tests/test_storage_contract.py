"""The storage contract suite against the three back ends that ship with the library,
and the three of them in lock-step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stakeholder.storage import MemoryStore
from stakeholder.testing.contract import StoreContract, StoreFactory, run_lockstep
from storage_backends import postgres_stores, postgres_url, sqlite_stores


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        return MemoryStore


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Iterator[StoreFactory]:
        with sqlite_stores(tmp_path) as make:
            yield make


@pytest.mark.postgres
class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store_factory(self) -> Iterator[StoreFactory]:
        with postgres_stores(postgres_url()) as make:
            yield make


@pytest.mark.postgres
def test_memory_sqlite_and_postgres_agree_in_lockstep(tmp_path: Path) -> None:
    url = postgres_url()
    with sqlite_stores(tmp_path) as sqlite, postgres_stores(url) as postgres:
        run_lockstep({"memory": MemoryStore, "sqlite": sqlite, "postgres": postgres})
