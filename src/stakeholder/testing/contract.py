"""The storage contract suite: the tests every `Store` back end must pass, yours too.

Subclass `StoreContract` in a test module and give it a `store_factory` fixture that
returns a callable; each call must return a fresh, empty store (the fixture owns
cleaning up)::

    import pytest
    from stakeholder.testing.contract import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store_factory(self):
            stores = []
            def make():
                stores.append(MyStore(...))
                return stores[-1]
            yield make
            for store in stores:
                store.close()

pytest then runs every `test_*` method of the contract against your back end:
read-back equality, replacing updates, deletes, the defined order of lists and of the
account timeline, tenant isolation (also with ids that collide across tenants), atomic
batches, hostile strings (SQL metacharacters, quotes, unicode, 10,000 characters) as ids
and tenants, the refusal of unstorable values, and a stateful test that drives your
back end in lock-step with `MemoryStore` (the reference) and checks they always agree.
`lockstep_machine(factories)` builds that state machine for any set of back ends.

Needs the `testing` extra (hypothesis) and pytest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Final

from stakeholder._errors import InvalidRecord, MissingDependency

try:
    import pytest
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependency(
        "stakeholder.testing.contract", "testing", getattr(exc, "name", None) or "hypothesis"
    ) from exc

from stakeholder._model import Account, Contact
from stakeholder._ownership import SyncIssue
from stakeholder._routing import Override, RouteStatus, RoutingDecision
from stakeholder.storage._memory import MemoryStore
from stakeholder.storage._records import RunRecord
from stakeholder.testing._contract_alerts import AlertStoreContract
from stakeholder.testing._contract_lockstep import lockstep_machine, run_lockstep
from stakeholder.testing._contract_sponsors import SponsorStoreContract, run_sponsor_lockstep
from stakeholder.testing._contract_values import (
    _EPOCH,
    MD5_COLLIDING_PAIR,
    NASTY_STRINGS,
    StoreFactory,
    _AbortedBatchError,
    _decisions_kept,
    _empty,
    _rejected_ids,
    _target,
    _timeline_model,
    _unique,
    accounts,
    aware_datetimes,
    contacts,
    decisions,
    keys,
    overrides,
    runs,
    store_contents,
    sync_issues,
    texts,
)

__all__ = [
    "MD5_COLLIDING_PAIR",
    "NASTY_STRINGS",
    "AlertStoreContract",
    "SponsorStoreContract",
    "StoreContract",
    "StoreFactory",
    "accounts",
    "aware_datetimes",
    "contacts",
    "decisions",
    "keys",
    "lockstep_machine",
    "overrides",
    "run_lockstep",
    "run_sponsor_lockstep",
    "runs",
    "store_contents",
    "sync_issues",
    "texts",
]


_SETTINGS: Final = settings(
    # the factory fixture is function-scoped by design (it owns cleaning up) and hands
    # out a fresh store per example; the same test methods run for several back ends
    # (one subclass each), which is what `differing_executors` warns about
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.differing_executors,
        HealthCheck.too_slow,
    ],
    deadline=None,
    # at most 50 examples per test (fewer when the active profile says so): each
    # example opens a store
    max_examples=min(settings().max_examples, 50),
)


class StoreContract:
    """The contract tests; subclass with a `store_factory` fixture (see the module)."""

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        """Override this: return (or yield) a callable returning a fresh, empty store."""
        pytest.fail("define a `store_factory` fixture in your StoreContract subclass")

    # ----------------------------------------------------------------- read back equal

    @_SETTINGS
    @given(tenant=keys(), items=st.lists(accounts(), max_size=6))
    def test_accounts_read_back_equal(
        self, store_factory: StoreFactory, tenant: str, items: list[Account]
    ) -> None:
        store = store_factory()
        result = store.accounts.put_many(tenant, items)
        kept = _unique(items, "id")
        assert result.written == len(kept)
        assert result.rejected == len(items) - len(kept)
        assert store.accounts.list(tenant) == sorted(kept, key=lambda a: a.id)
        assert store.accounts.count(tenant) == len(kept)
        for account in kept:
            assert store.accounts.get(tenant, account.id) == account

    @_SETTINGS
    @given(tenant=keys(), items=st.lists(contacts(), max_size=6))
    def test_contacts_read_back_equal(
        self, store_factory: StoreFactory, tenant: str, items: list[Contact]
    ) -> None:
        store = store_factory()
        result = store.contacts.put_many(tenant, items)
        kept = _unique(items, "id")
        assert (result.written, result.rejected) == (len(kept), len(items) - len(kept))
        assert store.contacts.list(tenant) == sorted(kept, key=lambda c: c.id)
        for contact in kept:
            assert store.contacts.get(tenant, contact.id) == contact
            by_account = [c for c in kept if c.account_id == contact.account_id]
            assert store.contacts.list(tenant, account_id=contact.account_id) == sorted(
                by_account, key=lambda c: c.id
            )
            assert store.contacts.count(tenant, account_id=contact.account_id) == len(by_account)
            if contact.email_address is not None:
                same = [c for c in kept if c.email_address == contact.email_address]
                found = store.contacts.find_by_email(tenant, contact.email_address)
                assert found == sorted(same, key=lambda c: c.id)

    @_SETTINGS
    @given(tenant=keys(), items=st.lists(decisions(), max_size=6))
    def test_decisions_read_back_equal(
        self, store_factory: StoreFactory, tenant: str, items: list[RoutingDecision]
    ) -> None:
        store = store_factory()
        result = store.decisions.put_many(tenant, items)
        kept = _decisions_kept(items)
        assert (result.written, result.rejected) == (len(kept), len(items) - len(kept))
        assert store.decisions.list(tenant) == sorted(kept, key=lambda d: d.comm_id)
        for decision in kept:
            assert store.decisions.get(tenant, decision.comm_id) == decision
            assert store.decisions.count(tenant, status=decision.status) == len(
                [d for d in kept if d.status == decision.status]
            )

    @_SETTINGS
    @given(
        tenant=keys(),
        items=st.lists(sync_issues(), max_size=5),
        runs_=st.lists(runs(), max_size=5),
    )
    def test_sync_issues_and_runs_read_back_equal(
        self,
        store_factory: StoreFactory,
        tenant: str,
        items: list[SyncIssue],
        runs_: list[RunRecord],
    ) -> None:
        store = store_factory()
        store.sync_issues.put_many(tenant, items)
        kept = _unique(items, "domain")
        assert store.sync_issues.list(tenant) == sorted(kept, key=lambda i: i.domain)
        for issue in kept:
            assert store.sync_issues.get(tenant, issue.domain) == issue
            for account_id in issue.account_ids:
                assert issue in store.sync_issues.list(tenant, account_id=account_id)
        for run in runs_:
            store.runs.record(tenant, run)
        kept_runs = _unique(runs_, "run_id")
        assert store.runs.list(tenant) == sorted(
            kept_runs, key=lambda r: (r.at - _EPOCH, r.run_id)
        )
        for run in kept_runs:
            assert store.runs.get(tenant, run.run_id) == run

    @_SETTINGS
    @given(
        tenant=keys(),
        trail=st.lists(
            overrides(
                targets=st.sampled_from(("m1", "m2", "'; --")),
                at=st.sampled_from(
                    (dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                     dt.datetime(2024, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                     dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
                ),
            ),
            max_size=8,
        ),
    )
    def test_overrides_are_an_audit_trail(
        self, store_factory: StoreFactory, tenant: str, trail: list[Override]
    ) -> None:
        store = store_factory()
        half = len(trail) // 2
        for override in trail[:half]:
            store.overrides.add(tenant, override)
        assert store.overrides.add_many(tenant, trail[half:]).written == len(trail) - half
        history = store.overrides.history(tenant)
        # nothing is lost or changed; order: by time, then the order they were added
        expected = sorted(enumerate(trail), key=lambda p: (p[1].at - _EPOCH, p[0]))
        assert [r.override for r in history] == [o for _i, o in expected]
        assert store.overrides.count(tenant) == len(trail)
        # exactly one active override per target: the newest, ties by author, reason
        targets = {(o.comm_id, o.thread_id) for o in trail}
        active = store.overrides.active(tenant)
        assert len(active) == len(targets)
        for override in active:
            same = [o for o in trail if (o.comm_id, o.thread_id) == (override.comm_id,
                                                                       override.thread_id)]
            best = min(same, key=lambda o: (_EPOCH - o.at, o.author, o.reason, o.account_ids))
            assert override == best
        assert sorted((r.override for r in history if r.active), key=_target) == active
        for override in trail:
            if override.comm_id is not None:
                mine = store.overrides.history(tenant, comm_id=override.comm_id)
                assert {(r.override.comm_id, r.override.thread_id) for r in mine} == {
                    (override.comm_id, None)
                }
                assert sum(r.active for r in mine) == 1

    # ----------------------------------------------------------------- updates, deletes

    @_SETTINGS
    @given(
        tenant=keys(),
        first=accounts(),
        second=accounts(),
        contact=contacts(),
        contact2=contacts(),
        decision=decisions(),
        decision2=decisions(),
    )
    def test_updates_replace(  # noqa: PLR0917 - hypothesis and pytest pass these by name
        self,
        store_factory: StoreFactory,
        tenant: str,
        first: Account,
        second: Account,
        contact: Contact,
        contact2: Contact,
        decision: RoutingDecision,
        decision2: RoutingDecision,
    ) -> None:
        import attrs  # noqa: PLC0415 - only here

        store = store_factory()
        store.accounts.put(tenant, first)
        # an account cannot be its own parent: a generated `second` whose parent is
        # `first.id` keeps no parent once it takes that id
        parent = None if second.parent_id == first.id else second.parent_id
        replacement = attrs.evolve(second, id=first.id, parent_id=parent)
        store.accounts.put(tenant, replacement)
        assert store.accounts.list(tenant) == [replacement]

        store.contacts.put(tenant, contact)
        contact_replacement = attrs.evolve(contact2, id=contact.id)
        store.contacts.put(tenant, contact_replacement)
        assert store.contacts.list(tenant) == [contact_replacement]
        if contact.account_id != contact_replacement.account_id:
            assert store.contacts.list(tenant, account_id=contact.account_id) == []

        store.decisions.put(tenant, decision)
        decision_replacement = attrs.evolve(decision2, comm_id=decision.comm_id)
        if _decisions_kept([decision_replacement], [decision]) == []:
            # the rule for repeats: a REJECTED decision never replaces a routed one
            with pytest.raises(InvalidRecord, match="duplicate"):
                store.decisions.put(tenant, decision_replacement)
            assert store.decisions.list(tenant) == [decision]
            return
        store.decisions.put(tenant, decision_replacement)
        assert store.decisions.list(tenant) == [decision_replacement]
        for account_id in {*decision.account_ids, *decision_replacement.account_ids}:
            mine = account_id in decision_replacement.account_ids
            expected = [decision_replacement] if mine else []
            assert store.decisions.timeline(tenant, account_id) == expected

    @_SETTINGS
    @given(
        tenant=keys(),
        account=accounts(),
        contact=contacts(),
        decision=decisions(),
        issue=sync_issues(),
    )
    def test_deletes_delete(  # noqa: PLR0917 - hypothesis and pytest pass these by name
        self,
        store_factory: StoreFactory,
        tenant: str,
        account: Account,
        contact: Contact,
        decision: RoutingDecision,
        issue: SyncIssue,
    ) -> None:
        store = store_factory()
        store.accounts.put(tenant, account)
        store.contacts.put(tenant, contact)
        store.decisions.put(tenant, decision)
        store.sync_issues.put_many(tenant, [issue])
        assert store.accounts.delete(tenant, account.id)
        assert store.contacts.delete(tenant, contact.id)
        assert store.decisions.delete(tenant, decision.comm_id)
        assert store.sync_issues.delete(tenant, issue.domain)
        assert store.accounts.get(tenant, account.id) is None
        assert store.contacts.get(tenant, contact.id) is None
        assert store.decisions.get(tenant, decision.comm_id) is None
        assert store.sync_issues.get(tenant, issue.domain) is None
        for account_id in decision.account_ids:
            assert store.decisions.timeline(tenant, account_id) == []
        assert _empty(store_contents(store, tenant, account_ids=decision.account_ids))
        # deleting again finds nothing
        assert not store.accounts.delete(tenant, account.id)
        assert not store.contacts.delete(tenant, contact.id)
        assert not store.decisions.delete(tenant, decision.comm_id)
        assert not store.sync_issues.delete(tenant, issue.domain)

    @_SETTINGS
    @given(tenant=keys(), first=st.lists(sync_issues(), max_size=4),
           second=st.lists(sync_issues(), max_size=4))
    def test_replace_all_sync_issues(
        self,
        store_factory: StoreFactory,
        tenant: str,
        first: list[SyncIssue],
        second: list[SyncIssue],
    ) -> None:
        store = store_factory()
        store.sync_issues.replace_all(tenant, first)
        store.sync_issues.replace_all(tenant, second)
        expected = sorted(_unique(second, "domain"), key=lambda i: i.domain)
        assert store.sync_issues.list(tenant) == expected

    # ----------------------------------------------------------------- timeline order

    @_SETTINGS
    @given(
        tenant=keys(long=False),
        items=st.lists(
            decisions(
                comm_ids=keys(long=False),
                account_ids=st.sampled_from(("a", "b", "'")),
                occurred_at=st.none()
                | st.sampled_from(
                    (
                        dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC),
                        dt.datetime(2024, 5, 1, 14, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                        dt.datetime(2024, 5, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
                    )
                )
                | aware_datetimes(),
            ),
            max_size=10,
            unique_by=lambda d: d.comm_id,
        ),
        since=st.none() | aware_datetimes(),
        until=st.none() | aware_datetimes(),
        limit=st.none() | st.integers(min_value=0, max_value=5),
    )
    def test_timeline_order_is_defined(  # noqa: PLR0917 - hypothesis and pytest pass these by name
        self,
        store_factory: StoreFactory,
        tenant: str,
        items: list[RoutingDecision],
        since: dt.datetime | None,
        until: dt.datetime | None,
        limit: int | None,
    ) -> None:
        store = store_factory()
        store.decisions.put_many(tenant, items)
        for account_id in ("a", "b", "'"):
            expected = _timeline_model(items, account_id)
            assert store.decisions.timeline(tenant, account_id) == expected
            windowed = [
                d
                for d in expected
                if (since is None and until is None)
                or (
                    d.occurred_at is not None
                    and (since is None or d.occurred_at >= since)
                    and (until is None or d.occurred_at < until)
                )
            ]
            got = store.decisions.timeline(
                tenant, account_id, since=since, until=until, limit=limit
            )
            assert got == (windowed if limit is None else windowed[:limit])

    # ----------------------------------------------------------------- tenant isolation

    @_SETTINGS
    @given(
        tenants=st.lists(keys(), min_size=2, max_size=2, unique=True),
        account=accounts(),
        other_account=accounts(),
        contact=contacts(),
        decision=decisions(),
        override=overrides(),
        issue=sync_issues(),
        run=runs(),
    )
    def test_tenant_isolation(  # noqa: PLR0917 - hypothesis and pytest pass these by name
        self,
        store_factory: StoreFactory,
        tenants: list[str],
        account: Account,
        other_account: Account,
        contact: Contact,
        decision: RoutingDecision,
        override: Override,
        issue: SyncIssue,
        run: RunRecord,
    ) -> None:
        import attrs  # noqa: PLC0415

        store = store_factory()
        mine, theirs = tenants
        account_ids = [*decision.account_ids, account.id]
        store.accounts.put(mine, account)
        store.contacts.put(mine, contact)
        store.decisions.put(mine, decision)
        store.overrides.add(mine, override)
        store.sync_issues.put_many(mine, [issue])
        store.runs.record(mine, run)
        before = store_contents(store, mine, account_ids=account_ids)

        # invisible and uncountable
        assert _empty(store_contents(store, theirs, account_ids=account_ids))
        assert store.accounts.get(theirs, account.id) is None
        assert store.contacts.get(theirs, contact.id) is None
        assert store.contacts.find_by_email(theirs, "x@example.com") == []
        assert store.decisions.get(theirs, decision.comm_id) is None
        assert store.sync_issues.get(theirs, issue.domain) is None
        assert store.runs.get(theirs, run.run_id) is None
        assert store.overrides.history(theirs, comm_id=override.comm_id,
                                       thread_id=override.thread_id) == []
        # undeletable
        assert not store.accounts.delete(theirs, account.id)
        assert not store.contacts.delete(theirs, contact.id)
        assert not store.decisions.delete(theirs, decision.comm_id)
        assert not store.sync_issues.delete(theirs, issue.domain)
        store.sync_issues.replace_all(theirs, [])
        assert store_contents(store, mine, account_ids=account_ids) == before

        # colliding ids: the other tenant writes different values under the same ids
        # (parent_id cleared: the generated parent may be this very id, and an account
        # cannot be its own parent)
        collide = attrs.evolve(other_account, id=account.id, parent_id=None)
        store.accounts.put(theirs, collide)
        store.contacts.put(theirs, attrs.evolve(contact, name="someone else"))
        store.decisions.put(theirs, attrs.evolve(decision, subject="another subject"))
        store.runs.record(theirs, attrs.evolve(run, note="another note"))
        assert store_contents(store, mine, account_ids=account_ids) == before
        assert store.accounts.get(theirs, account.id) == collide
        assert store.accounts.get(mine, account.id) == account
        assert store.accounts.delete(theirs, account.id)
        assert store.accounts.get(mine, account.id) == account

    # ----------------------------------------------------------------- atomic batches

    @_SETTINGS
    @given(
        tenant=keys(long=False),
        settled=st.lists(accounts(), max_size=3),
        batch_accounts=st.lists(accounts(), max_size=3),
        batch_contacts=st.lists(contacts(), max_size=3),
        batch_decisions=st.lists(decisions(), max_size=3),
        batch_overrides=st.lists(overrides(), max_size=2),
        issues=st.lists(sync_issues(), max_size=2),
        run=runs(),
        fail_after=st.integers(min_value=0, max_value=7),
    )
    def test_failed_batch_leaves_nothing(  # noqa: PLR0917 - hypothesis and pytest pass these by name
        self,
        store_factory: StoreFactory,
        tenant: str,
        settled: list[Account],
        batch_accounts: list[Account],
        batch_contacts: list[Contact],
        batch_decisions: list[RoutingDecision],
        batch_overrides: list[Override],
        issues: list[SyncIssue],
        run: RunRecord,
        fail_after: int,
    ) -> None:
        store = store_factory()
        store.accounts.put_many(tenant, settled)
        account_ids = [a for d in batch_decisions for a in d.account_ids]
        before = store_contents(store, tenant, account_ids=account_ids)
        steps: list[Callable[[], object]] = [
            lambda: store.accounts.put_many(tenant, batch_accounts),
            lambda: [store.accounts.delete(tenant, a.id) for a in settled],
            lambda: store.contacts.put_many(tenant, batch_contacts),
            lambda: store.decisions.put_many(tenant, batch_decisions),
            lambda: store.overrides.add_many(tenant, batch_overrides),
            lambda: store.sync_issues.replace_all(tenant, issues),
            lambda: store.runs.record(tenant, run),
        ]

        def fail_in_batch() -> None:
            with store.batch():
                for step in steps[:fail_after]:
                    step()
                raise _AbortedBatchError

        def fail_in_inner_batch() -> None:
            with store.batch():
                store.accounts.put_many(tenant, batch_accounts)
                for account in settled:
                    store.accounts.delete(tenant, account.id)
                raise _AbortedBatchError

        with pytest.raises(_AbortedBatchError):
            fail_in_batch()
        assert store_contents(store, tenant, account_ids=account_ids) == before

        # a failed inner batch rolls back only itself when its exception is caught
        with store.batch():
            store.runs.record(tenant, run)
            with pytest.raises(_AbortedBatchError):
                fail_in_inner_batch()
        after = store_contents(store, tenant, account_ids=account_ids)
        assert after["runs"] == [run]
        assert after["accounts"] == before["accounts"]

    # ----------------------------------------------------------------- unstorable values

    @_SETTINGS
    @given(tenant=keys(long=False), good=accounts(), where=st.sampled_from(("name", "alias")))
    def test_unstorable_values_are_refused_not_half_written(
        self, store_factory: StoreFactory, tenant: str, good: Account, where: str
    ) -> None:
        import attrs  # noqa: PLC0415

        store = store_factory()
        bad = (
            attrs.evolve(good, id=good.id + "-bad", name="nul\x00inside")
            if where == "name"
            else attrs.evolve(good, id=good.id + "-bad", aliases={"lone \ud800 surrogate"})
        )
        if where == "alias":
            # JSON-held text carries any string; only plain columns refuse
            store.accounts.put(tenant, bad)
            assert store.accounts.get(tenant, bad.id) == bad
            return
        with pytest.raises(InvalidRecord):
            store.accounts.put(tenant, bad)
        result = store.accounts.put_many(tenant, [bad, good])
        assert result.written == 1
        assert [r.record_id for r in result.rejections] == [bad.id]
        assert store.accounts.list(tenant) == [good]
        with pytest.raises(InvalidRecord):
            store.accounts.list("")
        with pytest.raises(InvalidRecord):
            store.accounts.put("bad\x00tenant", good)
        # a key no row can have is simply not found
        assert store.accounts.get(tenant, "nul\x00key") is None
        assert not store.accounts.delete(tenant, "nul\x00key")

    def test_updates_replace_with_a_replacement_whose_parent_was_the_old_id(
        self, store_factory: StoreFactory
    ) -> None:
        """The example that once made `test_updates_replace` flaky: the generated
        replacement names the replaced account as its parent."""
        import attrs  # noqa: PLC0415

        store = store_factory()
        first = Account("a", "First")
        second = Account("b", "Second", parent_id="a")
        store.accounts.put("t", first)
        with pytest.raises(InvalidRecord):
            attrs.evolve(second, id=first.id)  # an account cannot be its own parent
        replacement = attrs.evolve(second, id=first.id, parent_id=None)
        store.accounts.put("t", replacement)
        assert store.accounts.list("t") == [replacement]

    # ----------------------------------------------------------------- colliding keys

    def test_md5_colliding_tenants_and_ids_stay_apart(self, store_factory: StoreFactory) -> None:
        """Two strings with one MD5 (`MD5_COLLIDING_PAIR`) are two tenants, two ids."""
        store = store_factory()
        one, two = MD5_COLLIDING_PAIR
        at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        for tenant, other in ((one, two), (two, one)):
            store.accounts.put(tenant, Account("acme", f"Acme of {tenant[20:23]}"))
            theirs = Account("acme", f"Acme of {other[20:23]}")
            assert store.accounts.get(other, "acme") in (None, theirs)
        assert store.accounts.get(one, "acme") == Account("acme", f"Acme of {one[20:23]}")
        assert store.accounts.get(two, "acme") == Account("acme", f"Acme of {two[20:23]}")
        assert store.accounts.delete(one, "acme")
        assert store.accounts.get(two, "acme") is not None
        # two ids in one tenant: two rows everywhere
        accounts_ = [Account(one, "One"), Account(two, "Two")]
        assert store.accounts.put_many("t", accounts_).written == 2
        assert store.accounts.list("t") == sorted(accounts_, key=lambda a: a.id)
        contacts_ = [Contact(one, one, email="a@acme.com"), Contact(two, two, email="b@acme.com")]
        assert store.contacts.put_many("t", contacts_).written == 2
        assert store.contacts.list("t", account_id=one) == [contacts_[0]]
        assert store.contacts.count("t", account_id=two) == 1
        decisions_ = [
            RoutingDecision(comm_id, RouteStatus.ROUTED, (comm_id,), occurred_at=at)
            for comm_id in MD5_COLLIDING_PAIR
        ]
        assert store.decisions.put_many("t", decisions_).written == 2
        assert store.decisions.timeline("t", one) == [decisions_[0]]
        store.sync_issues.replace_all("t", [SyncIssue(d, ("x", "y"), "r", "s") for d in (one, two)])
        assert store.sync_issues.count("t") == 2
        for comm_id in MD5_COLLIDING_PAIR:
            store.overrides.add("t", Override(("acme",), "ann", "why", at, comm_id=comm_id))
            store.runs.record("t", RunRecord(comm_id, at))
        assert len(store.overrides.active("t")) == 2
        assert store.runs.count("t") == 2
        assert store.decisions.delete("t", one)
        assert store.decisions.get("t", two) == decisions_[1]
        assert store.decisions.timeline("t", two) == [decisions_[1]]

    def test_colliding_ids_in_a_batch_of_2001(self, store_factory: StoreFactory) -> None:
        """A large batch (PostgreSQL writes it through COPY) holding both colliding ids."""
        store = store_factory()
        items = [Account(f"id-{i}", "x") for i in range(1999)]
        items += [Account(key, "collides") for key in MD5_COLLIDING_PAIR]
        assert store.accounts.put_many("t", items).written == 2001
        assert store.accounts.count("t") == 2001
        assert {a.id for a in store.accounts.list("t")} == {a.id for a in items}

    # ----------------------------------------------------------------- progress

    def test_batch_writes_report_progress(self, store_factory: StoreFactory) -> None:
        """`progress(done, total)` every 10,000 items and once after the commit; the
        total is known for a list and `None` for a stream."""
        store = store_factory()
        seen: list[tuple[int, int | None]] = []

        def progress(done: int, total: int | None) -> None:
            seen.append((done, total))

        items = [Account(f"a{i:05d}", "A") for i in range(20_001)]
        assert store.accounts.put_many("t", items, progress=progress).written == 20_001
        assert seen == [(10_000, 20_001), (20_000, 20_001), (20_001, 20_001)]
        seen.clear()
        issues = (SyncIssue(f"d{i}.com", ("a", "b"), "r", "s") for i in range(3))
        assert store.sync_issues.replace_all("t", issues, progress=progress).written == 3
        assert seen == [(3, None)]
        seen.clear()
        store.decisions.put_many("t", [RoutingDecision("m", RouteStatus.ROUTED)],
                                 progress=progress)
        store.contacts.put_many("t", [Contact("c", "a")], progress=progress)
        store.overrides.add_many("t", [], progress=progress)
        store.sync_issues.put_many("t", [], progress=progress)
        assert seen == [(1, 1), (1, 1), (0, 0), (0, 0)]

    # ----------------------------------------------------------------- non-finite numbers

    def test_nan_and_infinite_confidence_are_rejections(self, store_factory: StoreFactory) -> None:
        """Every back end refuses the confidences that cannot round-trip (NaN never
        equals itself), per item, and keeps the valid items of the same call."""
        store = store_factory()
        bad = [float("nan"), float("inf"), float("-inf")]
        items = [
            RoutingDecision(f"m{i}", RouteStatus.ROUTED, ("a",), confidence=value)
            for i, value in enumerate([0.5, *bad, 1.0])
        ]
        result = store.decisions.put_many("t", items)
        assert result.written == 2
        assert _rejected_ids(result) == ["m1", "m2", "m3"]
        assert all("finite" in r.reason for r in result.rejections)
        assert store.decisions.list("t") == [items[0], items[4]]
        for decision in items[1:4]:
            with pytest.raises(InvalidRecord):
                store.decisions.put("t", decision)

    # ----------------------------------------------------------------- repeated comm ids

    def test_a_rejected_decision_never_replaces_a_routed_one(
        self, store_factory: StoreFactory
    ) -> None:
        store = store_factory()
        routed = RoutingDecision("m", RouteStatus.ROUTED, ("acme",), confidence=0.9)
        duplicate = RoutingDecision("m", RouteStatus.REJECTED, reason="duplicate message")
        rerouted = RoutingDecision("m", RouteStatus.AMBIGUOUS, candidates=("a", "b"))
        store.decisions.put("t", routed)
        result = store.decisions.put_many("t", [duplicate])
        assert (result.written, _rejected_ids(result)) == (0, ["m"])
        assert result.rejections[0].reason.startswith("duplicate")
        assert store.decisions.get("t", "m") == routed
        assert store.decisions.timeline("t", "acme") == [routed]
        with pytest.raises(InvalidRecord, match="duplicate"):
            store.decisions.put("t", duplicate)
        # any other decision replaces it (routing again after an override, new data)
        assert store.decisions.put_many("t", [rerouted]).written == 1
        assert store.decisions.get("t", "m") == rerouted
        assert store.decisions.timeline("t", "acme") == []
        # inside one call: the routed one stays whichever comes first
        result = store.decisions.put_many("u", [routed, duplicate])
        assert (result.written, _rejected_ids(result)) == (1, ["m"])
        assert store.decisions.get("u", "m") == routed
        result = store.decisions.put_many("v", [duplicate, routed])
        assert (result.written, _rejected_ids(result)) == (1, ["m"])
        assert store.decisions.get("v", "m") == routed

    def test_replace_false_keeps_the_first_decision(self, store_factory: StoreFactory) -> None:
        store = store_factory()
        first = RoutingDecision("m", RouteStatus.REJECTED, reason="no date")
        second = RoutingDecision("m", RouteStatus.ROUTED, ("acme",))
        store.decisions.put("t", first, replace=False)
        result = store.decisions.put_many("t", [second, second], replace=False)
        assert (result.written, _rejected_ids(result)) == (0, ["m", "m"])
        assert store.decisions.get("t", "m") == first
        result = store.decisions.put_many("u", [second, first], replace=False)
        assert (result.written, _rejected_ids(result)) == (1, ["m"])
        assert store.decisions.get("u", "m") == second

    @_SETTINGS
    @given(
        stored=st.lists(decisions(comm_ids=st.sampled_from("abc"), account_ids=st.just("x"),
                                  occurred_at=st.none()), max_size=4),
        items=st.lists(decisions(comm_ids=st.sampled_from("abc"), account_ids=st.just("x"),
                                 occurred_at=st.none()), max_size=6),
        replace=st.booleans(),
    )
    def test_the_rule_for_repeated_comm_ids(
        self,
        store_factory: StoreFactory,
        stored: list[RoutingDecision],
        items: list[RoutingDecision],
        replace: bool,
    ) -> None:
        store = store_factory()
        before = _decisions_kept(stored)
        store.decisions.put_many("t", stored)
        result = store.decisions.put_many("t", items, replace=replace)
        kept = _decisions_kept(items, before, replace=replace)
        assert (result.written, result.rejected) == (len(kept), len(items) - len(kept))
        expected = {d.comm_id: d for d in before} | {d.comm_id: d for d in kept}
        assert store.decisions.list("t") == [expected[k] for k in sorted(expected)]

    # ----------------------------------------------------------------- purge a tenant

    def test_purge_tenant_deletes_everything_of_one_tenant(
        self, store_factory: StoreFactory
    ) -> None:
        store = store_factory()
        at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        for tenant in ("gone", "stays"):
            store.accounts.put_many(tenant, [Account("a", "A"), Account("b", "B")])
            store.contacts.put(tenant, Contact("c", "a", email="c@acme.com"))
            store.decisions.put(tenant, RoutingDecision("m", RouteStatus.ROUTED, ("a", "b")))
            store.overrides.add_many(tenant, [Override(("a",), "ann", "r", at, comm_id="m")] * 3)
            store.sync_issues.replace_all(tenant, [SyncIssue("acme.com", ("a", "b"), "r", "s")])
            store.runs.record(tenant, RunRecord("r1", at))
        kept = store_contents(store, "stays", account_ids=("a", "b"))
        counts = store.purge_tenant("gone")
        expected = {"accounts": 2, "contacts": 1, "decisions": 1, "decision_accounts": 2,
                    "overrides": 3, "sync_issues": 1, "runs": 1}
        assert {k: counts.get(k) for k in expected} == expected
        assert all(v == 0 for k, v in counts.items() if k not in expected)
        assert _empty(store_contents(store, "gone", account_ids=("a", "b")))
        assert store_contents(store, "stays", account_ids=("a", "b")) == kept
        again = store.purge_tenant("gone")
        assert set(again) == set(counts)
        assert not any(again.values())
        with pytest.raises(InvalidRecord):
            store.purge_tenant("")

    def test_purge_tenant_is_one_transaction(self, store_factory: StoreFactory) -> None:
        store = store_factory()
        store.accounts.put("t", Account("a", "A"))
        store.decisions.put("t", RoutingDecision("m", RouteStatus.ROUTED, ("a",)))

        def purge_and_fail() -> None:
            with store.batch():
                assert store.purge_tenant("t")["accounts"] == 1
                raise _AbortedBatchError

        with pytest.raises(_AbortedBatchError):
            purge_and_fail()
        assert store.accounts.count("t") == 1
        assert store.decisions.timeline("t", "a") != []

    # ----------------------------------------------------------------- lock-step

    def test_lockstep_with_memory_store(self, store_factory: StoreFactory) -> None:
        run_lockstep({"memory": MemoryStore, "store": store_factory})
