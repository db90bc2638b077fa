"""`stakeholder sponsors`: track key contacts (sponsors, champions) over a store and a
folder of profile snapshots (JSONL, one file per observation date).

Sub-commands: track, bulk-track, match, updates, accept, accept-all, stop, sla, gaps,
and demo (the whole flow on the bundled sample). Exit codes: 0 done, 1 the action was
refused (an illegal status transition), 2 unusable input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.resources
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stakeholder._errors import StakeholderError
from stakeholder._model import Account, Contact
from stakeholder._ownership import resolve_domain_ownership
from stakeholder.cli._options import parse_now
from stakeholder.cli._table import fail, format_table, print_json
from stakeholder.ingest import read_accounts, read_contacts
from stakeholder.sponsors import (
    AccountDirectory,
    IllegalTransition,
    ObservationRound,
    SlaPolicy,
    SnapshotSource,
    UpdateState,
    accept,
    changes_report,
    coverage_gaps,
    find_matches,
    force_match,
    run_observation_round,
    sla_breaches,
    stop_tracking,
    track_people,
    track_suggestions,
)
from stakeholder.storage import open_store

__all__ = ["register"]

_Store = Any  # a store from `open_store` (every shipped store has `.sponsors`)


def _common(parser: argparse.ArgumentParser, *, store_required: bool = True) -> None:
    parser.add_argument("--store", required=store_required, metavar="URL",
                        help="store URL (sqlite:///file.db, postgresql://...)")
    parser.add_argument("--tenant", default="default", metavar="T", help="tenant (default)")
    parser.add_argument("--now", metavar="ISO",
                        help="the time of the action (default: the clock; UTC if no offset)")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="output: a readable table (default) or JSON")


def _inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--accounts", metavar="FILE",
                        help="accounts file (CSV, JSONL, JSON); default: the store's")
    parser.add_argument("--contacts", metavar="FILE",
                        help="contacts file (CSV, JSONL, JSON); default: the store's")


def _profiles(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument("--profiles", required=required, metavar="DIR",
                        help="folder of profile snapshots (*.jsonl)")
    parser.add_argument("--as-of", metavar="DATE",
                        help="snapshot date to use (default: the latest)")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sponsors", help="track sponsors' job changes: match, updates, SLAs, gaps",
        description="Track key contacts on a profile source (a folder of JSONL snapshots), "
        "match them with evidence, review their changes, and report SLAs and gaps.",
    )
    sub = parser.add_subparsers(dest="sponsors_command", metavar="ACTION", required=True)

    p = sub.add_parser("track", help="start tracking one person")
    _common(p)
    _inputs(p)
    p.add_argument("--person", required=True, metavar="ID", help="contact id")
    p.set_defaults(func=_guard(_cmd_track))

    p = sub.add_parser("bulk-track", help="start tracking many people (skips with reasons)")
    _common(p)
    _inputs(p)
    p.add_argument("--account", action="append", default=[], metavar="ID",
                   help="only contacts of this account (repeatable; default: all)")
    p.add_argument("--person", action="append", default=[], metavar="ID",
                   help="only this contact (repeatable)")
    p.set_defaults(func=_guard(_cmd_bulk_track))

    p = sub.add_parser("match", help="search and match In-Progress/Pending people")
    _common(p)
    _inputs(p)
    _profiles(p, required=False)
    p.add_argument("--person", metavar="ID", help="with --url: the person to force-match")
    p.add_argument("--url", metavar="URL", help="a pasted profile url: force this match")
    p.add_argument("--track-all", action="store_true",
                   help="then track the best suggestion of every Match Found person")
    p.set_defaults(func=_guard(_cmd_match))

    p = sub.add_parser("updates", help="observe tracked profiles (with --profiles); list updates")
    _common(p)
    _inputs(p)
    _profiles(p, required=False)
    p.add_argument("--account", metavar="ID", help="only this account's updates")
    p.add_argument("--state", choices=[*(s.value for s in UpdateState), "any"],
                   default="pending", help="updates in this state (default pending)")
    p.add_argument("--since", metavar="ISO", help="changes observed at or after this time")
    p.add_argument("--until", metavar="ISO", help="changes observed before this time")
    p.set_defaults(func=_guard(_cmd_updates))

    p = sub.add_parser("accept", help="accept updates by id")
    _common(p)
    p.add_argument("--update", action="append", required=True, metavar="ID")
    p.add_argument("--by", required=True, help="who accepts")
    p.set_defaults(func=_guard(_cmd_accept))

    p = sub.add_parser("accept-all", help="accept every pending update (of an account)")
    _common(p)
    p.add_argument("--account", metavar="ID", help="only this account (default: all)")
    p.add_argument("--by", required=True, help="who accepts")
    p.set_defaults(func=_guard(_cmd_accept))

    p = sub.add_parser("stop", help="stop tracking one person")
    _common(p)
    p.add_argument("--person", required=True, metavar="ID")
    p.set_defaults(func=_guard(_cmd_stop))

    p = sub.add_parser("sla", help="records breaching the SLAs at --now")
    _common(p)
    p.set_defaults(func=_guard(_cmd_sla))

    p = sub.add_parser("gaps", help="key accounts without a Tracked sponsor")
    _common(p)
    _inputs(p)
    p.add_argument("--key-account", action="append", default=[], metavar="ID",
                   help="a key account (repeatable; default: every account)")
    p.add_argument("--key-accounts", metavar="FILE", help="a file of key account ids")
    p.set_defaults(func=_guard(_cmd_gaps))

    p = sub.add_parser("demo", help="the whole flow on the bundled sample")
    p.add_argument("--store", default="memory://", metavar="URL",
                   help="store URL (default: memory://)")
    p.add_argument("--tenant", default="demo", metavar="T")
    p.set_defaults(func=_guard(_cmd_demo))


# ----------------------------------------------------------------- plumbing


_Command = Callable[[argparse.Namespace, _Store], int]


def _guard(command: _Command) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            store = open_store(args.store)
        except (StakeholderError, ValueError) as exc:
            return fail(f"cannot open the store: {exc}")
        try:
            _load_files(args, store)
            return command(args, store)
        except IllegalTransition as exc:
            return fail(str(exc), 1)
        except (StakeholderError, ValueError) as exc:
            return fail(str(exc))
        finally:
            store.close()

    return run


def _now(args: argparse.Namespace) -> dt.datetime:
    return parse_now(getattr(args, "now", None))


def _load_files(args: argparse.Namespace, store: _Store) -> None:
    """`--accounts` / `--contacts` files go into the store (later commands use them)."""
    with store.batch():
        if getattr(args, "accounts", None):
            store.accounts.put_many(args.tenant, read_accounts(args.accounts).items)
        if getattr(args, "contacts", None):
            store.contacts.put_many(args.tenant, read_contacts(args.contacts).items)


def _accounts(args: argparse.Namespace, store: _Store) -> list[Account]:
    return list(store.accounts.list(args.tenant))


def _contacts(args: argparse.Namespace, store: _Store) -> list[Contact]:
    return list(store.contacts.list(args.tenant))


def _source(args: argparse.Namespace) -> SnapshotSource:
    source = SnapshotSource.from_folder(args.profiles)
    if not source.dates:
        raise ValueError(f"{args.profiles} holds no profile snapshot")
    if args.as_of:
        return source.at(dt.date.fromisoformat(args.as_of))
    return source


def _show(args: argparse.Namespace, headers: Sequence[str], rows: list[Sequence[object]],
          data: object, title: str) -> None:
    if args.format == "json":
        print_json(data)
        return
    print(title)
    if rows:
        print(format_table(headers, rows))


# ----------------------------------------------------------------- commands


def _bulk_rows(result: Any) -> list[Sequence[object]]:
    rows: list[Sequence[object]] = [(r.person_id, r.status.value, "started")
                                    for r in result.changed]
    rows += [(s.person_id, "" if s.status is None else s.status.value, s.reason)
             for s in result.skipped]
    rows += [(d, "", "duplicate") for d in result.duplicates]
    return rows


def _cmd_track(args: argparse.Namespace, store: _Store) -> int:
    people = [c for c in _contacts(args, store) if c.id == args.person]
    if not people:
        return fail(f"no contact {args.person!r}")
    result = track_people(store, args.tenant, people, at=_now(args), bulk=False)
    _show(args, ("person", "status", "outcome"), _bulk_rows(result), result.to_dict(),
          f"tracking {args.person}")
    return 0


def _cmd_bulk_track(args: argparse.Namespace, store: _Store) -> int:
    people = [c for c in _contacts(args, store)
              if (not args.account or c.account_id in args.account)
              and (not args.person or c.id in args.person)]
    result = track_people(store, args.tenant, people, at=_now(args))
    _show(args, ("person", "status", "outcome"), _bulk_rows(result), result.to_dict(),
          f"started {len(result.changed)}, skipped {len(result.skipped)}, "
          f"duplicates {len(result.duplicates)}")
    return 0


def _cmd_match(args: argparse.Namespace, store: _Store) -> int:
    at = _now(args)
    if (args.url is None) != (args.person is None):
        return fail("--url and --person go together")
    if args.url is not None:
        record = force_match(store, args.tenant, args.person, args.url, at=at)
        print(f"{record.person_id}: {record.status.value} ({record.profile_url})")
        return 0
    if not args.profiles:
        return fail("match needs --profiles (or --person with --url)")
    accounts = _accounts(args, store)
    contacts = _contacts(args, store)
    ownership = resolve_domain_ownership(accounts, contacts)
    results = find_matches(store, args.tenant, _source(args), contacts=contacts,
                           accounts=accounts, at=at, ownership=ownership)
    rows: list[Sequence[object]] = [
        (r.person_id, r.status.value, "" if r.best is None else r.best.profile.url,
         "" if r.best is None else f"{r.best.score:.3f}", len(r.suggestions))
        for r in results]
    data: dict[str, Any] = {"matches": [
        {"person_id": r.person_id, "status": r.status.value, "reason": r.reason,
         "suggestions": [s.to_dict() for s in r.suggestions]} for r in results]}
    _show(args, ("person", "status", "best", "score", "suggestions"), rows, data,
          f"matched {len(results)} people")
    if args.track_all:
        tracked = track_suggestions(store, args.tenant, at=at)
        print(f"Track All: {len(tracked.changed)} now Tracking In-Progress, "
              f"{len(tracked.skipped)} skipped")
    return 0


def _update_rows(updates: Sequence[Any]) -> list[Sequence[object]]:
    return [(u.id, u.account_id, u.person_id, u.field.value, u.before or "", u.after or "",
             u.signal.value, u.opportunity_account_id or "") for u in updates]


_UPDATE_HEADERS = ("update", "account", "person", "field", "before", "after", "signal",
                   "opportunity at")


def _observe(args: argparse.Namespace, store: _Store, at: dt.datetime) -> ObservationRound:
    accounts = _accounts(args, store)
    ownership = resolve_domain_ownership(accounts, _contacts(args, store))
    directory = AccountDirectory(accounts, ownership=ownership)
    return run_observation_round(store, args.tenant, _source(args), directory=directory, at=at)


def _cmd_updates(args: argparse.Namespace, store: _Store) -> int:
    at = _now(args)
    if args.profiles:
        result = _observe(args, store, at)
        counts = ", ".join(f"{k} {v}" for k, v in result.counts().items())
        print(f"observation round at {at.isoformat()}: {counts}", file=sys.stderr)
    since = None if args.since is None else parse_now(args.since)
    until = None if args.until is None else parse_now(args.until)
    state = None if args.state == "any" else UpdateState(args.state)
    updates = store.sponsors.updates.list(args.tenant, account_id=args.account, state=state,
                                          since=since, until=until)
    _show(args, _UPDATE_HEADERS, _update_rows(updates), [u.to_dict() for u in updates],
          f"{len(updates)} {args.state} update(s)")
    return 0


def _cmd_accept(args: argparse.Namespace, store: _Store) -> int:
    ids = getattr(args, "update", None)
    result = accept(store, args.tenant, at=_now(args), by=args.by, update_ids=ids,
                    account_id=getattr(args, "account", None))
    rows: list[Sequence[object]] = [(u.id, u.person_id, u.field.value, "accepted")
                                    for u in result.updates]
    rows += [(uid, "", "", why) for uid, why in result.refused]
    data = {"accepted": [u.to_dict() for u in result.updates],
            "refused": [{"id": i, "reason": r} for i, r in result.refused]}
    _show(args, ("update", "person", "field", "outcome"), rows, data,
          f"accepted {len(result.updates)}, refused {len(result.refused)}")
    return 0


def _cmd_stop(args: argparse.Namespace, store: _Store) -> int:
    record = stop_tracking(store, args.tenant, args.person, at=_now(args))
    print(f"{record.person_id}: {record.status.value}")
    return 0


def _cmd_sla(args: argparse.Namespace, store: _Store) -> int:
    now = _now(args)
    records = store.sponsors.tracking.list(args.tenant)
    updates = store.sponsors.updates.list(args.tenant)
    breaches = sla_breaches(records, now=now, policy=SlaPolicy(), updates=updates)
    rows: list[Sequence[object]] = [
        (b.kind.value, b.person_id, b.account_id, b.status.value, b.due.isoformat(),
         str(b.overdue)) for b in breaches]
    _show(args, ("sla", "person", "account", "status", "due", "overdue"), rows,
          [b.to_dict() for b in breaches], f"{len(breaches)} SLA breach(es) at {now.isoformat()}")
    return 0


def _key_ids(args: argparse.Namespace) -> set[str] | None:
    ids = set(args.key_account)
    if args.key_accounts:
        text = Path(args.key_accounts).read_text(encoding="utf-8")
        ids.update(line.strip() for line in text.splitlines() if line.strip())
    return ids or None


def _cmd_gaps(args: argparse.Namespace, store: _Store) -> int:
    try:
        keys = _key_ids(args)
    except OSError as exc:
        return fail(f"cannot read {args.key_accounts}: {exc}")
    accounts = _accounts(args, store)
    gaps = coverage_gaps(accounts, store.sponsors.tracking.list(args.tenant),
                         key=lambda a: keys is None or a.id in keys)
    rows: list[Sequence[object]] = [(g["account_id"], g["account_name"], g["other_statuses"],
                                     g["gap"]) for g in gaps]
    _show(args, ("account", "name", "other statuses", "gap"), rows, gaps,
          f"{len(gaps)} key account(s) without a Tracked sponsor")
    return 0


# ----------------------------------------------------------------- demo

_SHOWN = 8


def _sample(*parts: str) -> Path:
    return Path(str(importlib.resources.files("stakeholder").joinpath("_sample", "sponsors",
                                                                       *parts)))


def _at(day: dt.date, hour: int = 7, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


def _print_round(result: ObservationRound) -> None:
    counts = result.counts()
    gone = sum(r.status.value == "Disabled" for r in result.records)
    print(f"  observed {counts['observed']}, profiles deleted {gone}, updates {counts['updates']}, "
          f"superseded {counts['superseded']}, records changed {counts['records_changed']}, "
          f"CTAs opened {counts['ctas_opened']}, updated {counts['ctas_updated']}")
    if result.updates:
        rows = _update_rows(result.updates[:_SHOWN])
        print("  " + format_table(_UPDATE_HEADERS[1:], [r[1:] for r in rows]).replace("\n", "\n  "))
    if result.ctas.opened:
        shown = [(c.account_id, c.category.value, c.priority.value, c.reason)
                 for c in sorted(result.ctas.opened, key=lambda c: (-c.priority.rank, c.id))]
        print("  CTAs:")
        print("  " + format_table(("account", "category", "priority", "reason"),
                                  shown[:_SHOWN]).replace("\n", "\n  "))
        if len(shown) > _SHOWN:
            print(f"  ... and {len(shown) - _SHOWN} more")


def _demo_setup(store: _Store, tenant: str) -> tuple[list[Account], list[Contact],
                                                     SnapshotSource, AccountDirectory]:
    accounts = list(read_accounts(_sample("accounts.csv")).items)
    contacts = list(read_contacts(_sample("contacts.csv")).items)
    with store.batch():
        store.accounts.put_many(tenant, accounts)
        store.contacts.put_many(tenant, contacts)
    source = SnapshotSource.from_folder(_sample("profiles"))
    ownership = resolve_domain_ownership(accounts, contacts)
    return accounts, contacts, source, AccountDirectory(accounts, ownership=ownership)


def _demo_start(store: _Store, tenant: str, accounts: list[Account],
                contacts: list[Contact], source: SnapshotSource) -> None:
    day = source.dates[0]
    print(f"== {day}: {len(contacts)} people of {len(accounts)} accounts, "
          f"{len(source.dates)} weekly profile snapshots")
    bulk = track_people(store, tenant, contacts, at=_at(day))
    print(f"bulk-track: {len(bulk.changed)} started (In-Progress)")
    try:
        stop_tracking(store, tenant, contacts[0].id, at=_at(day, 7, 1))
    except IllegalTransition as exc:
        print(f"stop while In-Progress is refused: {exc.reason}")
    ownership = resolve_domain_ownership(accounts, contacts)
    results = find_matches(store, tenant, source.at(day), contacts=contacts,
                           accounts=accounts, at=_at(day, 7, 20), ownership=ownership)
    found = [r for r in results if r.suggestions]
    print(f"match: {len(found)} Match Found, {len(results) - len(found)} No Match Found")
    example = next((r for r in found if len(r.suggestions) > 1), found[0])
    print("  " + example.explain().replace("\n", "\n  "))
    again = track_people(store, tenant, contacts[:3], at=_at(day, 7, 25))
    for skipped in again.skipped:
        print(f"bulk-track again: {skipped.person_id} skipped: {skipped.reason}")
    tracked = track_suggestions(store, tenant, at=_at(day, 7, 30))
    print(f"Track All: {len(tracked.changed)} Tracking In-Progress, "
          f"{len(tracked.skipped)} skipped")


def _cmd_demo(args: argparse.Namespace, store: _Store) -> int:
    tenant = args.tenant
    accounts, contacts, source, directory = _demo_setup(store, tenant)
    _demo_start(store, tenant, accounts, contacts, source)
    for n, day in enumerate(source.dates):
        at = _at(day, 7, 40) if n == 0 else _at(day, 8)
        print(f"\n== observation round {n + 1} at {at.isoformat()}")
        result = run_observation_round(store, tenant, source.at(day), directory=directory,
                                       at=at)
        _print_round(result)
        if n == 0:
            stopped = stop_tracking(store, tenant, contacts[-1].id, at=at)
            print(f"  stop: {stopped.person_id} is {stopped.status.value}")
        if n == 1 and result.updates:
            busiest = max(sorted({u.account_id for u in result.updates}),
                          key=lambda a: sum(u.account_id == a for u in result.updates))
            accepted = accept(store, tenant, at=at, by="csm@demo", account_id=busiest)
            print(f"  accept-all for {busiest}: {len(accepted.updates)} accepted")
            everything = accept(store, tenant, at=at, by="csm@demo")
            print(f"  accept-all across accounts: {len(everything.updates)} accepted")
    last = _at(source.dates[-1], 9)
    pending = store.sponsors.updates.count(tenant, state=UpdateState.PENDING)
    print(f"\n== {pending} updates pending; changes of the last three weeks:")
    report = changes_report(store.sponsors.updates.list(tenant),
                            since=last - dt.timedelta(days=21))
    kinds: dict[str, int] = {}
    for row in report:
        kinds[f"{row['field']}/{row['signal']}"] = kinds.get(f"{row['field']}/{row['signal']}",
                                                              0) + 1
    print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())))
    timeline = store.sponsors.history.list(tenant, account_id=accounts[0].id)
    print(f"\n== timeline of {accounts[0].name} ({len(timeline)} entries, last {_SHOWN}):")
    for entry in timeline[-_SHOWN:]:
        print("  " + entry.explain())
    keys = {line.strip() for line in _sample("key_accounts.txt").read_text().splitlines()}
    gaps = coverage_gaps(accounts, store.sponsors.tracking.list(tenant),
                         key=lambda a: a.id in keys)
    print(f"\n== coverage gaps: {len(gaps)} of {len(keys)} key accounts without a "
          "Tracked sponsor")
    print("  " + format_table(("account", "name", "other statuses"),
                              [(g["account_id"], g["account_name"], g["other_statuses"])
                               for g in gaps]).replace("\n", "\n  "))
    later = last + dt.timedelta(days=8)
    breaches = sla_breaches(store.sponsors.tracking.list(tenant), now=later,
                            updates=store.sponsors.updates.list(tenant))
    by_kind: dict[str, int] = {}
    for b in breaches:
        by_kind[b.kind.value] = by_kind.get(b.kind.value, 0) + 1
    print(f"\n== SLA breaches if nothing is observed until {later.date()}: "
          + (", ".join(f"{k}: {v}" for k, v in sorted(by_kind.items())) or "none"))
    return 0
