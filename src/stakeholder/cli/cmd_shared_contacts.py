"""`stakeholder shared-contacts`: find people shared by the child accounts of a corporate
account and write the plan (tag changes, corporate copies) as JSON.

Exit codes: 0 the plan was written (an empty plan included), 2 unusable input (a file
that cannot be read, a corporate account that is not in the accounts file, bad options).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from stakeholder._errors import ConfigurationError, InputFileError
from stakeholder._shared import MatchOn, SharedContactPlan, plan_shared_contact_sync
from stakeholder.cli._options import check_region
from stakeholder.cli._table import fail, format_table
from stakeholder.ingest import read_accounts, read_contacts

_SHOWN = 20


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "shared-contacts",
        help="find contacts shared by child accounts; plan tags and corporate copies",
        description=(
            "Find the people present in two or more child accounts of a corporate "
            "account (matched on email and/or phone), rank their primary account, and "
            "write the plan of tag changes and corporate copies as JSON."
        ),
    )
    parser.add_argument("--contacts", required=True, help="contacts file (CSV, JSONL, JSON)")
    parser.add_argument("--accounts", required=True, help="accounts file (CSV, JSONL, JSON)")
    parser.add_argument(
        "--corporate", required=True, metavar="ID", help="id of the corporate (parent) account"
    )
    parser.add_argument(
        "--tags", nargs="+", action="extend", default=[], metavar="TAG",
        help="user tags for every record of a shared contact",
    )
    parser.add_argument(
        "--copy-to-corporate", action="store_true",
        help="also copy each shared contact into the corporate account",
    )
    parser.add_argument(
        "--engaging-both", action="store_true",
        help="tag a copy engaging-in-<Name> for its primary account too, beside -primary",
    )
    parser.add_argument(
        "--match", choices=[m.value for m in MatchOn], default=MatchOn.EMAIL_OR_PHONE.value,
        help="match on email, phone, either (default) or both",
    )
    parser.add_argument(
        "--region", default=None, metavar="CC",
        help="region for national phone numbers (ISO 3166 alpha-2, e.g. GB)",
    )
    parser.add_argument(
        "--out", default=None, metavar="FILE", help="write the plan as JSON here ('-': stdout)"
    )
    parser.set_defaults(func=run)


def _summary(plan: SharedContactPlan, names: dict[str, str]) -> str:
    counts = plan.counts()
    lines = [
        f"{counts['shared_people']} shared contacts in the child accounts of "
        f"{names.get(plan.corporate_account_id or '', plan.corporate_account_id)} "
        f"(matched on {plan.match_on.value})",
        f"tag changes: {counts['tag_changes']} records",
        f"corporate copies: {counts['copies_create']} to create, "
        f"{counts['copies_update']} to update, {counts['copies_remove']} to remove",
        f"records without a usable email/phone: {plan.report.ignored}; "
        f"rejected values: {counts['rejections']}",
    ]
    if plan.groups:
        rows = [
            (
                g.key,
                len(g.records),
                ", ".join(names.get(a, a) for a in g.account_ids),
                names.get(g.primary_account_id, g.primary_account_id),
                g.ranking.decided_by or "",
            )
            for g in plan.groups[:_SHOWN]
        ]
        lines.append("")
        lines.append(
            format_table(("person", "records", "accounts", "primary", "decided by"), rows)
        )
        if len(plan.groups) > _SHOWN:
            lines.append(f"... and {len(plan.groups) - _SHOWN} more")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        region = check_region("--region", args.region)
    except ValueError as exc:
        return fail(f"bad option: {exc}")
    try:
        accounts = read_accounts(args.accounts)
        contacts = read_contacts(args.contacts)
    except InputFileError as exc:
        return fail(str(exc))
    try:
        plan = plan_shared_contact_sync(
            accounts.items,
            contacts.items,
            tags=args.tags,
            corporate_account_id=args.corporate,
            copy_to_corporate=args.copy_to_corporate,
            match_on=args.match,
            default_region=region,
            engaging_both=args.engaging_both,
        )
    except ConfigurationError as exc:
        return fail(str(exc))
    data = plan.to_dict()
    data["input_rejections"] = [
        r.to_dict() for r in (*accounts.rejections, *contacts.rejections)
    ]
    names = {a.id: a.name for a in accounts.items}
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    if args.out == "-":
        sys.stdout.write(text + "\n")
        print(_summary(plan, names), file=sys.stderr)
        return 0
    if args.out is not None:
        try:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            return fail(f"cannot write {args.out}: {exc}")
    print(_summary(plan, names))
    skipped = len(accounts.rejections) + len(contacts.rejections)
    if skipped:
        print(f"input rows set aside by the readers: {skipped} (listed in the JSON plan)")
    if args.out is not None:
        print(f"plan written to {args.out}")
    return 0
