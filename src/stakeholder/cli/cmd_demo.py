"""`stakeholder demo`: the main job end to end on a bundled sample.

Identity -> domain ownership -> shared contacts -> routing of a sample mailbox ->
an embedded SQLite store -> an account's timeline read back from it, with a summary and
a few explanations. `make demo` runs it.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import importlib.resources
import sys
from pathlib import Path
from typing import Any, TextIO

from stakeholder._errors import StakeholderError
from stakeholder._ownership import OwnershipPolicy, resolve_domain_ownership
from stakeholder._routing import RoutingDecision, RoutingIndex, route_many
from stakeholder._shared import find_shared_contacts
from stakeholder.cli._options import add_now_option, parse_now
from stakeholder.cli._table import fail, format_table
from stakeholder.ingest import (
    read_accounts,
    read_communications,
    read_contacts,
    read_overrides,
)
from stakeholder.storage import open_store, save_decisions
from stakeholder.storage._records import RunRecord

__all__ = ["register", "run_demo"]

INTERNAL_DOMAIN = "ourco.io"
"""The sample's own company: its people are internal, its domain is never owned."""

CORPORATE_ACCOUNT = "globex"
EXPLAINED = ("m04@globex.com", "m07@northwind-partners.com", "m09@umbrella.com")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the main job end to end on a bundled sample (SQLite)",
        description="Read the bundled sample of accounts, contacts and a mailbox; "
        "resolve domain ownership, find shared contacts, route every message, store the "
        "decisions in an embedded SQLite file and print a summary, an account timeline "
        "read back from the store, and a few explanations.",
    )
    parser.add_argument(
        "--db",
        default="sqlite:///demo.db",
        help="store URL (default: sqlite:///demo.db, a file in the current directory)",
    )
    parser.add_argument("--tenant", default="demo", help="tenant to write under (default: demo)")
    parser.add_argument(
        "--account", default="acme", help="account whose timeline is shown (default: acme)"
    )
    add_now_option(parser, "the run's time (ISO 8601, default: the clock; UTC if no offset)")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    try:
        now = parse_now(args.now)
    except ValueError as exc:
        return fail(f"bad option: {exc}")
    try:  # an unusable store is bad input: one line, exit 2, before any output
        open_store(args.db).close()
    except StakeholderError as exc:
        return fail(f"--db {args.db}: {_one_line(exc)}")
    return run_demo(db_url=args.db, tenant=args.tenant, account_id=args.account, now=now)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _sample(name: str) -> Path:
    return Path(str(importlib.resources.files("stakeholder") / "_sample" / name))


def _section(out: TextIO, title: str) -> None:
    out.write(f"\n== {title} {'=' * max(3, 72 - len(title))}\n")


def run_demo(
    *,
    db_url: str = "sqlite:///demo.db",
    tenant: str = "demo",
    account_id: str = "acme",
    now: dt.datetime,
    out: TextIO | None = None,
) -> int:
    """Run the demo pipeline, printing to `out` (stdout by default); returns 0."""
    out = out or sys.stdout

    # 1. identity: read and normalise the CRM export
    _section(out, "1. Identity: read and normalise the CRM export")
    accounts = read_accounts(_sample("accounts.csv"))
    known = {a.id for a in accounts.items}
    contacts = read_contacts(_sample("contacts.csv"), known_account_ids=known)
    out.write(
        f"accounts: {len(accounts.items)} kept, {len(accounts.rejections)} rejected; "
        f"contacts: {len(contacts.items)} kept, {len(contacts.rejections)} rejected\n"
    )
    unparsable = [c for c in contacts.items if c.email is not None and c.email_address is None]
    sample_dir = str(_sample("")) + "/"
    rows: list[tuple[object, ...]] = [
        (r.where.replace(sample_dir, ""), r.record_id or "", r.reason.replace(sample_dir, ""))
        for r in (*accounts.rejections, *contacts.rejections)
    ]
    rows += [
        (f"contact {c.id}", c.id, f"email kept as raw text: {c.email_error}")
        for c in unparsable
    ]
    if rows:
        out.write("rejected or set aside:\n" + format_table(("where", "id", "reason"), rows) + "\n")
    canonical = [
        (c.id, c.email_address)
        for c in contacts.items
        if c.email_address is not None and str(c.email_address).count("+") == 0
    ][:4]
    out.write(
        "canonical addresses, e.g.: "
        + "; ".join(f"{cid} -> {addr}" for cid, addr in canonical)
        + "\n"
    )

    # 2. domain ownership and sync modes
    _section(out, "2. Domain ownership and sync modes")
    policy = OwnershipPolicy(internal_domains={INTERNAL_DOMAIN})
    ownership = resolve_domain_ownership(accounts.items, contacts.items, policy)
    seen = [
        (domain, entry.status, entry.owner or "", ", ".join(entry.claimants))
        for domain, entry in sorted(ownership.domains.items())
    ]
    out.write(
        format_table(("domain", "status", "owner", "claimants"), seen) + "\n"
    )
    for issue in ownership.issues:
        out.write(f"sync issue: {issue.domain}: {issue.reason} Suggested fix: {issue.suggestion}\n")
    mode_rows = [
        (a.id, a.name, ownership.mode(a.id)) for a in sorted(accounts.items, key=lambda a: a.id)
    ]
    out.write(format_table(("account", "name", "sync mode"), mode_rows) + "\n")

    # 3. shared contacts across the corporate account's sites
    _section(out, f"3. Shared contacts in {CORPORATE_ACCOUNT!r}'s child accounts")
    groups = find_shared_contacts(
        contacts.items, accounts=accounts.items, within=CORPORATE_ACCOUNT
    )
    for group in groups:
        out.write(group.explain() + "\n")
    if not groups:
        out.write("no shared contacts\n")

    # 4. routing of the sample mailbox
    _section(out, "4. Routing the sample mailbox")
    comms = read_communications(_sample("mailbox.mbox"))
    overrides = read_overrides(_sample("overrides.jsonl"))
    out.write(
        f"messages: {len(comms.items)} read, {len(comms.rejections)} rejected; "
        f"overrides: {len(overrides.items)}\n"
    )
    for rejection in comms.rejections:
        out.write(f"  rejected {rejection.where.replace(sample_dir, '')}: {rejection.reason}\n")
    index = RoutingIndex.build(
        accounts.items, contacts.items, ownership, shared=groups, overrides=overrides.items
    )
    decisions = list(route_many(comms.items, index))
    out.write(
        format_table(
            ("message", "status", "accounts", "rule", "confidence"),
            [
                (
                    d.comm_id,
                    d.status,
                    " + ".join(d.account_ids) or "-",
                    d.rule,
                    f"{d.confidence:.2f}",
                )
                for d in decisions
            ],
        )
        + "\n"
    )
    by_status = collections.Counter(d.status.value for d in decisions)
    out.write("by status: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) + "\n")

    # 5. storage: an embedded SQLite file, and a timeline read back from it
    _section(out, f"5. Stored in {db_url}")
    store = open_store(db_url)
    try:
        with store.batch():
            store.accounts.put_many(tenant, accounts.items)
            store.contacts.put_many(tenant, contacts.items)
            store.sync_issues.replace_all(tenant, ownership.issues)
        for override in overrides.items:
            if override not in store.overrides.active(tenant):
                store.overrides.add(tenant, override)
        run_id = f"demo-{now.strftime('%Y%m%dT%H%M%S')}"
        written = save_decisions(store, tenant, decisions, run_id=run_id, at=now)
        store.runs.record(
            tenant,
            RunRecord(
                run_id=f"{run_id}-import",
                at=now,
                operation="import",
                counts={
                    "accounts": len(accounts.items),
                    "contacts": len(contacts.items),
                    "rejected": len(accounts.rejections) + len(contacts.rejections),
                },
            ),
        )
        out.write(
            f"saved {written.written} decisions (re-running replaces them, never duplicates); "
            f"the store holds {store.decisions.count(tenant)} decisions, "
            f"{store.accounts.count(tenant)} accounts, {store.contacts.count(tenant)} contacts\n"
        )
        timeline = store.decisions.timeline(tenant, account_id)
        name = next((a.name for a in accounts.items if a.id == account_id), account_id)
        out.write(f"\ntimeline of {name} ({account_id}), read back from the store:\n")
        out.write(
            format_table(
                ("when", "message", "subject", "accounts", "rule"),
                [
                    (
                        d.occurred_at.isoformat() if d.occurred_at else "",
                        d.comm_id,
                        d.subject,
                        " + ".join(d.account_ids),
                        d.rule,
                    )
                    for d in timeline
                ],
            )
            + "\n"
        )
    finally:
        store.close()

    # 6. explanations
    _section(out, "6. Why? A few explanations")
    wanted: dict[str, RoutingDecision] = {d.comm_id: d for d in decisions}
    for comm_id in EXPLAINED:
        if comm_id in wanted:
            out.write(wanted[comm_id].explain() + "\n\n")
    out.write(ownership.explain("globex.com") + "\n")
    return 0
