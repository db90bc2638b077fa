"""Planning and applying CRM syncs: the documented behaviour item by item, and the
properties (idempotent after apply, never removed before the grace period, independent
of row order)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stakeholder import Account, AccountStatus, ConfigurationError, Contact, InvalidRecord
from stakeholder._routing import Evidence, RoutingDecision
from stakeholder.crm import (
    AccountSelector,
    CrmRecord,
    CrmSnapshot,
    SyncedAccount,
    SyncState,
    apply_account_sync,
    apply_disconnect,
    load_sync_state,
    plan_account_sync,
    plan_disconnect,
    sync_crm,
)
from stakeholder.storage import MemoryStore

SELECTOR = AccountSelector("Status", ["Active", "Tier 1"], ["Churned"])
T0 = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)
GRACE = dt.timedelta(days=2)
HOUR = dt.timedelta(hours=1)


def record(account_id: str, status: str, name: str | None = None, **fields: object) -> CrmRecord:
    account = Account(id=account_id, name=name or f"Account {account_id}", **fields)  # type: ignore[arg-type]
    return CrmRecord(account, {"Id": account_id, "Status": status}, SELECTOR.classify(
        {"Status": status}
    ))


def snapshot(*records: CrmRecord, contacts: Iterable[Contact] = ()) -> CrmSnapshot:
    return CrmSnapshot(records=records, contacts=tuple(contacts))


def plan(current: SyncState, snap: CrmSnapshot, now: dt.datetime, grace: dt.timedelta = GRACE):
    return plan_account_sync(current, snap, SELECTOR, now=now, removal_grace=grace)


# --------------------------------------------------------------------------- examples


def test_active_and_churned_are_added_excluded_are_not() -> None:
    p = plan(SyncState(), snapshot(record("a", "Active"), record("b", "Churned"),
                                   record("c", "Prospect"), record("d", "")), T0)
    assert [(a.id, a.status) for a in p.add] == [
        ("a", AccountStatus.ACTIVE),
        ("b", AccountStatus.CHURNED),
    ]
    assert not p.schedule_removal
    assert not p.remove
    assert p.counts()["added"] == 2


def test_tier_based_selection_takes_only_tier_1_and_2() -> None:
    tiers = AccountSelector("Tier__c", ["Tier 1", "Tier 2"])
    records = [
        CrmRecord(Account(id=f"a{n}", name=f"A{n}"), {"Tier__c": f"Tier {n}"},
                  tiers.classify({"Tier__c": f"Tier {n}"}))
        for n in (1, 2, 3, 4)
    ]
    p = plan_account_sync((), records, tiers, now=T0, removal_grace=GRACE)
    assert [a.id for a in p.add] == ["a1", "a2"]


def test_changes_are_listed_field_by_field() -> None:
    state = SyncState.apply(SyncState(), plan(SyncState(), snapshot(record("a", "Active")), T0))
    p = plan(state, snapshot(record("a", "Churned", name="Acme Renamed")), T0 + HOUR)
    (update,) = p.update
    changes = {c.field: (c.before, c.after) for c in update.changes}
    assert changes == {
        "name": ("Account a", "Acme Renamed"),
        "status": (AccountStatus.ACTIVE, AccountStatus.CHURNED),
    }
    assert "name: 'Account a' -> 'Acme Renamed'" in update.explain()
    assert update.to_dict()["changes"][1] == {"field": "status", "before": "active",
                                              "after": "churned"}


def _run(states: list[tuple[dt.datetime, CrmSnapshot]], grace: dt.timedelta = GRACE):
    state = SyncState()
    plans = []
    for now, snap in states:
        p = plan(state, snap, now, grace)
        state = state.apply(p)
        plans.append(p)
    return state, plans


def test_removal_only_after_the_grace_period() -> None:
    both = snapshot(record("a", "Active"), record("b", "Active"))
    only_a = snapshot(record("a", "Active"))
    state, plans = _run([(T0, both), (T0 + HOUR, only_a)])
    (scheduled,) = plans[1].schedule_removal
    assert scheduled.account_id == "b"
    assert scheduled.missing_since == T0 + HOUR
    assert scheduled.due == T0 + HOUR + GRACE
    assert "no longer in the CRM export" in scheduled.reason
    # one second before the deadline: still pending, nothing removed, not a change
    before = plan(state, only_a, scheduled.due - dt.timedelta(seconds=1))
    assert before.is_empty
    assert [x.account_id for x in before.pending] == ["b"]
    # at the deadline: removed
    at = plan(state, only_a, scheduled.due)
    assert [r.account_id for r in at.remove] == ["b"]
    assert state.apply(at).account("b") is None


def test_an_account_excluded_by_its_status_is_scheduled_with_the_reason() -> None:
    _, plans = _run([(T0, snapshot(record("a", "Active"))),
                     (T0 + HOUR, snapshot(record("a", "Prospect")))])
    (scheduled,) = plans[1].schedule_removal
    assert "'Prospect'" in scheduled.reason
    assert "removal of 'Account a' (a) scheduled" in plans[1].explain()


def test_an_account_that_comes_back_before_the_deadline_keeps_its_history() -> None:
    store = MemoryStore()
    contact = Contact(id="c1", account_id="b", email="jane@beta.example")
    full = snapshot(record("a", "Active"), record("b", "Active"), contacts=[contact])
    gone = snapshot(record("a", "Active"), contacts=[contact])
    sync_crm(store, "t", full, SELECTOR, now=T0, removal_grace=GRACE)
    decision = RoutingDecision(
        comm_id="m1",
        status="routed",
        account_ids=("b",),
        occurred_at=T0,
        evidence=(Evidence("unique_contact", "strong", ("b",), "jane@beta.example"),),
    )
    store.decisions.put("t", decision)
    run = sync_crm(store, "t", gone, SELECTOR, now=T0 + HOUR, removal_grace=GRACE)
    assert [s.account_id for s in run.plan.schedule_removal] == ["b"]
    # during the grace period the account, its contacts and its timeline stay
    assert store.accounts.get("t", "b") is not None
    assert load_sync_state(store, "t").account("b").pending_removal  # type: ignore[union-attr]
    back = sync_crm(store, "t", full, SELECTOR, now=T0 + GRACE, removal_grace=GRACE)
    (cancel,) = back.plan.cancel_removal
    assert cancel.account_id == "b"
    assert cancel.was_due == T0 + HOUR + GRACE
    assert not back.plan.remove
    assert not back.plan.add
    assert store.contacts.get("t", "c1") == contact
    assert store.decisions.timeline("t", "b") == [decision]
    assert not load_sync_state(store, "t").account("b").pending_removal  # type: ignore[union-attr]
    # and it does not go later: the clock restarts only when it leaves again
    later = sync_crm(store, "t", full, SELECTOR, now=T0 + 10 * GRACE, removal_grace=GRACE)
    assert later.plan.is_empty


def test_removal_deletes_contacts_and_timeline_that_belong_only_to_it() -> None:
    store = MemoryStore()
    contacts = [Contact(id="c1", account_id="b", email="x@beta.example")]
    sync_crm(store, "t", snapshot(record("a", "Active"), record("b", "Active"),
                                  contacts=contacts), SELECTOR, now=T0, removal_grace=GRACE)
    only_b = RoutingDecision(comm_id="m1", status="routed", account_ids=("b",), occurred_at=T0)
    both = RoutingDecision(comm_id="m2", status="routed", account_ids=("a", "b"), occurred_at=T0)
    store.decisions.put_many("t", [only_b, both])
    sync_crm(store, "t", snapshot(record("a", "Active")), SELECTOR, now=T0 + HOUR,
             removal_grace=GRACE)
    run = sync_crm(store, "t", snapshot(record("a", "Active")), SELECTOR,
                   now=T0 + HOUR + GRACE, removal_grace=GRACE)
    assert [r.account_id for r in run.plan.remove] == ["b"]
    assert run.applied.accounts_deleted == 1
    assert run.applied.contacts_deleted == 1
    assert run.applied.decisions_deleted == 1
    assert "1 timeline entry" in run.applied.explain()
    assert store.accounts.get("t", "b") is None
    assert store.contacts.count("t") == 0
    assert store.decisions.get("t", "m1") is None
    assert store.decisions.get("t", "m2") == both  # shared with a kept account: stays


def test_zero_grace_removes_at_once() -> None:
    _, plans = _run(
        [(T0, snapshot(record("a", "Active"))), (T0 + HOUR, snapshot())], grace=dt.timedelta(0)
    )
    assert [r.account_id for r in plans[1].remove] == ["a"]


def test_a_changed_grace_period_moves_the_due_time() -> None:
    state, _ = _run([(T0, snapshot(record("a", "Active"))), (T0 + HOUR, snapshot())])
    longer = plan(state, snapshot(), T0 + 2 * HOUR, dt.timedelta(days=5))
    (again,) = longer.schedule_removal
    assert again.rescheduled
    assert again.missing_since == T0 + HOUR
    assert again.due == T0 + HOUR + dt.timedelta(days=5)
    shorter = plan(state, snapshot(), T0 + 2 * HOUR, HOUR)
    assert [r.account_id for r in shorter.remove] == ["a"]


def test_contacts_follow_the_export_but_freeze_while_pending() -> None:
    c1 = Contact(id="c1", account_id="a", email="one@acme.example")
    c2 = Contact(id="c2", account_id="a", email="two@acme.example")
    d1 = Contact(id="d1", account_id="b", email="one@beta.example")
    state, _ = _run([(T0, snapshot(record("a", "Active"), record("b", "Active"),
                                   contacts=[c1, c2, d1]))])
    d1_changed = attrs.evolve(d1, title="CFO")
    c1_changed = attrs.evolve(c1, title="CEO")
    p = plan(state, snapshot(record("a", "Active"), record("b", "Prospect"),
                             contacts=[c1_changed, d1_changed]), T0 + HOUR)
    assert [c.id for c in p.upsert_contacts] == ["c1"]  # b is pending: d1 stays as it was
    assert p.delete_contacts == ("c2",)  # gone from the export of a selected account


def test_a_snapshot_without_contacts_leaves_held_contacts_alone() -> None:
    contact = Contact(id="c1", account_id="a")
    state, _ = _run([(T0, snapshot(record("a", "Active"), contacts=[contact]))])
    accounts_only = CrmSnapshot(records=[record("a", "Active")], contacts_read=False)
    assert plan(state, accounts_only, T0 + HOUR).is_empty
    assert plan(state, snapshot(record("a", "Active")), T0 + HOUR).delete_contacts == ("c1",)


def test_plain_records_plan_accounts_only() -> None:
    state, _ = _run([(T0, snapshot(record("a", "Active"), contacts=[
        Contact(id="c1", account_id="a")]))])
    p = plan_account_sync(state, [record("a", "Active")], SELECTOR, now=T0, removal_grace=GRACE)
    assert p.is_empty


def test_disconnect_keeping_data_calls_off_pending_removals() -> None:
    state, _ = _run([(T0, snapshot(record("a", "Active"), record("b", "Active"))),
                     (T0 + HOUR, snapshot(record("a", "Active")))])
    d = plan_disconnect(True, state)
    assert d.keep_data
    assert d.cancel_removal == ("b",)
    assert not d.delete_accounts
    assert not d.delete_contacts
    after = state.disconnect(d)
    assert [s.account.id for s in after.accounts] == ["a", "b"]
    assert not after.pending
    assert "keeping the data" in d.explain()


def test_disconnect_without_keeping_data_deletes_it() -> None:
    contact = Contact(id="c1", account_id="a")
    state, _ = _run([(T0, snapshot(record("a", "Active"), contacts=[contact]))])
    d = plan_disconnect(False, state)
    assert d.delete_accounts == ("a",)
    assert d.delete_contacts == ("c1",)
    assert state.disconnect(d) == SyncState()
    assert "delete" in d.explain()


@pytest.mark.parametrize("keep", [True, False])
def test_disconnect_applied_to_a_store(keep: bool) -> None:
    store = MemoryStore()
    contact = Contact(id="c1", account_id="a", email="x@acme.example")
    sync_crm(store, "t", snapshot(record("a", "Active"), record("b", "Active"),
                                  contacts=[contact]), SELECTOR, now=T0, removal_grace=GRACE)
    sync_crm(store, "t", snapshot(record("a", "Active"), contacts=[contact]), SELECTOR,
             now=T0 + HOUR, removal_grace=GRACE)
    decision = RoutingDecision(comm_id="m1", status="routed", account_ids=("a",), occurred_at=T0)
    store.decisions.put("t", decision)
    store.accounts.put("other", Account(id="a", name="Other tenant"))
    d = plan_disconnect(keep, load_sync_state(store, "t"))
    applied = apply_disconnect(store, "t", d, now=T0 + 2 * HOUR)
    state = load_sync_state(store, "t")
    if keep:
        assert [s.account.id for s in state.accounts] == ["a", "b"]
        assert not state.pending
        assert store.decisions.get("t", "m1") == decision
        assert any(r.operation == "crm-disconnect" for r in store.runs.list("t"))
        # a second disconnect has nothing to call off: it writes nothing
        runs = store.runs.list("t")
        again = plan_disconnect(keep, load_sync_state(store, "t"))
        assert apply_disconnect(store, "t", again, now=T0 + 3 * HOUR) == type(applied)()
        assert store.runs.list("t") == runs
    else:
        # deletion purges everything of the tenant: data, timeline, run log included
        assert state == SyncState()
        assert store.decisions.count("t") == 0
        assert store.sync_issues.count("t") == 0
        assert store.runs.count("t") == 0
        assert dict(applied.purged)["accounts"] == 2
        assert applied.accounts_deleted == 2
        assert applied.contacts_deleted == 1
        assert applied.decisions_deleted == 1
    assert store.accounts.get("other", "a") is not None  # other tenants untouched


def test_bad_arguments_raise() -> None:
    with pytest.raises(ConfigurationError):
        plan(SyncState(), snapshot(), T0.replace(tzinfo=None))
    with pytest.raises(ConfigurationError):
        plan(SyncState(), snapshot(), T0, -HOUR)
    with pytest.raises(ConfigurationError):
        plan_disconnect("yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="two different records"):
        plan_account_sync((), [record("a", "Active"), record("a", "Churned")], SELECTOR,
                          now=T0, removal_grace=GRACE)
    with pytest.raises(InvalidRecord):
        SyncedAccount(Account(id="a", name="A"), missing_since=T0)
    with pytest.raises(InvalidRecord, match="twice"):
        SyncState((SyncedAccount(Account(id="a", name="A")), SyncedAccount(Account(id="a",
                                                                                   name="B"))))


def test_plan_explains_itself_and_round_trips_to_plain_data() -> None:
    state, plans = _run([(T0, snapshot(record("a", "Active"), record("b", "Churned")))])
    text = plans[0].explain()
    assert "2 added" in text
    assert "add 'Account b' (b) as churned" in text
    data = plans[0].to_dict()
    assert data["counts"]["added"] == 2
    assert data["add"][1] == {"account_id": "b", "name": "Account b", "status": "churned"}
    assert "<pre>" in plans[0]._repr_html_()
    again = plan(state, snapshot(record("a", "Active"), record("b", "Churned")), T0)
    assert again.is_empty
    assert again.explain().startswith("no changes")


# --------------------------------------------------------------------------- properties

IDS = [f"a{i}" for i in range(6)]
STATUSES = ["Active", "Tier 1", "Churned", "Prospect", ""]


@st.composite
def snapshots(draw: st.DrawFn) -> CrmSnapshot:
    present = draw(st.lists(st.sampled_from(IDS), unique=True, max_size=len(IDS)))
    records = [
        record(i, draw(st.sampled_from(STATUSES)), name=draw(st.sampled_from(["X", "Y"])))
        for i in present
    ]
    contacts = draw(
        st.lists(
            st.builds(
                Contact,
                id=st.sampled_from([f"c{i}" for i in range(8)]),
                account_id=st.sampled_from(IDS),
                email=st.sampled_from([None, "jane@acme.example", "bob@beta.example"]),
                title=st.sampled_from([None, "CEO"]),
            ),
            unique_by=lambda c: c.id,
            max_size=6,
        )
    )
    return snapshot(*records, contacts=contacts)


steps = st.lists(
    st.tuples(st.integers(min_value=0, max_value=72), snapshots()), min_size=1, max_size=6
)
graces = st.integers(min_value=0, max_value=96).map(lambda h: dt.timedelta(hours=h))


@settings(max_examples=60)
@given(steps=steps, grace=graces)
def test_planning_is_idempotent_after_apply(
    steps: list[tuple[int, CrmSnapshot]], grace: dt.timedelta
) -> None:
    state = SyncState()
    now = T0
    for hours, snap in steps:
        now += dt.timedelta(hours=hours)
        p = plan(state, snap, now, grace)
        state = state.apply(p)
        assert plan(state, snap, now, grace).is_empty


@settings(max_examples=30)
@given(steps=steps, grace=graces)
def test_store_apply_matches_the_pure_state_and_is_idempotent(
    steps: list[tuple[int, CrmSnapshot]], grace: dt.timedelta
) -> None:
    store = MemoryStore()
    state = SyncState()
    now = T0
    for hours, snap in steps:
        now += dt.timedelta(hours=hours)
        p = plan(load_sync_state(store, "t"), snap, now, grace)
        assert p == plan(state, snap, now, grace)
        apply_account_sync(store, "t", p)
        state = state.apply(p)
        assert load_sync_state(store, "t") == state
        assert plan(load_sync_state(store, "t"), snap, now, grace).is_empty


@settings(max_examples=60)
@given(steps=steps, grace=graces)
def test_no_account_is_removed_before_its_grace_period_ends(
    steps: list[tuple[int, CrmSnapshot]], grace: dt.timedelta
) -> None:
    state = SyncState()
    now = T0
    missing_since: dict[str, dt.datetime] = {}
    for hours, snap in steps:
        now += dt.timedelta(hours=hours)
        selected = {r.account.id for r in snap.records if SELECTOR.classify(r.fields).taken}
        held = {s.account.id for s in state.accounts}
        for account_id in held - selected:
            missing_since.setdefault(account_id, now)
        for account_id in selected:
            missing_since.pop(account_id, None)
        p = plan(state, snap, now, grace)
        for removal in p.remove:
            assert removal.missing_since == missing_since[removal.account_id]
            assert now - missing_since[removal.account_id] >= grace
            assert removal.due <= now
        for scheduled in p.schedule_removal:
            assert scheduled.due == missing_since[scheduled.account_id] + grace > now
        removed = {r.account_id for r in p.remove}
        # every held, unselected account is either removed now or still held (pending)
        for account_id in held - selected - removed:
            assert now - missing_since[account_id] < grace
        state = state.apply(p)
        for account_id in removed:
            missing_since.pop(account_id, None)


@settings(max_examples=60)
@given(steps=steps, grace=graces, data=st.data())
def test_the_plan_does_not_depend_on_row_order(
    steps: list[tuple[int, CrmSnapshot]], grace: dt.timedelta, data: st.DataObject
) -> None:
    state = SyncState()
    now = T0
    for hours, snap in steps:
        now += dt.timedelta(hours=hours)
        shuffled_records = data.draw(st.permutations(snap.records))
        shuffled_contacts = data.draw(st.permutations(snap.contacts))
        current_accounts = data.draw(st.permutations(state.accounts))
        current_contacts = data.draw(st.permutations(state.contacts))
        p = plan(state, snap, now, grace)
        q = plan_account_sync(
            SyncState(tuple(current_accounts), tuple(current_contacts)),
            CrmSnapshot(records=tuple(shuffled_records), contacts=tuple(shuffled_contacts)),
            SELECTOR,
            now=now,
            removal_grace=grace,
        )
        assert p == q
        plain = plan_account_sync(
            current_accounts, list(reversed(shuffled_records)), SELECTOR, now=now,
            removal_grace=grace,
        )
        assert plain.add == p.add
        assert plain.remove == p.remove
        state = state.apply(p)
