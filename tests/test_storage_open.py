"""`open_store` URLs, optional dependencies, the protocols and the storage values."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from stakeholder import (
    Account,
    ConfigurationError,
    InvalidRecord,
    MissingDependency,
    Override,
    Rejection,
    StorageError,
)
from stakeholder.storage import (
    AccountRepository,
    ContactRepository,
    DecisionRepository,
    MemoryStore,
    OverrideRecord,
    OverrideRepository,
    RunLog,
    RunRecord,
    SQLiteStore,
    Store,
    SyncIssueRepository,
    WriteResult,
    open_store,
)
from storage_backends import postgres_schema, postgres_url

AT = dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.UTC)


def test_memory_url() -> None:
    store = open_store("memory://")
    assert isinstance(store, MemoryStore)
    assert store.accounts.count("t") == 0


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "SQLITE://"])
def test_sqlite_in_memory_urls(url: str) -> None:
    with open_store(url) as store:
        assert isinstance(store, SQLiteStore)
        assert store.path == ":memory:"
        store.accounts.put("t", Account("a", "A"))
        assert store.accounts.count("t") == 1


def test_sqlite_file_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = tmp_path / "abs.db"
    with open_store(f"sqlite:///{absolute}") as store:  # sqlite:////abs/path.db
        store.accounts.put("t", Account("a", "A"))
    assert absolute.exists()
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///relative.db") as store:
        assert isinstance(store, SQLiteStore)
        assert store.path == "relative.db"
    assert (tmp_path / "relative.db").exists()
    with open_store("sqlite:///with%20space.db"):
        pass
    assert (tmp_path / "with space.db").exists()


@pytest.mark.parametrize(
    "url",
    ["", "acme.db", "memory://somewhere", "sqlite:relative.db", "sqlite://host/x.db",
     "mysql://localhost/db", "http://example.com"],
)
def test_unknown_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError):
        open_store(url)


def test_a_url_must_be_a_string() -> None:
    with pytest.raises(ConfigurationError):
        open_store(Path("x.db"))  # type: ignore[arg-type]


@pytest.mark.postgres
def test_postgres_urls() -> None:
    from stakeholder.storage import PostgresStore

    url = postgres_url()
    with postgres_schema(url) as schema:
        for variant in (f"{url}?schema={schema}", url.replace("postgresql://", "postgres://", 1)
                        + f"?schema={schema}"):
            with open_store(variant) as store:
                assert isinstance(store, PostgresStore)
                assert store.schema == schema
                assert "password" not in repr(store)
                store.accounts.put("t", Account("a", "A"))
                assert store.accounts.count("t") == 1


def test_postgres_needs_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "stakeholder.storage._postgres", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingDependency) as caught:
        open_store("postgresql://nobody@127.0.0.1:1/none")
    assert caught.value.extra == "postgres"
    assert "stakeholder[postgres]" in str(caught.value)
    assert isinstance(caught.value, ImportError)


def test_importing_the_library_imports_no_optional_dependency() -> None:
    code = (
        "import sys, stakeholder, stakeholder.storage\n"
        "from stakeholder import open_store, MemoryStore\n"
        "bad = [m for m in ('psycopg', 'psycopg_pool', 'hypothesis', 'pytest') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_backends_satisfy_the_protocols(tmp_path: Path) -> None:
    for store in (MemoryStore(), SQLiteStore(tmp_path / "p.db")):
        assert isinstance(store, Store)
        assert isinstance(store.accounts, AccountRepository)
        assert isinstance(store.contacts, ContactRepository)
        assert isinstance(store.decisions, DecisionRepository)
        assert isinstance(store.overrides, OverrideRepository)
        assert isinstance(store.sync_issues, SyncIssueRepository)
        assert isinstance(store.runs, RunLog)
        store.close()


def test_closed_sqlite_store_refuses_work(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    store.close()
    store.close()  # closing twice is fine
    with pytest.raises(StorageError, match="closed"):
        store.accounts.count("t")


@pytest.mark.parametrize("tenant", ["", None, 3, "a\x00b", "\ud800"])
def test_unusable_tenants_are_refused(tenant: object) -> None:
    store = MemoryStore()
    with pytest.raises(InvalidRecord):
        store.accounts.count(tenant)  # type: ignore[arg-type]


def test_timeline_window_arguments_are_checked() -> None:
    store = MemoryStore()
    with pytest.raises(InvalidRecord):
        store.decisions.timeline("t", "a", since=dt.datetime(2024, 1, 1))
    with pytest.raises(InvalidRecord):
        store.decisions.timeline("t", "a", limit=-1)


def test_write_result_explains_itself() -> None:
    result = WriteResult(2, [Rejection("accounts", "name contains a NUL character", "x", "a1")])
    total = result + WriteResult(1)
    assert (total.written, total.rejected) == (3, 1)
    assert "wrote 3 item(s), set aside 1" in total.explain()
    assert "- 'a1': name contains a NUL character" in total.explain()
    assert total.to_dict()["rejections"][0]["record_id"] == "a1"


def test_run_record_values() -> None:
    run = RunRecord("r1", AT, "sync", {"written": 3, "rejected": 1}, note="nightly")
    assert run.counts == (("rejected", 1), ("written", 3))
    assert run.count("written") == 3
    assert run.count("missing") == 0
    assert run.explain() == "sync 'r1' at 2024-01-02T03:04:00+00:00: rejected=1, written=3 (nightly)"
    assert RunRecord.from_dict(run.to_dict()) == run
    with pytest.raises(InvalidRecord):
        RunRecord("r1", dt.datetime(2024, 1, 1))
    with pytest.raises(InvalidRecord):
        RunRecord("r1", AT, counts={"x": "3"})  # type: ignore[dict-item]
    with pytest.raises(InvalidRecord):
        RunRecord("", AT)


def test_override_record_values() -> None:
    record = OverrideRecord(Override(("acme",), "ann", "asked", AT, thread_id="t1"), True)
    assert not record.active
    assert record.explain() == (
        "ann put thread 't1' in acme at 2024-01-02T03:04:00+00:00 because 'asked' (superseded)"
    )
    assert OverrideRecord.from_dict(record.to_dict()) == record


def test_memory_store_is_safe_to_share_between_threads() -> None:
    import threading

    store = MemoryStore()

    def write(n: int) -> None:
        for i in range(200):
            with store.batch():
                store.accounts.put("t", Account(f"{n}-{i}", "A"))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.accounts.count("t") == 800
