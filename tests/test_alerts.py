"""Alert rules: each trigger kind, combination and filters, cooldown / frequency /
snooze, auto-close, escalation chains across simulated weeks, notification priority,
and the CTA model other layers use."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stakeholder import CommKind
from stakeholder._routing import RouteStatus, RoutingDecision
from stakeholder.alerts import (
    CTA,
    AccountFilter,
    AccountStage,
    AlertPlan,
    Combine,
    CtaCategory,
    CtaPriority,
    CtaSource,
    CtaStatus,
    EscalationPolicy,
    LowUsage,
    MissedMilestone,
    MissedTouchpoint,
    Rule,
    RuleSet,
    Task,
    UsageRecord,
    evaluate_rules,
    plan_ctas,
)
from stakeholder.crm import engagement_metrics

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def stage(account_id: str = "acme", name: str = "Onboarding", entered: dt.datetime = T0,
          **fields: str) -> AccountStage:
    owner = fields.pop("owner", "csm@example.com")
    return AccountStage(account_id, name, entered, owner=owner, fields=fields)


def decision(comm_id: str, account_id: str, at: dt.datetime,
             kind: CommKind = CommKind.EMAIL, *, subject: str = "", status: RouteStatus = RouteStatus.ROUTED) -> RoutingDecision:
    return RoutingDecision(comm_id, status, account_ids=(account_id,), occurred_at=at,
                           kind=kind, subject=subject)


def applied(plan: AlertPlan, existing: list[CTA]) -> list[CTA]:
    """The CTAs after applying a plan to `existing` (what a store would hold)."""
    by_id = {c.id: c for c in existing}
    for cta in plan.ctas.changed:
        by_id[cta.id] = cta
    return list(by_id.values())


ONBOARDING = Rule(
    id="onboarding-30d",
    name="Onboarding not completed within 30 days",
    stages=("Onboarding",),
    triggers=(MissedMilestone(tasks=("onboarding*",), within_days=30),),
    priority=CtaPriority.HIGH,
    channels=("email", "in-app"),
)


# ----------------------------------------------------------------------- milestones


def test_missed_milestone_opens_a_cta_with_what_and_by_how_much() -> None:
    tasks = [Task("t1", "acme", "Onboarding call"), Task("t2", "acme", "Kickoff", within_days=5)]
    early = evaluate_rules([stage()], [ONBOARDING], now=T0 + 29 * DAY, tasks=tasks)
    assert early.ctas.opened == ()
    plan = evaluate_rules([stage()], [ONBOARDING], now=T0 + 34 * DAY, tasks=tasks)
    (cta,) = plan.ctas.opened
    assert cta.account_id == "acme"
    assert cta.source == CtaSource.rule("onboarding-30d")
    assert cta.category is CtaCategory.MISSED_MILESTONE
    assert cta.priority is CtaPriority.HIGH
    assert cta.assignee == "csm@example.com"
    assert cta.detail("missed milestone: Onboarding call") == "overdue by 4 day(s) (due 2026-02-04)"
    assert cta.due_at == T0 + 34 * DAY + 7 * DAY
    assert cta.dedupe_key == "rule:onboarding-30d:acme"
    assert "Kickoff" not in cta.reason  # not an onboarding* task


def test_a_done_task_or_a_due_date_in_the_future_is_compliant() -> None:
    now = T0 + 40 * DAY
    done = [Task("t1", "acme", "Onboarding", within_days=30, done_at=T0 + 10 * DAY)]
    assert evaluate_rules([stage()], [ONBOARDING], now=now, tasks=done).ctas.opened == ()
    future = [Task("t1", "acme", "Onboarding", due_at=now + DAY)]
    assert evaluate_rules([stage()], [ONBOARDING], now=now, tasks=future).ctas.opened == ()
    other_stage = [Task("t1", "acme", "Onboarding", stage="Renewal", within_days=1)]
    assert evaluate_rules([stage()], [ONBOARDING], now=now, tasks=other_stage).ctas.opened == ()


# ----------------------------------------------------------------------- usage


def usage(values: list[float], account_id: str = "acme", metric: str = "logins") -> list[UsageRecord]:
    start = dt.date(2025, 1, 1)
    return [
        UsageRecord(account_id, metric, dt.date(start.year + (start.month + i - 1) // 12,
                                                (start.month + i - 1) % 12 + 1, 1), v)
        for i, v in enumerate(values)
    ]


LOW_USAGE = Rule(id="low-logins", name="Low logins", stages=("Adoption",),
                 triggers=(LowUsage("logins", below=10, periods=3),))


def test_low_usage_needs_k_consecutive_low_periods() -> None:
    acct = [stage(name="Adoption")]
    now = dt.datetime(2025, 12, 15, tzinfo=dt.UTC)
    two_low = usage([50, 40, 30, 20, 20, 20, 20, 20, 20, 20, 5, 4])
    assert evaluate_rules(acct, [LOW_USAGE], now=now, usage=two_low).ctas.opened == ()
    three_low = usage([50, 40, 30, 20, 20, 20, 20, 20, 20, 3, 5, 4])
    (cta,) = evaluate_rules(acct, [LOW_USAGE], now=now, usage=three_low).ctas.opened
    assert cta.category is CtaCategory.LOW_USAGE
    assert cta.detail("low usage: logins") == "below 10 for 3 period(s) from 2025-10-01: 3, 5, 4"
    too_few = usage([1, 1])
    assert evaluate_rules(acct, [LOW_USAGE], now=now, usage=too_few).ctas.opened == ()


def test_usage_periods_after_now_do_not_count() -> None:
    acct = [stage(name="Adoption")]
    now = dt.datetime(2025, 3, 15, tzinfo=dt.UTC)
    records = usage([1, 1, 1, 100])  # April is in the future
    assert len(evaluate_rules(acct, [LOW_USAGE], now=now, usage=records).ctas.opened) == 1


# ----------------------------------------------------------------------- touchpoints


def test_missed_touchpoint_from_routed_decisions_agrees_with_engagement_metrics() -> None:
    rule = Rule(id="qbr", name="No business review", stages=("Renewal",),
                triggers=(MissedTouchpoint(90, CommKind.MEETING, ("business review", "QBR")),))
    now = T0 + 200 * DAY
    decisions = [
        decision("m1", "acme", T0 + 50 * DAY, CommKind.MEETING, subject="Quarterly Business Review"),
        decision("m2", "acme", T0 + 150 * DAY, CommKind.MEETING, subject="weekly sync"),
        decision("e1", "acme", T0 + 160 * DAY, CommKind.EMAIL, subject="business review notes"),
        decision("m3", "globex", T0 + 150 * DAY, CommKind.MEETING, subject="QBR Q3"),
        decision("m4", "acme", T0 + 190 * DAY, CommKind.MEETING, subject="QBR",
                 status=RouteStatus.AMBIGUOUS),
    ]
    states = [stage("acme", "Renewal"), stage("globex", "Renewal")]
    plan = evaluate_rules(states, [rule], now=now, decisions=decisions)
    (cta,) = plan.ctas.opened
    assert cta.account_id == "acme"
    assert cta.category is CtaCategory.MISSED_TOUCHPOINT
    label = "missed touchpoint: meeting about 'QBR' or 'business review'"
    assert cta.detail(label) == "none in 150 day(s) (limit 90; last 2026-02-24)"
    matching = [d for d in decisions if d.kind is CommKind.MEETING and (
        "review" in d.subject.lower() or "qbr" in d.subject.lower())]
    report = engagement_metrics(matching, now=now, windows=(90,))
    engaged = report.get("acme")
    assert engaged is not None
    assert engaged.last_touch == T0 + 50 * DAY
    assert engaged.window(90).meetings == 0


def test_a_touchpoint_window_counts_from_entering_the_stage() -> None:
    rule = Rule(id="touch", name="No meeting", triggers=(MissedTouchpoint(30, CommKind.MEETING),))
    fresh = [stage(entered=T0)]
    assert evaluate_rules(fresh, [rule], now=T0 + 10 * DAY).ctas.opened == ()
    (cta,) = evaluate_rules(fresh, [rule], now=T0 + 31 * DAY).ctas.opened
    assert "none on record" in cta.reason


# ----------------------------------------------------------------------- combine, filters


def test_all_and_any_combinations() -> None:
    triggers = (MissedMilestone(within_days=10), LowUsage("logins", below=5))
    tasks = [Task("t1", "acme", "Setup")]
    records = usage([100])
    now = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    acct = [stage(entered=now - 20 * DAY)]
    both = Rule(id="r", name="r", triggers=triggers, combine=Combine.ALL)
    either = attrs.evolve(both, combine=Combine.ANY)
    assert evaluate_rules(acct, [both], now=now, tasks=tasks, usage=records).ctas.opened == ()
    (cta,) = evaluate_rules(acct, [either], now=now, tasks=tasks, usage=records).ctas.opened
    assert cta.category is CtaCategory.COMBINED
    low = usage([1])
    (cta,) = evaluate_rules(acct, [both], now=now, tasks=tasks, usage=low).ctas.opened
    assert {name for name, _ in cta.details} == {"missed milestone: Setup", "low usage: logins"}


def test_filters_on_status_segment_owner_and_any_field() -> None:
    rule = Rule(id="r", name="r", triggers=(MissedMilestone(within_days=1),),
                filters=(AccountFilter("segment", ["Enterprise"]),
                         AccountFilter("owner", ["nobody@example.com"], negate=True)))
    tasks = [Task("t", a, "Setup") for a in ("a", "b", "c")]
    states = [
        stage("a", segment="enterprise"),
        stage("b", segment="SMB"),
        stage("c", segment="Enterprise", owner="nobody@example.com"),
    ]
    plan = evaluate_rules(states, [rule], now=T0 + 5 * DAY, tasks=tasks)
    assert [c.account_id for c in plan.ctas.opened] == ["a"]


# ----------------------------------------------------------------------- lifecycle


def test_idempotent_update_and_auto_close_with_a_reason() -> None:
    tasks = [Task("t1", "acme", "Onboarding")]
    first = evaluate_rules([stage()], [ONBOARDING], now=T0 + 31 * DAY, tasks=tasks)
    ctas = applied(first, [])
    again = evaluate_rules([stage()], [ONBOARDING], now=T0 + 31 * DAY, tasks=tasks, existing=ctas)
    assert again.is_empty
    later = evaluate_rules([stage()], [ONBOARDING], now=T0 + 33 * DAY, tasks=tasks, existing=ctas)
    (updated,) = later.ctas.updated
    assert later.ctas.opened == ()
    assert updated.id == ctas[0].id
    assert updated.occurrences == 2
    ctas = applied(later, ctas)
    done = [attrs.evolve(tasks[0], done_at=T0 + 34 * DAY)]
    close = evaluate_rules([stage()], [ONBOARDING], now=T0 + 35 * DAY, tasks=done, existing=ctas)
    (closed,) = close.ctas.closed
    assert closed.status is CtaStatus.CLOSED
    assert closed.close_reason == "compliant again (Onboarding not completed within 30 days)"
    moved = evaluate_rules([stage(name="Adoption")], [ONBOARDING], now=T0 + 35 * DAY,
                           tasks=tasks, existing=ctas)
    assert moved.ctas.closed[0].close_reason.startswith("the rule no longer applies")


def test_cooldown_and_frequency_stop_repeated_alerts() -> None:
    rule = attrs.evolve(ONBOARDING, cooldown_days=10, frequency_days=30)
    tasks = [Task("t1", "acme", "Onboarding")]
    done = [attrs.evolve(tasks[0], done_at=T0 + 32 * DAY)]
    ctas = applied(evaluate_rules([stage()], [rule], now=T0 + 31 * DAY, tasks=tasks), [])
    ctas = applied(evaluate_rules([stage()], [rule], now=T0 + 33 * DAY, tasks=done,
                                  existing=ctas), ctas)
    assert ctas[0].is_closed
    # the task is reopened (done_at removed): cooldown first, then frequency
    in_cooldown = evaluate_rules([stage()], [rule], now=T0 + 40 * DAY, tasks=tasks, existing=ctas)
    assert in_cooldown.ctas.opened == ()
    assert dict(in_cooldown.suppressed) == {"cooldown": 1}
    in_frequency = evaluate_rules([stage()], [rule], now=T0 + 50 * DAY, tasks=tasks, existing=ctas)
    assert dict(in_frequency.suppressed) == {"frequency": 1}
    reopened = evaluate_rules([stage()], [rule], now=T0 + 62 * DAY, tasks=tasks, existing=ctas)
    assert len(reopened.ctas.opened) == 1
    assert reopened.ctas.opened[0].id != ctas[0].id


def test_snooze_is_honoured_then_runs_out() -> None:
    rule = attrs.evolve(ONBOARDING, escalation=EscalationPolicy(7, ("owner", "boss@example.com")))
    tasks = [Task("t1", "acme", "Onboarding")]
    opened = evaluate_rules([stage()], [rule], now=T0 + 31 * DAY, tasks=tasks)
    snoozed = opened.ctas.opened[0].snoozed(until=T0 + 50 * DAY, at=T0 + 32 * DAY)
    during = evaluate_rules([stage()], [rule], now=T0 + 45 * DAY, tasks=tasks, existing=[snoozed])
    assert during.ctas.escalations == ()
    assert during.deliveries == ()
    assert all(c.status is CtaStatus.SNOOZED for c in during.ctas.updated)
    after = evaluate_rules([stage()], [rule], now=T0 + 51 * DAY, tasks=tasks, existing=[snoozed])
    (cta,) = after.ctas.updated
    assert cta.status is CtaStatus.OPEN
    assert cta.escalation_level == 1
    assert cta.assignee == "boss@example.com"


def test_escalation_chain_across_simulated_weeks() -> None:
    policy = EscalationPolicy(7, ("owner", "field:manager", "vp-cs@example.com"))
    rule = attrs.evolve(ONBOARDING, escalation=policy, channels=("email",))
    tasks = [Task("t1", "acme", "Onboarding")]
    states = [stage(manager="manager@example.com")]
    ctas: list[CTA] = []
    history = []
    for week in range(6):
        now = T0 + 31 * DAY + week * 7 * DAY
        plan = evaluate_rules(states, [rule], now=now, tasks=tasks, existing=ctas)
        again = evaluate_rules(states, [rule], now=now, tasks=tasks, existing=applied(plan, ctas))
        assert again.ctas.escalations == ()  # escalation is idempotent
        assert again.deliveries == ()
        ctas = applied(plan, ctas)
        history.extend(plan.ctas.escalations)
        assert len(ctas) == 1
    assert [(e.level, e.assignee) for e in history] == [
        (1, "manager@example.com"), (2, "vp-cs@example.com")]
    assert history[0].at == T0 + 38 * DAY
    assert ctas[0].escalation_level == 2
    assert ctas[0].assignee == "vp-cs@example.com"


def test_only_ctas_at_or_above_the_notify_priority_notify() -> None:
    tasks = [Task("t1", "acme", "Onboarding")]
    now = T0 + 31 * DAY
    quiet = attrs.evolve(ONBOARDING, priority=CtaPriority.MEDIUM)
    plan = evaluate_rules([stage()], [quiet], now=now, tasks=tasks)
    assert len(plan.ctas.opened) == 1
    assert plan.deliveries == ()
    loud = evaluate_rules([stage()], [ONBOARDING], now=now, tasks=tasks)
    assert sorted(d.channel for d in loud.deliveries) == ["email", "in-app"]
    assert loud.summary() == {"opened": 1, "updated": 0, "closed": 0, "escalated": 0,
                              "notify email": 1, "notify in-app": 1}


def test_ctas_of_removed_rules_and_other_sources_are_left_alone() -> None:
    tasks = [Task("t1", "acme", "Onboarding")]
    ctas = applied(evaluate_rules([stage()], [ONBOARDING], now=T0 + 31 * DAY, tasks=tasks), [])
    manual = CTA.open(account_id="acme", source=CtaSource.manual("jane"), type="risk",
                      reason="call them", category="risk", priority="low", at=T0)
    plan = evaluate_rules([stage()], RuleSet(()), now=T0 + 60 * DAY, tasks=tasks,
                          existing=[*ctas, manual])
    assert plan.is_empty


# ----------------------------------------------------------------------- CTA model


def test_plan_ctas_dedupes_updates_and_closes_for_other_layers() -> None:
    def candidate(reason: str) -> CTA:
        return CTA.open(account_id="acme", source=CtaSource.sponsor_change("p1"), type="risk",
                        reason=reason, category=CtaCategory.SPONSOR_CHANGE,
                        priority=CtaPriority.HIGH, at=T0, dedupe_key="sponsor:p1")

    opened = plan_ctas([candidate("left"), candidate("left")], existing=[], now=T0)
    assert len(opened.opened) == 1
    same = plan_ctas([candidate("left")], existing=opened.opened, now=T0 + DAY)
    assert same.is_empty
    changed = plan_ctas([candidate("left for Globex")], existing=opened.opened, now=T0 + DAY)
    assert changed.updated[0].reason == "left for Globex"
    assert changed.updated[0].id == opened.opened[0].id
    closed = plan_ctas([], existing=opened.opened, now=T0 + DAY, close={"sponsor:p1": "back"})
    assert closed.closed[0].close_reason == "back"
    assert repr(opened) == "CtaPlan(opened=1, updated=0, closed=0, escalations=0)"


def test_cta_values_refuse_bad_input() -> None:
    from stakeholder._errors import InvalidRecord

    with pytest.raises(InvalidRecord):
        CTA.open(account_id="a", source=CtaSource.rule("r"), type="t", reason="r",
                 category="nonsense", priority="low", at=T0)
    with pytest.raises(InvalidRecord):
        CTA.open(account_id="a", source=CtaSource.rule("r"), type="t", reason="r",
                 category="risk", priority="low", at=T0.replace(tzinfo=None))
    assert CtaSource.parse(str(CtaSource.sponsor_change("x:y"))) == CtaSource.sponsor_change("x:y")
    assert CtaPriority.URGENT.at_least(CtaPriority.HIGH)
    assert not CtaPriority.LOW.at_least(CtaPriority.MEDIUM)


def test_reprs_stay_short_and_progress_counts_accounts() -> None:
    from stakeholder.alerts import find_violations

    details = {f"detail {i}": "x" * 50 for i in range(100)}
    cta = CTA.open(account_id="acme", source=CtaSource.rule("r"), type="t", reason="r" * 500,
                   category="other", priority="low", at=T0, details=details)
    assert len(repr(cta)) < 300
    assert "details=100" in repr(cta)
    calls: list[tuple[int, int | None]] = []
    tasks = [Task("t1", "acme", "Onboarding")]
    found = find_violations([stage(), stage("b")], [ONBOARDING], now=T0 + 31 * DAY,
                            tasks=tasks, progress=lambda done, total: calls.append((done, total)))
    assert [v.account_id for v in found] == ["acme"]
    assert calls[-1] == (2, 2)
    plan = evaluate_rules([stage()], [ONBOARDING], now=T0 + 31 * DAY, tasks=tasks)
    assert repr(plan).startswith("AlertPlan(opened=1,")


def test_importing_alerts_needs_no_optional_dependency() -> None:
    import subprocess
    import sys

    code = ("import sys, stakeholder, stakeholder.alerts\n"
            "assert 'httpx' not in sys.modules and 'aiosmtpd' not in sys.modules\n"
            "assert 'smtplib' not in sys.modules  # the mail adapter loads it to send\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_naive_now_is_refused_with_a_typed_error() -> None:
    from stakeholder._errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="timezone-aware"):
        evaluate_rules([stage()], [ONBOARDING], now=dt.datetime(2026, 1, 1))


@given(
    account_id=st.sampled_from(["acme", "globex", "a b"]),
    rule_id=st.sampled_from(["onboarding-30d", "low-usage"]),
    category=st.sampled_from(list(CtaCategory)),
    priority=st.sampled_from(list(CtaPriority)),
    assignee=st.one_of(st.none(), st.sampled_from(["casey", "lee"])),
    details=st.dictionaries(
        st.sampled_from(["days", "metric", "task"]), st.text(max_size=8), max_size=3
    ),
    hours=st.integers(0, 10_000),
    due=st.one_of(st.none(), st.integers(1, 90)),
)
def test_open_checked_equals_cta_open(  # noqa: PLR0917 - hypothesis passes these by name
    account_id: str,
    rule_id: str,
    category: CtaCategory,
    priority: CtaPriority,
    assignee: str | None,
    details: dict[str, str],
    hours: int,
    due: int | None,
) -> None:
    """The planner's trusted constructor builds exactly what `CTA.open` builds."""
    from stakeholder.alerts._cta import default_dedupe_key, id_stamp, open_checked

    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=hours)
    due_at = None if due is None else at + dt.timedelta(days=due)
    source = CtaSource.rule(rule_id)
    key = default_dedupe_key(account_id, source)
    pairs = tuple(sorted(details.items()))
    fields: dict[str, Any] = {
        "account_id": account_id,
        "source": source,
        "type": "non-compliance",
        "reason": "missed",
        "category": category,
        "priority": priority,
        "at": at,
        "assignee": assignee,
        "details": pairs,
        "due_at": due_at,
        "dedupe_key": key,
    }
    expected = CTA.open(**fields)
    built = open_checked(**fields, stamp=id_stamp(at))
    assert built == expected
    assert attrs.evolve(built) == expected  # the checks accept what it built
