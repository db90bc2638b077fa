"""What the SQLite and PostgreSQL back ends share: the repositories, written once over a
small session interface. SQL is written with `?` placeholders; the PostgreSQL session
translates them. Every value goes in as a bound parameter, never as SQL text.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Final, Protocol, TypeVar

from stakeholder._errors import InvalidRecord
from stakeholder._identity import EmailAddress
from stakeholder._model import Account, Contact, Rejection
from stakeholder._ownership import SyncIssue
from stakeholder._progress import Progress, ProgressTicker
from stakeholder._routing import Override, RouteStatus, RoutingDecision
from stakeholder.storage import _codec as codec
from stakeholder.storage._decision_rule import choose_decisions, to_check
from stakeholder.storage._memory import active_overrides, check_window, override_history
from stakeholder.storage._records import OverrideRecord, RunRecord, WriteResult

Row = tuple[Any, ...]
T = TypeVar("T")


class Dialect:
    """How keys are matched. SQLite compares key columns directly (its indexes hold the
    values themselves). PostgreSQL's key indexes hold `stakeholder_key(column)`, the
    SHA-256 digest of the value's UTF-8 bytes (a B-tree entry is limited to a few
    kilobytes and ids may be 10,000 characters long): every match compares the digest
    first, for the index, and then the value itself, so two values never share a row
    even if their digests were ever to collide (a write that meets such a collision is
    refused, see `upsert_action`)."""

    def __init__(self, name: str, *, hashed_keys: bool) -> None:
        self.name = name
        self.hashed_keys = hashed_keys

    def eq(self, *columns: str) -> str:
        """`a = ? AND b = ?` for key columns, in this dialect."""
        if not self.hashed_keys:
            return " AND ".join(f"{c} = ?" for c in columns)
        return " AND ".join(f"{KEY_FUNCTION}({c}) = {KEY_FUNCTION}(?) AND {c} = ?" for c in columns)

    def params(self, *values: Any) -> tuple[Any, ...]:
        """The parameters for `eq(...)` with these values."""
        if not self.hashed_keys:
            return values
        return tuple(v for value in values for v in (value, value))

    def join(self, left: str, right: str, *columns: str) -> str:
        pairs = [f"{left}.{c} = {right}.{c}" for c in columns]
        if self.hashed_keys:
            pairs = [f"{KEY_FUNCTION}({left}.{c}) = {KEY_FUNCTION}({right}.{c})"
                     for c in columns] + pairs
        return " AND ".join(pairs)

    def conflict(self, keys: Sequence[str]) -> str:
        if not self.hashed_keys:
            return ", ".join(keys)
        return ", ".join(f"({KEY_FUNCTION}({k}))" for k in keys)

    def lock(self, session: Session, what: str, tenant: str, *, shared: bool = False) -> None:
        """Serialise writers of one tenant's `what` until the transaction ends (PostgreSQL:
        an advisory lock on a hash of the names, so unrelated tenants rarely wait for each
        other; SQLite needs none: `BEGIN IMMEDIATE` already admits one writer at a time)."""
        if self.hashed_keys:
            function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
            session.query(
                stmt("SELECT", function, "(hashtextextended(?, 0))"), (f"{what}/{tenant}",)
            )


#: The PostgreSQL function that key indexes are built on (migration 4 creates it).
KEY_FUNCTION: Final = "stakeholder_key"

SQLITE = Dialect("sqlite", hashed_keys=False)
POSTGRES = Dialect("postgres", hashed_keys=True)


#: Rows converted per chunk by `Session.query_chunks` readers: the chunk's tuples are
#: still in the CPU caches when they become values, and freed before the next chunk.
READ_CHUNK = 4096


class Session(Protocol):
    """One open transaction (or a savepoint inside one)."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def query_chunks(self, sql: str, params: Sequence[Any] = ()) -> Iterator[list[Row]]:
        """The rows of one query, `READ_CHUNK` at a time (one statement: one snapshot);
        consume them inside the session."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def upsert(
        self, table: str, columns: Sequence[str], keys: Sequence[str], rows: Sequence[Row]
    ) -> None:
        """Insert `rows`, replacing those whose `keys` already exist."""


class SessionSource(Protocol):
    dialect: Dialect

    def session(self) -> AbstractContextManager[Session]:
        """For writing: the current batch's transaction, or a new one committed on exit."""

    def transact(self, work: Callable[[Session], T]) -> T:
        """`work(session)` in `session()`; outside a batch, run again when the database
        rolled it back as a deadlock or serialisation failure (a bounded number of
        times). `work` must be safe to run again."""

    def tenant_tables(self, session: Session) -> list[tuple[str, tuple[str, ...]]]:
        """Every table with a `tenant` column, with the tables its foreign keys name."""

    def reading(self) -> AbstractContextManager[Session]:
        """For reading: the current batch's transaction, or a connection outside one."""


def stmt(*parts: str) -> str:
    """One SQL statement from parts: table and column names are the package's constants,
    values are always `?` parameters."""
    return " ".join(parts)


def upsert_action(
    columns: Sequence[str], keys: Sequence[str], dialect: Dialect, table: str = ""
) -> str:
    """`ON CONFLICT ... DO UPDATE`: in PostgreSQL the update happens only when the stored
    row's key values equal the new ones (the index holds digests), so a digest collision
    changes nothing and shows as a missing row count (`check_written`)."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    if not updates:
        return stmt("ON CONFLICT (", dialect.conflict(keys), ") DO NOTHING")
    action = "DO UPDATE SET " + updates
    if dialect.hashed_keys and table:
        action += " WHERE " + " AND ".join(f"{table}.{k} = excluded.{k}" for k in keys)
    return stmt("ON CONFLICT (", dialect.conflict(keys), ")", action)


def insert_sql(table: str, columns: Sequence[str]) -> str:
    marks = ", ".join("?" * len(columns))
    return stmt("INSERT INTO", table, "(", ", ".join(columns), ") VALUES (", marks, ")")


def upsert_sql(
    table: str, columns: Sequence[str], keys: Sequence[str], dialect: Dialect = SQLITE
) -> str:
    return stmt(insert_sql(table, columns), upsert_action(columns, keys, dialect, table))


_ACCOUNT_COLS = ("tenant", *codec.ACCOUNT_COLUMNS)
_CONTACT_COLS = ("tenant", *codec.CONTACT_COLUMNS)
_DECISION_COLS = ("tenant", *codec.DECISION_COLUMNS)
_TIMELINE_COLS = ("tenant", "account_id", "comm_id", "position", "occurred_us")
_OVERRIDE_COLS = ("tenant", *codec.OVERRIDE_COLUMNS, "at_us")
_ISSUE_COLS = ("tenant", *codec.SYNC_ISSUE_COLUMNS)
_RUN_COLS = ("tenant", "run_id", "at", "at_us", "operation", "counts", "note")

def _select(columns: Sequence[str], table: str) -> str:
    return stmt("SELECT", ", ".join(columns), "FROM", table)


_SELECT_ACCOUNT = _select(codec.ACCOUNT_COLUMNS, "accounts")
_SELECT_CONTACT = _select(codec.CONTACT_COLUMNS, "contacts")
_SELECT_DECISION = _select(codec.DECISION_COLUMNS, "decisions")
_SELECT_OVERRIDE = _select(("seq", *codec.OVERRIDE_COLUMNS), "overrides")
_SELECT_ISSUE = _select(codec.SYNC_ISSUE_COLUMNS, "sync_issues")
_SELECT_RUN = _select(codec.RUN_COLUMNS, "runs")


class _Repository:
    table = ""
    key_column = ""

    def __init__(self, source: SessionSource) -> None:
        self._source = source
        self._d = source.dialect

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._source.reading() as s:
            return s.query(sql, params)

    def _contacts(self, sql: str, params: Sequence[Any]) -> list[Contact]:
        """The contacts a query in `_SELECT_CONTACT` form finds, in its order: the rows
        become values a chunk at a time, as they are fetched."""
        out: list[Contact] = []
        with self._source.reading() as s:
            for rows in s.query_chunks(sql, params):
                codec.contacts_from_rows(rows, out)
        return out

    def _where(self, *columns: str) -> str:
        return stmt("WHERE", self._d.eq(*columns))

    def _by_key(self, select: str, tenant: str, value: object) -> list[Row]:
        """Rows of `select` whose (tenant, key column) match: none for impossible keys."""
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(value, self.key_column)
        if key is None:
            return []
        sql = stmt(select, self._where("tenant", self.key_column))
        return self._query(sql, self._d.params(tenant, key))

    def _of_tenant(self, select: str, tenant: str, order: str = "", *extra: str) -> list[Row]:
        return self._query(*self._tenant_query(select, tenant, order, *extra))

    def _tenant_query(
        self, select: str, tenant: str, order: str = "", *extra: str
    ) -> tuple[str, tuple[Any, ...]]:
        tenant = codec.check_tenant(tenant)
        return stmt(select, self._where("tenant"), *extra, order), self._d.params(tenant)

    def _count_tenant(self, tenant: str) -> int:
        rows = self._of_tenant(stmt("SELECT COUNT(*) FROM", self.table), tenant)
        return int(rows[0][0])

    def _upsert_one(
        self,
        tenant: str,
        item: object,
        encode: Callable[[str, object], Row],
        columns: Sequence[str],
    ) -> None:
        """Insert or replace one value keyed by (tenant, key column); `InvalidRecord`
        when it cannot be stored."""
        tenant = codec.check_tenant(tenant)
        row = codec.one(lambda: encode(tenant, item), item)
        keys = ("tenant", self.key_column)
        self._source.transact(lambda s: s.upsert(self.table, columns, keys, [row]))

    def _upsert_many(
        self,
        tenant: str,
        items: Iterable[object],
        encode: Callable[[str, object], Row],
        columns: Sequence[str],
        progress: Progress | None = None,
    ) -> WriteResult:
        """Insert or replace many values in one session; unstorable ones are rejected
        with a reason (the row's second column is its id)."""
        tenant = codec.check_tenant(tenant)
        tick = codec.ticker(progress, items)
        rows, rejections = codec.encode_batch(
            items, lambda item: encode(tenant, item), lambda r: r[1], self.table, progress=tick
        )
        keys = ("tenant", self.key_column)
        self._source.transact(lambda s: s.upsert(self.table, columns, keys, rows))
        return codec.finish(codec.write_result(len(rows), rejections), tick)

    def _delete_key(self, tenant: str, value: object) -> bool:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(value, self.key_column)
        if key is None:
            return False
        sql = stmt("DELETE FROM", self.table, self._where("tenant", self.key_column))

        def delete(s: Session) -> bool:
            if self.table == "sync_issues":
                self._d.lock(s, "sync_issues", tenant)
            if self.table == "decisions":
                timeline = stmt("DELETE FROM decision_accounts", self._where("tenant", "comm_id"))
                s.execute(timeline, self._d.params(tenant, key))
            return s.execute(sql, self._d.params(tenant, key)) > 0

        return self._source.transact(delete)


class SqlAccounts(_Repository):
    table = "accounts"
    key_column = "id"

    def put(self, tenant: str, account: Account) -> None:
        self._upsert_one(tenant, account, codec.account_row, _ACCOUNT_COLS)

    def put_many(
        self, tenant: str, accounts: Iterable[Account], *, progress: Progress | None = None
    ) -> WriteResult:
        return self._upsert_many(tenant, accounts, codec.account_row, _ACCOUNT_COLS, progress)

    def get(self, tenant: str, account_id: str) -> Account | None:
        rows = self._by_key(_SELECT_ACCOUNT, tenant, account_id)
        return codec.account_from_row(rows[0]) if rows else None

    def list(self, tenant: str) -> builtins.list[Account]:
        rows = self._of_tenant(_SELECT_ACCOUNT, tenant, "ORDER BY id")
        return [codec.account_from_row(r) for r in rows]

    def count(self, tenant: str) -> int:
        return self._count_tenant(tenant)

    def delete(self, tenant: str, account_id: str) -> bool:
        return self._delete_key(tenant, account_id)


class SqlContacts(_Repository):
    table = "contacts"
    key_column = "id"

    def put(self, tenant: str, contact: Contact) -> None:
        self._upsert_one(tenant, contact, codec.contact_row, _CONTACT_COLS)

    def put_many(
        self, tenant: str, contacts: Iterable[Contact], *, progress: Progress | None = None
    ) -> WriteResult:
        return self._upsert_many(tenant, contacts, codec.contact_row, _CONTACT_COLS, progress)

    def get(self, tenant: str, contact_id: str) -> Contact | None:
        rows = self._by_key(_SELECT_CONTACT, tenant, contact_id)
        return codec.contact_from_row(rows[0]) if rows else None

    def _account_query(
        self, select: str, tenant: str, account_id: str, order: str
    ) -> tuple[str, tuple[Any, ...]] | None:
        """The query for one account's rows; `None` when no stored row can match."""
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(account_id, "account_id")
        if key is None:
            return None
        sql = stmt(select, self._where("tenant", "account_id"), order)
        return sql, self._d.params(tenant, key)

    def list(self, tenant: str, *, account_id: str | None = None) -> builtins.list[Contact]:
        if account_id is None:
            return self._contacts(*self._tenant_query(_SELECT_CONTACT, tenant, "ORDER BY id"))
        query = self._account_query(_SELECT_CONTACT, tenant, account_id, "ORDER BY id")
        return [] if query is None else self._contacts(*query)

    def count(self, tenant: str, *, account_id: str | None = None) -> int:
        if account_id is None:
            return self._count_tenant(tenant)
        query = self._account_query("SELECT COUNT(*) FROM contacts", tenant, account_id, "")
        return 0 if query is None else int(self._query(*query)[0][0])

    def find_by_email(self, tenant: str, email: str | EmailAddress) -> builtins.list[Contact]:
        tenant = codec.check_tenant(tenant)
        if isinstance(email, EmailAddress):
            wanted = str(email)
        else:
            try:
                wanted = str(EmailAddress.parse(email))
            except ValueError:
                return []
        if codec.lookup_key(wanted, "email") is None:
            return []
        sql = stmt(_SELECT_CONTACT, self._where("tenant", "email"), "AND email_valid ORDER BY id")
        return self._contacts(sql, self._d.params(tenant, wanted))

    def delete(self, tenant: str, contact_id: str) -> bool:
        return self._delete_key(tenant, contact_id)


_REJECTED: Final = RouteStatus.REJECTED.value


class SqlDecisions(_Repository):
    table = "decisions"
    key_column = "comm_id"

    def _write(
        self,
        s: Session,
        encoded: builtins.list[codec.EncodedDecision],
    ) -> None:
        if not encoded:
            return
        rows = [row for row, _timeline in encoded]
        # replacing a decision deletes its old timeline rows (trigger, migration 3)
        s.upsert("decisions", _DECISION_COLS, ("tenant", "comm_id"), rows)
        timeline = [t for _row, ts in encoded for t in ts]
        if timeline:
            s.upsert(
                "decision_accounts", _TIMELINE_COLS, ("tenant", "account_id", "comm_id"), timeline
            )

    def _statuses(self, s: Session, tenant: str, comm_ids: Sequence[str]) -> dict[str, RouteStatus]:
        """The stored status of each of `comm_ids` that is stored."""
        found: dict[str, RouteStatus] = {}
        wanted = set(comm_ids)
        column = f"{KEY_FUNCTION}(comm_id)" if self._d.hashed_keys else "comm_id"
        mark = f"{KEY_FUNCTION}(?)" if self._d.hashed_keys else "?"
        for chunk in codec.chunks(list(comm_ids), 500):
            sql = stmt(
                "SELECT comm_id, status FROM decisions", self._where("tenant"),
                "AND", column, "IN (", ", ".join([mark] * len(chunk)), ")",
            )
            for comm_id, status in s.query(sql, (*self._d.params(tenant), *chunk)):
                if comm_id in wanted:
                    found[comm_id] = RouteStatus(status)
        return found

    def _put(
        self, tenant: str, encoded: builtins.list[codec.EncodedDecision], replace: bool
    ) -> tuple[int, builtins.list[Rejection]]:
        """Write what the rule for repeated comm ids keeps (see `_decision_rule`)."""
        rows = [e[0] for e in encoded]
        if replace and len({r[1] for r in rows}) == len(rows) and not any(
            r[2] == _REJECTED for r in rows
        ):  # the common case (distinct ids, none rejected): the rule keeps them all
            self._source.transact(lambda s: self._write_shared(s, tenant, encoded))
            return len(encoded), []
        check = to_check([codec.decision_key(e) for e in encoded], replace)

        def write(s: Session) -> tuple[int, builtins.list[Rejection]]:
            # writers that look at what is stored exclude the others of the tenant
            self._d.lock(s, "decisions", tenant, shared=not check)
            stored = self._statuses(s, tenant, check) if check else {}
            chosen, refused = choose_decisions(
                encoded, codec.decision_key, stored, replace=replace
            )
            self._write(s, chosen)
            return len(chosen), refused

        return self._source.transact(write)

    def _write_shared(
        self, s: Session, tenant: str, encoded: builtins.list[codec.EncodedDecision]
    ) -> None:
        self._d.lock(s, "decisions", tenant, shared=True)
        self._write(s, encoded)

    def put(self, tenant: str, decision: RoutingDecision, *, replace: bool = True) -> None:
        tenant = codec.check_tenant(tenant)
        encoded = codec.one(lambda: codec.decision_rows(tenant, decision), decision)
        _written, refused = self._put(tenant, [encoded], replace)
        if refused:
            raise InvalidRecord(decision, refused[0].reason)

    def put_many(
        self,
        tenant: str,
        decisions: Iterable[RoutingDecision],
        *,
        replace: bool = True,
        progress: Progress | None = None,
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        tick = codec.ticker(progress, decisions)
        encoded, rejections = codec.encode_batch(
            decisions, lambda d: codec.decision_rows(tenant, d), None, "decisions",
            progress=tick,
        )
        written, refused = self._put(tenant, encoded, replace)
        return codec.finish(codec.write_result(written, [*rejections, *refused]), tick)

    def get(self, tenant: str, comm_id: str) -> RoutingDecision | None:
        rows = self._by_key(_SELECT_DECISION, tenant, comm_id)
        return codec.decision_from_row(rows[0]) if rows else None

    def _of_status(self, select: str, tenant: str, status: RouteStatus, order: str) -> list[Row]:
        tenant = codec.check_tenant(tenant)
        sql = stmt(select, self._where("tenant"), "AND status = ?", order)
        return self._query(sql, (*self._d.params(tenant), RouteStatus(status).value))

    def list(
        self, tenant: str, *, status: RouteStatus | None = None
    ) -> builtins.list[RoutingDecision]:
        if status is None:
            rows = self._of_tenant(_SELECT_DECISION, tenant, "ORDER BY comm_id")
        else:
            rows = self._of_status(_SELECT_DECISION, tenant, status, "ORDER BY comm_id")
        return [codec.decision_from_row(r) for r in rows]

    def count(self, tenant: str, *, status: RouteStatus | None = None) -> int:
        if status is None:
            return self._count_tenant(tenant)
        return int(self._of_status("SELECT COUNT(*) FROM decisions", tenant, status, "")[0][0])

    def timeline(
        self,
        tenant: str,
        account_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int | None = None,
    ) -> builtins.list[RoutingDecision]:
        tenant = codec.check_tenant(tenant)
        check_window(since, until, limit)
        key = codec.lookup_key(account_id, "account_id")
        if key is None:
            return []
        sql = [
            _select([f"d.{c}" for c in codec.DECISION_COLUMNS], "decision_accounts a"),
            "JOIN decisions d ON",
            self._d.join("d", "a", "tenant", "comm_id"),
            "WHERE",
            self._d.eq("a.tenant", "a.account_id"),
        ]
        params: builtins.list[Any] = [*self._d.params(tenant, key)]
        if since is not None:
            sql.append("AND a.occurred_us >= ?")
            params.append(codec.instant(since))
        if until is not None:
            sql.append("AND a.occurred_us < ?")
            params.append(codec.instant(until))
        sql.append("ORDER BY a.occurred_us IS NULL, a.occurred_us, a.comm_id")
        if limit is not None:
            sql.append("LIMIT ?")
            params.append(limit)
        rows = self._query(stmt(*sql), params)
        return [codec.decision_from_row(r) for r in rows]

    def delete(self, tenant: str, comm_id: str) -> bool:
        return self._delete_key(tenant, comm_id)


class SqlOverrides(_Repository):
    table = "overrides"

    def add(self, tenant: str, override: Override) -> None:
        tenant = codec.check_tenant(tenant)
        row = codec.one(lambda: codec.override_row(tenant, override), override)
        self._source.transact(
            lambda s: s.executemany(insert_sql("overrides", _OVERRIDE_COLS), [row])
        )

    def add_many(
        self, tenant: str, overrides: Iterable[Override], *, progress: Progress | None = None
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        tick = codec.ticker(progress, overrides)
        rows, rejections = codec.encode_batch(
            overrides, lambda o: codec.override_row(tenant, o), None, "overrides", progress=tick
        )
        if rows:
            self._source.transact(
                lambda s: s.executemany(insert_sql("overrides", _OVERRIDE_COLS), rows)
            )
        return codec.finish(codec.write_result(len(rows), rejections), tick)

    def _trail(self, rows: Iterable[Row]) -> Iterator[tuple[int, Override]]:
        for row in rows:
            yield int(row[0]), codec.override_from_row(row[1:])

    def active(self, tenant: str) -> builtins.list[Override]:
        rows = self._of_tenant(_SELECT_OVERRIDE, tenant, "ORDER BY at_us, seq")
        return active_overrides(self._trail(rows))

    def history(
        self, tenant: str, *, comm_id: str | None = None, thread_id: str | None = None
    ) -> builtins.list[OverrideRecord]:
        if comm_id is None and thread_id is None:
            rows = self._of_tenant(_SELECT_OVERRIDE, tenant, "ORDER BY at_us, seq")
            return override_history(self._trail(rows))
        tenant = codec.check_tenant(tenant)
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        for column, value in (("comm_id", comm_id), ("thread_id", thread_id)):
            if value is not None:
                key = codec.lookup_key(value, column)
                if key is not None:
                    clauses.append(self._d.eq(column))
                    params.extend(self._d.params(key))
        if not clauses:
            return []
        sql = stmt(
            _SELECT_OVERRIDE,
            self._where("tenant"),
            "AND (",
            " OR ".join(f"({c})" for c in clauses),
            ") ORDER BY at_us, seq",
        )
        rows = self._query(sql, (*self._d.params(tenant), *params))
        return override_history(self._trail(rows))

    def count(self, tenant: str) -> int:
        return self._count_tenant(tenant)


class SqlSyncIssues(_Repository):
    table = "sync_issues"
    key_column = "domain"

    def _encode(
        self, tenant: str, issues: Iterable[SyncIssue], tick: ProgressTicker | None
    ) -> tuple[builtins.list[codec.SyncIssueRow], builtins.list[Any]]:
        return codec.encode_batch(
            issues, lambda i: codec.sync_issue_row(tenant, i), lambda r: r[1], "sync_issues",
            progress=tick,
        )

    def put_many(
        self, tenant: str, issues: Iterable[SyncIssue], *, progress: Progress | None = None
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        tick = codec.ticker(progress, issues)
        rows, rejections = self._encode(tenant, issues, tick)

        def write(s: Session) -> None:
            self._d.lock(s, "sync_issues", tenant)
            s.upsert("sync_issues", _ISSUE_COLS, ("tenant", "domain"), rows)

        self._source.transact(write)
        return codec.finish(codec.write_result(len(rows), rejections), tick)

    def replace_all(
        self, tenant: str, issues: Iterable[SyncIssue], *, progress: Progress | None = None
    ) -> WriteResult:
        """One serialisable step on every back end: writers of the tenant's issues take
        a per-tenant lock first, so concurrent replacements never mix their sets."""
        tenant = codec.check_tenant(tenant)
        tick = codec.ticker(progress, issues)
        rows, rejections = self._encode(tenant, issues, tick)

        def replace(s: Session) -> None:
            self._d.lock(s, "sync_issues", tenant)
            s.execute(stmt("DELETE FROM sync_issues", self._where("tenant")),
                      self._d.params(tenant))
            s.upsert("sync_issues", _ISSUE_COLS, ("tenant", "domain"), rows)

        self._source.transact(replace)
        return codec.finish(codec.write_result(len(rows), rejections), tick)

    def get(self, tenant: str, domain: str) -> SyncIssue | None:
        rows = self._by_key(_SELECT_ISSUE, tenant, domain)
        return codec.sync_issue_from_row(rows[0]) if rows else None

    def list(self, tenant: str, *, account_id: str | None = None) -> builtins.list[SyncIssue]:
        rows = self._of_tenant(_SELECT_ISSUE, tenant, "ORDER BY domain")
        issues = [codec.sync_issue_from_row(r) for r in rows]
        if account_id is None:
            return issues
        return [i for i in issues if account_id in i.account_ids]

    def count(self, tenant: str) -> int:
        return self._count_tenant(tenant)

    def delete(self, tenant: str, domain: str) -> bool:
        return self._delete_key(tenant, domain)


class SqlRunLog(_Repository):
    table = "runs"
    key_column = "run_id"

    def record(self, tenant: str, run: RunRecord) -> None:
        tenant = codec.check_tenant(tenant)
        row = codec.one(lambda: codec.run_row(tenant, run), run)
        self._source.transact(lambda s: s.upsert("runs", _RUN_COLS, ("tenant", "run_id"), [row]))

    def get(self, tenant: str, run_id: str) -> RunRecord | None:
        rows = self._by_key(_SELECT_RUN, tenant, run_id)
        return codec.run_from_row(rows[0]) if rows else None

    def list(self, tenant: str) -> builtins.list[RunRecord]:
        rows = self._of_tenant(_SELECT_RUN, tenant, "ORDER BY at_us, run_id")
        return [codec.run_from_row(r) for r in rows]

    def count(self, tenant: str) -> int:
        return self._count_tenant(tenant)


class SqlRepositories:
    """The six repositories over one session source."""

    def __init__(self, source: SessionSource) -> None:
        self.accounts = SqlAccounts(source)
        self.contacts = SqlContacts(source)
        self.decisions = SqlDecisions(source)
        self.overrides = SqlOverrides(source)
        self.sync_issues = SqlSyncIssues(source)
        self.runs = SqlRunLog(source)
        from stakeholder.storage._sponsors_sql import SqlSponsors  # noqa: PLC0415 - cycle

        self.sponsors = SqlSponsors(source)
        from stakeholder.storage import _alerts_sql as alerts  # noqa: PLC0415 - cycle

        self.ctas = alerts.SqlCtas(source)
        self.escalations = alerts.SqlEscalations(source)
        self.outbox = alerts.SqlOutbox(source)
        self.inbox = alerts.SqlInbox(source)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def purge_order(tables: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """Table names in an order that deletes a table before those its foreign keys name."""
    remaining = {name: set(refs) - {name} for name, refs in tables}
    order: list[str] = []
    while remaining:
        named = {ref for refs in remaining.values() for ref in refs}
        ready = sorted(t for t in remaining if t not in named) or sorted(remaining)
        for table in ready:
            order.append(table)
            del remaining[table]
    return order


def purge_tenant(source: SessionSource, tenant: str) -> dict[str, int]:
    """Delete every row of `tenant` from every table that has a `tenant` column (those
    added by later features too), in one transaction; the rows deleted per table."""
    tenant = codec.check_tenant(tenant)
    dialect = source.dialect

    def purge(s: Session) -> dict[str, int]:
        counts: dict[str, int] = {}
        for table in purge_order(source.tenant_tables(s)):
            sql = stmt("DELETE FROM", _quoted(table), "WHERE", dialect.eq("tenant"))
            counts[table] = s.execute(sql, dialect.params(tenant))
        return dict(sorted(counts.items()))

    return source.transact(purge)
