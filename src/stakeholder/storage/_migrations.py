"""Schema migrations: an ordered list, applied on open, each in the open's transaction.

The table `stakeholder_schema_version` holds one row per applied migration (version,
description). Opening a store applies every migration above the highest recorded
version, in order, then records it; opening again applies nothing. A database whose
version is newer than this library knows is refused (`StorageError`) rather than
misread.

To change the schema, append a `Migration` with the next version number and the
statements for each dialect; never edit a released one.
"""

from __future__ import annotations

from typing import Final

import attrs

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration"]

VERSION_TABLE: Final = "stakeholder_schema_version"


@attrs.frozen
class Migration:
    """One schema step: `version` (1, 2, ...), what it does, and its statements for
    SQLite and for PostgreSQL."""

    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]

    def statements(self, dialect: str) -> tuple[str, ...]:
        return self.sqlite if dialect == "sqlite" else self.postgres


def _pg_table(ddl: str) -> str:
    """PostgreSQL form of a table: text compares by code point (like Python and SQLite)
    and keys are enforced by the md5 indexes below instead of PRIMARY KEY, because a
    B-tree entry is limited to a few kilobytes and ids may be 10,000 characters long."""
    lines = [
        line
        for line in ddl.splitlines()
        if not line.strip().startswith(("PRIMARY KEY", "FOREIGN KEY"))
    ]
    lines[-2] = lines[-2].rstrip(",")
    out = "\n".join(lines)
    return out.replace(" TEXT", ' TEXT COLLATE "C"').replace(" REAL", " DOUBLE PRECISION")


def _md5(columns: str) -> str:
    return ", ".join(f"md5({c.strip()})" for c in columns.split(","))


def _pg_key(table: str, columns: str) -> str:
    return f"CREATE UNIQUE INDEX {table}_key ON {table} ({_md5(columns)})"


# Migrations 1-3 keyed PostgreSQL tables on md5, which has published collisions;
# migration 4 moved every key to `stakeholder_key` (SHA-256 of the UTF-8 bytes, with
# the value itself compared on every match). New PostgreSQL tables use these two:


def _keyed(columns: str) -> str:
    """`stakeholder_key(a), stakeholder_key(b)`: index columns for PostgreSQL keys."""
    return ", ".join(f"stakeholder_key({c.strip()})" for c in columns.split(","))


def _pg_unique(table: str, columns: str) -> str:
    """The unique index that is a PostgreSQL table's key (after migration 4)."""
    return f"CREATE UNIQUE INDEX {table}_key ON {table} ({_keyed(columns)})"


_ACCOUNTS: Final = """CREATE TABLE accounts (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    parent_id TEXT,
    domains TEXT NOT NULL,
    aliases TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
)"""
_CONTACTS: Final = """CREATE TABLE contacts (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    email TEXT,
    email_valid BOOLEAN NOT NULL,
    phone TEXT,
    name TEXT,
    title TEXT,
    created_at TEXT,
    conversions BIGINT NOT NULL,
    first_conversion_at TEXT,
    deal_stage BIGINT,
    tags TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
)"""
_DECISIONS: Final = """CREATE TABLE decisions (
    tenant TEXT NOT NULL,
    comm_id TEXT NOT NULL,
    status TEXT NOT NULL,
    account_ids TEXT NOT NULL,
    candidates TEXT NOT NULL,
    evidence TEXT NOT NULL,
    rule TEXT NOT NULL,
    confidence REAL NOT NULL,
    occurred_at TEXT,
    occurred_us BIGINT,
    thread_id TEXT,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (tenant, comm_id)
)"""
_DECISION_ACCOUNTS: Final = """CREATE TABLE decision_accounts (
    tenant TEXT NOT NULL,
    account_id TEXT NOT NULL,
    comm_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    occurred_us BIGINT,
    PRIMARY KEY (tenant, account_id, comm_id),
    FOREIGN KEY (tenant, comm_id) REFERENCES decisions (tenant, comm_id) ON DELETE CASCADE
)"""
_SYNC_ISSUES: Final = """CREATE TABLE sync_issues (
    tenant TEXT NOT NULL,
    domain TEXT NOT NULL,
    account_ids TEXT NOT NULL,
    reason TEXT NOT NULL,
    suggestion TEXT NOT NULL,
    PRIMARY KEY (tenant, domain)
)"""
_OVERRIDES: Final = """CREATE TABLE overrides (
    seq {seq},
    tenant TEXT NOT NULL,
    comm_id TEXT,
    thread_id TEXT,
    account_ids TEXT NOT NULL,
    author TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    at_us BIGINT NOT NULL,
    CHECK ((comm_id IS NULL) <> (thread_id IS NULL))
)"""
_OVERRIDES_V7: Final = """CREATE TABLE overrides_v7 (
    seq {seq},
    tenant TEXT NOT NULL,
    comm_id TEXT,
    thread_id TEXT,
    account_ids TEXT NOT NULL,
    author TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    at_us BIGINT NOT NULL,
    address TEXT,
    host TEXT,
    CHECK ((comm_id IS NOT NULL) + (thread_id IS NOT NULL) + (address IS NOT NULL)
           + (host IS NOT NULL) = 1)
)"""
_RUNS: Final = """CREATE TABLE runs (
    tenant TEXT NOT NULL,
    run_id TEXT NOT NULL,
    at TEXT NOT NULL,
    at_us BIGINT NOT NULL,
    operation TEXT NOT NULL,
    counts TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (tenant, run_id)
)"""

# sponsor tracking (stakeholder.sponsors): each value as JSON text beside its key and
# filter columns
_SPONSOR_TRACKING: Final = """CREATE TABLE sponsor_tracking (
    tenant TEXT NOT NULL,
    person_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    status TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (tenant, person_id)
)"""
_SPONSOR_OBSERVATIONS: Final = """CREATE TABLE sponsor_observations (
    tenant TEXT NOT NULL,
    person_id TEXT NOT NULL,
    observed_key TEXT NOT NULL,
    observed_us BIGINT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (tenant, person_id, observed_key)
)"""
_SPONSOR_SUGGESTIONS: Final = """CREATE TABLE sponsor_suggestions (
    tenant TEXT NOT NULL,
    person_id TEXT NOT NULL,
    url TEXT NOT NULL,
    position BIGINT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (tenant, person_id, url)
)"""
_SPONSOR_UPDATES: Final = """CREATE TABLE sponsor_updates (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    state TEXT NOT NULL,
    observed_us BIGINT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
)"""
_SPONSOR_HISTORY: Final = """CREATE TABLE sponsor_history (
    seq {seq},
    tenant TEXT NOT NULL,
    person_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    at_us BIGINT NOT NULL,
    doc TEXT NOT NULL
)"""

_ALERT_CTAS: Final = """CREATE TABLE alert_ctas (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_us BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
)"""
_ALERT_ESCALATIONS: Final = """CREATE TABLE alert_escalations (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    cta_id TEXT NOT NULL,
    level BIGINT NOT NULL,
    at_us BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
)"""
_ALERT_OUTBOX: Final = """CREATE TABLE alert_outbox (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    cta_id TEXT NOT NULL,
    status TEXT NOT NULL,
    next_us BIGINT,
    created_us BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
)"""
_ALERT_INBOX: Final = """CREATE TABLE alert_inbox (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    cta_id TEXT NOT NULL,
    created_us BIGINT NOT NULL,
    read_us BIGINT,
    body TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
)"""

MIGRATIONS: Final = (
    Migration(
        1,
        "accounts, contacts, decisions with their timeline, overrides, sync issues",
        sqlite=(
            _ACCOUNTS,
            _CONTACTS,
            "CREATE INDEX contacts_by_account ON contacts (tenant, account_id, id)",
            _DECISIONS,
            _DECISION_ACCOUNTS,
            "CREATE INDEX decision_accounts_timeline"
            " ON decision_accounts (tenant, account_id, occurred_us, comm_id)",
            "CREATE INDEX decision_accounts_by_comm ON decision_accounts (tenant, comm_id)",
            _SYNC_ISSUES,
            _OVERRIDES.format(seq="INTEGER PRIMARY KEY AUTOINCREMENT"),
            "CREATE INDEX overrides_by_tenant ON overrides (tenant, at_us, seq)",
        ),
        postgres=(
            _pg_table(_ACCOUNTS),
            _pg_key("accounts", "tenant, id"),
            _pg_table(_CONTACTS),
            _pg_key("contacts", "tenant, id"),
            f"CREATE INDEX contacts_by_account ON contacts ({_md5('tenant, account_id')})",
            _pg_table(_DECISIONS),
            _pg_key("decisions", "tenant, comm_id"),
            _pg_table(_DECISION_ACCOUNTS),
            _pg_key("decision_accounts", "tenant, account_id, comm_id"),
            "CREATE INDEX decision_accounts_timeline"
            f" ON decision_accounts ({_md5('tenant, account_id')}, occurred_us)",
            "CREATE INDEX decision_accounts_by_comm"
            f" ON decision_accounts ({_md5('tenant, comm_id')})",
            _pg_table(_SYNC_ISSUES),
            _pg_key("sync_issues", "tenant, domain"),
            _pg_table(_OVERRIDES.format(seq="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")),
            f"CREATE INDEX overrides_by_tenant ON overrides ({_md5('tenant')}, at_us, seq)",
        ),
    ),
    Migration(
        2,
        "run log; contacts by email",
        sqlite=(
            _RUNS,
            "CREATE INDEX runs_by_time ON runs (tenant, at_us, run_id)",
            "CREATE INDEX contacts_by_email ON contacts (tenant, email)",
        ),
        postgres=(
            _pg_table(_RUNS),
            _pg_key("runs", "tenant, run_id"),
            f"CREATE INDEX runs_by_time ON runs ({_md5('tenant')}, at_us)",
            f"CREATE INDEX contacts_by_email ON contacts ({_md5('tenant, email')})",
        ),
    ),
    Migration(
        3,
        "a decision's timeline rows are replaced with it (trigger), not looked up first",
        sqlite=(
            """CREATE TRIGGER decisions_replace_timeline AFTER UPDATE ON decisions
BEGIN
    DELETE FROM decision_accounts WHERE tenant = OLD.tenant AND comm_id = OLD.comm_id;
END""",
        ),
        postgres=(
            """CREATE FUNCTION stakeholder_decisions_replace_timeline() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $body$
BEGIN
    DELETE FROM decision_accounts
    WHERE md5(tenant) = md5(OLD.tenant) AND tenant = OLD.tenant
      AND md5(comm_id) = md5(OLD.comm_id) AND comm_id = OLD.comm_id;
    RETURN NULL;
END
$body$""",
            "CREATE TRIGGER decisions_replace_timeline AFTER UPDATE ON decisions"
            " FOR EACH ROW EXECUTE FUNCTION stakeholder_decisions_replace_timeline()",
        ),
    ),
    Migration(
        4,
        "PostgreSQL keys on SHA-256 of the values, compared with the values (not md5);"
        " the kind of a sync issue",
        sqlite=("ALTER TABLE sync_issues ADD COLUMN kind TEXT NOT NULL DEFAULT 'conflict'",),
        postgres=(
            "ALTER TABLE sync_issues"
            " ADD COLUMN kind TEXT COLLATE \"C\" NOT NULL DEFAULT 'conflict'",
            """CREATE FUNCTION stakeholder_key(value TEXT) RETURNS BYTEA
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $body$ SELECT pg_catalog.sha256(pg_catalog.convert_to(value, 'UTF8')) $body$""",
            # every index of this schema that was built on md5, whoever's table it is
            """DO $body$
DECLARE found RECORD;
BEGIN
    FOR found IN SELECT indexname, indexdef FROM pg_catalog.pg_indexes
                 WHERE schemaname = current_schema() AND indexdef LIKE '%md5(%'
    LOOP
        EXECUTE format('DROP INDEX %I.%I', current_schema(), found.indexname);
        EXECUTE replace(found.indexdef, 'md5(', 'stakeholder_key(');
    END LOOP;
END
$body$""",
            """CREATE OR REPLACE FUNCTION stakeholder_decisions_replace_timeline()
RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $body$
BEGIN
    DELETE FROM decision_accounts
    WHERE stakeholder_key(tenant) = stakeholder_key(OLD.tenant) AND tenant = OLD.tenant
      AND stakeholder_key(comm_id) = stakeholder_key(OLD.comm_id)
      AND comm_id = OLD.comm_id;
    RETURN NULL;
END
$body$""",
        ),
    ),
    Migration(
        5,
        "sponsor tracking: tracking state, observations, suggestions, updates, history",
        sqlite=(
            _SPONSOR_TRACKING,
            "CREATE INDEX sponsor_tracking_by_account"
            " ON sponsor_tracking (tenant, account_id, person_id)",
            _SPONSOR_OBSERVATIONS,
            _SPONSOR_SUGGESTIONS,
            _SPONSOR_UPDATES,
            "CREATE INDEX sponsor_updates_by_time ON sponsor_updates (tenant, observed_us, id)",
            _SPONSOR_HISTORY.format(seq="INTEGER PRIMARY KEY AUTOINCREMENT"),
            "CREATE INDEX sponsor_history_by_time ON sponsor_history (tenant, at_us, seq)",
        ),
        postgres=(
            _pg_table(_SPONSOR_TRACKING),
            _pg_unique("sponsor_tracking", "tenant, person_id"),
            "CREATE INDEX sponsor_tracking_by_account"
            f" ON sponsor_tracking ({_keyed('tenant, account_id')})",
            _pg_table(_SPONSOR_OBSERVATIONS),
            _pg_unique("sponsor_observations", "tenant, person_id, observed_key"),
            _pg_table(_SPONSOR_SUGGESTIONS),
            _pg_unique("sponsor_suggestions", "tenant, person_id, url"),
            _pg_table(_SPONSOR_UPDATES),
            _pg_unique("sponsor_updates", "tenant, id"),
            f"CREATE INDEX sponsor_updates_by_time ON sponsor_updates ({_keyed('tenant')},"
            " observed_us)",
            _pg_table(_SPONSOR_HISTORY.format(
                seq="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")),
            f"CREATE INDEX sponsor_history_by_time ON sponsor_history ({_keyed('tenant')},"
            " at_us, seq)",
        ),
    ),
    Migration(
        6,
        "alerts: calls to action, escalations, notification outbox, in-app inbox",
        sqlite=(
            _ALERT_CTAS,
            "CREATE INDEX alert_ctas_by_time ON alert_ctas (tenant, opened_us, id)",
            "CREATE INDEX alert_ctas_by_account ON alert_ctas (tenant, account_id)",
            _ALERT_ESCALATIONS,
            "CREATE INDEX alert_escalations_by_cta ON alert_escalations (tenant, cta_id)",
            _ALERT_OUTBOX,
            "CREATE INDEX alert_outbox_by_status ON alert_outbox (tenant, status, created_us)",
            _ALERT_INBOX,
            "CREATE INDEX alert_inbox_by_user ON alert_inbox (tenant, user_id, created_us)",
        ),
        postgres=(
            _pg_table(_ALERT_CTAS),
            _pg_unique("alert_ctas", "tenant, id"),
            f"CREATE INDEX alert_ctas_by_time ON alert_ctas ({_keyed('tenant')}, opened_us)",
            f"CREATE INDEX alert_ctas_by_account ON alert_ctas ({_keyed('tenant, account_id')})",
            _pg_table(_ALERT_ESCALATIONS),
            _pg_unique("alert_escalations", "tenant, id"),
            "CREATE INDEX alert_escalations_by_cta"
            f" ON alert_escalations ({_keyed('tenant, cta_id')})",
            _pg_table(_ALERT_OUTBOX),
            _pg_unique("alert_outbox", "tenant, id"),
            f"CREATE INDEX alert_outbox_by_status ON alert_outbox ({_keyed('tenant')}, status)",
            _pg_table(_ALERT_INBOX),
            _pg_unique("alert_inbox", "tenant, id"),
            f"CREATE INDEX alert_inbox_by_user ON alert_inbox ({_keyed('tenant, user_id')})",
        ),
    ),
    Migration(
        7,
        "overrides by address and by host (sticky reroutes): one target of four",
        sqlite=(
            _OVERRIDES_V7.format(seq="INTEGER PRIMARY KEY AUTOINCREMENT"),
            "INSERT INTO overrides_v7 (seq, tenant, comm_id, thread_id, account_ids, author,"
            " reason, at, at_us) SELECT seq, tenant, comm_id, thread_id, account_ids, author,"
            " reason, at, at_us FROM overrides",
            "DROP TABLE overrides",
            "ALTER TABLE overrides_v7 RENAME TO overrides",
            "CREATE INDEX overrides_by_tenant ON overrides (tenant, at_us, seq)",
        ),
        postgres=(
            """DO $body$
DECLARE found RECORD;
BEGIN
    FOR found IN SELECT conname FROM pg_catalog.pg_constraint
                 WHERE conrelid = 'overrides'::regclass AND contype = 'c'
    LOOP
        EXECUTE format('ALTER TABLE overrides DROP CONSTRAINT %I', found.conname);
    END LOOP;
END
$body$""",
            "ALTER TABLE overrides ADD COLUMN address TEXT, ADD COLUMN host TEXT",
            "ALTER TABLE overrides ADD CONSTRAINT overrides_one_target"
            " CHECK (num_nonnulls(comm_id, thread_id, address, host) = 1)",
        ),
    ),
)

LATEST_VERSION: Final = MIGRATIONS[-1].version


def pending(current: int, target: int = LATEST_VERSION) -> tuple[Migration, ...]:
    """The migrations that take a database at `current` to `target`, in order."""
    return tuple(m for m in MIGRATIONS if current < m.version <= target)


def _check_order() -> None:
    versions = [m.version for m in MIGRATIONS]
    if versions != list(range(1, len(versions) + 1)):  # pragma: no cover - a coding error
        raise AssertionError(f"migrations must be numbered 1, 2, ... in order: {versions}")


_check_order()
