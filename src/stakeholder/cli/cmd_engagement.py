"""`stakeholder engagement`: engagement metrics per account, for a CRM bulk update.

Reads the tenant's accounts and routing decisions from a store and writes, per account,
the last touch and the emails, meetings, calls and distinct external stakeholders of
each window (default 30 and 90 days before `--now`), as CSV or JSON keyed by the CRM's
field names (`--fields salesforce|hubspot`, or `--field NAME=TEMPLATE`).

Exit codes: 0 when the file was written; 2 for bad options, a store that cannot be
opened or an output file that cannot be written.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import attrs

from stakeholder._errors import StakeholderError
from stakeholder.cli._options import add_now_option, parse_now
from stakeholder.cli._table import fail
from stakeholder.crm import (
    EngagementFields,
    engagement_metrics,
    write_engagement_csv,
    write_engagement_json,
)
from stakeholder.storage import open_store

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "engagement",
        help="engagement metrics per account (last touch, emails, meetings, stakeholders)",
        description="Compute engagement metrics per account from the stored routing "
        "decisions and write them as CSV or JSON ready for a CRM bulk update.",
    )
    parser.add_argument("--db", required=True, metavar="URL", help="store URL")
    parser.add_argument("--out", required=True, metavar="FILE", help="file to write")
    parser.add_argument("--tenant", default="default", metavar="T", help="tenant (default)")
    add_now_option(parser, "the time the windows end (default: the clock; UTC if no offset)")
    parser.add_argument(
        "--format",
        choices=("csv", "json"),
        help="output format (default: from the --out extension, else csv)",
    )
    parser.add_argument(
        "--windows", nargs="+", type=int, default=[30, 90], metavar="DAYS",
        help="window lengths in days (default 30 90)",
    )
    parser.add_argument(
        "--fields",
        choices=("default", "salesforce", "hubspot"),
        default="default",
        help="output field names: generic, Salesforce custom fields or HubSpot properties",
    )
    parser.add_argument(
        "--field", action="append", default=[], metavar="NAME=TEMPLATE",
        help="rename one output field, e.g. emails=Emails_{days}__c (repeatable)",
    )
    parser.set_defaults(func=run)


def _fields(args: argparse.Namespace) -> EngagementFields:
    base = {
        "default": EngagementFields(),
        "salesforce": EngagementFields.salesforce(),
        "hubspot": EngagementFields.hubspot(),
    }[args.fields]
    changes: dict[str, str] = {}
    for pair in args.field:
        name, sep, template = pair.partition("=")
        known = [a.name for a in attrs.fields(EngagementFields)]
        if not sep or name.strip() not in known:
            raise ValueError(f"--field takes NAME=TEMPLATE with NAME one of {known}, not {pair!r}")
        changes[name.strip()] = template
    return attrs.evolve(base, **changes)


def run(args: argparse.Namespace) -> int:
    try:
        now = parse_now(args.now)
        fields = _fields(args)
    except (StakeholderError, ValueError) as exc:
        return fail(f"bad option: {exc}")
    out = Path(args.out)
    fmt = args.format or ("json" if out.suffix.lower() == ".json" else "csv")
    try:
        store = open_store(args.db)
    except StakeholderError as exc:
        return fail(f"cannot open the store: {exc}")
    try:
        account_ids = [a.id for a in store.accounts.list(args.tenant)]
        decisions = store.decisions.list(args.tenant)
    except StakeholderError as exc:
        return fail(f"cannot read the store: {exc}")
    finally:
        store.close()
    try:
        report = engagement_metrics(
            decisions, now=now, windows=args.windows, account_ids=account_ids, field_names=fields
        )
    except StakeholderError as exc:
        return fail(f"bad option: {exc}")
    try:
        if fmt == "json":
            write_engagement_json(report, out)
        else:
            write_engagement_csv(report, out)
    except OSError as exc:
        return fail(f"cannot write {str(out)!r}: {exc.strerror or exc}")
    print(report.explain())
    print(f"wrote {len(report.accounts)} record(s) to {out} ({fmt})")
    return 0
