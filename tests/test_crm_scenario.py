"""Features compose on one store, over simulated weeks (issue 15's proof).

One SQLite store and one PostgreSQL store go through: CRM sync, domain ownership, the
shared-contact plan applied, routing with a sticky (address) override, a CRM sync
again, an account removed after its grace period, disconnect (keep), reconnect and
disconnect (delete). The test keeps its own model of what the store should hold, built
with the pure functions only (`SyncState.apply`, `apply_shared_contact_plan`,
`resolve_domain_ownership`, `route`), and after every step the store must equal it.
Every step is then run a second time with no new input: the store must not change and
the step must report zero writes. Another tenant's rows must never change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import storage_backends
from stakeholder import (
    Account,
    Communication,
    Contact,
    OwnershipPolicy,
    Participant,
    Role,
    RouteStatus,
    RoutingIndex,
    apply_shared_contact_plan,
    find_shared_contacts,
    plan_shared_contact_sync,
    resolve_domain_ownership,
    route,
)
from stakeholder._routing import Override, RoutingDecision
from stakeholder.alerts import CTA, CtaSource
from stakeholder.crm import (
    AccountSelector,
    AppliedSync,
    CrmSnapshot,
    FieldMap,
    SyncState,
    apply_disconnect,
    crm_accounts_from_records,
    crm_contacts_from_records,
    load_sync_state,
    plan_account_sync,
    plan_disconnect,
    sync_crm,
)
from stakeholder.storage import Store, open_store

TENANT = "acme-cs"
OTHER = "someone-else"
SELECTOR = AccountSelector("Account_Status__c", ["Active"], ["Churned"])
FIELD_MAP = FieldMap.salesforce()
GRACE = dt.timedelta(days=7)
WEEK = dt.timedelta(days=7)
T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
POLICY = OwnershipPolicy(internal_domains=frozenset({"ourco.example"}))
USER_TAGS = ("multi-site",)

ACCOUNTS = {
    "corp": {"Name": "Acme Group", "Website": "acme-group.example"},
    "elm": {"Name": "Elm Park", "ParentId": "corp", "Website": "elm.example"},
    "oak": {"Name": "Oak Lane", "ParentId": "corp", "Website": "oak.example"},
    "pine": {"Name": "Pine Hill", "ParentId": "corp", "Website": "pine.example"},
    "birch": {"Name": "Birch Row", "ParentId": "corp", "Website": "birch.example"},
}
CONTACTS = {
    "c-jane-elm": {"AccountId": "elm", "Email": "jane@acme-group.example",
                   "FirstName": "Jane", "LastName": "Doe", "Deal_Stage__c": "Closed Won"},
    "c-jane-oak": {"AccountId": "oak", "Email": "jane@acme-group.example",
                   "FirstName": "Jane", "LastName": "Doe", "Deal_Stage__c": "Prospecting"},
    "c-al": {"AccountId": "oak", "Email": "al@oak.example", "Title": "CFO"},
    "c-pia": {"AccountId": "pine", "Email": "pia@pine.example", "Tags__c": "vip"},
    "c-bo": {"AccountId": "birch", "Email": "bo@birch.example"},
}


def export(
    *, without: tuple[str, ...] = (), title: str = "CFO"
) -> CrmSnapshot:
    """The CRM export of one week, as an API pull (empty fields left out)."""
    accounts = [
        {"Id": account_id, "Account_Status__c": "Active", **fields}
        for account_id, fields in ACCOUNTS.items()
        if account_id not in without
    ]
    contacts = [
        {"Id": contact_id, **fields, **({"Title": title} if contact_id == "c-al" else {})}
        for contact_id, fields in CONTACTS.items()
        if fields["AccountId"] not in without
    ]
    snapshot = crm_accounts_from_records(accounts, FIELD_MAP, SELECTOR)
    read = crm_contacts_from_records(contacts, FIELD_MAP, {a.id for a in snapshot.accounts})
    assert not read.rejections
    return snapshot.with_contacts(read)


# --------------------------------------------------------------------------- the model


@attrs.define
class Model:
    """What the store should hold for the tenant, kept with pure functions only."""

    state: SyncState = attrs.field(factory=SyncState)
    decisions: dict[str, RoutingDecision] = attrs.field(factory=dict)
    overrides: list[Override] = attrs.field(factory=list)
    ctas: dict[str, CTA] = attrs.field(factory=dict)

    def sync(self, snapshot: CrmSnapshot, now: dt.datetime) -> None:
        plan = plan_account_sync(self.state, snapshot, SELECTOR, now=now, removal_grace=GRACE,
                                 keep_tags=USER_TAGS)
        removed = {r.account_id for r in plan.remove}
        self.state = self.state.apply(plan)
        self.decisions = {
            k: d for k, d in self.decisions.items() if not set(d.account_ids) <= removed
        }

    def issues(self) -> list[Any]:
        accounts = [s.account for s in self.state.accounts]
        ownership = resolve_domain_ownership(accounts, self.state.contacts, POLICY)
        return sorted(ownership.issues, key=lambda i: i.domain)

    def purge(self) -> None:
        self.state, self.decisions, self.overrides, self.ctas = SyncState(), {}, [], {}


def dump(store: Store, tenant: str) -> dict[str, Any]:
    """Everything the store holds for `tenant`, in comparable form."""
    return {
        "accounts": store.accounts.list(tenant),
        "contacts": store.contacts.list(tenant),
        "pending": load_sync_state(store, tenant).pending,
        "decisions": store.decisions.list(tenant),
        "overrides": [(r.override, r.active) for r in store.overrides.history(tenant)],
        "issues": sorted(store.sync_issues.list(tenant), key=lambda i: i.domain),
        "runs": store.runs.list(tenant),
        "ctas": store.ctas.list(tenant),
    }


def assert_store_equals_model(store: Store, model: Model) -> None:
    held = dump(store, TENANT)
    assert held["accounts"] == sorted((s.account for s in model.state.accounts),
                                      key=lambda a: a.id)
    assert held["contacts"] == list(model.state.contacts)
    assert held["pending"] == model.state.pending
    assert held["decisions"] == sorted(model.decisions.values(), key=lambda d: d.comm_id)
    assert [o for o, _ in held["overrides"]] == model.overrides
    assert held["issues"] == model.issues()
    assert held["ctas"] == sorted(model.ctas.values(), key=lambda c: (c.opened_at, c.id))


def twice(store: Store, step: Callable[[], Any]) -> Any:
    """Run `step`, then run it again with no new input: the second run writes nothing
    (the store is unchanged) and reports zero writes."""
    first = step()
    before = dump(store, TENANT)
    again = step()
    assert dump(store, TENANT) == before
    assert again in (None, AppliedSync(), 0) or getattr(again, "is_empty", False), again
    return first


# --------------------------------------------------------------------------- the steps


def crm_sync(store: Store, model: Model, snapshot: CrmSnapshot, now: dt.datetime) -> Any:
    def step() -> Any:
        run = sync_crm(store, TENANT, snapshot, SELECTOR, now=now, removal_grace=GRACE,
                       policy=POLICY, keep_tags=USER_TAGS)
        return run.applied

    applied = step()
    model.sync(snapshot, now)
    assert_store_equals_model(store, model)
    again = step()
    assert again == AppliedSync()
    assert_store_equals_model(store, model)
    return applied


def shared_contacts_step(store: Store, model: Model) -> Any:
    """Plan tags and corporate copies over what the store holds, and write the changes."""
    accounts = store.accounts.list(TENANT)
    contacts = store.contacts.list(TENANT)
    plan = plan_shared_contact_sync(accounts, contacts, tags=USER_TAGS,
                                    corporate_account_id="corp", copy_to_corporate=True)
    if plan.is_empty:
        return plan
    after = {c.id: c for c in apply_shared_contact_plan(contacts, plan)}
    with store.batch():
        store.contacts.put_many(TENANT, [c for c in after.values()
                                         if store.contacts.get(TENANT, c.id) != c])
        for contact in contacts:
            if contact.id not in after:
                store.contacts.delete(TENANT, contact.id)
    return plan


def route_step(store: Store, comms: list[Communication]) -> int:
    """Route with what the store holds (its overrides included); write changed decisions."""
    accounts = store.accounts.list(TENANT)
    contacts = store.contacts.list(TENANT)
    ownership = resolve_domain_ownership(accounts, contacts, POLICY)
    shared = find_shared_contacts(contacts, accounts=accounts)
    index = RoutingIndex.build(accounts, contacts, ownership, shared=shared,
                               overrides=store.overrides.active(TENANT))
    changed = [d for d in (route(c, index) for c in comms)
               if store.decisions.get(TENANT, d.comm_id) != d]
    if changed:
        store.decisions.put_many(TENANT, changed)
    return len(changed)


def mail(comm_id: str, sender: str, at: dt.datetime) -> Communication:
    return Communication(comm_id, at, [Participant(sender, Role.FROM),
                                       Participant("me@ourco.example", Role.TO)])


# --------------------------------------------------------------------------- the scenario


def run_scenario(store: Store) -> None:
    model = Model()
    store.accounts.put(OTHER, Account("elm", "Another tenant's Elm"))
    other = dump(store, OTHER)

    # week 0: the first CRM sync, and domain ownership
    applied = crm_sync(store, model, export(), T0)
    assert applied.accounts_written == 5
    assert store.sync_issues.list(TENANT) == []

    # week 0: an alert (a CTA of a sponsor change) on Oak Lane
    cta = CTA(id="cta-1", account_id="oak", source=CtaSource("sponsor-change", "s-1"),
              type="sponsor-left", reason="the sponsor left", category="combined",
              priority="high", dedupe_key="oak:sponsor", opened_at=T0, updated_at=T0)
    store.ctas.put(TENANT, cta)
    model.ctas[cta.id] = cta
    assert_store_equals_model(store, model)

    # week 1: the shared-contact plan applied (tags on Jane's records, a corporate copy)
    plan = twice(store, lambda: shared_contacts_step(store, model))
    model.state = attrs.evolve(
        model.state, contacts=apply_shared_contact_plan(model.state.contacts, plan)
    )
    assert_store_equals_model(store, model)
    by_id = {c.id: c for c in model.state.contacts}
    assert "primary-shared-contact" in by_id["c-jane-elm"].tags
    assert "secondary-shared-contact" in by_id["c-jane-oak"].tags
    copy_ids = [cid for cid in by_id if cid.startswith("shared-contact:corp:")]
    assert len(copy_ids) == 1
    assert by_id[copy_ids[0]].tags == {"multi-site", "engaging-in-Elm Park-primary",
                                       "engaging-in-Oak Lane"}

    # week 1: routing, with a sticky override that sends Jane's mail to Oak Lane
    t1 = T0 + WEEK
    sticky = Override(("oak",), "cs-lead", "Jane now works on the Oak Lane rollout", t1,
                      address="Jane@Acme-Group.example")
    store.overrides.add(TENANT, sticky)
    model.overrides.append(sticky)
    comms = [mail("m-jane", "jane@acme-group.example", t1 + dt.timedelta(hours=1)),
             mail("m-pia", "pia@pine.example", t1 + dt.timedelta(hours=2)),
             mail("m-al", "al@oak.example", t1 + dt.timedelta(hours=3))]
    assert twice(store, lambda: route_step(store, comms)) == 3
    accounts = [s.account for s in model.state.accounts]
    ownership = resolve_domain_ownership(accounts, model.state.contacts, POLICY)
    index = RoutingIndex.build(
        accounts, model.state.contacts, ownership,
        shared=find_shared_contacts(model.state.contacts, accounts=accounts),
        overrides=model.overrides,
    )
    model.decisions = {c.id: route(c, index) for c in comms}
    assert_store_equals_model(store, model)
    jane = model.decisions["m-jane"]
    assert (jane.status, jane.account_ids, jane.rule) == (RouteStatus.ROUTED, ("oak",),
                                                          "sticky_override")

    # week 2: the CRM sync again (Al's title changed, Pine Hill left the export); the
    # library's tags, the corporate copy, the override and the CTA all survive
    t2 = T0 + 2 * WEEK
    applied = crm_sync(store, model, export(without=("pine",), title="CEO"), t2)
    assert applied.contacts_written == 1  # Al's title only
    assert applied.contacts_deleted == 0
    by_id = {c.id: c for c in store.contacts.list(TENANT)}
    assert by_id["c-al"].title == "CEO"
    assert {"primary-shared-contact", "multi-site"} <= by_id["c-jane-elm"].tags
    assert copy_ids[0] in by_id
    assert store.overrides.active(TENANT) == [sticky]
    assert store.ctas.get(TENANT, "cta-1") == cta
    assert [p.account.id for p in load_sync_state(store, TENANT).pending] == ["pine"]
    assert shared_contacts_step(store, model).is_empty  # the features no longer fight

    # week 3: Birch Row leaves too; Pine Hill's grace period is over: it goes, with its
    # contacts and the timeline entries that belong only to it
    t3 = T0 + 3 * WEEK
    applied = crm_sync(store, model, export(without=("pine", "birch")), t3)
    assert applied.accounts_deleted == 1
    assert applied.decisions_deleted == 1
    assert store.decisions.get(TENANT, "m-pia") is None
    assert [p.account.id for p in load_sync_state(store, TENANT).pending] == ["birch"]

    # week 3: disconnect, keeping the data: Birch Row's pending removal is called off
    keep = plan_disconnect(True, load_sync_state(store, TENANT))
    assert keep.cancel_removal == ("birch",)
    twice(store, lambda: apply_disconnect(store, TENANT, plan_disconnect(
        True, load_sync_state(store, TENANT)), now=t3 + dt.timedelta(hours=1)))
    model.state = model.state.disconnect(keep)
    assert_store_equals_model(store, model)

    # week 4: reconnect (a sync again): Birch Row is still missing, scheduled anew
    t4 = T0 + 4 * WEEK
    crm_sync(store, model, export(without=("pine", "birch")), t4)
    assert [p.account.id for p in load_sync_state(store, TENANT).pending] == ["birch"]
    assert store.overrides.active(TENANT) == [sticky]

    # week 5: disconnect, deleting the data: everything of the tenant goes
    t5 = T0 + 5 * WEEK
    delete = plan_disconnect(False, load_sync_state(store, TENANT))
    applied = apply_disconnect(store, TENANT, delete, now=t5)
    assert dict(applied.purged)["accounts"] == 4
    model.purge()
    assert_store_equals_model(store, model)
    assert dump(store, TENANT)["runs"] == []
    again = apply_disconnect(store, TENANT, plan_disconnect(False, load_sync_state(
        store, TENANT)), now=t5)
    assert all(count == 0 for _, count in again.purged)
    assert_store_equals_model(store, model)

    assert dump(store, OTHER) == other  # another tenant never changes


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'weeks.db'}")
        try:
            yield opened
        finally:
            opened.close()
        return
    url = storage_backends.postgres_url()
    with storage_backends.postgres_schema(url) as schema:
        opened = open_store(f"{url}{'&' if '?' in url else '?'}schema={schema}")
        try:
            yield opened
        finally:
            opened.close()


def test_features_compose_over_weeks_on_one_store(store: Store) -> None:
    run_scenario(store)


def test_the_scenario_uses_real_records() -> None:
    """The model's contacts come from the readers, as a sync sees them."""
    snapshot = export()
    assert {c.id for c in snapshot.contacts} == set(CONTACTS)
    assert {c.id: c.deal_stage for c in snapshot.contacts}["c-jane-elm"] == 9
    assert isinstance(snapshot.contacts[0], Contact)
