"""`stakeholder route`: which account(s) each email or meeting of a mailbox belongs to.

Reads accounts and contacts (CSV, JSONL or JSON; see docs/ingest.md), resolves domain
ownership, builds a `RoutingIndex` and routes every communication of `--comms` (mbox,
mbox.gz, .eml, LISTSERV logs, JSONL, a directory of those) with `route_many`, so thread
memory applies in file order. Writes one decision per message as JSON Lines to `--out`
(messages that could not be read become `REJECTED` decisions with the reader's reason),
prints `--explain COMM_ID` explanations, and ends with a summary: counts per status and
per rule, the domains behind most ambiguous decisions, and the input set aside.

Exit codes: 0 when the run completed (ambiguous or rejected messages are findings, not
failures); 2 for unusable input files or bad options.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from stakeholder._errors import InputFileError, StakeholderError
from stakeholder._identity import EmailAddress
from stakeholder._model import Communication, Rejection
from stakeholder._ownership import resolve_domain_ownership
from stakeholder._routing import (
    AmbiguityResolution,
    EvidenceKind,
    RouteStatus,
    RoutingDecision,
    RoutingIndex,
    RoutingPolicy,
    RoutingRule,
    route_many,
)
from stakeholder.cli._options import add_ownership_options
from stakeholder.cli._table import fail, format_table
from stakeholder.cli.cmd_domains import add_host_options, host_policy
from stakeholder.ingest import (
    DEFAULT_MAX_FIELD_BYTES,
    DEFAULT_MAX_RECORD_BYTES,
    FORMATS,
    Duplicate,
    ReadLimits,
    iter_communications,
    read_accounts,
    read_contacts,
    read_overrides,
)

__all__ = ["register"]

_TOP_DOMAINS = 10
_PROGRESS_EVERY_S = 0.2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "route",
        help="route each communication of a mailbox to its account(s), with evidence",
        description="Route emails and meetings to accounts: strong evidence (overrides, "
        "contacts unique to one account, domains one account owns) beats weak evidence "
        "(shared contacts, shared domains); ties are broken by thread memory, the shared "
        "contact's primary account and account names in the subject. See docs/routing.md.",
    )
    parser.add_argument("--accounts", required=True, metavar="FILE", help="accounts file")
    parser.add_argument("--contacts", required=True, metavar="FILE", help="contacts file")
    parser.add_argument(
        "--comms",
        required=True,
        metavar="FILE",
        help="communications: mbox, .eml, Maildir, .jsonl/.json, .ics, LISTSERV logs "
        "(gzip/bzip2/xz too), or a directory of them",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="read --comms in this format (default: by extension, else by content)",
    )
    parser.add_argument(
        "--max-record-bytes", type=int, default=DEFAULT_MAX_RECORD_BYTES, metavar="N",
        help="reject an input record (message header block, line) longer than N bytes "
        f"(default {DEFAULT_MAX_RECORD_BYTES})",
    )
    parser.add_argument(
        "--max-field-bytes", type=int, default=DEFAULT_MAX_FIELD_BYTES, metavar="N",
        help=f"reject an input field longer than N bytes (default {DEFAULT_MAX_FIELD_BYTES})",
    )
    parser.add_argument("--overrides", metavar="FILE", help="overrides file (CSV/JSONL/JSON)")
    parser.add_argument(
        "--out", metavar="FILE", help="write one decision per message as JSON Lines ('-': stdout)"
    )
    parser.add_argument(
        "--explain",
        action="append",
        default=[],
        metavar="COMM_ID",
        help="print the explanation of one communication (repeatable)",
    )
    add_ownership_options(parser)
    add_host_options(parser)
    parser.add_argument(
        "--bulk-limit",
        type=int,
        default=10,
        metavar="N",
        help="a message whose participants point at more accounts than N is bulk "
        "(default 10)",
    )
    parser.add_argument(
        "--no-bulk",
        action="store_true",
        help="route list and bulk mail like any other message",
    )
    parser.add_argument(
        "--ambiguous",
        choices=[a.value for a in AmbiguityResolution],
        default=AmbiguityResolution.AMBIGUOUS.value,
        help="what an unresolved tie gives (default: ambiguous, with candidates)",
    )
    parser.add_argument(
        "--shared-primary",
        action="store_true",
        help="let a shared contact's primary account break ties (finds shared contacts)",
    )
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress", dest="progress", action="store_true", default=None,
        help="show a progress line on stderr (default: only when stderr is a terminal)",
    )
    progress.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show progress"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        policy = host_policy(args)
        routing_policy = RoutingPolicy(
            ambiguous=args.ambiguous,
            detect_bulk=not args.no_bulk,
            bulk_account_limit=args.bulk_limit,
        )
    except (StakeholderError, ValueError) as exc:
        return fail(f"bad option: {exc}")
    try:
        limits = ReadLimits(args.max_record_bytes, args.max_field_bytes)
    except ValueError as exc:
        return fail(f"bad option: {exc}")
    try:
        accounts = read_accounts(args.accounts, limits=limits)
        contacts = read_contacts(args.contacts, limits=limits)
        overrides = read_overrides(args.overrides, limits=limits) if args.overrides else None
        comms = iter_communications(args.comms, format=args.format, limits=limits)
    except InputFileError as exc:
        return fail(str(exc))

    ownership = resolve_domain_ownership(accounts.items, contacts.items, policy)
    shared: Any = None
    if args.shared_primary:
        from stakeholder._shared import find_shared_contacts  # noqa: PLC0415 - on request only

        shared = find_shared_contacts(contacts.items)
    index = RoutingIndex.build(
        accounts.items,
        contacts.items,
        ownership,
        shared=shared,
        overrides=() if overrides is None else overrides.items,
        policy=routing_policy,
    )
    set_aside: list[tuple[str, Rejection]] = [("accounts", r) for r in accounts.rejections]
    set_aside += [("contacts", r) for r in contacts.rejections]
    if overrides is not None:
        set_aside += [("overrides", r) for r in overrides.rejections]
    set_aside += [("index", r) for r in index.rejections]

    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    wanted = set(args.explain)
    explained: dict[str, RoutingDecision] = {}
    summary = _Summary()
    try:
        with _output(args.out) as out:
            stream = _decisions(comms, index, summary)
            if show_progress:
                stream = _with_progress(stream, sys.stderr)
            for decision in stream:
                if out is not None:
                    out.write(json.dumps(decision.to_dict(), ensure_ascii=False) + "\n")
                if decision.comm_id in wanted:
                    explained[decision.comm_id] = decision
    except InputFileError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write {args.out!r}: {exc}")

    report = sys.stderr if args.out == "-" else sys.stdout
    for comm_id in args.explain:
        found = explained.get(comm_id)
        if found is None:
            print(f"stakeholder: no communication with id {comm_id!r}", file=sys.stderr)
        else:
            print(found.explain() + "\n", file=report)
    summary.print(report, set_aside)
    if not summary.read:
        return fail(summary.nothing_read(args.comms))
    return 0


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[TextIO | None]:
    if path is None:
        yield None
    elif path == "-":
        yield sys.stdout
    else:
        with Path(path).open("w", encoding="utf-8") as handle:
            yield handle


def _decisions(
    items: Iterable[Communication | Rejection], index: RoutingIndex, summary: _Summary
) -> Iterator[RoutingDecision]:
    """Route the readable communications (thread memory in file order); a message the
    reader rejected becomes a `REJECTED` decision carrying the reader's reason. A
    duplicate (a Message-ID seen before) gets no decision: the first one's stands; it
    is counted apart."""
    pending: list[Rejection] = []

    def communications() -> Iterator[Communication]:
        for item in items:
            if isinstance(item, Duplicate):
                summary.duplicates += 1
            elif isinstance(item, Rejection):
                summary.unreadable.setdefault(item.reason, 0)
                summary.unreadable[item.reason] += 1
                pending.append(item)
            else:
                summary.read += 1
                yield item

    for decision in route_many(communications(), index):
        while pending:
            yield summary.add(_rejected(pending.pop(0)))
        yield summary.add(decision)
    while pending:
        yield summary.add(_rejected(pending.pop(0)))


def _rejected(rejection: Rejection) -> RoutingDecision:
    return RoutingDecision(
        comm_id=rejection.record_id or rejection.where,
        status=RouteStatus.REJECTED,
        rule=RoutingRule.REJECTED.value,
        reason=f"not readable ({rejection.where}): {rejection.reason}",
    )


def _with_progress(decisions: Iterator[RoutingDecision], err: TextIO) -> Iterator[RoutingDecision]:
    start = last = time.monotonic()
    count = 0
    for decision in decisions:
        count += 1
        now = time.monotonic()
        if now - last >= _PROGRESS_EVERY_S:
            last = now
            rate = count / max(now - start, 1e-9)
            err.write(f"\rrouting: {count:,} communications ({rate:,.0f}/s)")
            err.flush()
        yield decision
    elapsed = time.monotonic() - start
    err.write(f"\rrouting: {count:,} communications in {elapsed:.1f}s\n")
    err.flush()


class _Summary:
    """Counts per status and rule, and the domains behind ambiguous decisions."""

    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self.rules: Counter[tuple[str, str]] = Counter()
        self.ambiguous_domains: Counter[str] = Counter()
        self.read = 0  # communications the reader could build
        self.duplicates = 0  # repeated Message-IDs: no decision, the first one stands
        self.unreadable: dict[str, int] = {}  # reader rejections by reason

    def nothing_read(self, source: str) -> str:
        """The one line that says why a run read no communication at all."""
        rejected = sum(self.unreadable.values())
        if not rejected and not self.duplicates:
            return f"no communication found in {source}"
        top = max(self.unreadable.items(), key=lambda kv: (kv[1], kv[0]), default=None)
        why = f"; most common reason: {top[0]} ({top[1]})" if top else ""
        return f"no communication could be read from {source}: {rejected} rejected{why}"

    def add(self, d: RoutingDecision) -> RoutingDecision:
        self.statuses[d.status.value] += 1
        self.rules[(d.status.value, d.rule)] += 1
        if d.status is RouteStatus.AMBIGUOUS:
            domains = set()
            for e in d.evidence:
                if e.kind in (EvidenceKind.SHARED_DOMAIN, EvidenceKind.SHARED_CONTACT):
                    with contextlib.suppress(StakeholderError):
                        domains.add(EmailAddress.parse(e.address or "").registrable_domain)
            self.ambiguous_domains.update(domains)
        return d

    def print(self, out: TextIO, set_aside: list[tuple[str, Rejection]]) -> None:
        total = sum(self.statuses.values())
        print(f"Routed {total} communications", file=out)
        if self.duplicates:
            print(
                f"Duplicates: {self.duplicates} (duplicate of an earlier message; "
                "the first one's decision stands)",
                file=out,
            )
        print(
            format_table(
                ("status", "communications", "share"),
                (
                    (s.value, self.statuses[s.value], _share(self.statuses[s.value], total))
                    for s in RouteStatus
                ),
            ),
            file=out,
        )
        print("\nBy rule", file=out)
        print(
            format_table(
                ("status", "rule", "communications"),
                ((s, r, n) for (s, r), n in sorted(self.rules.items(), key=_by_count)),
            ),
            file=out,
        )
        if self.ambiguous_domains:
            print("\nTop ambiguous domains", file=out)
            top = sorted(self.ambiguous_domains.items(), key=lambda kv: (-kv[1], kv[0]))
            print(
                format_table(("domain", "ambiguous communications"), top[:_TOP_DOMAINS]),
                file=out,
            )
        if set_aside:
            print(f"\nInput set aside: {len(set_aside)}", file=out)
            print(
                format_table(
                    ("file", "where", "record", "reason"),
                    ((src, r.where, r.record_id, r.reason) for src, r in set_aside),
                ),
                file=out,
            )


def _by_count(item: tuple[tuple[str, str], int]) -> tuple[int, str, str]:
    (status, rule), count = item
    return -count, status, rule


def _share(part: int, total: int) -> str:
    return f"{100 * part / total:.1f}%" if total else "-"
