"""Routing with a store: `load_routing_index` gives the same routing as an index built
from the values themselves; `save_decisions` writes in batches, idempotently."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shared_data
from stakeholder import (
    Account,
    Communication,
    ConfigurationError,
    Contact,
    InvalidDomain,
    InvalidRecord,
    Override,
    Participant,
    PersonalDomains,
    RouteStatus,
    RoutingDecision,
    registrable_domain,
)
from stakeholder._ownership import OwnershipPolicy, resolve_domain_ownership
from stakeholder._routing import RoutingIndex, route, route_many
from stakeholder.storage import (
    MemoryStore,
    SQLiteStore,
    Store,
    load_routing_index,
    open_store,
    save_decisions,
)
from stakeholder.testing import strategies as sst

AT = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "s.db")
    yield opened
    opened.close()


def _comm(comm_id: str, *addresses: str, thread_id: str | None = None) -> Communication:
    participants = [Participant(addresses[0], "from")] + [Participant(a) for a in addresses[1:]]
    return Communication(comm_id, AT, participants, thread_id=thread_id)


def test_stored_world_routes_like_the_values(store: Store) -> None:
    accounts = [
        Account("acme", "Acme", domains={"acme.com"}),
        Account("globex-east", "Globex East"),
        Account("globex-west", "Globex West"),
        Account("partner", "Resellers Inc", kind="partner", domains={"resell.io"}),
    ]
    contacts = [
        Contact("c1", "acme", email="jane@acme.com"),
        *(Contact(f"e{i}", "globex-east", email=f"e{i}@globex.com") for i in range(3)),
        *(Contact(f"w{i}", "globex-west", email=f"w{i}@globex.com") for i in range(3)),
    ]
    override = Override(("globex-west",), "ann", "asked by the CSM", AT, comm_id="m3")
    store.accounts.put_many("t", accounts)
    store.contacts.put_many("t", contacts)
    store.overrides.add("t", override)

    policy = OwnershipPolicy(internal_domains={"us.example"})
    index = load_routing_index(store, "t", ownership_policy=policy)
    direct = RoutingIndex.build(
        accounts, contacts, resolve_domain_ownership(accounts, contacts, policy),
        overrides=[override],
    )
    comms = [
        _comm("m1", "me@us.example", "jane@acme.com"),
        _comm("m2", "e1@globex.com", "me@us.example"),
        _comm("m3", "someone@globex.com", "me@us.example"),
        _comm("m4", "new.person@acme.com"),
    ]
    for comm in comms:
        assert route(comm, index) == route(comm, direct)
    assert route(comms[0], index).account_ids == ("acme",)
    assert route(comms[2], index).account_ids == ("globex-west",)  # the stored override
    # a tenant with nothing stored routes nothing
    assert route(comms[0], load_routing_index(store, "empty")).status is not RouteStatus.ROUTED


@settings(max_examples=15, deadline=None)
@given(
    accounts=st.lists(sst.accounts(), max_size=5, unique_by=lambda a: a.id),
    data=st.data(),
)
def test_any_stored_world_routes_like_the_values(accounts: list[Account], data: st.DataObject) -> None:
    ids = [a.id for a in accounts] or ["a-none"]
    contacts = data.draw(
        st.lists(sst.contacts(account_ids=st.sampled_from(ids)), max_size=8, unique_by=lambda c: c.id)
    )
    comms = data.draw(st.lists(sst.communications(), max_size=5))
    store = MemoryStore()
    store.accounts.put_many("t", accounts)
    store.contacts.put_many("t", contacts)
    direct = RoutingIndex.build(accounts, contacts, resolve_domain_ownership(accounts, contacts))
    index = load_routing_index(store, "t")
    assert list(route_many(comms, index)) == list(route_many(comms, direct))


def test_real_universities_route_the_same_from_a_stored_copy(tmp_path: Path) -> None:
    rows = json.loads(shared_data("orgs", "universities", "world_universities_and_domains.json")
                      .read_text(encoding="utf-8"))
    accounts: list[Account] = []
    for number, row in enumerate(rows[:1500]):
        try:
            accounts.append(Account(f"u{number}", row["name"], domains=row["domains"]))
        except InvalidRecord:
            continue  # a name or domain the values refuse; not what this test is about
    assert accounts
    with open_store(f"sqlite:///{tmp_path / 'universities.db'}") as store:
        result = store.accounts.put_many("edu", accounts)
        assert result.written == len(accounts)
        index = load_routing_index(store, "edu")
    direct = RoutingIndex.build(accounts, [], resolve_domain_ownership(accounts, []))
    comms = [
        _comm(f"m{i}", f"someone@{domain}")
        for i, account in enumerate(accounts)
        for domain in sorted(account.domains)[:1]
    ]
    stored = list(route_many(comms, index))
    assert stored == list(route_many(comms, direct))
    # the data implies: an address at a registrable domain that exactly one university
    # declares (and that is not a personal-mail domain) is routed to that university
    owners: dict[str, set[str]] = {}
    for account in accounts:
        for domain in account.domains:
            with contextlib.suppress(InvalidDomain):
                owners.setdefault(registrable_domain(domain), set()).add(account.id)
    personal = PersonalDomains.default()
    checked = 0
    for comm, decision in zip(comms, stored, strict=True):
        domain = registrable_domain(comm.participants[0].address.rpartition("@")[2])
        if len(owners.get(domain, ())) == 1 and not personal.is_personal(domain):
            assert decision.status is RouteStatus.ROUTED, decision.explain()
            assert decision.account_ids == tuple(owners[domain])
            checked += 1
    assert checked > len(comms) // 2


# --------------------------------------------------------------------------- save_decisions


def _decisions(n: int, *, subject: str = "") -> list[RoutingDecision]:
    return [
        RoutingDecision(
            f"m{i:03}",
            RouteStatus.ROUTED,
            (f"a{i % 3}",),
            occurred_at=AT + dt.timedelta(minutes=i),
            subject=subject,
        )
        for i in range(n)
    ]


def test_save_decisions_in_batches_with_progress_and_run_log(store: Store) -> None:
    seen: list[tuple[int, int | None]] = []
    result = save_decisions(store, "t", iter(_decisions(10)), batch_size=4,
                            progress=lambda done, total: seen.append((done, total)),
                            run_id="run-1", at=AT)
    assert (result.written, result.rejected) == (10, 0)
    assert seen == [(4, None), (8, None), (10, None)]  # a stream: no total
    seen.clear()
    save_decisions(store, "u", _decisions(3), batch_size=2,
                   progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 3), (3, 3)]  # a list: its length is the total
    assert store.decisions.count("t") == 10
    assert [d.comm_id for d in store.decisions.timeline("t", "a0")] == ["m000", "m003", "m006",
                                                                        "m009"]
    run = store.runs.get("t", "run-1")
    assert run is not None
    assert (run.at, run.operation) == (AT, "save_decisions")
    assert dict(run.counts) == {"written": 10, "rejected": 0, "batches": 3}


def test_save_decisions_again_replaces_never_duplicates(store: Store) -> None:
    save_decisions(store, "t", _decisions(7), batch_size=3)
    again = save_decisions(store, "t", _decisions(7, subject="second run"), batch_size=2)
    assert again.written == 7
    assert store.decisions.count("t") == 7
    assert {d.subject for d in store.decisions.list("t")} == {"second run"}
    assert len(store.decisions.timeline("t", "a1")) == len([i for i in range(7) if i % 3 == 1])


def test_save_decisions_interrupted_keeps_whole_batches_and_can_rerun(store: Store) -> None:
    def failing() -> Iterator[RoutingDecision]:
        decisions = _decisions(10)
        yield from decisions[:6]
        raise RuntimeError("the router crashed")

    with pytest.raises(RuntimeError, match="crashed"):
        save_decisions(store, "t", failing(), batch_size=4)
    assert store.decisions.count("t") == 4  # the first batch; nothing of the second
    assert save_decisions(store, "t", _decisions(10), batch_size=4).written == 10
    assert store.decisions.count("t") == 10


def test_save_decisions_reports_bad_items_and_goes_on(store: Store) -> None:
    decisions = [*_decisions(3), RoutingDecision("", "routed"), RoutingDecision("x\x00y", "routed")]
    result = save_decisions(store, "t", decisions, batch_size=2)
    assert result.written == 3
    assert [r.reason for r in result.rejections] == ["comm_id is empty",
                                                     "comm_id contains a NUL character"]
    assert store.decisions.count("t") == 3


def test_save_decisions_arguments_are_checked(store: Store) -> None:
    with pytest.raises(ConfigurationError):
        save_decisions(store, "t", [], batch_size=0)
    with pytest.raises(ConfigurationError):
        save_decisions(store, "t", [], run_id="r")
    assert save_decisions(store, "t", []).written == 0
