"""`stakeholder.spark`: the Spark versions equal the pure-Python library exactly.

Local mode (`local[2]`), one SparkSession for the whole test session, bound to loopback
(the suite's network guard lets loopback through). Differential tests merge a few
generated worlds into one input (ids prefixed per world, so each Spark run checks
several worlds at once) and compare every field, evidence and explanations included.
Without Java or pyspark these tests skip with the reason; in CI (`CI=true`) they fail.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import stakeholder as sh
from conftest import IN_CI
from stakeholder.testing import strategies
from storage_backends import postgres_stores, postgres_url, sqlite_stores


def _requirements() -> str | None:
    try:
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        return f"pyspark/pyarrow are not installed ({exc}); pip install 'stakeholder[spark]'"
    if shutil.which("java") is None:
        return "no Java runtime on PATH (Spark needs one: apt-get install default-jre-headless)"
    return None


@pytest.fixture(scope="session")
def spark() -> Any:
    missing = _requirements()
    if missing is not None:
        if IN_CI:
            pytest.fail(missing)
        pytest.skip(missing)
    from stakeholder.spark import local_session

    return local_session(2, shuffle_partitions=2, app_name="stakeholder-tests")


@pytest.fixture(scope="session")
def ss(spark: Any) -> Any:
    import stakeholder.spark as module

    return module


FEW = settings(max_examples=3, deadline=None)
FEWER = settings(max_examples=2, deadline=None)
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- helpers


@attrs.frozen
class Merged:
    accounts: tuple[sh.Account, ...]
    contacts: tuple[sh.Contact, ...]
    communications: tuple[sh.Communication, ...]
    policy: sh.OwnershipPolicy


def _merge(worlds: Sequence[Any]) -> Merged:
    """Several worlds as one input: ids, parent ids and thread ids prefixed per world
    (domains are not: worlds that happen to use one domain then conflict over it)."""
    accounts: list[sh.Account] = []
    contacts: list[sh.Contact] = []
    comms: list[sh.Communication] = []
    for k, w in enumerate(worlds):
        p = f"w{k}."
        accounts += [
            attrs.evolve(a, id=p + a.id, parent_id=None if a.parent_id is None else p + a.parent_id)
            for a in (*w.accounts, w.unrelated_account)
        ]
        contacts += [attrs.evolve(c, id=p + c.id, account_id=p + c.account_id) for c in w.contacts]
        comms += [
            attrs.evolve(m, id=p + m.id, thread_id=None if m.thread_id is None else p + m.thread_id)
            for m in w.communications
        ]
    return Merged(tuple(accounts), tuple(contacts), tuple(comms), worlds[0].ownership_policy)


def merged_worlds(**kwargs: Any) -> st.SearchStrategy[Merged]:
    return st.lists(strategies.worlds(**kwargs), min_size=1, max_size=3).map(_merge)


def _python_decisions(
    comms: Sequence[sh.Communication], index: sh.RoutingIndex
) -> dict[str, sh.RoutingDecision]:
    ordered = sorted(comms, key=lambda c: (c.occurred_at, c.id))
    return {d.comm_id: d for d in sh.route_many(ordered, index)}


def _collect(ss: Any, df: Any) -> tuple[dict[str, sh.RoutingDecision], dict[str, str | None]]:
    rows = [r.asDict(recursive=True) for r in df.collect()]
    decisions = {r["comm_id"]: ss.decision_from_row(r) for r in rows}
    assert len(decisions) == len(rows)
    return decisions, {r["comm_id"]: r["explanation"] for r in rows}


# --------------------------------------------------------------------------- routing


@FEW
@given(world=merged_worlds(shared_threads=True, max_communications=8))
def test_route_dataframe_equals_route_many(spark: Any, ss: Any, world: Merged) -> None:
    accounts_df = ss.accounts_dataframe(spark, world.accounts)
    contacts_df = ss.contacts_dataframe(spark, world.contacts)
    comms_df = ss.communications_dataframe(spark, world.communications)
    out = ss.route_dataframe(
        comms_df, accounts_df, contacts_df, ownership_policy=world.policy, explain=True
    )
    got, explanations = _collect(ss, out)
    ownership = sh.resolve_domain_ownership(world.accounts, world.contacts, world.policy)
    index = sh.RoutingIndex.build(world.accounts, world.contacts, ownership)
    want = _python_decisions(world.communications, index)
    assert got == want
    assert explanations == {k: d.explain() for k, d in want.items()}


def _scenario() -> tuple[list[sh.Account], list[sh.Contact], list[sh.Communication]]:
    accounts = [
        sh.Account("acme", "Acme", domains=["acme.com"]),
        sh.Account("globex", "Globex", domains=["globex.com"]),
        sh.Account("initech", "Initech", domains=["initech.com"]),
    ]
    contacts = [
        sh.Contact("c1", "acme", "jane@acme.com"),
        sh.Contact("c2", "globex", "bob@globex.com"),
        sh.Contact("c3", "acme", "pat@consult.io"),
        sh.Contact("c4", "globex", "pat@consult.io"),
    ]

    def mail(i: int, *addresses: str, thread: str | None = None, subject: str = "") -> Any:
        parts = [sh.Participant(a, sh.Role.FROM if n == 0 else sh.Role.TO) for n, a in enumerate(addresses)]
        return sh.Communication(
            f"m{i}", T0 + dt.timedelta(minutes=i), parts, thread_id=thread, subject=subject
        )

    comms = [
        mail(1, "jane@acme.com", "new@acme.com", thread="t1"),
        mail(2, "pat@consult.io", thread="t1"),  # ambiguous alone; thread memory says acme
        mail(3, "pat@consult.io", thread="t2"),
        mail(4, "pat@consult.io", subject="Globex renewal"),
        mail(5, "bob@globex.com", "x@initech.com", thread="t3"),
        mail(6, "someone@gmail.com"),
        mail(7, "pat@consult.io", thread="t4"),
    ]
    comms.append(sh.Communication("m8", T0, [], thread_id="t9"))  # no participants
    return accounts, contacts, comms


def test_route_dataframe_with_overrides_shared_and_policy(spark: Any, ss: Any) -> None:
    accounts, contacts, comms = _scenario()
    overrides = [
        sh.Override(
            ("initech",), "ana", "moved", T0.astimezone(dt.timezone(dt.timedelta(hours=-5))),
            comm_id="m3",
        ),
        sh.Override(("acme",), "ana", "whole thread", T0, thread_id="t4"),
        sh.Override(("initech",), "ana", "their relay", T0, host="initech.com"),
        sh.Override(("globex",), "ana", "always globex", T0, address="Bob@Globex.com"),
    ]
    shared = sh.find_shared_contacts(contacts)
    policy = sh.RoutingPolicy(ambiguous="all")
    out = ss.route_dataframe(
        ss.communications_dataframe(spark, comms),
        ss.accounts_dataframe(spark, accounts),
        ss.contacts_dataframe(spark, contacts),
        overrides_df=ss.overrides_dataframe(spark, overrides),
        shared=shared,
        policy=policy,
        partitions=3,
    )
    got, explanations = _collect(ss, out)
    ownership = sh.resolve_domain_ownership(accounts, contacts)
    index = sh.RoutingIndex.build(
        accounts, contacts, ownership, shared=shared, overrides=overrides, policy=policy
    )
    assert got == _python_decisions(comms, index)
    assert set(explanations.values()) == {None}
    assert got["m2"].account_ids == ("acme",)  # thread memory crossed the shuffle
    assert got["m3"].account_ids == ("initech",)
    assert got["m8"].status is sh.RouteStatus.REJECTED


def test_route_dataframe_without_thread_memory_is_route(spark: Any, ss: Any) -> None:
    accounts, contacts, comms = _scenario()
    ownership = sh.resolve_domain_ownership(accounts, contacts)
    index = sh.RoutingIndex.build(accounts, contacts, ownership)
    out = ss.route_dataframe(
        ss.communications_dataframe(spark, comms), None, None, index=index, thread_memory=False
    )
    got, _ = _collect(ss, out)
    assert got == {c.id: sh.route(c, index) for c in comms}


def test_a_row_that_is_no_communication_is_rejected_with_a_reason(spark: Any, ss: Any) -> None:
    import pyarrow as pa

    from stakeholder.spark import COMMUNICATION_SCHEMA

    accounts, contacts, _ = _scenario()
    table = pa.Table.from_pylist(
        [
            {"id": "ok", "occurred_at": T0, "participants": [{"address": "jane@acme.com", "role": "from", "name": None}], "thread_id": None, "subject": "", "kind": "email", "headers": None},
            {"id": "no-time", "occurred_at": None, "participants": [], "thread_id": None, "subject": "", "kind": "email", "headers": None},
            {"id": "bad-kind", "occurred_at": T0, "participants": [], "thread_id": None, "subject": "", "kind": "fax", "headers": None},
        ],
        schema=COMMUNICATION_SCHEMA,
    )
    out = ss.route_dataframe(
        ss.dataframe_from_arrow(spark, table),
        ss.accounts_dataframe(spark, accounts),
        ss.contacts_dataframe(spark, contacts),
    )
    got, _ = _collect(ss, out)
    assert set(got) == {"ok", "no-time", "bad-kind"}  # one decision per row in
    assert got["ok"].account_ids == ("acme",)
    for key in ("no-time", "bad-kind"):
        assert got[key].status is sh.RouteStatus.REJECTED
        assert got[key].reason.startswith("not a valid communication:")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sh.Store]:
    if request.param == "sqlite":
        with sqlite_stores(tmp_path) as make:
            yield make()
        return
    with postgres_stores(postgres_url()) as make:
        yield make()


def test_decisions_round_trip_through_parquet_and_a_store(
    spark: Any, ss: Any, tmp_path: Path, store: sh.Store
) -> None:
    import pyarrow.parquet as pq

    accounts, contacts, comms = _scenario()
    store.accounts.put_many("t", accounts)
    store.contacts.put_many("t", contacts)
    frames = ss.read_store(spark, store, "t")
    out = ss.route_dataframe(
        ss.communications_dataframe(spark, comms), frames.accounts, frames.contacts, explain=True
    )
    path = str(tmp_path / "decisions.parquet")
    ss.write_decisions_parquet(out, path)
    by_spark = {d.comm_id: d for d in ss.read_decisions(spark.read.parquet(path))}
    table = pq.read_table(path)
    assert table.schema.names == ss.DECISION_SCHEMA.names
    by_arrow = {r["comm_id"]: ss.decision_from_row(r) for r in table.to_pylist()}
    assert by_spark == by_arrow
    assert len(by_spark) == len(comms)
    ticks: list[tuple[int, int | None]] = []
    result = ss.write_decisions_to_store(
        spark.read.parquet(path), store, "t", progress=lambda done, total: ticks.append((done, total))
    )
    assert result.written + result.rejected == len(comms)
    assert ticks[-1] == (len(comms), None)
    assert {d.comm_id: d for d in store.decisions.list("t")} == by_spark
    again = ss.read_store(spark, store, "t")
    assert sorted(ss.read_accounts(again.accounts), key=lambda a: a.id) == sorted(accounts, key=lambda a: a.id)
    assert {d.comm_id for d in ss.read_decisions(again.decisions)} == set(by_spark)


# --------------------------------------------------------------------------- ownership


def _ownership_rows(frames: Any) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "claims": sorted(
            (r.domain, r.account_id, r.kind, r.contacts) for r in frames.claims.collect()
        ),
        "domains": sorted(
            (r.domain, r.status, tuple(r.claimants), r.owner, r.hierarchy_owner, r.rule,
             r.too_broad, r.contact_sync, r.domain_sync)
            for r in frames.domains.collect()
        ),
        "issues": sorted(
            (r.domain, tuple(r.account_ids), r.reason, r.suggestion, r.kind)
            for r in frames.issues.collect()
        ),
        "accounts": sorted(
            (r.account_id, r.mode, tuple(r.unique_domains), r.dominant)
            for r in frames.accounts.collect()
        ),
    }


def _python_ownership_rows(own: sh.DomainOwnership) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "claims": sorted((c.domain, c.account_id, c.kind.value, c.contacts) for c in own.claims),
        "domains": sorted(
            (d.domain, d.status.value, tuple(d.claimants), d.owner, d.hierarchy_owner, d.rule,
             d.too_broad, d.contact_sync, d.domain_sync)
            for d in own.domains.values()
        ),
        "issues": sorted(
            (i.domain, tuple(i.account_ids), i.reason, i.suggestion, str(getattr(i, "kind", "conflict")))
            for i in own.issues
        ),
        "accounts": sorted(
            (a.account_id, a.mode.value, tuple(a.unique_domains), a.dominant)
            for a in own.accounts.values()
        ),
    }


def _check_ownership(spark: Any, ss: Any, accounts: Any, contacts: Any, policy: Any) -> None:
    frames = ss.resolve_domain_ownership_dataframe(
        ss.accounts_dataframe(spark, accounts), ss.contacts_dataframe(spark, contacts), policy
    )
    want = _python_ownership_rows(sh.resolve_domain_ownership(accounts, contacts, policy))
    assert _ownership_rows(frames) == want


@FEWER
@given(
    world=merged_worlds(max_communications=1),
    switches=st.tuples(st.booleans(), st.booleans(), st.sampled_from([1, 2, 50])),
)
def test_ownership_dataframe_equals_resolve_domain_ownership(
    spark: Any, ss: Any, world: Merged, switches: tuple[bool, bool, int]
) -> None:
    share_all, fold, too_broad = switches
    policy = attrs.evolve(
        world.policy, allow_all_shared=share_all, fold_to_registrable=fold,
        too_broad_claimants=too_broad,
    )
    _check_ownership(spark, ss, world.accounts, world.contacts, policy)


def test_ownership_dataframe_hierarchy_cycles_duplicates_and_policy(spark: Any, ss: Any) -> None:
    A = sh.Account  # noqa: N806 - short names keep the table readable
    accounts = [
        A("corp", "Corp"),
        A("site1", "Site 1", parent_id="corp", domains=["corp-sites.com"]),
        A("site2", "Site 2", parent_id="region", domains=["corp-sites.com"]),
        A("region", "Region", parent_id="corp"),
        A("x", "X", parent_id="y", domains=["loop.com"]),
        A("y", "Y", parent_id="z", domains=["loop.com"]),
        A("z", "Z", parent_id="x"),
        A("tail", "Tail", parent_id="x", domains=["loop.com"]),
        A("orphan", "Orphan", parent_id="gone", domains=["globex.com"]),
        A("globex", "Globex", domains=["globex.com", "ours.com"]),
        A("dup", "Dup"),
        A("dup", "Dup"),  # an exact repeat: counted once
        A("clash", "Clash 1", domains=["clash.com"]),
        A("clash", "Clash 2"),  # differs: both set aside
        *[A(f"many{i:02d}", f"Many {i}", domains=["crowd.com"]) for i in range(12)],
        A("shared1", "S1", domains=["partner.net"]),
        A("shared2", "S2", domains=["partner.net"]),
    ]
    C = sh.Contact  # noqa: N806 - short names keep the table readable
    contacts = [
        *[C(f"g{i}", "globex", f"p{i}@globex.com") for i in range(3)],
        *[C(f"s{i}", "globex", f"p{i}@eu.side.org") for i in range(4)],
        *[C(f"d{i}", "dup", f"p{i}@dup.io") for i in range(2)],
        C("t0", "dup", "q0@tie.io"),
        C("n1", "dup", None),
        C("bad", "dup", "not an email"),
        C("o1", "nobody", "p@orphans.com"),
        C("cl", "clash", "p@clash.com"),
        C("r1", "dup", "a@rep.com"),
        C("r1", "dup", "a@rep.com"),
        C("r2", "dup", "a@rep.com"),
        C("r2", "dup", "b@rep.com"),
    ]
    policy = sh.OwnershipPolicy(shared_domains=["partner.net"], internal_domains=["ours.com"])
    _check_ownership(spark, ss, accounts, contacts, policy)


def test_ownership_dataframe_declared_personal_domain_and_dominant_tie(spark: Any, ss: Any) -> None:
    """A declared personal domain is honoured and reported (`personal_declared`); a tie
    for the dominant domain between undeclared domains gives no dominant domain and a
    `dominant_tie` issue, never the alphabetically first."""
    accounts = [
        sh.Account("globex", "Globex", domains=["globex.com", "gmail.com"]),
        sh.Account("dup", "Dup"),
    ]
    contacts = [
        *[sh.Contact(f"d{i}", "dup", f"p{i}@dup.io") for i in range(2)],
        *[sh.Contact(f"t{i}", "dup", f"q{i}@tie.io") for i in range(2)],
        sh.Contact("g", "globex", "x@globex.com"),
    ]
    _check_ownership(spark, ss, accounts, contacts, sh.OwnershipPolicy())


def _rule_records() -> tuple[list[sh.Account], list[sh.Contact]]:
    """One small book where each rule of the ownership rewrite (issue 10) applies."""
    A, C = sh.Account, sh.Contact  # noqa: N806 - short names keep the table readable
    accounts = [
        A("acme", "Acme", domains=["acme.com"]),
        A("acme-eu", "Acme EU", parent_id="acme"),  # a declarer's descendant: no issue
        A("zeta", "Zeta"),  # a stray contact at acme.com: declared_elsewhere
        A("pge", "PG&E", domains=["pge.com"]),
        A("gen", "PG&E Gen", domains=["gen.pge.com"]),  # the longest declared host wins
        A("alumni", "MIT Alumni", domains=["alum.mit.edu"]),  # excluded pattern, declared
        A("mit", "MIT", domains=["mit.edu"]),
        A("globex", "Globex", domains=["globex.com", "gmail.com"]),  # personal_declared
        A("tie", "Tie"),  # dominant_tie
        A("own", "Own", domains=["own.io"]),  # a tie broken by its own declaration
        *[A(f"broad{i}", f"Broad {i}", domains=["broad.com"]) for i in range(3)],
        A("manual", "Manual", domains=["manual.com"]),
        A("p1", "P1", domains=["partner.org"]),
        A("p2", "P2", domains=["partner.org"]),
        A("eth", "ETH"),
        A("iki", "IKI", domains=["iki.fi", "co.uk"]),  # PSL private section; a suffix
    ]
    contacts = [
        C("z1", "zeta", "a@acme.com"), C("z2", "zeta", "b@zeta.io"),
        C("z3", "zeta", "bot@zeta.io"), C("z4", "zeta", "c@relay.example.com"),
        *[C(f"ae{i}", "acme-eu", f"e{i}@acme.com") for i in range(2)],
        C("g1", "gen", "a@gen.pge.com"), C("g2", "gen", "b@mail.gen.pge.com"),
        C("p1c", "pge", "a@pge.com"), C("p2c", "pge", "b@gen.pge.com"),
        C("m1", "mit", "a@mit.edu"), C("m2", "mit", "b@alum.mit.edu"),
        C("m3", "mit", "c@x.alum.mit.edu"), C("m4", "mit", "d@alumni.stanford.edu"),
        C("gl1", "globex", "a@gmail.com"),
        *[C(f"t{i}", "tie", f"t{i}@dup.io") for i in range(2)],
        *[C(f"u{i}", "tie", f"u{i}@tie.io") for i in range(2)],
        C("o1", "own", "a@own.io"), C("o2", "own", "b@other.io"),
        C("mn", "manual", "a@manual.com"),
        C("e1", "eth", "a@ethz.ch"), C("e2", "eth", "b@stat.math.ethz.ch"),
        C("i1", "iki", "a@iki.fi"),
    ]
    return accounts, contacts


@settings(max_examples=1, deadline=None)  # plus the explicit example: two Spark runs
@example(switches=(False, 2, True, True), seed=0)
@given(
    switches=st.tuples(st.booleans(), st.sampled_from([2, 50]), st.booleans(), st.booleans()),
    seed=st.integers(0, 2**16),
)
def test_ownership_dataframe_issue_10_rules(
    spark: Any, ss: Any, switches: tuple[bool, int, bool, bool], seed: int
) -> None:
    """Each rule of the rewrite, on data where it applies, under drawn policy switches
    and input orders: dominant ties (broken only by the account's own declaration),
    declared-elsewhere strays (not for a declarer's descendants), declared personal and
    excluded hosts, host-level keys (the longest declared host; a private-section host;
    an internal subtree; `fold_to_registrable`), merged issues, exclusions (hosts,
    patterns, addresses), too-broad hosts, manual contact and domain sync."""
    fold, too_broad, manual, domain_sync = switches
    accounts, contacts = _rule_records()
    random.Random(seed).shuffle(contacts)
    policy = sh.OwnershipPolicy(
        excluded_hosts=["relay.example.com"],
        excluded_addresses=["bot@zeta.io"],
        internal_domains=["stat.math.ethz.ch"],
        fold_to_registrable=fold,
        too_broad_claimants=too_broad,
        contact_sync_accounts=["manual", "p1"] if manual else [],
        domain_sync_accounts=["p1"] if domain_sync else [],
    )
    # the book exercises the rules (so that equality below is not vacuous)
    own = sh.resolve_domain_ownership(accounts, contacts, policy)
    kinds = {i.kind.value for i in own.issues}
    assert {"conflict", "declared_elsewhere", "personal_declared", "dominant_tie"} <= kinds
    assert own.accounts["tie"].dominant is None
    assert own.accounts["own"].dominant == "own.io"
    assert (own.domains["broad.com"].too_broad) == (too_broad == 2)
    assert own.domains["manual.com"].contact_sync is manual
    assert ("gen.pge.com" in own.domains) is not fold
    _check_ownership(spark, ss, accounts, contacts, policy)


# --------------------------------------------------------------------------- shared contacts

_EMAILS = ["jo@x.com", "Jo@X.com", "ann@y.org", "bo@z.net", "not an email"]
_PHONES = ["+442079460018", "+44 20 7946 0018", "+14155552671", "+33612345678", "020 7946 0018", "12"]


def contact_lists() -> st.SearchStrategy[list[sh.Contact]]:
    return st.lists(
        strategies.contacts(
            ids=st.sampled_from([f"c{i}" for i in range(14)]),
            account_ids=st.sampled_from(["a1", "a2", "a3"]),
            emails=st.none() | st.sampled_from(_EMAILS),
            phones=st.none() | st.sampled_from(_PHONES),
            deal_stages=st.none() | st.integers(0, 2),
            conversions=st.integers(0, 2),
        ),
        min_size=6,
        max_size=14,
    )


def _python_groups(contacts: Any, mode: Any, **kwargs: Any) -> list[dict[str, Any]]:
    out = []
    for g in sh.find_shared_contacts(contacts, mode, **kwargs):
        d = g.to_dict()
        out.append(
            {k: d[k] for k in ("key", "match_on", "record_ids", "account_ids", "primary_id",
                               "primary_account_id", "emails", "phones")}
            | {
                "order": d["ranking"]["order"],
                "decided_by": d["ranking"]["decided_by"],
                "match_keys": list(g.match_keys),
                "links": [link.to_dict() for link in g.links],
            }
        )
    return out


def _spark_groups(df: Any) -> list[dict[str, Any]]:
    rows = [r.asDict(recursive=True) for r in df.collect()]
    return sorted(rows, key=lambda r: r["key"])


@settings(max_examples=4, deadline=None)
@given(contacts=contact_lists(), mode=st.sampled_from(sh.MatchOn))
def test_shared_contacts_dataframe_equals_find_shared_contacts(
    spark: Any, ss: Any, contacts: list[sh.Contact], mode: sh.MatchOn
) -> None:
    df = ss.find_shared_contacts_dataframe(ss.contacts_dataframe(spark, contacts), mode)
    assert _spark_groups(df) == _python_groups(contacts, mode)


def test_shared_contacts_chain_region_and_accounts(spark: Any, ss: Any) -> None:
    C = sh.Contact  # noqa: N806 - short names keep the table readable
    contacts = [
        C("r1", "a1", "jo@x.com", deal_stage=2),
        C("r2", "a2", "jo@x.com", phone="+442079460018", deal_stage=2, conversions=3),
        C("r3", "a3", "jo@other.com", phone="020 7946 0018"),
        C("r4", "a4", "jo@other.com", phone="+14155552671"),
        C("r5", "a5", phone="+1 415 555 2671", created_at=T0),
        C("r6", "gone", "jo@x.com"),
        C("q1", "a1", "ann@y.org"),
        C("q2", "a1", "ann@y.org"),  # one account twice: not shared
    ]
    accounts = [sh.Account(f"a{i}", f"A{i}") for i in range(1, 6)]
    df = ss.find_shared_contacts_dataframe(
        ss.contacts_dataframe(spark, contacts),
        "either",
        accounts_df=ss.accounts_dataframe(spark, accounts),
        default_region="gb",
    )
    got = _spark_groups(df)
    assert got == _python_groups(contacts, "either", accounts=accounts, default_region="gb")
    assert [g["record_ids"] for g in got] == [["r1", "r2", "r3", "r4", "r5"]]
    assert got[0]["primary_id"] == "r2"
    assert got[0]["decided_by"] == "conversions"
