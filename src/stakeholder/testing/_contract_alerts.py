"""The alert repositories' contract (CTAs, escalations, outbox, inbox): part of the
shipped contract suite. Subclass `AlertStoreContract` with a `store_factory` fixture,
exactly like `StoreContract`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Final

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from stakeholder._errors import InvalidRecord
from stakeholder.alerts._cta import CTA, CtaCategory, CtaPriority, CtaSource, CtaStatus, Escalation
from stakeholder.alerts._outbox import Delivery, DeliveryStatus, InboxItem, delivery_for
from stakeholder.storage._protocols import Store

__all__ = [
    "AlertStoreContract",
    "alert_lockstep_machine",
    "ctas",
    "deliveries",
    "escalations",
    "inbox_items",
    "run_alert_lockstep",
]

Factory = Callable[[], Store]

_SETTINGS: Final = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.differing_executors,
        HealthCheck.too_slow,
    ],
)
_HOSTILE: Final = (
    "'", '"', "; DROP TABLE alert_ctas; --", "%s", "?", "\\", "é", "日本", "x" * 3000,
)


def _keys() -> st.SearchStrategy[str]:
    plain = st.text("abcxyz-_0123456789", min_size=1, max_size=8)
    return st.one_of(plain, st.sampled_from(_HOSTILE))


def _times() -> st.SearchStrategy[dt.datetime]:
    return st.datetimes(
        min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-7, minutes=-30))]),
    )


@st.composite
def ctas(draw: st.DrawFn) -> CTA:
    """CTAs with hostile ids and texts, open, snoozed or closed."""
    at = draw(_times())
    cta = CTA.open(
        account_id=draw(_keys()),
        source=draw(st.sampled_from([CtaSource.rule, CtaSource.sponsor_change, CtaSource.manual]))(
            draw(_keys())
        ),
        type=draw(st.sampled_from(["lifecycle", "risk"])),
        reason=draw(st.text(max_size=30)),
        category=draw(st.sampled_from(list(CtaCategory))),
        priority=draw(st.sampled_from(list(CtaPriority))),
        at=at,
        assignee=draw(st.none() | _keys()),
        details=draw(st.dictionaries(_keys(), st.text(max_size=10), max_size=3)),
        due_at=draw(st.none() | _times()),
        id=draw(st.none() | _keys()),
    )
    state = draw(st.sampled_from(["open", "snoozed", "closed", "escalated"]))
    if state == "snoozed":
        cta = cta.snoozed(until=at + dt.timedelta(days=3), at=at)
    elif state == "closed":
        cta = cta.closed(at=at + dt.timedelta(hours=1), reason=draw(st.text(max_size=20)))
    elif state == "escalated":
        cta = cta.escalated(level=draw(st.integers(1, 3)), at=at, assignee=draw(_keys()))
    return cta


@st.composite
def escalations(draw: st.DrawFn) -> Escalation:
    return Escalation(draw(_keys()), draw(st.integers(0, 5)), draw(_times()),
                      draw(st.text(max_size=20)), draw(st.none() | _keys()))


@st.composite
def deliveries(draw: st.DrawFn) -> Delivery:
    cta = draw(ctas())
    return delivery_for(
        cta, event=draw(st.sampled_from(["opened", "escalated:1"])),
        channel=draw(st.sampled_from(["email", "slack", "teams", "in-app"])),
        recipient=draw(_keys()), at=draw(_times()), headline="New call to action",
    )


@st.composite
def inbox_items(draw: st.DrawFn) -> InboxItem:
    return InboxItem(draw(_keys()), draw(_keys()), draw(_keys()), draw(st.text(max_size=20)),
                     draw(st.text(max_size=20)), draw(_times()))


def _last_by_id(items: list[CTA]) -> dict[str, CTA]:
    return {c.id: c for c in items}


class AlertStoreContract:
    """The alert repositories' contract tests; subclass with a `store_factory` fixture
    returning a callable that gives a fresh, empty store."""

    @pytest.fixture
    def store_factory(self) -> Factory:
        pytest.fail("define a `store_factory` fixture in your AlertStoreContract subclass")

    @_SETTINGS
    @given(tenant=_keys(), items=st.lists(ctas(), max_size=5))
    def test_ctas_read_back_equal_in_order(
        self, store_factory: Factory, tenant: str, items: list[CTA]
    ) -> None:
        store = store_factory()
        result = store.ctas.put_many(tenant, items)
        kept = _last_by_id(items)
        assert (result.written, result.rejected) == (len(kept), len(items) - len(kept))
        order = sorted(kept.values(), key=lambda c: (c.opened_at, c.id))
        assert store.ctas.list(tenant) == order
        assert store.ctas.list(tenant, open_only=True) == [c for c in order if not c.is_closed]
        for status in CtaStatus:
            chosen = [c for c in order if c.status is status]
            assert store.ctas.list(tenant, status=status) == chosen
            assert store.ctas.count(tenant, status=status) == len(chosen)
        for cta in kept.values():
            assert store.ctas.get(tenant, cta.id) == cta
            mine = [c for c in order if c.account_id == cta.account_id]
            assert store.ctas.list(tenant, account_id=cta.account_id) == mine

    @_SETTINGS
    @given(cta=ctas(), tenants=st.lists(_keys(), min_size=2, max_size=2, unique=True))
    def test_ctas_are_tenant_scoped_and_replaced(
        self, store_factory: Factory, cta: CTA, tenants: list[str]
    ) -> None:
        store = store_factory()
        first, second = tenants
        store.ctas.put(first, cta)
        assert store.ctas.get(second, cta.id) is None
        assert store.ctas.count(second) == 0
        closed = cta.closed(at=cta.updated_at, reason="done")
        store.ctas.put(first, closed)
        assert store.ctas.get(first, cta.id) == closed
        assert store.ctas.count(first) == 1
        assert store.ctas.delete(second, cta.id) is False
        assert store.ctas.delete(first, cta.id) is True
        assert store.ctas.get(first, cta.id) is None

    @_SETTINGS
    @given(tenant=_keys(), items=st.lists(escalations(), max_size=5))
    def test_escalations_are_recorded_once(
        self, store_factory: Factory, tenant: str, items: list[Escalation]
    ) -> None:
        store = store_factory()
        unique = {e.id: e for e in items}
        first = store.escalations.add_many(tenant, items)
        assert first.written == len(unique)
        again = store.escalations.add_many(tenant, items)
        assert again.written == 0
        expected = sorted(unique.values(), key=lambda e: (e.at, e.cta_id, e.level))
        assert store.escalations.list(tenant) == expected
        assert store.escalations.count(tenant) == len(unique)
        for e in unique.values():
            assert store.escalations.list(tenant, cta_id=e.cta_id) == [
                x for x in expected if x.cta_id == e.cta_id
            ]
        assert store.escalations.count(tenant + "-other") == 0

    @_SETTINGS
    @given(tenant=_keys(), items=st.lists(deliveries(), max_size=4))
    def test_outbox_never_resets_a_delivery(
        self, store_factory: Factory, tenant: str, items: list[Delivery]
    ) -> None:
        store = store_factory()
        unique = {d.id: d for d in items}
        assert store.outbox.enqueue(tenant, items).written == len(unique)
        order = sorted(unique.values(), key=lambda d: (d.created_at, d.id))
        assert store.outbox.list(tenant) == order
        for d in order:
            assert store.outbox.get(tenant, d.id) == d
        late = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
        assert store.outbox.due(tenant, late) == order
        for d in order:
            store.outbox.update(tenant, d.sent(late))
        assert store.outbox.enqueue(tenant, items).written == 0
        assert store.outbox.due(tenant, late) == []
        assert store.outbox.count(tenant, status=DeliveryStatus.SENT) == len(unique)
        assert store.outbox.list(tenant + "-other") == []

    @_SETTINGS
    @given(tenant=_keys(), delivery=deliveries())
    def test_outbox_due_respects_the_next_attempt(
        self, store_factory: Factory, tenant: str, delivery: Delivery
    ) -> None:
        store = store_factory()
        store.outbox.enqueue(tenant, [delivery])
        at = delivery.created_at
        retry = at + dt.timedelta(minutes=5)
        failed = delivery.failed_attempt(at, "refused", retry_at=retry)
        store.outbox.update(tenant, failed)
        assert store.outbox.due(tenant, at) == []
        assert store.outbox.due(tenant, retry) == [failed]
        gave_up = failed.failed_attempt(retry, "refused", retry_at=None)
        store.outbox.update(tenant, gave_up)
        assert store.outbox.due(tenant, retry + dt.timedelta(days=1)) == []
        assert store.outbox.list(tenant, status=DeliveryStatus.FAILED) == [gave_up]

    @_SETTINGS
    @given(tenant=_keys(), items=st.lists(inbox_items(), max_size=5))
    def test_inbox_unread_and_read(
        self, store_factory: Factory, tenant: str, items: list[InboxItem]
    ) -> None:
        store = store_factory()
        first: dict[str, InboxItem] = {}
        for item in items:
            assert store.inbox.add(tenant, item) is (item.id not in first)
            first.setdefault(item.id, item)
        at = dt.datetime(2150, 1, 1, tzinfo=dt.UTC)
        for user in {i.user for i in first.values()}:
            mine = sorted((i for i in first.values() if i.user == user),
                          key=lambda i: (i.created_at, i.id), reverse=True)
            assert store.inbox.list(tenant, user) == mine
            assert store.inbox.count_unread(tenant, user) == len(mine)
            assert store.inbox.mark_read(tenant, mine[0].id, at) is True
            assert store.inbox.mark_read(tenant, mine[0].id, at) is False
            assert store.inbox.count_unread(tenant, user) == len(mine) - 1
            assert store.inbox.mark_all_read(tenant, user, at) == len(mine) - 1
            assert store.inbox.list(tenant, user, unread_only=True) == []
            assert store.inbox.count_unread(tenant + "-other", user) == 0

    def test_unstorable_values_are_refused(
        self, store_factory: Factory
    ) -> None:
        store = store_factory()
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        bad = CTA.open(account_id="a\ud800", source=CtaSource.rule("r"), type="t", reason="r",
                       category="other", priority="low", at=at)
        with pytest.raises(InvalidRecord):
            store.ctas.put("t", bad)
        good = CTA.open(account_id="a", source=CtaSource.rule("r"), type="t", reason="r",
                        category="other", priority="low", at=at)
        result = store.ctas.put_many("t", [bad, good])
        assert (result.written, result.rejected) == (1, 1)
        assert store.ctas.list("t") == [good]

    def test_a_failed_batch_leaves_nothing(
        self, store_factory: Factory
    ) -> None:
        store = store_factory()
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        cta = CTA.open(account_id="a", source=CtaSource.rule("r"), type="t", reason="r",
                       category="other", priority="low", at=at)
        with pytest.raises(RuntimeError), store.batch():  # noqa: PT012 - the whole batch
            store.ctas.put("t", cta)
            store.escalations.add_many("t", [Escalation(cta.id, 1, at, "x")])
            store.outbox.enqueue("t", [delivery_for(cta, event="opened", channel="in-app",
                                                    recipient="u", at=at, headline="h")])
            raise RuntimeError("abort")
        assert store.ctas.count("t") == 0
        assert store.escalations.count("t") == 0
        assert store.outbox.count("t") == 0


_LOCKSTEP_TENANTS: Final = ("t", "u")
_LOCKSTEP_IDS: Final = ("a", "b", "'; --", "é")


def _lockstep_ctas() -> st.SearchStrategy[CTA]:
    """CTAs whose ids come from a small pool, so that writes replace each other."""
    return st.builds(_with_id, ctas(), st.sampled_from(_LOCKSTEP_IDS))


def _with_id(cta: CTA, key: str) -> CTA:
    return attrs.evolve(cta, id=key)


def alert_lockstep_machine(factories: Mapping[str, Factory]) -> type[RuleBasedStateMachine]:
    """A state machine applying every alert-repository operation to one fresh store per
    factory and checking that all of them return and hold the same (the first factory is
    the reference)."""
    if len(factories) < 2:
        raise ValueError("lock-step needs at least two back ends")
    names = list(factories)
    tenants = st.sampled_from(_LOCKSTEP_TENANTS)
    late = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)

    class AlertLockstep(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.stores = {name: factories[name]() for name in names}

        def _all(self, operation: Callable[[Store], object]) -> None:
            results = {name: repr(operation(store)) for name, store in self.stores.items()}
            for name in names[1:]:
                assert results[name] == results[names[0]], (name, results)
            self._same()

        def _same(self) -> None:
            def contents(store: Store) -> object:
                return [
                    (store.ctas.list(t), store.escalations.list(t), store.outbox.list(t),
                     store.outbox.due(t, late), [store.inbox.list(t, u) for u in _LOCKSTEP_IDS])
                    for t in _LOCKSTEP_TENANTS
                ]

            reference = contents(self.stores[names[0]])
            for name in names[1:]:
                assert contents(self.stores[name]) == reference, name

        @rule(tenant=tenants, items=st.lists(_lockstep_ctas(), max_size=3))
        def put_ctas(self, tenant: str, items: list[CTA]) -> None:
            self._all(lambda s: s.ctas.put_many(tenant, items))

        @rule(tenant=tenants, key=st.sampled_from(_LOCKSTEP_IDS))
        def delete_cta(self, tenant: str, key: str) -> None:
            self._all(lambda s: s.ctas.delete(tenant, key))

        @rule(tenant=tenants, items=st.lists(escalations(), max_size=3))
        def add_escalations(self, tenant: str, items: list[Escalation]) -> None:
            self._all(lambda s: s.escalations.add_many(tenant, items))

        @rule(tenant=tenants, items=st.lists(deliveries(), max_size=2))
        def enqueue(self, tenant: str, items: list[Delivery]) -> None:
            self._all(lambda s: s.outbox.enqueue(tenant, items))

        @rule(tenant=tenants, delivery=deliveries())
        def send_one(self, tenant: str, delivery: Delivery) -> None:
            self._all(lambda s: s.outbox.update(tenant, delivery.sent(delivery.created_at)))

        @rule(tenant=tenants, user=st.sampled_from(_LOCKSTEP_IDS), item=inbox_items())
        def add_inbox(self, tenant: str, user: str, item: InboxItem) -> None:
            chosen = attrs.evolve(item, user=user)
            self._all(lambda s: s.inbox.add(tenant, chosen))

        @rule(tenant=tenants, user=st.sampled_from(_LOCKSTEP_IDS))
        def read_all(self, tenant: str, user: str) -> None:
            self._all(lambda s: s.inbox.mark_all_read(tenant, user, late))

        @rule(tenant=tenants)
        def purge(self, tenant: str) -> None:
            self._all(lambda s: {k: v for k, v in s.purge_tenant(tenant).items()
                                 if k.startswith("alert_")})

    return AlertLockstep


def run_alert_lockstep(factories: Mapping[str, Factory]) -> None:
    """Run `alert_lockstep_machine(factories)` as a test (inside a pytest test)."""
    run_state_machine_as_test(
        alert_lockstep_machine(factories),
        settings=settings(max_examples=10, stateful_step_count=10, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )
