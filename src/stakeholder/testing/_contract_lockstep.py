"""The lock-step state machine of the storage contract suite: every operation applied
to one store per back end, their contents compared after every step (see
`stakeholder.testing.contract`, which re-exports `lockstep_machine` and `run_lockstep`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from stakeholder._model import Account, Contact
from stakeholder._ownership import SyncIssue
from stakeholder._routing import Override, RoutingDecision
from stakeholder.storage._protocols import Store
from stakeholder.storage._records import RunRecord
from stakeholder.testing._contract_values import (
    StoreFactory,
    _AbortedBatchError,
    _comparable,
    accounts,
    contacts,
    decisions,
    overrides,
    runs,
    store_contents,
    sync_issues,
)

_TENANTS: Final = ("t1", "t'; DROP TABLE accounts; --", "ténant-💥")
_IDS: Final = ("a", "b", "'", "Ω", "x" * 10_000)
_ID_STRATEGY: Final = st.sampled_from(_IDS[:-1]) | st.just("x").map(lambda x: x * 10_000)


#: The tables of the repositories this suite covers (`purge_tenant` counts them).
_CORE_TABLES: Final = frozenset(
    {"accounts", "contacts", "decisions", "decision_accounts", "overrides", "sync_issues",
     "runs"}
)


def lockstep_machine(factories: Mapping[str, StoreFactory]) -> type[RuleBasedStateMachine]:
    """A hypothesis state machine that applies every operation to one fresh store per
    factory and checks, after every step, that all of them show the same contents and
    returned the same results. The first factory is the reference."""
    if len(factories) < 2:
        raise ValueError("lock-step needs at least two back ends")
    names = list(factories)

    ids = _ID_STRATEGY
    tenants = st.sampled_from(_TENANTS)
    small_text = st.sampled_from(("", "x", "'", "é", "💥", "; --"))

    class Lockstep(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.stores = {name: factories[name]() for name in names}

        def _all(self, operation: Callable[[Store], object]) -> object:
            results = {}
            for name, store in self.stores.items():
                try:
                    results[name] = ("ok", _comparable(operation(store)))
                except _AbortedBatchError:
                    results[name] = ("boom", None)
            reference = results[names[0]]
            for name in names[1:]:
                assert results[name] == reference, (
                    f"{name} returned {results[name]!r}, {names[0]} returned {reference!r}"
                )
            return reference[1]

        @rule(tenant=tenants, items=st.lists(accounts(ids=ids), max_size=3))
        def put_accounts(self, tenant: str, items: list[Account]) -> None:
            self._all(lambda s: s.accounts.put_many(tenant, items))

        @rule(tenant=tenants, account_id=ids)
        def delete_account(self, tenant: str, account_id: str) -> None:
            self._all(lambda s: s.accounts.delete(tenant, account_id))

        @rule(tenant=tenants, items=st.lists(contacts(ids=ids, account_ids=ids), max_size=3))
        def put_contacts(self, tenant: str, items: list[Contact]) -> None:
            self._all(lambda s: s.contacts.put_many(tenant, items))

        @rule(tenant=tenants, contact_id=ids)
        def delete_contact(self, tenant: str, contact_id: str) -> None:
            self._all(lambda s: s.contacts.delete(tenant, contact_id))

        @rule(tenant=tenants, items=st.lists(decisions(comm_ids=ids, account_ids=ids), max_size=3),
              replace=st.booleans())
        def put_decisions(self, tenant: str, items: list[RoutingDecision], replace: bool) -> None:
            self._all(lambda s: s.decisions.put_many(tenant, items, replace=replace))

        @rule(tenant=tenants)
        def purge_tenant(self, tenant: str) -> None:
            self._all(
                lambda s: {k: v for k, v in s.purge_tenant(tenant).items() if k in _CORE_TABLES}
            )

        @rule(tenant=tenants, comm_id=ids)
        def delete_decision(self, tenant: str, comm_id: str) -> None:
            self._all(lambda s: s.decisions.delete(tenant, comm_id))

        @rule(tenant=tenants, items=st.lists(overrides(targets=ids, account_ids=ids), max_size=2))
        def add_overrides(self, tenant: str, items: list[Override]) -> None:
            self._all(lambda s: s.overrides.add_many(tenant, items))

        @rule(tenant=tenants, items=st.lists(sync_issues(domains=ids), max_size=2),
              replace=st.booleans())
        def write_sync_issues(self, tenant: str, items: list[SyncIssue], replace: bool) -> None:
            if replace:
                self._all(lambda s: s.sync_issues.replace_all(tenant, items))
            else:
                self._all(lambda s: s.sync_issues.put_many(tenant, items))

        @rule(tenant=tenants, domain=ids)
        def delete_sync_issue(self, tenant: str, domain: str) -> None:
            self._all(lambda s: s.sync_issues.delete(tenant, domain))

        @rule(tenant=tenants, run=runs(run_ids=ids))
        def record_run(self, tenant: str, run: RunRecord) -> None:
            self._all(lambda s: s.runs.record(tenant, run))

        @rule(
            tenant=tenants,
            items=st.lists(accounts(ids=ids), max_size=2),
            contacts_=st.lists(contacts(ids=ids, account_ids=ids), max_size=2),
            decisions_=st.lists(decisions(comm_ids=ids, account_ids=ids), max_size=2),
            delete=ids,
            fail=st.booleans(),
            note_=small_text,
        )
        def batch(  # noqa: PLR0917 - hypothesis and pytest pass these by name
            self,
            tenant: str,
            items: list[Account],
            contacts_: list[Contact],
            decisions_: list[RoutingDecision],
            delete: str,
            fail: bool,
            note_: str,
        ) -> None:
            def operation(store: Store) -> object:
                with store.batch():
                    store.accounts.put_many(tenant, items)
                    store.contacts.put_many(tenant, contacts_)
                    store.decisions.put_many(tenant, decisions_)
                    store.contacts.delete(tenant, delete)
                    if fail:
                        raise _AbortedBatchError(note_)
                return None

            self._all(operation)

        @invariant()
        def stores_agree(self) -> None:
            for tenant in _TENANTS:
                contents = {
                    name: store_contents(store, tenant, account_ids=_IDS)
                    for name, store in self.stores.items()
                }
                reference = contents[names[0]]
                for name in names[1:]:
                    for key, value in reference.items():
                        if contents[name][key] != value:
                            note(f"{tenant!r} {key}: {names[0]}={value!r}")
                            note(f"{tenant!r} {key}: {name}={contents[name][key]!r}")
                        assert contents[name][key] == value, f"{name} disagrees on {key}"

        @rule()
        def lookups_agree(self) -> None:
            for tenant in _TENANTS[:2]:
                for key in _IDS[:3]:
                    self._all(_lookups(tenant, key))

    Lockstep.__name__ = "Lockstep_" + "_".join(names)
    return Lockstep


def _lookups(tenant: str, key: str) -> Callable[[Store], object]:
    def lookups(s: Store) -> object:
        return (
            s.accounts.get(tenant, key),
            s.contacts.get(tenant, key),
            s.contacts.list(tenant, account_id=key),
            s.decisions.get(tenant, key),
            s.sync_issues.get(tenant, key),
            s.runs.get(tenant, key),
            s.overrides.history(tenant, comm_id=key),
            s.overrides.history(tenant, thread_id=key),
        )

    return lookups


def run_lockstep(
    factories: Mapping[str, StoreFactory], *, settings_: settings | None = None
) -> None:
    """Run `lockstep_machine(factories)` as a test (for use inside a pytest test)."""
    machine = lockstep_machine(factories)
    chosen = settings_ or settings(
        max_examples=min(settings().max_examples, 20),
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    run_state_machine_as_test(machine, settings=chosen)
