"""`stakeholder alerts run|list|snooze|close|demo`: non-compliance alerts.

`run` evaluates the rules of a TOML file over account stages, tasks, usage and routing
decisions at `--now`, against the CTAs already in `--store`; by default a dry run that
prints the summary and every notification that would be sent; with `--send` it writes
the CTAs, escalations and outbox and sends (email over SMTP, Slack and Teams webhooks,
in-app inbox) as the rules' `[notify]` settings say. `list` prints the open CTAs of a
store; `snooze` and `close` change one CTA by hand. `demo` replays a few weeks of a
bundled sample book in memory.

Exit codes: 0 done; 2 for bad options, unreadable input or bad rules.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.resources
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stakeholder._errors import StakeholderError
from stakeholder._routing import RoutingDecision
from stakeholder.alerts import (
    AccountStage,
    AlertPlan,
    AlertRun,
    Delivery,
    EmailNotifier,
    InAppNotifier,
    Notifier,
    RuleSet,
    SlackNotifier,
    Task,
    TeamsNotifier,
    UsageRecord,
    apply_alert_plan,
    deliver_outbox,
    evaluate_rules,
    load_rules,
    read_account_stages,
    read_decisions,
    read_tasks,
    read_usage,
    run_alerts,
)
from stakeholder.cli._options import add_now_option, parse_now
from stakeholder.cli._table import fail, format_table
from stakeholder.storage import MemoryStore, RunRecord, open_store

__all__ = ["register"]



def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "alerts",
        help="non-compliance alerts: open, escalate and close calls to action",
        description="Evaluate lifecycle-stage rules and manage the calls to action (CTAs) "
        "they open, escalate and close, with email, Slack, Teams and in-app notifications.",
    )
    commands = parser.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)

    run = commands.add_parser("run", help="evaluate the rules (a dry run unless --send)")
    run.add_argument("--rules", required=True, metavar="FILE", help="rules (TOML)")
    run.add_argument("--accounts", required=True, metavar="FILE",
                     help="account stages: account_id, stage, entered_at, owner, status, ...")
    run.add_argument("--tasks", metavar="FILE", help="success-plan tasks (CSV/JSONL/JSON)")
    run.add_argument("--usage", metavar="FILE", help="usage records (CSV/JSONL/JSON)")
    run.add_argument("--decisions", metavar="FILE",
                     help="routing decisions (JSON Lines; default: the store's decisions)")
    run.add_argument("--store", default="memory://", metavar="URL",
                     help="store holding the CTAs (default memory://: nothing persists)")
    run.add_argument("--tenant", default="default", metavar="T", help="tenant (default)")
    run.add_argument("--send", action="store_true",
                     help="write the CTAs and send the notifications (default: dry run)")
    add_now_option(run, "evaluation time (ISO 8601; default: the clock; UTC if no offset)")
    run.set_defaults(func=_run)

    listing = commands.add_parser("list", help="list the CTAs of a store (open ones by default)")
    listing.add_argument("--store", required=True, metavar="URL", help="store URL")
    listing.add_argument("--tenant", default="default", metavar="T", help="tenant (default)")
    listing.add_argument("--account", metavar="ID", help="only this account's CTAs")
    listing.add_argument("--all", action="store_true", help="closed CTAs too")
    listing.set_defaults(func=_list)

    for action, helptext in (("snooze", "snooze a CTA until a time"),
                             ("close", "close a CTA by hand, with a reason")):
        sub = commands.add_parser(action, help=helptext)
        sub.add_argument("--store", required=True, metavar="URL", help="store URL")
        sub.add_argument("--tenant", default="default", metavar="T", help="tenant (default)")
        sub.add_argument("--id", required=True, metavar="CTA", help="the CTA's id")
        if action == "snooze":
            sub.add_argument("--until", required=True, metavar="ISO", help="snoozed until")
        else:
            sub.add_argument("--reason", required=True, help="why it is closed")
        add_now_option(sub, "the time of the change (default: the clock; UTC if no offset)")
        sub.set_defaults(func=_change, action=action)

    demo = commands.add_parser("demo", help="a few simulated weeks of a bundled sample book")
    demo.add_argument("--weeks", type=int, default=7, metavar="N", help="weeks (default 7)")
    demo.set_defaults(func=_demo)


def _read_inputs(
    args: argparse.Namespace,
) -> tuple[list[AccountStage], list[Task], list[UsageRecord], list[RoutingDecision] | None]:
    results: list[Any] = [read_account_stages(args.accounts)]
    results.append(read_tasks(args.tasks) if args.tasks else None)
    results.append(read_usage(args.usage) if args.usage else None)
    results.append(read_decisions(args.decisions) if args.decisions else None)
    for name, result in zip(("accounts", "tasks", "usage", "decisions"), results, strict=True):
        if result is not None and (result.rejections or result.duplicates):
            print(f"{name}: {result.explain()}")
    stages, tasks, usage, decisions = (list(r.items) if r is not None else None for r in results)
    return stages or [], tasks or [], usage or [], decisions


def notifiers_for(rules: RuleSet, store: Any, tenant: str) -> dict[str, Notifier]:
    """The notifiers the rules' `[notify]` settings configure (in-app always)."""
    settings = rules.notify
    out: dict[str, Notifier] = {"in-app": InAppNotifier(store.inbox, tenant)}
    if settings.smtp_host:
        out["email"] = EmailNotifier(settings.smtp_host, settings.smtp_port,
                                     sender=settings.email_from)
    if settings.slack_webhook:
        out["slack"] = SlackNotifier(settings.slack_webhook)
    if settings.teams_webhook:
        out["teams"] = TeamsNotifier(settings.teams_webhook)
    return out


def _print_summary(counts: Mapping[str, int], plan: AlertPlan) -> None:
    print(", ".join(f"{k} {v}" for k, v in counts.items()))
    for label, pairs in (("suppressed", plan.suppressed), ("skipped", plan.skipped)):
        if pairs:
            print(f"{label}: " + ", ".join(f"{k} {v}" for k, v in pairs))


def _print_deliveries(deliveries: Sequence[Delivery]) -> None:
    if not deliveries:
        return
    print("\nWould send:")
    rows = [(d.channel, d.recipient, d.title, d.text[:70]) for d in deliveries]
    print(format_table(("channel", "to", "title", "text"), rows))


def _run(args: argparse.Namespace) -> int:
    try:
        now = parse_now(args.now)
        rules = load_rules(args.rules)
        stages, tasks, usage, decisions = _read_inputs(args)
    except (StakeholderError, ValueError) as exc:
        return fail(str(exc))
    try:
        store = open_store(args.store)
    except StakeholderError as exc:
        return fail(f"cannot open the store: {exc}")
    try:
        if decisions is None:
            decisions = store.decisions.list(args.tenant)
        notifiers = notifiers_for(rules, store, args.tenant) if args.send else {}
        run = run_alerts(store, args.tenant, rules, stages, now=now, tasks=tasks, usage=usage,
                         decisions=decisions, notifiers=notifiers, send=args.send)
        if run.applied:
            store.runs.record(args.tenant, RunRecord(
                run_id=f"alerts-{now.isoformat()}", at=now, operation="alerts",
                counts=run.summary(), note=f"rules {args.rules}"))
    except StakeholderError as exc:
        return fail(str(exc))
    finally:
        store.close()
    mode = "applied and sent" if run.applied else "dry run: nothing written or sent"
    print(f"alerts at {now.isoformat()} ({mode})")
    _print_summary(run.summary(), run.plan)
    if not run.applied:
        _print_deliveries(run.plan.deliveries)
    elif run.delivery is not None and run.delivery.errors:
        print("\nDelivery failures (pending, retried on the next run):")
        for line in run.delivery.errors:
            print(f"  {line}")
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        store = open_store(args.store)
    except StakeholderError as exc:
        return fail(f"cannot open the store: {exc}")
    try:
        ctas = store.ctas.list(args.tenant, account_id=args.account, open_only=not args.all)
    except StakeholderError as exc:
        return fail(str(exc))
    finally:
        store.close()
    rows = [
        (c.id, c.account_id, c.status.value, c.priority.value, str(c.source), c.assignee,
         c.escalation_level, c.opened_at.date().isoformat(), c.reason[:60])
        for c in ctas
    ]
    headers = ("id", "account", "status", "priority", "source", "assignee", "level", "opened",
               "reason")
    print(format_table(headers, rows))
    print(f"{len(rows)} CTA(s)")
    return 0


def _change(args: argparse.Namespace) -> int:
    try:
        now = parse_now(args.now)
        until = parse_now(args.until) if args.action == "snooze" else None
    except ValueError as exc:
        return fail(f"bad option: {exc}")
    try:
        store = open_store(args.store)
    except StakeholderError as exc:
        return fail(f"cannot open the store: {exc}")
    try:
        cta = store.ctas.get(args.tenant, args.id)
        if cta is None or cta.is_closed:
            return fail(f"no open CTA {args.id!r} under tenant {args.tenant!r}")
        if until is not None:
            changed = cta.snoozed(until=until, at=now)
        else:
            changed = cta.closed(at=now, reason=f"closed by hand: {args.reason}")
        store.ctas.put(args.tenant, changed)
    except StakeholderError as exc:
        return fail(str(exc))
    finally:
        store.close()
    print(f"{changed.id}: {changed.status.value}"
          + (f" until {until.isoformat()}" if until is not None else f" ({changed.close_reason})"))
    return 0


def _sample(name: str) -> Path:
    return Path(str(importlib.resources.files("stakeholder") / "_sample" / "alerts" / name))


DEMO_START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def run_demo(weeks: int = 7) -> list[AlertRun]:
    """Replay `weeks` weekly runs of the sample book into a memory store (in-app
    notifications delivered; email, Slack and Teams left pending: no server in a demo)."""
    rules = load_rules(_sample("rules.toml"))
    stages = list(read_account_stages(_sample("accounts.csv")).items)
    tasks = list(read_tasks(_sample("tasks.csv")).items)
    usage = list(read_usage(_sample("usage.csv")).items)
    decisions = list(read_decisions(_sample("decisions.jsonl")).items)
    store = MemoryStore()
    runs = []
    for week in range(weeks):
        now = DEMO_START + dt.timedelta(weeks=week)
        plan = evaluate_rules(stages, rules, now=now, tasks=tasks, usage=usage,
                              decisions=decisions, existing=store.ctas.list("demo"))
        enqueued = apply_alert_plan(store, "demo", plan)
        report = deliver_outbox(store.outbox, "demo",
                                {"in-app": InAppNotifier(store.inbox, "demo")}, now=now)
        runs.append(AlertRun(plan, applied=True, enqueued=enqueued, delivery=report))
    return runs


def _demo(args: argparse.Namespace) -> int:
    if args.weeks < 1:
        return fail("--weeks must be at least 1")
    runs = run_demo(args.weeks)
    for run in runs:
        plan = run.plan
        print(f"\nWeek of {plan.now.date().isoformat()}: " + ", ".join(
            f"{k} {v}" for k, v in plan.summary().items()))
        for cta in plan.ctas.opened:
            print(f"  + opened    {cta.account_id:<16} {cta.priority.value:<7} {cta.reason}")
        accounts = {c.id: c.account_id for c in plan.ctas.changed}
        for e in plan.ctas.escalations:
            who = accounts.get(e.cta_id, e.cta_id)
            print(f"  ^ escalated {who:<16} level {e.level} to {e.assignee} ({e.reason})")
        for cta in plan.ctas.closed:
            print(f"  - closed    {cta.account_id:<16} {cta.close_reason}")
    pending = sum(1 for r in runs for d in r.plan.deliveries if d.channel != "in-app")
    sent = sum(r.delivery.total_sent() for r in runs if r.delivery is not None)
    open_now = sum(1 for r in runs[-1:] for _ in r.plan.violations)
    print(f"\n{sent} in-app notification(s) delivered; {pending} email/Slack/Teams "
          f"notification(s) planned (left pending: no server in the demo); "
          f"{open_now} account-rule violation(s) in the last week.")
    return 0
