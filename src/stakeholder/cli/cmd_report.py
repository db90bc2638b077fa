"""`stakeholder report`: one self-contained HTML report of a tenant's routing.

Reads decisions, accounts, contacts and sync issues from a store and writes one HTML
file with charts (Plotly, inlined) and tables: decisions by status and by rule over
time, the top ambiguous and conflicting domains with their fix, sync issues, shared
contacts by account and unrouted volume by domain. Needs the `report` extra.

Exit codes: 0 written; 2 a store that cannot be opened, a file that cannot be written,
a missing extra or bad options.
"""

from __future__ import annotations

import argparse
from typing import Any

from stakeholder._errors import MissingDependency, StakeholderError
from stakeholder.cli._options import add_now_option, parse_now
from stakeholder.cli._table import fail
from stakeholder.report import write_report
from stakeholder.storage import open_store

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report of a tenant's routing",
        description="Write one HTML file (no network needed to view it) with charts and "
        "tables of a tenant's stored routing: decisions by status and rule over time, "
        "ambiguous and conflicting domains with their fix, sync issues, shared contacts "
        "by account and unrouted volume by domain.",
    )
    parser.add_argument("--store", required=True, metavar="URL",
                        help="store URL (sqlite:///file.db, postgresql://..., memory://)")
    parser.add_argument("--tenant", default="demo", help="tenant to report on (default: demo)")
    parser.add_argument("--out", default="report.html", metavar="FILE",
                        help="HTML file to write (default: report.html)")
    parser.add_argument("--top", type=int, default=15, metavar="N",
                        help="how many domains the top lists show (default: 15)")
    add_now_option(parser, "the time the report says it was made (ISO 8601; default: "
                   "the clock; UTC if no offset)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        now = parse_now(args.now)
    except ValueError as exc:
        return fail(f"bad option: {exc}")
    if args.top < 1:
        return fail(f"bad option: --top must be at least 1, got {args.top}")
    try:
        store = open_store(args.store)
    except StakeholderError as exc:
        return fail(f"cannot open the store: {exc}")
    try:
        data = write_report(store, args.tenant, args.out, generated_at=now, top=args.top)
    except MissingDependency as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write {args.out}: {exc.strerror or exc}")
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()
    print(
        f"wrote {args.out}: {data.decisions} decisions, {len(data.findings)} domain findings, "
        f"{len(data.issues)} sync issues, tenant {args.tenant!r}"
    )
    return 0
