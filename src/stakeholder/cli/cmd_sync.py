"""`stakeholder sync`: take accounts and contacts from a CRM export into a store.

Reads a Salesforce or HubSpot export (docs/crm.md has the columns), selects accounts by
a status field, plans the sync against what the store holds for the tenant (adds,
updates, removals scheduled after the grace period, removals called off, removals due),
applies it in one transaction, recomputes domain ownership and stores its sync issues.
It prints what changed, the rows set aside and the sync issues; `--json` prints the same
as one JSON document. A second identical run reports no changes.

`--disconnect keep|delete` stops the exchange instead: the data already taken is kept
(pending removals called off) or deleted.

Exit codes: 0 when the sync ran (rejected rows and sync issues are findings, not
failures); 2 for unusable input files, bad options or a store that cannot be opened.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from stakeholder._errors import InputFileError, StakeholderError
from stakeholder.cli._options import (
    add_now_option,
    add_ownership_options,
    check_region,
    ownership_policy,
    parse_now,
)
from stakeholder.cli._table import fail, format_table, print_json
from stakeholder.crm import (
    AccountSelector,
    FieldMap,
    apply_disconnect,
    load_sync_state,
    parse_duration,
    plan_disconnect,
    read_crm_export,
    sync_crm,
)
from stakeholder.storage import open_store

__all__ = ["parse_now", "register"]


def _mapping(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ValueError(f"--map takes FIELD=COLUMN, not {pair!r}")
        out[field.strip()] = column.strip()
    return out


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="take accounts and contacts from a Salesforce or HubSpot export into a store",
        description="Sync the accounts a status field selects (and their contacts) from a "
        "CRM export into a store: add, update, schedule removals after a grace period, "
        "call them off when accounts come back, remove those due; then recompute domain "
        "ownership and store its sync issues.",
    )
    parser.add_argument("--crm", choices=("salesforce", "hubspot"), help="the export's CRM")
    parser.add_argument("--accounts", metavar="FILE", help="accounts / companies CSV export")
    parser.add_argument("--contacts", metavar="FILE", help="contacts CSV export")
    parser.add_argument(
        "--status-field", metavar="F", help="the column holding the account status"
    )
    parser.add_argument(
        "--active", nargs="+", default=[], metavar="V", help="status values meaning active"
    )
    parser.add_argument(
        "--churned", nargs="*", default=[], metavar="V", help="status values meaning churned"
    )
    parser.add_argument(
        "--case-sensitive",
        action="store_true",
        help="compare status values case-sensitively (default: ignoring case)",
    )
    parser.add_argument(
        "--grace",
        default="2d",
        metavar="DURATION",
        help="delay before an account that left the selection is removed (default 2d; "
        "e.g. 1d, 36h, P3D, 0 to remove at once)",
    )
    parser.add_argument("--db", required=True, metavar="URL", help="store URL (sqlite:///x.db)")
    parser.add_argument("--tenant", default="default", metavar="T", help="tenant (default)")
    add_now_option(parser, "the sync's time (default: the clock; UTC if no offset)")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="override one column of the CRM's field map, e.g. account_name=Legal_Name__c",
    )
    parser.add_argument(
        "--phone-region", metavar="CC", help="region for national phone numbers (e.g. US)"
    )
    parser.add_argument(
        "--keep-tag",
        action="append",
        default=[],
        metavar="TAG",
        help="a user tag of the shared-contact plan that the sync keeps (repeatable)",
    )
    add_ownership_options(parser)
    parser.add_argument(
        "--disconnect",
        choices=("keep", "delete"),
        help="disconnect instead of syncing: keep or delete the data already taken",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        now = parse_now(args.now)
        check_region("--phone-region", args.phone_region)
    except ValueError as exc:
        return fail(f"bad option: {exc}")
    if args.disconnect is not None:
        return _disconnect(args, now)
    missing = [
        flag
        for flag, value in (
            ("--crm", args.crm),
            ("--accounts", args.accounts),
            ("--status-field", args.status_field),
            ("--active", args.active),
        )
        if not value
    ]
    if missing:
        return fail(f"bad option: a sync needs {', '.join(missing)}")
    try:
        grace = parse_duration(args.grace)
        selector = AccountSelector(
            args.status_field, args.active, args.churned, case_sensitive=args.case_sensitive
        )
        field_map = FieldMap.named(args.crm).with_fields(**_mapping(args.map))
        region = check_region("--phone-region", args.phone_region)
        if region is not None:
            field_map = field_map.with_options(phone_region=region)
        policy = ownership_policy(args)
    except (StakeholderError, ValueError) as exc:
        return fail(f"bad option: {exc}")
    try:
        snapshot = read_crm_export(args.accounts, args.contacts, field_map, selector)
    except InputFileError as exc:
        return fail(str(exc))
    try:
        store = open_store(args.db)
    except StakeholderError as exc:
        return fail(f"cannot open the store: {exc}")
    try:
        result = sync_crm(
            store, args.tenant, snapshot, selector, now=now, removal_grace=grace, policy=policy,
            keep_tags=args.keep_tag,
        )
    except StakeholderError as exc:
        return fail(f"the sync failed and wrote nothing: {exc}")
    finally:
        store.close()
    if args.json:
        print_json(
            {
                "read": snapshot.to_dict(),
                "plan": result.plan.to_dict(),
                "applied": result.applied.to_dict(),
                "sync_issues": [i.to_dict() for i in result.issues],
            }
        )
        return 0
    counts = snapshot.counts()
    print(
        f"Read: {counts['active']} active, {counts['churned']} churned, "
        f"{counts['excluded_accounts']} excluded account(s); {counts['contacts']} contact(s); "
        f"{counts['rejected']} row(s) rejected, {counts['warnings']} warning(s)"
    )
    for unknown in snapshot.unknown_columns:
        print(f"  {unknown.explain()}")
    print()
    print(result.plan.explain())
    set_aside = [("rejected", r) for r in snapshot.rejections]
    set_aside += [("excluded", r) for r in snapshot.excluded]
    set_aside += [("warning", r) for r in snapshot.warnings]
    if set_aside:
        print(f"\nSet aside: {len(set_aside)}")
        print(
            format_table(
                ("kind", "where", "record", "reason"),
                ((k, r.where, r.record_id, r.reason) for k, r in set_aside),
            )
        )
    print(f"\nSync issues: {len(result.issues)}")
    if result.issues:
        print(
            format_table(
                ("domain", "accounts", "reason", "suggested fix"),
                ((i.domain, " ".join(i.account_ids), i.reason, i.suggestion)
                 for i in result.issues),
            )
        )
    return 0


def _disconnect(args: argparse.Namespace, now: dt.datetime) -> int:
    try:
        store = open_store(args.db)
    except StakeholderError as exc:
        return fail(f"cannot open the store: {exc}")
    try:
        with store.batch():
            plan = plan_disconnect(args.disconnect == "keep", load_sync_state(store, args.tenant))
            applied = apply_disconnect(store, args.tenant, plan, now=now)
    except StakeholderError as exc:
        return fail(f"the disconnect failed and wrote nothing: {exc}")
    finally:
        store.close()
    if args.json:
        print_json({"plan": plan.to_dict(), "applied": applied.to_dict()})
    else:
        print(plan.explain())
    return 0
