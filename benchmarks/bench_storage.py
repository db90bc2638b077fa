"""Storage: writing contacts and decisions, reading contacts back and loading a
`RoutingIndex` from a store, for SQLite and PostgreSQL, each beside a raw-driver
baseline doing the same inserts and selects in the same process.

Workload (scale 1, seeded): 10,000 accounts; 1,000,000 contacts (email, phone, name,
title, created_at, tags, deal stage); 1,000,000 routing decisions, each in one or two
accounts with one or two pieces of evidence and a time.

Compared, per back end, on a fresh database with the library's schema:
- contacts write: `store.contacts.put_many(tenant, contacts)` (one transaction) against
  the raw driver running the same upsert statement (`executemany`) over rows prepared
  in advance (PostgreSQL: also a raw `COPY`, the floor).
- decisions write: `save_decisions(store, tenant, decisions, batch_size=10_000)`
  against the raw driver writing the same rows into `decisions` and
  `decision_accounts` in batches of 10,000, one transaction each.
- contacts read: `store.contacts.list(tenant)` (1,000,000 `Contact` values) against the
  raw driver's `SELECT ... ORDER BY id` turned into the same values with the public
  constructors (the same output), and against the bare select (tuples, no values).
- index load: `load_routing_index(store, tenant)` against that raw select plus values,
  then the same `resolve_domain_ownership` and `RoutingIndex.build`; and against the
  bare select plus that ownership and build over the values already in memory.

Each figure is the best of `--repeat` runs (default 2), ours and the baseline taking
turns, every write on a fresh database; the garbage collector is paused while timing,
for ours and the baselines alike.
Budget: each of ours within 1.5x of its raw-driver baseline, the bare selects included.
Run: python -m benchmarks storage [--scale 0.01] [--backends sqlite,postgres]
     [--parts write,read] [--postgres-url URL] (default: $STAKEHOLDER_TEST_POSTGRES_URL)
     (--parts read: only the reads, from contacts written once, untimed)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks._harness import machine
from stakeholder import (
    Account,
    Contact,
    EmailAddress,
    Evidence,
    EvidenceKind,
    RouteStatus,
    RoutingDecision,
    Strength,
    resolve_domain_ownership,
)
from stakeholder._routing import RoutingIndex
from stakeholder.storage import SQLiteStore, load_routing_index, save_decisions
from stakeholder.storage import _codec as codec
from stakeholder.storage._sql import upsert_sql

BUDGET = 1.5
TENANT = "bench"
CONTACT_COLUMNS = ("tenant", *codec.CONTACT_COLUMNS)
DECISION_COLUMNS = ("tenant", *codec.DECISION_COLUMNS)
TIMELINE_COLUMNS = ("tenant", "account_id", "comm_id", "position", "occurred_us")
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- workload


def make_accounts(n: int) -> list[Account]:
    return [Account(f"acc{i:06}", f"Org {i}", domains={f"org{i}.com"}) for i in range(n)]


def make_contacts(n: int, accounts: int, rng: random.Random) -> list[Contact]:
    tags = (frozenset(), frozenset({"vip"}), frozenset({"newsletter", "partner"}))
    out = []
    for i in range(n):
        account = rng.randrange(accounts)
        out.append(
            Contact(
                f"c{i:08}",
                f"acc{account:06}",
                email=f"person{i}@org{account}.com",
                phone=f"+1415555{i % 10000:04}",
                name=f"Person {i}",
                title="Engineer" if i % 3 else None,
                created_at=T0 + dt.timedelta(minutes=i),
                conversions=i % 5,
                deal_stage=i % 7 if i % 2 else None,
                tags=tags[i % 3],
            )
        )
    return out


def make_decisions(n: int, accounts: int, rng: random.Random) -> list[RoutingDecision]:
    out = []
    for i in range(n):
        first = f"acc{rng.randrange(accounts):06}"
        ids = (first,) if i % 4 else (first, f"acc{rng.randrange(accounts):06}")
        evidence = tuple(
            Evidence(EvidenceKind.UNIQUE_CONTACT, Strength.STRONG, (a,), f"p{i}@x.com", "from",
                     "known contact")
            for a in ids
        )
        out.append(
            RoutingDecision(
                f"m{i:08}",
                RouteStatus.ROUTED,
                ids,
                evidence=evidence,
                rule="unique_contact",
                confidence=0.95,
                occurred_at=T0 + dt.timedelta(seconds=i),
                thread_id=f"t{i // 3}",
                subject=f"Subject {i}",
            )
        )
    return out


def contacts_from_raw_rows(rows: list[Any]) -> list[Contact]:
    """What a raw-driver loader does to get the same values through the public
    constructors (trusting the stored canonical email, so without re-parsing it)."""
    out = []
    for (contact_id, account_id, text, valid, phone, name, title, created, conversions,
         first, deal_stage, tags) in rows:
        email: EmailAddress | str | None = text
        if text is not None and valid:
            local, _, domain = text.rpartition("@")
            email = EmailAddress(local, domain)
        out.append(
            Contact(
                contact_id,
                account_id,
                email=email,
                phone=phone,
                name=name,
                title=title,
                created_at=None if created is None else dt.datetime.fromisoformat(created),
                conversions=conversions,
                first_conversion_at=None if first is None else dt.datetime.fromisoformat(first),
                deal_stage=deal_stage,
                tags=json.loads(tags),
            )
        )
    return out


# --------------------------------------------------------------------------- timing


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = function()
        return time.perf_counter() - start, result
    finally:
        gc.enable()


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float, float, str]] = []
        self.failed = False

    def add(self, backend: str, what: str, ours: float, baseline: float, name: str,  # noqa: PLR0917 - one workload, passed whole
            n: int) -> None:
        ratio = ours / baseline if baseline else float("inf")
        verdict = "ok" if ratio <= BUDGET else f"OVER BUDGET ({BUDGET}x)"
        self.failed |= ratio > BUDGET
        self.rows.append((backend, what, ours, baseline, name))
        print(
            f"{backend:9} {what:16} ours {ours:8.2f} s ({n / ours:10,.0f}/s)   "
            f"{name} {baseline:8.2f} s   ratio {ratio:5.2f}  {verdict}",
            flush=True,
        )

    def info(self, backend: str, what: str, seconds: float, n: int) -> None:
        ours = self.rows[-1][2] if self.rows else seconds
        print(
            f"{backend:9} {what:16} {seconds:8.2f} s ({n / seconds:10,.0f}/s)"
            f"   ours / this {ours / seconds:5.2f} (information, not a budget)",
            flush=True,
        )

    def bare(self, backend: str, what: str, seconds: float, n: int) -> None:
        """The bare driver (tuples, no values) as the baseline: held to the budget too."""
        ours = self.rows[-1][2]
        ratio = ours / seconds
        verdict = "ok" if ratio <= BUDGET else f"OVER BUDGET ({BUDGET}x)"
        self.failed |= ratio > BUDGET
        print(
            f"{backend:9} {what:16} {seconds:8.2f} s ({n / seconds:10,.0f}/s)"
            f"   ours / this {ratio:5.2f}  {verdict} (against the bare select)",
            flush=True,
        )


# --------------------------------------------------------------------------- SQLite


def best(repeat: int, *runs: Callable[[int], Callable[[], Any]]) -> list[float]:
    """For each of `runs` (given the attempt number, it prepares a fresh target and
    returns the work to time), the best time of `repeat` attempts, taking turns."""
    times: list[list[float]] = [[] for _ in runs]
    for attempt in range(repeat):
        order = list(enumerate(runs))
        if attempt % 2:
            order.reverse()
        for i, prepare in order:
            work = prepare(attempt)
            times[i].append(timed(work)[0])  # the result is freed before the next run
            del work
    return [min(t) for t in times]


def _sqlite_raw(path: Path) -> sqlite3.Connection:
    """A raw connection to a database with the library's schema (created by the store)."""
    SQLiteStore(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _sqlite_reads(  # noqa: PLR0917 - one workload, passed whole
    raw: sqlite3.Connection,
    store: SQLiteStore,
    accounts: list[Account],
    contacts: list[Contact],
    report: Report,
    repeat: int,
) -> None:
    """contacts read and index load, from a database holding `contacts`."""
    n_contacts = len(contacts)
    select = (
        f"SELECT {', '.join(codec.CONTACT_COLUMNS)} FROM contacts WHERE tenant = ? ORDER BY id"
    )
    def raw_values() -> list[Contact]:
        return contacts_from_raw_rows(raw.execute(select, (TENANT,)).fetchall())

    floor, baseline, ours = best(
        repeat,
        lambda _a: lambda: raw.execute(select, (TENANT,)).fetchall(),
        lambda _a: raw_values,
        lambda _a: lambda: store.contacts.list(TENANT),
    )
    read = store.contacts.list(TENANT)
    assert len(read) == n_contacts
    assert read == sorted(contacts, key=lambda c: c.id) == raw_values()
    del read
    report.add("sqlite", "contacts read", ours, baseline, "raw select + values", n_contacts)
    report.bare("sqlite", "  bare select", floor, n_contacts)

    _index_load(report, "sqlite", store, accounts, contacts, raw_values, floor, repeat)


def _index_load(  # noqa: PLR0917 - one workload, passed whole
    report: Report,
    engine: str,
    store: Any,
    accounts: list[Account],
    contacts: list[Contact],
    raw_values: Callable[[], list[Contact]],
    floor: float,
    repeat: int,
) -> None:
    """Time `load_routing_index` against the raw select turned into values and built
    into an index, and record the bare select + build as the floor."""
    store.accounts.put_many(TENANT, accounts)

    def raw_index() -> RoutingIndex:
        loaded = raw_values()
        return RoutingIndex.build(accounts, loaded, resolve_domain_ownership(accounts, loaded))

    baseline, build, ours = best(
        repeat,
        lambda _a: raw_index,
        lambda _a: lambda: RoutingIndex.build(
            accounts, contacts, resolve_domain_ownership(accounts, contacts)
        ),
        lambda _a: lambda: load_routing_index(store, TENANT),
    )
    n_contacts = len(contacts)
    report.add(engine, "index load", ours, baseline, "raw select + values + build", n_contacts)
    report.info(engine, "  of which build", build, n_contacts)
    report.bare(engine, "  bare select+build", floor + build, n_contacts)


def bench_sqlite(  # noqa: PLR0917 - one workload, passed whole
    directory: Path,
    accounts: list[Account],
    contacts: list[Contact],
    decisions: list[RoutingDecision],
    report: Report,
    repeat: int,
    parts: frozenset[str] = frozenset({"write", "read"}),
) -> None:
    n_contacts, n_decisions = len(contacts), len(decisions)
    contact_rows = [codec.contact_row(TENANT, c) for c in contacts]
    contact_sql = upsert_sql("contacts", CONTACT_COLUMNS, ("tenant", "id"))
    raws: list[sqlite3.Connection] = []
    stores: list[SQLiteStore] = []

    def fresh_raw(name: str) -> sqlite3.Connection:
        raws.append(_sqlite_raw(directory / f"{name}.db"))
        return raws[-1]

    def fresh_store(name: str) -> SQLiteStore:
        stores.append(SQLiteStore(directory / f"{name}.db"))
        return stores[-1]

    def close_all() -> None:
        for conn in [*raws, *stores]:
            conn.close()
        raws.clear()
        stores.clear()

    # contacts write
    def raw_write(attempt: int) -> Callable[[], None]:
        raw = fresh_raw(f"raw-contacts-{attempt}")

        def work() -> None:
            raw.execute("BEGIN")
            raw.executemany(contact_sql, contact_rows)
            raw.execute("COMMIT")

        return work

    def our_write(attempt: int) -> Callable[[], Any]:
        store = fresh_store(f"our-contacts-{attempt}")
        return lambda: store.contacts.put_many(TENANT, contacts)

    if "write" in parts:
        baseline, ours = best(repeat, raw_write, our_write)
        report.add("sqlite", "contacts write", ours, baseline, "raw executemany", n_contacts)
    else:  # reads only: the contacts written once, untimed
        raw_write(0)()
        our_write(0)()
    if "read" in parts:  # from the last database written
        _sqlite_reads(raws[-1], stores[-1], accounts, contacts, report, repeat)
    contact_rows.clear()
    close_all()
    if "write" not in parts:
        return
    # decisions write
    encoded = [codec.decision_rows(TENANT, d) for d in decisions]
    timeline_sql = upsert_sql("decision_accounts", TIMELINE_COLUMNS,
                              ("tenant", "account_id", "comm_id"))
    decision_sql = upsert_sql("decisions", DECISION_COLUMNS, ("tenant", "comm_id"))

    def raw_decisions(attempt: int) -> Callable[[], None]:
        raw = fresh_raw(f"raw-decisions-{attempt}")

        def work() -> None:
            for start in range(0, len(encoded), 10_000):
                chunk = encoded[start : start + 10_000]
                raw.execute("BEGIN")
                raw.executemany(decision_sql, [row for row, _t in chunk])
                raw.executemany(timeline_sql, [t for _row, ts in chunk for t in ts])
                raw.execute("COMMIT")

        return work

    def our_decisions(attempt: int) -> Callable[[], Any]:
        store = fresh_store(f"our-decisions-{attempt}")
        return lambda: save_decisions(store, TENANT, decisions, batch_size=10_000)

    baseline, ours = best(repeat, raw_decisions, our_decisions)
    report.add("sqlite", "decisions write", ours, baseline, "raw executemany", n_decisions)
    assert stores[-1].decisions.count(TENANT) == n_decisions
    close_all()


# --------------------------------------------------------------------------- PostgreSQL


@contextlib.contextmanager
def _pg_schemas(url: str) -> Iterator[Callable[[], str]]:
    """Makes uniquely named schemas with the library's tables; drops them all after."""
    import psycopg
    from psycopg import sql

    from stakeholder.storage import PostgresStore

    made: list[str] = []

    def make() -> str:
        made.append(f"stakeholder_bench_{uuid.uuid4().hex[:12]}")
        PostgresStore(url, schema=made[-1]).close()
        return made[-1]

    try:
        yield make
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            for schema in made:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )


def _pg(text: str) -> Any:
    from psycopg import sql

    return sql.SQL(text.replace("?", "%s"))  # type: ignore[arg-type]  # constants only


def bench_postgres(  # noqa: PLR0917 - one workload, passed whole
    url: str,
    accounts: list[Account],
    contacts: list[Contact],
    decisions: list[RoutingDecision],
    report: Report,
    repeat: int,
    parts: frozenset[str] = frozenset({"write", "read"}),
) -> None:
    import psycopg
    from psycopg import sql

    from stakeholder.storage import PostgresStore
    from stakeholder.storage._sql import POSTGRES

    n_contacts, n_decisions = len(contacts), len(decisions)
    contact_rows = [codec.contact_row(TENANT, c) for c in contacts]
    with _pg_schemas(url) as new_schema:
        raws: list[psycopg.Connection[Any]] = []
        stores: list[PostgresStore] = []

        def raw_connection() -> psycopg.Connection[Any]:
            conn = psycopg.connect(url)
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(new_schema())))
            conn.commit()
            raws.append(conn)
            return conn

        def fresh_store() -> PostgresStore:
            stores.append(PostgresStore(url, schema=new_schema()))
            return stores[-1]

        # contacts write
        upsert = _pg(upsert_sql("contacts", CONTACT_COLUMNS, ("tenant", "id"), POSTGRES))
        copy_sql = _pg(f"COPY contacts ({', '.join(CONTACT_COLUMNS)}) FROM STDIN")

        written: list[psycopg.Connection[Any]] = []

        def raw_write(_attempt: int) -> Callable[[], None]:
            raw = raw_connection()
            written.append(raw)

            def work() -> None:
                with raw.cursor() as cur:
                    cur.executemany(upsert, contact_rows)
                raw.commit()

            return work

        def raw_copy(_attempt: int) -> Callable[[], None]:
            raw = raw_connection()

            def work() -> None:
                with raw.cursor() as cur, cur.copy(copy_sql) as copy:
                    for row in contact_rows:
                        copy.write_row(row)
                raw.commit()

            return work

        def our_write(_attempt: int) -> Callable[[], Any]:
            store = fresh_store()
            return lambda: store.contacts.put_many(TENANT, contacts)

        if "write" in parts:
            baseline, copy_floor, ours = best(repeat, raw_write, raw_copy, our_write)
            report.add("postgres", "contacts write", ours, baseline, "raw executemany",
                       n_contacts)
            report.info("postgres", "  raw COPY floor", copy_floor, n_contacts)
        else:  # reads only: the contacts written once, untimed
            raw_write(0)()
            our_write(0)()
        store, raw = stores[-1], written[-1]

        # contacts read
        select = _pg(
            f"SELECT {', '.join(codec.CONTACT_COLUMNS)} FROM contacts"
            " WHERE md5(tenant) = md5(?) AND tenant = ? ORDER BY id"
        )

        def raw_read() -> list[Any]:
            with raw.cursor() as cur:
                cur.execute(select, (TENANT, TENANT))
                rows = cur.fetchall()
            raw.commit()
            return rows

        def raw_values() -> list[Contact]:
            return contacts_from_raw_rows(raw_read())

        floor, baseline, ours = best(
            repeat,
            lambda _a: raw_read,
            lambda _a: raw_values,
            lambda _a: lambda: store.contacts.list(TENANT),
        )
        read = store.contacts.list(TENANT)
        assert read == sorted(contacts, key=lambda c: c.id) == raw_values()
        del read
        report.add("postgres", "contacts read", ours, baseline, "raw select + values",
                   n_contacts)
        report.bare("postgres", "  bare select", floor, n_contacts)

        _index_load(report, "postgres", store, accounts, contacts, raw_values, floor, repeat)
        contact_rows.clear()
        if "write" not in parts:
            for conn in [*raws, *stores]:
                conn.close()
            return

        # decisions write
        encoded = [codec.decision_rows(TENANT, d) for d in decisions]
        decision_sql = _pg(upsert_sql("decisions", DECISION_COLUMNS, ("tenant", "comm_id"),
                                      POSTGRES))
        timeline_sql = _pg(upsert_sql("decision_accounts", TIMELINE_COLUMNS,
                                      ("tenant", "account_id", "comm_id"), POSTGRES))

        def raw_decisions(_attempt: int) -> Callable[[], None]:
            raw = raw_connection()

            def work() -> None:
                for start in range(0, len(encoded), 10_000):
                    chunk = encoded[start : start + 10_000]
                    with raw.cursor() as cur:
                        cur.executemany(decision_sql, [row for row, _t in chunk])
                        cur.executemany(timeline_sql, [t for _row, ts in chunk for t in ts])
                    raw.commit()

            return work

        def our_decisions(_attempt: int) -> Callable[[], Any]:
            store = fresh_store()
            return lambda: save_decisions(store, TENANT, decisions, batch_size=10_000)

        baseline, ours = best(repeat, raw_decisions, our_decisions)
        report.add("postgres", "decisions write", ours, baseline, "raw executemany", n_decisions)
        assert stores[-1].decisions.count(TENANT) == n_decisions
        for conn in [*raws, *stores]:
            conn.close()


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks storage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 rows")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--parts", default="write,read",
                        help="write, read or both (read: contacts read and index load only)")
    parser.add_argument("--postgres-url", default=os.environ.get("STAKEHOLDER_TEST_POSTGRES_URL"))
    args = parser.parse_args(list(argv))

    n = max(int(1_000_000 * args.scale), 100)
    n_accounts = max(n // 100, 10)
    rng = random.Random(args.seed)
    print(f"storage benchmark: {n:,} contacts, {n:,} decisions, {n_accounts:,} accounts")
    print(machine(f"SQLite {sqlite3.sqlite_version}"))
    accounts = make_accounts(n_accounts)
    contacts = make_contacts(n, n_accounts, rng)
    parts = frozenset(p.strip() for p in args.parts.split(",") if p.strip())
    decisions = make_decisions(n, n_accounts, rng) if "write" in parts else []
    report = Report()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory(prefix="stakeholder-bench-") as directory:
            bench_sqlite(Path(directory), accounts, contacts, decisions, report, args.repeat,
                         parts)
    if "postgres" in backends:
        if not args.postgres_url:
            print("postgres: skipped (no --postgres-url and STAKEHOLDER_TEST_POSTGRES_URL unset)")
        else:
            import psycopg

            with psycopg.connect(args.postgres_url) as conn:
                version = conn.execute("SHOW server_version").fetchone()
            print(f"PostgreSQL {version[0] if version else '?'}, psycopg {psycopg.__version__}")
            bench_postgres(args.postgres_url, accounts, contacts, decisions, report,
                           args.repeat, parts)
    print("all within budget" if not report.failed else "SOME FIGURES OVER BUDGET")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
