"""`stakeholder domains`: which account owns each email domain, sync issues and modes.

Reads accounts and contacts (CSV, JSONL or JSON; columns in docs/ingest.md), resolves
domain ownership (docs/ownership.md) and prints four tables: claimed domains, sync
issues, sync modes per account, and the input set aside (rejected rows, skipped
contacts). `--json` prints the same as one JSON document; `--explain DOMAIN` and
`--explain-account ID` print the plain-language explanation of one domain or account.

Exit codes: 0 when ownership was resolved (sync issues are findings, not failures);
2 for unusable input files, bad options or an unusable `--explain` argument.
"""

from __future__ import annotations

import argparse
from typing import Any

import attrs

from stakeholder._errors import InputFileError, StakeholderError
from stakeholder._model import Rejection
from stakeholder._ownership import DomainOwnership, OwnershipPolicy, resolve_domain_ownership
from stakeholder.cli._options import add_ownership_options, ownership_policy
from stakeholder.cli._table import fail, format_table, print_json
from stakeholder.ingest import read_accounts, read_contacts

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "domains",
        help="which account owns each email domain; sync issues and sync modes",
        description="Resolve which account owns each email domain (declared, dominant "
        "and secondary claims), list sync issues (domains several accounts claim without "
        "permission) and each account's sync mode. Input: CSV, JSONL or JSON files.",
    )
    parser.add_argument("--accounts", required=True, metavar="FILE", help="accounts file")
    parser.add_argument("--contacts", required=True, metavar="FILE", help="contacts file")
    add_ownership_options(parser)
    add_host_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.add_argument("--explain", metavar="DOMAIN", help="explain one domain")
    parser.add_argument("--explain-account", metavar="ID", help="explain one account")
    parser.set_defaults(func=run)


def add_host_options(parser: argparse.ArgumentParser) -> None:
    """`--contact-sync`, `--domain-sync`, `--exclude-host`, `--fold-to-registrable`
    (issue 10), shared by
    `domains` and `route`."""
    parser.add_argument(
        "--contact-sync",
        action="append",
        default=[],
        metavar="ACCOUNT",
        help="switch an account to contact sync by hand: only its known contacts route "
        "to it (repeatable)",
    )
    parser.add_argument(
        "--domain-sync",
        action="append",
        default=[],
        metavar="ACCOUNT",
        help="put an account in domain sync by hand for the hosts it shares with others "
        "(repeatable)",
    )
    parser.add_argument(
        "--exclude-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a host (and its subdomains) that is never evidence by domain: a forwarder, "
        "a list relay (repeatable; alum.* and alumni.* are excluded by default)",
    )
    parser.add_argument(
        "--fold-to-registrable",
        action="store_true",
        help="fold declared, shared and internal hosts to their registrable domain "
        "(the behaviour before host-level ownership)",
    )


def host_policy(args: argparse.Namespace) -> OwnershipPolicy:
    """The ownership policy of the shared options plus `add_host_options`'; raises
    `ValueError` / `StakeholderError` for a bad value."""
    return attrs.evolve(
        ownership_policy(args),
        contact_sync_accounts=frozenset(args.contact_sync),
        domain_sync_accounts=frozenset(args.domain_sync),
        excluded_hosts=frozenset(args.exclude_host),
        fold_to_registrable=args.fold_to_registrable,
    )


def run(args: argparse.Namespace) -> int:
    try:
        policy = host_policy(args)
    except (StakeholderError, ValueError) as exc:
        return fail(f"bad option: {exc}")
    try:
        accounts = read_accounts(args.accounts)
        contacts = read_contacts(args.contacts)
    except InputFileError as exc:
        return fail(str(exc))
    ownership = resolve_domain_ownership(accounts.items, contacts.items, policy)
    input_rejections = [("accounts", r) for r in accounts.rejections] + [
        ("contacts", r) for r in contacts.rejections
    ]
    if args.explain is not None or args.explain_account is not None:
        return _explain(ownership, args)
    if args.json:
        data = ownership.to_dict()
        data["input_rejections"] = [
            {"file": source, **r.to_dict()} for source, r in input_rejections
        ]
        print_json(data)
        return 0
    _print_tables(ownership, input_rejections)
    return 0


def _explain(ownership: DomainOwnership, args: argparse.Namespace) -> int:
    texts: dict[str, Any] = {}
    try:
        if args.explain is not None:
            entry = ownership.entry(args.explain)
            texts["domain"] = {
                "query": args.explain,
                "explanation": ownership.explain(args.explain),
                "entry": None if entry is None else entry.to_dict(),
            }
        if args.explain_account is not None:
            texts["account"] = {
                "account_id": args.explain_account,
                "explanation": ownership.explain_account(args.explain_account),
            }
    except StakeholderError as exc:
        return fail(str(exc))
    if args.json:
        print_json(texts)
    else:
        print("\n\n".join(t["explanation"] for t in texts.values()))
    return 0


def _print_tables(
    ownership: DomainOwnership, input_rejections: list[tuple[str, Rejection]]
) -> None:
    s = ownership.summary()
    print(
        f"Domains: {s['domains']} claimed ({s['unique']} unique, {s['shared']} shared, "
        f"{s['conflict']} conflict)"
    )
    print(
        format_table(
            ("domain", "status", "claimants", "owner", "hierarchy owner", "rule"),
            (
                (
                    d.domain,
                    d.status.value,
                    " ".join(f"{c.account_id}:{c.kind.value}:{c.contacts}" for c in d.claims),
                    d.owner,
                    d.hierarchy_owner,
                    d.rule,
                )
                for d in ownership.domains.values()
            ),
        )
    )
    print(f"\nSync issues: {len(ownership.issues)}")
    if ownership.issues:
        print(
            format_table(
                ("domain", "kind", "accounts", "reason", "suggested fix"),
                (
                    (i.domain, i.kind.value, _some(i.account_ids), i.reason, i.suggestion)
                    for i in ownership.issues
                ),
            )
        )
    print(
        f"\nSync modes: {s['domain_sync_accounts']} of {s['accounts']} accounts in domain sync"
    )
    print(
        format_table(
            ("account", "name", "mode", "unique domains", "claims", "contacts", "counted"),
            (
                (
                    a.account_id,
                    a.name,
                    a.mode.value,
                    " ".join(a.unique_domains),
                    len(a.claims),
                    a.contacts,
                    a.counted,
                )
                for a in ownership.accounts.values()
            ),
        )
    )
    if ownership.skipped:
        print(f"\nSkipped contacts: {sum(ownership.skipped.values())}")
        print(format_table(("reason", "contacts"), ownership.skipped.items()))
    rows = [(source, r.where, r.record_id, r.reason, r.raw) for source, r in input_rejections]
    rows.extend(("ownership", r.where, r.record_id, r.reason, r.raw) for r in ownership.rejections)
    print(f"\nRejected input: {len(rows)}")
    if rows:
        print(format_table(("stage", "where", "record", "reason", "raw"), rows))


def _some(ids: tuple[str, ...]) -> str:
    """At most ten account ids, and how many more (a junk domain may have thousands)."""
    return " ".join(ids[:10]) + (f" (+{len(ids) - 10} more)" if len(ids) > 10 else "")
