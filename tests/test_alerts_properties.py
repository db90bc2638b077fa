"""Properties of rule evaluation over random books and simulated weeks: idempotent at a
fixed `now`; removing a rule never opens a CTA; after a run, no account that complies
with a rule holds an open CTA from it; the result does not depend on input order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stakeholder import CommKind
from stakeholder._routing import RouteStatus, RoutingDecision
from stakeholder.alerts import (
    CTA,
    AccountStage,
    AlertPlan,
    Combine,
    EscalationPolicy,
    LowUsage,
    MissedMilestone,
    MissedTouchpoint,
    Rule,
    RuleSet,
    Task,
    UsageRecord,
    evaluate_rules,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
ACCOUNTS = ("a", "b", "c", "d")

RULES = RuleSet((
    Rule(id="milestone", name="m", stages=("Onboarding",),
         triggers=(MissedMilestone(within_days=20),), cooldown_days=5,
         escalation=EscalationPolicy(7, ("owner", "boss"))),
    Rule(id="usage", name="u", triggers=(LowUsage("logins", 10, 2),), frequency_days=10),
    Rule(id="touch", name="t", stages=("Adoption", "Renewal"), combine=Combine.ANY,
         triggers=(MissedTouchpoint(30, CommKind.MEETING), LowUsage("seats", 3)),
         priority="high"),
))


@st.composite
def books(draw: st.DrawFn) -> dict[str, Any]:
    stages = [
        AccountStage(a, draw(st.sampled_from(["Onboarding", "Adoption", "Renewal"])),
                     T0 + draw(st.integers(0, 30)) * DAY, owner=f"csm-{a}")
        for a in draw(st.lists(st.sampled_from(ACCOUNTS), unique=True, max_size=4))
    ]
    tasks = [
        Task(f"t{i}", draw(st.sampled_from(ACCOUNTS)), "Setup",
             done_at=draw(st.none() | st.integers(0, 90).map(lambda d: T0 + d * DAY)))
        for i in range(draw(st.integers(0, 5)))
    ]
    usage = [
        UsageRecord(a, metric, dt.date(2026, month, 1), draw(st.integers(0, 20)))
        for a in ACCOUNTS
        for metric in ("logins", "seats")
        for month in range(1, draw(st.integers(1, 5)))
    ]
    decisions = [
        RoutingDecision(f"c{i}", draw(st.sampled_from([RouteStatus.ROUTED, RouteStatus.AMBIGUOUS])),
                        account_ids=(draw(st.sampled_from(ACCOUNTS)),),
                        occurred_at=T0 + draw(st.integers(0, 120)) * DAY,
                        kind=draw(st.sampled_from(list(CommKind))))
        for i in range(draw(st.integers(0, 8)))
    ]
    nows = sorted(T0 + d * DAY for d in draw(st.lists(st.integers(20, 150), min_size=1,
                                                      max_size=4)))
    return {"stages": stages, "tasks": tasks, "usage": usage, "decisions": decisions,
            "nows": nows}


def _evaluate(book: dict[str, Any], rules: RuleSet, now: dt.datetime,
              existing: list[CTA]) -> AlertPlan:
    return evaluate_rules(book["stages"], rules, now=now, tasks=book["tasks"],
                          usage=book["usage"], decisions=book["decisions"], existing=existing)


def _apply(plan: AlertPlan, ctas: list[CTA]) -> list[CTA]:
    by_id = {c.id: c for c in ctas}
    by_id.update((c.id, c) for c in plan.ctas.changed)
    return sorted(by_id.values(), key=lambda c: c.id)


@settings(max_examples=40)
@given(book=books())
def test_idempotent_at_a_fixed_now_and_compliant_accounts_hold_no_open_cta(
    book: dict[str, Any],
) -> None:
    ctas: list[CTA] = []
    for now in book["nows"]:
        plan = _evaluate(book, RULES, now, ctas)
        ctas = _apply(plan, ctas)
        assert _evaluate(book, RULES, now, ctas).is_empty
        firing = plan.non_compliant()
        evaluated = {s.account_id for s in book["stages"]}
        for cta in ctas:
            rule_id = cta.source.id
            if not cta.is_closed and cta.account_id in evaluated:
                assert (rule_id, cta.account_id) in firing
        keys = [c.dedupe_key for c in ctas if not c.is_closed]
        assert len(keys) == len(set(keys))  # one open CTA per account and rule


@settings(max_examples=40)
@given(book=books(), removed=st.sampled_from([r.id for r in RULES.rules]))
def test_removing_a_rule_never_opens_a_cta(book: dict[str, Any], removed: str) -> None:
    ctas: list[CTA] = []
    for now in book["nows"]:
        with_all = _evaluate(book, RULES, now, ctas)
        without = _evaluate(book, RULES.without(removed), now, ctas)
        opened_all = {c.dedupe_key for c in with_all.ctas.opened}
        opened_without = {c.dedupe_key for c in without.ctas.opened}
        assert opened_without <= opened_all
        assert all(c.source.id != removed for c in without.ctas.changed)
        ctas = _apply(with_all, ctas)


@settings(max_examples=25)
@given(book=books(), seed=st.randoms(use_true_random=False))
def test_input_order_does_not_matter(book: dict[str, Any], seed: Any) -> None:
    now = book["nows"][-1]
    plan = _evaluate(book, RULES, now, [])
    shuffled = {k: list(v) for k, v in book.items()}
    for value in shuffled.values():
        seed.shuffle(value)
    assert _evaluate(shuffled, RULES, now, []) == plan
