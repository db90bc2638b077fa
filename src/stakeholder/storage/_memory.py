"""The in-memory back end: public API for tests and notebooks, not a test fake.

It keeps the values themselves (they are frozen), applies the same storability rules as
the SQL back ends (so all three accept and refuse the same values), and makes batches
atomic with an undo journal. One lock serialises writers, like a database would.
"""

from __future__ import annotations

import builtins
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from stakeholder._errors import InvalidRecord
from stakeholder._identity import EmailAddress
from stakeholder._model import Account, Contact, Rejection
from stakeholder._ownership import SyncIssue
from stakeholder._progress import Progress, ProgressTicker
from stakeholder._routing import Override, RouteStatus, RoutingDecision
from stakeholder.storage import _codec as codec
from stakeholder.storage._decision_rule import choose_decisions, to_check
from stakeholder.storage._migrations import LATEST_VERSION
from stakeholder.storage._records import OverrideRecord, RunRecord, WriteResult

__all__ = ["MemoryStore"]

_MISSING: Final = object()
_Table = dict[str, dict[str, Any]]


def _email_key(email: str | EmailAddress) -> str | None:
    if isinstance(email, EmailAddress):
        return str(email)
    try:
        return str(EmailAddress.parse(email))
    except ValueError:
        return None


def override_rank(override: Override) -> tuple[Any, ...]:
    """Which override of a target is active: the latest `at`, then (for equal times)
    the smallest author, reason and account ids: the same rule `RoutingIndex.build`
    applies, so the active overrides are a function of the trail, not of write order."""
    return (
        -codec.instant(override.at),
        override.author,
        override.reason,
        override.account_ids,
    )


def override_history(
    overrides: Iterable[tuple[int, Override]],
) -> builtins.list[OverrideRecord]:
    """(seq, override) pairs -> the audit trail, ordered by `at`, then seq (the order
    they were added); one override per target is active (see `override_rank`)."""
    ordered = sorted(overrides, key=lambda pair: (codec.instant(pair[1].at), pair[0]))
    best: dict[tuple[int, str], tuple[tuple[Any, ...], int]] = {}
    for position, (_seq, override) in enumerate(ordered):
        target = codec.override_target(override)
        rank = (override_rank(override), position)
        if target not in best or rank < best[target]:
            best[target] = rank
    return [
        OverrideRecord(o, superseded=best[codec.override_target(o)][1] != i)
        for i, (_seq, o) in enumerate(ordered)
    ]


def active_overrides(overrides: Iterable[tuple[int, Override]]) -> builtins.list[Override]:
    records = [r.override for r in override_history(overrides) if r.active]
    return sorted(records, key=codec.override_target)


class _Tables:
    """The data, and the undo journal that makes batches atomic."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.data: dict[str, _Table] = {
            name: {}
            for name in ("accounts", "contacts", "decisions", "sync_issues", "runs")
        }
        self.overrides: dict[str, list[tuple[int, Override]]] = {}
        self.seq = 0
        self.journals: list[list[Callable[[], None]]] = []

    def rows(self, table: str, tenant: str) -> dict[str, Any]:
        return self.data[table].get(tenant, {})

    def _undo(self, action: Callable[[], None]) -> None:
        if self.journals:
            self.journals[-1].append(action)

    def set(self, table: str, tenant: str, key: str, value: Any) -> None:
        rows = self.data[table].setdefault(tenant, {})
        old = rows.get(key, _MISSING)
        rows[key] = value
        self._undo(lambda: self._restore(table, tenant, key, old))

    def delete(self, table: str, tenant: str, key: str) -> bool:
        rows = self.data[table].get(tenant, {})
        old = rows.pop(key, _MISSING)
        if old is _MISSING:
            return False
        self._undo(lambda: self._restore(table, tenant, key, old))
        return True

    def _restore(self, table: str, tenant: str, key: str, old: Any) -> None:
        rows = self.data[table].setdefault(tenant, {})
        if old is _MISSING:
            rows.pop(key, None)
        else:
            rows[key] = old

    def append_override(self, tenant: str, override: Override) -> None:
        trail = self.overrides.setdefault(tenant, [])
        self.seq += 1
        trail.append((self.seq, override))
        seq_before = self.seq - 1

        def undo() -> None:
            trail.pop()
            self.seq = seq_before

        self._undo(undo)

    def purge(self, tenant: str) -> dict[str, int]:
        """Delete every row of `tenant`, undoably; the count per table."""
        with self.transaction():
            counts: dict[str, int] = {}
            decisions = self.data["decisions"].get(tenant, {})
            counts["decision_accounts"] = sum(
                len(set(d.account_ids)) for d in decisions.values()
            )
            for table, tenants in self.data.items():
                rows = tenants.get(tenant, {})
                counts[table] = len(rows)
                for key in list(rows):
                    self.delete(table, tenant, key)
            trail = self.overrides.pop(tenant, [])
            counts["overrides"] = len(trail)
            if trail:
                self._undo(lambda: self.overrides.__setitem__(tenant, trail))
            return dict(sorted(counts.items()))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            self.journals.append([])
            try:
                yield
            except BaseException:
                for action in reversed(self.journals.pop()):
                    action()
                raise
            done = self.journals.pop()
            if self.journals:
                self.journals[-1].extend(done)


class _Repository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables


class MemoryAccounts(_Repository):
    def put(self, tenant: str, account: Account) -> None:
        tenant = codec.check_tenant(tenant)
        codec.one(lambda: codec.account_row(tenant, account), account)
        with self._t.transaction():
            self._t.set("accounts", tenant, account.id, account)

    def put_many(
        self, tenant: str, accounts: Iterable[Account], *, progress: Progress | None = None
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        tick = codec.ticker(progress, accounts)
        pairs, rejections = codec.encode_batch(
            accounts, lambda a: (codec.account_row(tenant, a), a), lambda p: p[0][1], "accounts",
            progress=tick,
        )
        with self._t.transaction():
            for _row, account in pairs:
                self._t.set("accounts", tenant, account.id, account)
        return codec.finish(codec.write_result(len(pairs), rejections), tick)

    def get(self, tenant: str, account_id: str) -> Account | None:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(account_id, "account_id")
        with self._t.lock:
            result: Account | None = self._t.rows("accounts", tenant).get(key or "")
            return result

    def list(self, tenant: str) -> builtins.list[Account]:
        tenant = codec.check_tenant(tenant)
        with self._t.lock:
            rows = self._t.rows("accounts", tenant)
            return [rows[k] for k in sorted(rows)]

    def count(self, tenant: str) -> int:
        tenant = codec.check_tenant(tenant)
        with self._t.lock:
            return len(self._t.rows("accounts", tenant))

    def delete(self, tenant: str, account_id: str) -> bool:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(account_id, "account_id")
        if key is None:
            return False
        with self._t.transaction():
            return self._t.delete("accounts", tenant, key)


class MemoryContacts(_Repository):
    def put(self, tenant: str, contact: Contact) -> None:
        tenant = codec.check_tenant(tenant)
        codec.one(lambda: codec.contact_row(tenant, contact), contact)
        with self._t.transaction():
            self._t.set("contacts", tenant, contact.id, contact)

    def put_many(
        self, tenant: str, contacts: Iterable[Contact], *, progress: Progress | None = None
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        tick = codec.ticker(progress, contacts)
        pairs, rejections = codec.encode_batch(
            contacts, lambda c: (codec.contact_row(tenant, c), c), lambda p: p[0][1], "contacts",
            progress=tick,
        )
        with self._t.transaction():
            for _row, contact in pairs:
                self._t.set("contacts", tenant, contact.id, contact)
        return codec.finish(codec.write_result(len(pairs), rejections), tick)

    def get(self, tenant: str, contact_id: str) -> Contact | None:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(contact_id, "contact_id")
        with self._t.lock:
            result: Contact | None = self._t.rows("contacts", tenant).get(key or "")
            return result

    def _selected(self, tenant: str, account_id: str | None) -> builtins.list[Contact]:
        tenant = codec.check_tenant(tenant)
        with self._t.lock:
            rows = self._t.rows("contacts", tenant)
            if account_id is None:
                return [rows[k] for k in sorted(rows)]
            return [rows[k] for k in sorted(rows) if rows[k].account_id == account_id]

    def list(self, tenant: str, *, account_id: str | None = None) -> builtins.list[Contact]:
        return self._selected(tenant, account_id)

    def count(self, tenant: str, *, account_id: str | None = None) -> int:
        if account_id is None:
            tenant = codec.check_tenant(tenant)
            with self._t.lock:
                return len(self._t.rows("contacts", tenant))
        return len(self._selected(tenant, account_id))

    def find_by_email(self, tenant: str, email: str | EmailAddress) -> builtins.list[Contact]:
        tenant = codec.check_tenant(tenant)
        wanted = _email_key(email)
        if wanted is None:
            return []
        with self._t.lock:
            rows = self._t.rows("contacts", tenant)
            return [
                rows[k]
                for k in sorted(rows)
                if rows[k].email_address is not None and str(rows[k].email_address) == wanted
            ]

    def delete(self, tenant: str, contact_id: str) -> bool:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(contact_id, "contact_id")
        if key is None:
            return False
        with self._t.transaction():
            return self._t.delete("contacts", tenant, key)


def _window(
    decisions: Iterable[RoutingDecision],
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> builtins.list[RoutingDecision]:
    if since is None and until is None:
        return list(decisions)
    low = None if since is None else codec.instant(codec.aware(since, "since"))
    high = None if until is None else codec.instant(codec.aware(until, "until"))
    out = []
    for d in decisions:
        if d.occurred_at is None:
            continue
        at = codec.instant(d.occurred_at)
        if (low is None or at >= low) and (high is None or at < high):
            out.append(d)
    return out


def check_window(since: object, until: object, limit: object) -> None:
    """Reject a timeline window that is not one (shared by every back end)."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and (
            not isinstance(value, dt.datetime) or value.utcoffset() is None
        ):
            raise InvalidRecord(value, f"{name} must be a timezone-aware datetime")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidRecord(limit, "limit must be a non-negative integer")


class MemoryDecisions(_Repository):
    def _put(
        self, tenant: str, pairs: builtins.list[tuple[Any, RoutingDecision]], replace: bool
    ) -> tuple[int, builtins.list[Rejection]]:
        """Write what the rule for repeated comm ids keeps (see `_decision_rule`)."""
        def key(pair: tuple[Any, RoutingDecision]) -> tuple[str, RouteStatus]:
            return pair[1].comm_id, pair[1].status

        with self._t.transaction():
            rows = self._t.rows("decisions", tenant)
            check = to_check([key(p) for p in pairs], replace)
            stored = {c: rows[c].status for c in check if c in rows}
            chosen, refused = choose_decisions(pairs, key, stored, replace=replace)
            for _rows, decision in chosen:
                self._t.set("decisions", tenant, decision.comm_id, decision)
        return len(chosen), refused

    def put(self, tenant: str, decision: RoutingDecision, *, replace: bool = True) -> None:
        tenant = codec.check_tenant(tenant)
        encoded = codec.one(lambda: codec.decision_rows(tenant, decision), decision)
        _written, refused = self._put(tenant, [(encoded, decision)], replace)
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
        pairs, rejections = codec.encode_batch(
            decisions, lambda d: (codec.decision_rows(tenant, d), d), None, "decisions",
            progress=tick,
        )
        written, refused = self._put(tenant, pairs, replace)
        return codec.finish(codec.write_result(written, [*rejections, *refused]), tick)

    def get(self, tenant: str, comm_id: str) -> RoutingDecision | None:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(comm_id, "comm_id")
        with self._t.lock:
            result: RoutingDecision | None = self._t.rows("decisions", tenant).get(key or "")
            return result

    def list(
        self, tenant: str, *, status: RouteStatus | None = None
    ) -> builtins.list[RoutingDecision]:
        tenant = codec.check_tenant(tenant)
        wanted = None if status is None else RouteStatus(status)
        with self._t.lock:
            rows = self._t.rows("decisions", tenant)
            return [
                rows[k] for k in sorted(rows) if wanted is None or rows[k].status == wanted
            ]

    def count(self, tenant: str, *, status: RouteStatus | None = None) -> int:
        return len(self.list(tenant, status=status))

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
        with self._t.lock:
            rows = self._t.rows("decisions", tenant).values()
            selected = [d for d in rows if account_id in d.account_ids]
        selected = _window(selected, since, until)
        selected.sort(key=codec.decision_sort_key)
        return selected if limit is None else selected[:limit]

    def delete(self, tenant: str, comm_id: str) -> bool:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(comm_id, "comm_id")
        if key is None:
            return False
        with self._t.transaction():
            return self._t.delete("decisions", tenant, key)


class MemoryOverrides(_Repository):
    def add(self, tenant: str, override: Override) -> None:
        tenant = codec.check_tenant(tenant)
        codec.one(lambda: codec.override_row(tenant, override), override)
        with self._t.transaction():
            self._t.append_override(tenant, override)

    def add_many(
        self, tenant: str, overrides: Iterable[Override], *, progress: Progress | None = None
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        tick = codec.ticker(progress, overrides)
        pairs, rejections = codec.encode_batch(
            overrides, lambda o: (codec.override_row(tenant, o), o), None, "overrides",
            progress=tick,
        )
        with self._t.transaction():
            for _row, override in pairs:
                self._t.append_override(tenant, override)
        return codec.finish(codec.write_result(len(pairs), rejections), tick)

    def _trail(self, tenant: str) -> builtins.list[tuple[int, Override]]:
        tenant = codec.check_tenant(tenant)
        with self._t.lock:
            return list(self._t.overrides.get(tenant, ()))

    def active(self, tenant: str) -> builtins.list[Override]:
        return active_overrides(self._trail(tenant))

    def history(
        self, tenant: str, *, comm_id: str | None = None, thread_id: str | None = None
    ) -> builtins.list[OverrideRecord]:
        trail = self._trail(tenant)
        if comm_id is not None or thread_id is not None:
            trail = [
                (seq, o)
                for seq, o in trail
                if (comm_id is not None and o.comm_id == comm_id)
                or (thread_id is not None and o.thread_id == thread_id)
            ]
        return override_history(trail)

    def count(self, tenant: str) -> int:
        return len(self._trail(tenant))


class MemorySyncIssues(_Repository):
    def _encode(
        self, tenant: str, issues: Iterable[SyncIssue], tick: ProgressTicker | None
    ) -> tuple[builtins.list[SyncIssue], WriteResult]:
        pairs, rejections = codec.encode_batch(
            issues, lambda i: (codec.sync_issue_row(tenant, i), i), lambda p: p[0][1],
            "sync_issues", progress=tick,
        )
        return [issue for _row, issue in pairs], codec.write_result(len(pairs), rejections)

    def put_many(
        self, tenant: str, issues: Iterable[SyncIssue], *, progress: Progress | None = None
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        tick = codec.ticker(progress, issues)
        values, result = self._encode(tenant, issues, tick)
        with self._t.transaction():
            for issue in values:
                self._t.set("sync_issues", tenant, issue.domain, issue)
        return codec.finish(result, tick)

    def replace_all(
        self, tenant: str, issues: Iterable[SyncIssue], *, progress: Progress | None = None
    ) -> WriteResult:
        tenant = codec.check_tenant(tenant)
        tick = codec.ticker(progress, issues)
        values, result = self._encode(tenant, issues, tick)
        with self._t.transaction():
            for domain in list(self._t.rows("sync_issues", tenant)):
                self._t.delete("sync_issues", tenant, domain)
            for issue in values:
                self._t.set("sync_issues", tenant, issue.domain, issue)
        return codec.finish(result, tick)

    def get(self, tenant: str, domain: str) -> SyncIssue | None:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(domain, "domain")
        with self._t.lock:
            result: SyncIssue | None = self._t.rows("sync_issues", tenant).get(key or "")
            return result

    def list(self, tenant: str, *, account_id: str | None = None) -> builtins.list[SyncIssue]:
        tenant = codec.check_tenant(tenant)
        with self._t.lock:
            rows = self._t.rows("sync_issues", tenant)
            return [
                rows[k]
                for k in sorted(rows)
                if account_id is None or account_id in rows[k].account_ids
            ]

    def count(self, tenant: str) -> int:
        tenant = codec.check_tenant(tenant)
        with self._t.lock:
            return len(self._t.rows("sync_issues", tenant))

    def delete(self, tenant: str, domain: str) -> bool:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(domain, "domain")
        if key is None:
            return False
        with self._t.transaction():
            return self._t.delete("sync_issues", tenant, key)


class MemoryRunLog(_Repository):
    def record(self, tenant: str, run: RunRecord) -> None:
        tenant = codec.check_tenant(tenant)
        codec.one(lambda: codec.run_row(tenant, run), run)
        with self._t.transaction():
            self._t.set("runs", tenant, run.run_id, run)

    def get(self, tenant: str, run_id: str) -> RunRecord | None:
        tenant = codec.check_tenant(tenant)
        key = codec.lookup_key(run_id, "run_id")
        with self._t.lock:
            result: RunRecord | None = self._t.rows("runs", tenant).get(key or "")
            return result

    def list(self, tenant: str) -> builtins.list[RunRecord]:
        tenant = codec.check_tenant(tenant)
        with self._t.lock:
            runs = list(self._t.rows("runs", tenant).values())
        return sorted(runs, key=lambda r: (codec.instant(r.at), r.run_id))

    def count(self, tenant: str) -> int:
        tenant = codec.check_tenant(tenant)
        with self._t.lock:
            return len(self._t.rows("runs", tenant))


class MemoryStore:
    """A store that keeps everything in this process's memory (`open_store("memory://")`).

    Safe to share between threads (one lock serialises writers); batches are atomic;
    nothing survives the process.
    """

    def __init__(self) -> None:
        self._tables = _Tables()
        self.accounts = MemoryAccounts(self._tables)
        self.contacts = MemoryContacts(self._tables)
        self.decisions = MemoryDecisions(self._tables)
        self.overrides = MemoryOverrides(self._tables)
        self.sync_issues = MemorySyncIssues(self._tables)
        self.runs = MemoryRunLog(self._tables)
        from stakeholder.storage._sponsors_memory import MemorySponsors  # noqa: PLC0415 - cycle

        self.sponsors = MemorySponsors(self._tables)
        from stakeholder.storage import _alerts_memory as alerts  # noqa: PLC0415 - cycle

        self.ctas = alerts.MemoryCtas(self._tables)
        self.escalations = alerts.MemoryEscalations(self._tables)
        self.outbox = alerts.MemoryOutbox(self._tables)
        self.inbox = alerts.MemoryInbox(self._tables)
        self.url = "memory://"

    @property
    def schema_version(self) -> int:
        return LATEST_VERSION

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self._tables.transaction():
            yield

    def purge_tenant(self, tenant: str) -> dict[str, int]:
        """Delete everything of `tenant` in one transaction; how many rows each table
        lost (the same table names and counts as the SQL back ends)."""
        tenant = codec.check_tenant(tenant)
        return self._tables.purge(tenant)

    def close(self) -> None:
        """Nothing to release; present for the `Store` protocol."""

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "MemoryStore()"
