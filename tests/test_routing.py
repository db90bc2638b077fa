"""Scenario tests for routing: one test per rule of docs/routing.md."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from stakeholder import (
    ROUTING_CONFIDENCE,
    Account,
    AccountKind,
    AmbiguityResolution,
    Communication,
    Contact,
    EvidenceKind,
    InvalidRecord,
    Override,
    OwnershipPolicy,
    Participant,
    Role,
    RouteStatus,
    RoutingDecision,
    RoutingIndex,
    RoutingPolicy,
    RoutingRule,
    Strength,
    is_automated_address,
    resolve_domain_ownership,
    route,
    route_many,
)
from stakeholder._routing import DEFAULT_CACHE_SIZE

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)

ACCOUNTS = (
    Account("acme", "Acme Corp", domains=["acme.com"], aliases=["ACME"]),
    Account("globex", "Globex Corporation"),
    Account("globex-spr", "Globex Springfield", parent_id="globex", domains=["globex.com"],
            aliases=["Springfield"]),
    Account("globex-shb", "Globex Shelbyville", parent_id="globex", domains=["globex.com"],
            aliases=["Shelbyville"]),
    Account("initech", "Initech", domains=["initech.com"]),
    Account("initrode", "Initrode", domains=["initech.com"]),
    Account("reseller", "Channel Partners", kind=AccountKind.PARTNER, domains=["channel.io"]),
    Account("umbrella", "Umbrella", domains=["umbrella.com"]),
)
CONTACTS = (
    Contact("c1", "acme", "Wile E. Coyote <wile@acme.com>"),
    Contact("c2", "acme", "road.runner@acme.com"),
    Contact("c3", "acme", "wile.personal@gmail.com"),
    Contact("c4", "globex-spr", "homer@globex.com"),
    Contact("c5", "globex-shb", "homer@globex.com"),
    Contact("c6", "globex-spr", "marge@globex.com"),
    Contact("c7", "globex-shb", "bart@globex.com"),
    Contact("c8", "reseller", "sam@channel.io"),
    Contact("c9", "umbrella", "alice@umbrella.com"),
    Contact("c10", "umbrella", "consultant@freelance.dev"),
    Contact("c11", "acme", "consultant@freelance.dev"),
    Contact("c12", "globex-spr", "phone-only"),  # invalid email: rejected by the index
    Contact("c13", "nobody", "ghost@acme.com"),  # dangling account id
)
POLICY = OwnershipPolicy(shared_domains=["globex.com"], internal_domains=["ourco.io"])


def build(**kwargs: object) -> RoutingIndex:
    accounts = kwargs.pop("accounts", ACCOUNTS)
    contacts = kwargs.pop("contacts", CONTACTS)
    ownership = resolve_domain_ownership(accounts, contacts, POLICY)  # type: ignore[arg-type]
    return RoutingIndex.build(accounts, contacts, ownership, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def index() -> RoutingIndex:
    return build()


def comm(
    comm_id: str, *addresses: str, subject: str = "", thread: str | None = None, at: int = 0
) -> Communication:
    people = [
        Participant(a, role=Role.FROM if i == 0 else Role.TO) for i, a in enumerate(addresses)
    ]
    return Communication(
        comm_id, T0 + dt.timedelta(minutes=at), people, thread_id=thread, subject=subject
    )


def kinds(decision: RoutingDecision) -> dict[str | None, EvidenceKind]:
    return {e.address: e.kind for e in decision.evidence if e.address is not None}


# --------------------------------------------------------------------------- strong evidence


def test_unique_contact(index: RoutingIndex) -> None:
    d = route(comm("m1", "wile@acme.com", "me@ourco.io"), index)
    assert d.status is RouteStatus.ROUTED
    assert d.account_ids == ("acme",)
    assert d.rule == RoutingRule.UNIQUE_CONTACT
    assert d.confidence == ROUTING_CONFIDENCE["unique_contact"]
    assert kinds(d) == {"wile@acme.com": EvidenceKind.UNIQUE_CONTACT,
                        "me@ourco.io": EvidenceKind.INTERNAL}


def test_domain_sync_unknown_address_at_unique_domain(index: RoutingIndex) -> None:
    d = route(comm("m2", "new.hire@acme.com"), index)
    assert (d.status, d.account_ids, d.rule) == (RouteStatus.ROUTED, ("acme",), "domain_sync")
    assert d.evidence[0].strength is Strength.STRONG


def test_subdomain_folds_to_registrable_domain(index: RoutingIndex) -> None:
    d = route(comm("m2b", "someone@eu.mail.acme.com"), index)
    assert d.account_ids == ("acme",)
    assert d.rule == "domain_sync"


def test_display_names_case_and_subaddress(index: RoutingIndex) -> None:
    d = route(comm("m3", '"Wile E." <WILE+deals@ACME.COM>', "mailto:Road.Runner@Acme.com"), index)
    assert d.account_ids == ("acme",)
    assert set(kinds(d)) == {"wile@acme.com", "road.runner@acme.com"}
    assert all(k is EvidenceKind.UNIQUE_CONTACT for k in kinds(d).values())


def test_known_personal_address_is_a_known_contact(index: RoutingIndex) -> None:
    d = route(comm("m4", "Wile <wile.personal@GMAIL.com>"), index)
    assert (d.status, d.account_ids, d.rule) == (RouteStatus.ROUTED, ("acme",), "unique_contact")


def test_two_customers_on_one_email_both_get_it(index: RoutingIndex) -> None:
    d = route(comm("m5", "alice@umbrella.com", "wile@acme.com", "road.runner@acme.com"), index)
    assert d.status is RouteStatus.ROUTED
    assert d.account_ids == ("acme", "umbrella")  # acme: two strong participants
    d2 = route(comm("m5b", "alice@umbrella.com", "wile@acme.com"), index)
    assert d2.account_ids == ("umbrella", "acme")  # one each: the sender's first


def test_primary_falls_back_to_id(index: RoutingIndex) -> None:
    c = Communication("m5c", T0, [Participant("alice@umbrella.com", role="cc"),
                                 Participant("wile@acme.com", role="cc")])
    assert route(c, index).account_ids == ("acme", "umbrella")


# --------------------------------------------------------------------------- weak evidence


def test_shared_domain_unknown_address_resolved_by_parent(index: RoutingIndex) -> None:
    d = route(comm("m6", "visitor@globex.com"), index)
    assert (d.status, d.account_ids, d.rule) == (
        RouteStatus.ROUTED, ("globex",), "hierarchy_owner"
    )
    assert d.evidence[0].kind is EvidenceKind.HIERARCHY_OWNER


def test_conflict_domain_without_parent_is_ambiguous(index: RoutingIndex) -> None:
    d = route(comm("m7", "someone@initech.com"), index)
    assert d.status is RouteStatus.AMBIGUOUS
    assert set(d.candidates) == {"initech", "initrode"}
    assert d.account_ids == ()
    assert d.evidence[0].kind is EvidenceKind.SHARED_DOMAIN


def test_shared_domain_resolved_by_a_unique_stakeholder(index: RoutingIndex) -> None:
    d = route(comm("m8", "someone@initech.com", "alice@umbrella.com"), index)
    assert d.account_ids == ("umbrella",)
    d = route(comm("m9", "visitor@globex.com", "marge@globex.com"), index)
    assert (d.account_ids, d.rule) == (("globex-spr",), "unique_contact")


def test_shared_contact_alone_is_ambiguous_by_default(index: RoutingIndex) -> None:
    d = route(comm("m10", "homer@globex.com"), index)
    assert d.status is RouteStatus.AMBIGUOUS
    assert set(d.candidates) == {"globex-spr", "globex-shb"}
    assert "ambiguous" in d.explain()


def test_shared_contact_with_a_unique_stakeholder(index: RoutingIndex) -> None:
    d = route(comm("m11", "homer@globex.com", "bart@globex.com"), index)
    assert (d.status, d.account_ids) == (RouteStatus.ROUTED, ("globex-shb",))
    assert kinds(d)["homer@globex.com"] is EvidenceKind.SHARED_CONTACT


def test_weak_sets_are_intersected(index: RoutingIndex) -> None:
    # consultant@ is a contact of acme and umbrella; homer@ of the two Globex sites
    d = route(comm("m12", "consultant@freelance.dev", "homer@globex.com"), index)
    assert d.status is RouteStatus.AMBIGUOUS  # empty intersection: the union stays tied
    assert set(d.candidates) == {"acme", "umbrella", "globex-spr", "globex-shb"}
    # a shared contact of acme and umbrella plus an unknown at the conflicting initech.com
    extra = Contact("c20", "initech", "consultant@freelance.dev")
    idx = build(contacts=(*CONTACTS, extra))
    d = route(comm("m13", "consultant@freelance.dev", "x@initech.com"), idx)
    assert (d.status, d.account_ids, d.rule) == (
        RouteStatus.ROUTED, ("initech",), "weak_intersection"
    )


def test_shared_primary_breaks_ties_only_when_given() -> None:
    shared = {"Homer@globex.com": "globex-shb"}
    d = route(comm("m14", "homer@globex.com"), build(shared=shared))
    assert (d.status, d.account_ids, d.rule) == (
        RouteStatus.ROUTED, ("globex-shb",), "shared_primary"
    )
    assert any(e.kind is EvidenceKind.PRIMARY_ACCOUNT for e in d.evidence)
    assert route(comm("m14", "homer@globex.com"), build()).status is RouteStatus.AMBIGUOUS


def test_shared_groups_from_the_shared_contacts_layer() -> None:
    from stakeholder import find_shared_contacts

    groups = find_shared_contacts(CONTACTS)
    d = route(comm("m14b", "homer@globex.com"), build(shared=groups))
    assert d.status is RouteStatus.ROUTED
    assert d.rule == "shared_primary"
    assert d.account_ids[0] in {"globex-spr", "globex-shb"}


def test_subject_alias_breaks_a_tie(index: RoutingIndex) -> None:
    d = route(comm("m15", "homer@globex.com", subject="Re: SHELBYVILLE plant visit"), index)
    assert (d.account_ids, d.rule) == (("globex-shb",), "subject_alias")
    # whole words only
    d = route(comm("m16", "homer@globex.com", subject="Shelbyvilleish"), index)
    assert d.status is RouteStatus.AMBIGUOUS


def test_subject_longest_name_wins(index: RoutingIndex) -> None:
    accounts = (*ACCOUNTS[:4], Account("initech", "Initech", domains=["initech.com"]),
                Account("initrode", "Initech 2", domains=["initech.com"]))
    idx = build(accounts=accounts)
    d = route(comm("m17", "x@initech.com", subject="Initech 2 renewal"), idx)
    assert d.account_ids == ("initrode",)


def test_policy_all_and_primary() -> None:
    d = route(comm("m18", "homer@globex.com"),
              build(policy=RoutingPolicy(ambiguous=AmbiguityResolution.ALL)))
    assert (d.status, d.rule, set(d.account_ids)) == (
        RouteStatus.ROUTED, "policy_all", {"globex-spr", "globex-shb"}
    )
    d = route(comm("m18", "homer@globex.com"),
              build(policy=RoutingPolicy(ambiguous="primary")))
    assert (d.status, d.rule, d.account_ids) == (RouteStatus.ROUTED, "policy_primary",
                                                 ("globex-shb",))
    assert d.evidence[-1].kind is EvidenceKind.POLICY


# --------------------------------------------------------------------------- partners


def test_partner_only_goes_to_the_partner(index: RoutingIndex) -> None:
    d = route(comm("m19", "sam@channel.io", "me@ourco.io"), index)
    assert (d.status, d.account_ids, d.rule) == (RouteStatus.ROUTED, ("reseller",), "partner")
    d = route(comm("m20", "new@channel.io"), index)  # unknown at the partner's domain
    assert d.account_ids == ("reseller",)


def test_partner_with_a_customer_stakeholder(index: RoutingIndex) -> None:
    d = route(comm("m21", "sam@channel.io", "alice@umbrella.com"), index)
    assert d.account_ids == ("umbrella", "reseller")
    assert d.rule == "unique_contact"
    assert kinds(d)["sam@channel.io"] is EvidenceKind.PARTNER
    assert "reseller (partner, associated)" in d.explain()


def test_partner_with_a_resolved_weak_customer(index: RoutingIndex) -> None:
    d = route(comm("m22", "sam@channel.io", "visitor@globex.com"), index)
    assert d.account_ids == ("globex", "reseller")
    d = route(comm("m23", "sam@channel.io", "homer@globex.com"), index)
    assert (d.account_ids, d.rule) == (("reseller",), "partner")
    assert set(d.candidates) == {"globex-spr", "globex-shb"}


# --------------------------------------------------------------------------- set aside


def test_internal_only(index: RoutingIndex) -> None:
    d = route(comm("m24", "me@ourco.io", "you@eu.ourco.io", "noreply@ourco.io"), index)
    assert (d.status, d.rule, d.account_ids) == (RouteStatus.INTERNAL, "internal_only", ())
    assert {e.strength for e in d.evidence} == {Strength.SET_ASIDE}


def test_malformed_local_part_at_an_internal_domain_is_internal() -> None:
    """Issue 11: `m..schmidt@enron.com` (consecutive dots) does not parse, but enron.com
    is ours: the person is internal, with a note, and the message is not rejected."""
    policy = OwnershipPolicy(internal_domains=["enron.com"])
    ownership = resolve_domain_ownership(ACCOUNTS, CONTACTS, policy)
    index = RoutingIndex.build(ACCOUNTS, CONTACTS, ownership)
    d = route(comm("m24b", "Mark Schmidt <m..schmidt@enron.com>"), index)
    assert (d.status, d.rule, d.account_ids) == (RouteStatus.INTERNAL, "internal_only", ())
    (evidence,) = d.evidence
    assert evidence.kind is EvidenceKind.INTERNAL
    assert evidence.address == "m..schmidt@enron.com"
    assert "malformed local part" in evidence.detail
    # a sub-domain of ours too; with a known contact the message routes as usual
    d = route(comm("m24c", "m..schmidt@Houston.Enron.com", "wile@acme.com"), index)
    assert (d.status, d.account_ids, d.rule) == (RouteStatus.ROUTED, ("acme",), "unique_contact")
    assert kinds(d)["m..schmidt@houston.enron.com"] is EvidenceKind.INTERNAL
    # elsewhere, and with a control character, it stays invalid
    for address in ("m..schmidt@acme.com", "m\x00schmidt@enron.com", "m..schmidt@"):
        d = route(comm("m24d", address), index)
        assert (d.status, d.rule) == (RouteStatus.REJECTED, "rejected"), address


def test_personal_unknown_is_unrouted(index: RoutingIndex) -> None:
    d = route(comm("m25", "someone@gmail.com", "me@ourco.io"), index)
    assert (d.status, d.rule) == (RouteStatus.UNROUTED, "no_evidence")
    assert kinds(d)["someone@gmail.com"] is EvidenceKind.PERSONAL
    d = route(comm("m26", "someone@nowhere-in-particular.org"), index)
    assert kinds(d)["someone@nowhere-in-particular.org"] is EvidenceKind.UNKNOWN_DOMAIN


@pytest.mark.parametrize(
    "address",
    [
        "no-reply@acme.com", "noreply@acme.com", "do-not-reply@acme.com",
        "donotreply@acme.com", "MAILER-DAEMON@acme.com", "postmaster@acme.com",
        "calendar-notification@google.com", "bounce-123@acme.com", "bounces+x@acme.com",
        "acme-list-request@lists.acme.com", "owner-acme@lists.acme.com",
        "c_123abc@resource.calendar.google.com", "notifications@github.com",
    ],
)
def test_automated_addresses_are_set_aside(index: RoutingIndex, address: str) -> None:
    assert is_automated_address(address)
    d = route(comm("m27", address, "wile@acme.com"), index)
    assert d.account_ids == ("acme",)
    assert any(e.kind is EvidenceKind.AUTOMATED for e in d.evidence)


@pytest.mark.parametrize("address", ["jane@acme.com", "replyall@acme.com", "bouncer.bob@x.com"])
def test_people_are_not_automated(address: str) -> None:
    assert not is_automated_address(address)


def test_automated_only_is_unrouted(index: RoutingIndex) -> None:
    d = route(comm("m28", "mailer-daemon@acme.com", "not an address"), index)
    assert (d.status, d.rule) == (RouteStatus.UNROUTED, "automated_only")


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "no-at-sign", "a@b@c", "x" * 10_000 + "@acme.com", "bad\x00@acme.com",
     "robert'); DROP TABLE accounts;--@", "jane@аcme.com"],  # the last has a Cyrillic а
)
def test_invalid_addresses_are_set_aside(index: RoutingIndex, raw: str) -> None:
    d = route(comm("m29", raw, "wile@acme.com"), index)
    assert d.account_ids == ("acme",)
    invalid = [e for e in d.evidence if e.kind is EvidenceKind.INVALID]
    assert len(invalid) == 1
    assert invalid[0].strength is Strength.SET_ASIDE
    assert len(invalid[0].address or "") <= 203


def test_unroutable_communications_are_rejected(index: RoutingIndex) -> None:
    d = route(comm("m30", "garbage", "more garbage"), index)
    assert d.status is RouteStatus.REJECTED
    assert "valid" in d.reason
    d = route(Communication("m31", T0, []), index)
    assert d.status is RouteStatus.REJECTED
    assert "no participants" in d.reason


def test_route_raises_for_a_non_communication(index: RoutingIndex) -> None:
    with pytest.raises(InvalidRecord):
        route({"id": "x"}, index)  # type: ignore[arg-type]


def test_route_many_never_raises(index: RoutingIndex) -> None:
    items = [comm("ok", "wile@acme.com"), None, {"id": "d"}, Communication("e", T0, [])]
    decisions = list(route_many(items, index))  # type: ignore[arg-type]
    assert [d.status for d in decisions] == [
        RouteStatus.ROUTED, RouteStatus.REJECTED, RouteStatus.REJECTED, RouteStatus.REJECTED
    ]
    assert [d.comm_id for d in decisions] == ["ok", "#1", "#2", "e"]
    assert all(d.reason for d in decisions[1:])


def test_index_reports_what_it_set_aside(index: RoutingIndex) -> None:
    reasons = {r.record_id: r.reason for r in index.rejections}
    assert "unknown account id" in reasons["c13"]
    assert "not valid" in reasons["c12"]
    assert "acme" in index.accounts
    assert index.partner_ids == frozenset({"reseller"})
    assert index.internal_domains == frozenset({"ourco.io"})
    assert index.evidence_for("Wile <wile@acme.com>").kind is EvidenceKind.UNIQUE_CONTACT
    assert "RoutingIndex(" in repr(index)


def test_duplicate_account_ids_keep_one_deterministically() -> None:
    a1 = Account("dup", "Zeta", domains=["zeta.com"])
    a2 = Account("dup", "Alpha", domains=["alpha.com"])
    one = RoutingIndex.build([a1, a2], [], resolve_domain_ownership([a1], []))
    two = RoutingIndex.build([a2, a1], [], resolve_domain_ownership([a1], []))
    assert one.accounts["dup"] == two.accounts["dup"] == a2
    assert len(one.rejections) == 1


# --------------------------------------------------------------------------- overrides


def test_override_by_communication_id() -> None:
    ov = Override("acme", author="dana@ourco.io", reason="Customer asked", at=T0,
                  comm_id="m32")
    idx = build(overrides=[ov])
    d = route(comm("m32", "homer@globex.com"), idx)
    assert (d.status, d.account_ids, d.rule, d.confidence) == (
        RouteStatus.ROUTED, ("acme",), "override", 1.0
    )
    assert d.evidence[0].kind is EvidenceKind.OVERRIDE
    text = d.explain()
    assert "dana@ourco.io" in text
    assert "Customer asked" in text
    assert route(comm("m33", "homer@globex.com"), idx).status is RouteStatus.AMBIGUOUS


def test_override_by_thread_latest_wins() -> None:
    old = Override("acme", author="b", reason="first", at=T0, thread_id="t1")
    new = Override("umbrella", author="a", reason="second", at=T0 + dt.timedelta(hours=1),
                   thread_id="t1")
    for overrides in ([old, new], [new, old]):
        idx = build(overrides=overrides)
        d = route(comm("m34", "wile@acme.com", thread="t1"), idx)
        assert d.account_ids == ("umbrella",)
        assert "second" in d.explain()
    # ties on `at` break on author, then reason
    x = Override("acme", author="zed", reason="r", at=T0, comm_id="m35")
    y = Override("umbrella", author="amy", reason="r", at=T0, comm_id="m35")
    assert route(comm("m35", "wile@acme.com"), build(overrides=[x, y])).account_ids == (
        "umbrella",
    )
    assert route(comm("m35", "wile@acme.com"), build(overrides=[y, x])).account_ids == (
        "umbrella",
    )


def test_override_wins_over_a_rejection(index: RoutingIndex) -> None:
    ov = Override("acme", author="a", reason="r", at=T0, comm_id="m36")
    d = route(Communication("m36", T0, []), index.with_overrides([ov]))
    assert (d.status, d.account_ids) == (RouteStatus.ROUTED, ("acme",))


# --------------------------------------------------------------------------- thread memory


def test_thread_memory_breaks_a_later_tie(index: RoutingIndex) -> None:
    first = comm("t-1", "homer@globex.com", "bart@globex.com", thread="th", at=0)
    second = comm("t-2", "homer@globex.com", thread="th", at=5)
    other = comm("t-3", "homer@globex.com", thread="other", at=6)
    d1, d2, d3 = route_many([first, second, other], index)
    assert d1.account_ids == ("globex-shb",)
    assert (d2.status, d2.account_ids, d2.rule) == (
        RouteStatus.ROUTED, ("globex-shb",), "thread_memory"
    )
    assert any(e.kind is EvidenceKind.THREAD_MEMORY for e in d2.evidence)
    assert d3.status is RouteStatus.AMBIGUOUS
    # route() alone has no memory
    assert route(second, index).status is RouteStatus.AMBIGUOUS


def test_thread_memory_comes_before_primary_and_subject() -> None:
    idx = build(shared={"homer@globex.com": "globex-spr"})
    first = comm("t-1", "bart@globex.com", thread="th")
    second = comm("t-2", "homer@globex.com", thread="th", subject="Springfield")
    _, d2 = route_many([first, second], idx)
    assert (d2.account_ids, d2.rule) == (("globex-shb",), "thread_memory")


def test_thread_memory_is_not_replaced_by_its_own_echo(index: RoutingIndex) -> None:
    seq = [
        comm("a", "homer@globex.com", "bart@globex.com", thread="th"),  # shb
        comm("b", "homer@globex.com", thread="th"),  # memory: shb
        comm("c", "homer@globex.com", thread="th"),  # still shb
    ]
    assert [d.account_ids for d in route_many(seq, index)] == [("globex-shb",)] * 3


# --------------------------------------------------------------------------- decisions


def test_decision_round_trips_and_renders(index: RoutingIndex) -> None:
    ov = Override(["acme", "umbrella"], author="x", reason="<b>why</b>", at=T0, comm_id="m40")
    for d in [
        route(comm("m40", "wile@acme.com"), index.with_overrides([ov])),
        route(comm("m41", "homer@globex.com", "bad", subject="Ünïcode ✓"), index),
        route(comm("m42", "bad"), index),
    ]:
        data = json.loads(json.dumps(d.to_dict()))
        assert RoutingDecision.from_dict(data) == d
        html = d._repr_html_()
        assert "<table>" in html
        assert "<b>why</b>" not in html
        assert d.comm_id in d.explain()


def test_every_rule_has_a_confidence_and_description() -> None:
    from stakeholder._routing import RULE_DESCRIPTIONS

    assert set(ROUTING_CONFIDENCE) == {r.value for r in RoutingRule} == set(RULE_DESCRIPTIONS)
    assert all(0.0 <= c <= 1.0 for c in ROUTING_CONFIDENCE.values())


def test_thread_memory_learns_from_evidence_not_from_tie_breaks(index: RoutingIndex) -> None:
    seq = [
        comm("a", "homer@globex.com", subject="Springfield visit", thread="th"),  # subject
        comm("b", "homer@globex.com", thread="th"),  # nothing learned: still a tie
        comm("c", "sam@channel.io", "homer@globex.com", thread="th2"),  # partner only
        comm("d", "homer@globex.com", "visitor@globex.com", thread="th2"),
    ]
    a, b, c, d = route_many(seq, index)
    assert (a.account_ids, a.rule) == (("globex-spr",), "subject_alias")
    assert b.status is RouteStatus.AMBIGUOUS
    assert (c.account_ids, c.rule) == (("reseller",), "partner")
    # homer (spr, shb) and an unknown at globex.com (the parent): no intersection, and
    # the thread only remembers the partner: still tied
    assert d.status is RouteStatus.AMBIGUOUS


def test_partner_with_a_customer_found_by_a_tie_break(index: RoutingIndex) -> None:
    d = route(comm("m50", "sam@channel.io", "homer@globex.com", subject="Shelbyville"), index)
    assert (d.account_ids, d.rule) == (("globex-shb", "reseller"), "subject_alias")


def test_an_override_by_id_does_not_teach_thread_memory(index: RoutingIndex) -> None:
    fix = Override("globex-spr", author="dana", reason="wrong site", at=T0, comm_id="a")
    seq = [
        comm("a", "homer@globex.com", "bart@globex.com", thread="th"),
        comm("b", "homer@globex.com", thread="th"),
    ]
    a, b = route_many(seq, index.with_overrides([fix]))
    assert (a.account_ids, a.rule) == (("globex-spr",), "override")
    assert all(e.strength is not Strength.TIEBREAK for e in a.evidence)
    # b is decided as without the override: by what a's evidence said
    assert (b.account_ids, b.rule) == (("globex-shb",), "thread_memory")
    by_thread = Override("globex-spr", author="dana", reason="wrong site", at=T0,
                         thread_id="th")
    assert [d.account_ids for d in route_many(seq, index.with_overrides([by_thread]))] == [
        ("globex-spr",), ("globex-spr",)
    ]


def test_a_tiny_address_cache_gives_the_same_decisions(index: RoutingIndex) -> None:
    seq = [
        comm("a", "Wile <wile@acme.com>", "homer@globex.com", "WILE@acme.com"),
        comm("b", "homer@globex.com", "bart@globex.com", "x@initech.com", thread="t"),
        comm("c", "homer@globex.com", thread="t"),
        comm("d", "me@ourco.io", "no-reply@acme.com", "bad"),
    ]
    tiny = build(cache_size=1)
    assert list(route_many(seq, tiny)) == list(route_many(seq, index))
    with pytest.raises(ValueError, match="cache_size"):
        build(cache_size=0)


def test_a_full_address_cache_forgets_its_older_half() -> None:
    """Issue 17: the caches are bounded (`DEFAULT_CACHE_SIZE`) and, when full, keep the
    newer half, so a recent working set stays classified; decisions never change."""
    assert DEFAULT_CACHE_SIZE == 32_768
    small = build(cache_size=8)
    addresses = [f"p{i}@acme.com" for i in range(20)]
    for a in addresses:
        small.evidence_for(a)
    assert len(small._memo) <= 8
    assert len(small._by_canonical) <= 8
    assert addresses[-1] in small._memo
    assert addresses[0] not in small._memo
    assert small.evidence_for(addresses[0]) == build().evidence_for(addresses[0])
    # the evidence cached per address and role is bounded the same way
    seq = [
        comm(f"m{i}", addresses[i], f"x{i}@globex.com", "homer@globex.com")
        for i in range(len(addresses))
    ]
    assert list(route_many(seq, small)) == list(route_many(seq, build()))
    assert all(len(cache) <= 8 for cache in small._evidence)


def test_spellings_of_one_address_share_a_verdict_whichever_comes_first() -> None:
    """A plain canonical address is memoised once (the canonical map keeps only the
    spellings that differ from their canonical form); any spelling, seen before or after
    it, with a roomy or a tiny cache, gives the evidence a fresh index gives."""
    spellings = [
        "wile@acme.com", "Wile <WILE@acme.com>", '"W" <wile+deals@ACME.com>',
        "homer@globex.com", "Homer <Homer@Globex.com>", "homer+x@globex.com",
        "new@acme.com", "NEW@ACME.COM", "me@ourco.io", "Me <ME@ourco.io>",
    ]
    fresh = {s: build().evidence_for(s) for s in spellings}
    for size in (1, 2, 1 << 10):
        for order in (spellings, spellings[::-1], spellings[1::2] + spellings[::2]):
            shared = build(cache_size=size)
            for _ in range(2):
                for s in order:
                    assert shared.evidence_for(s) == fresh[s], (size, s)
            assert len(shared._by_canonical) <= size
    # the canonical map holds a key only when a spelling that is not already canonical
    # was classified before the plain address was
    roomy = build()
    for s in spellings:
        roomy.evidence_for(s)
    assert not roomy._by_canonical
    assert len(roomy._memo) == len(spellings)
    roomy = build()
    for s in spellings[::-1]:
        roomy.evidence_for(s)
    assert sorted(roomy._by_canonical) == [
        "homer@globex.com", "me@ourco.io", "new@acme.com", "wile@acme.com"
    ]


def test_internationalised_addresses_match_in_either_form() -> None:
    accounts = (Account("buch", "Bücher GmbH", domains=["bücher.de"]),
                Account("att", "AT&T (US)", domains=["att.com"]),
                Account("att2", "AT&T Mobility", domains=["att.com"]))
    contacts = (Contact("k1", "buch", "jörg@bücher.de"),)
    ownership = resolve_domain_ownership(accounts, contacts)
    idx = RoutingIndex.build(accounts, contacts, ownership)
    d = route(comm("i1", "Jörg <JÖRG@xn--bcher-kva.de>"), idx)
    assert (d.account_ids, d.rule) == (("buch",), "unique_contact")
    assert route(comm("i2", "neu@BÜCHER.de"), idx).rule == "domain_sync"
    # names with regular-expression metacharacters match literally, as whole words
    d = route(comm("i3", "ops@att.com", subject="Re: at&t (us) outage"), idx)
    assert (d.account_ids, d.rule) == (("att",), "subject_alias")
    d = route(comm("i4", "ops@att.com", subject="AT&T (US)x " + "z" * 10_000), idx)
    assert d.status is RouteStatus.AMBIGUOUS


def test_odd_subjects_and_ids_do_not_break_routing(index: RoutingIndex) -> None:
    for subject in ["", "\x00\x1f control", "'; DROP TABLE decisions; --", "Ünïcödé 🚀"]:
        d = route(comm("odd\u200bid", "homer@globex.com", subject=subject), index)
        assert d.status is RouteStatus.AMBIGUOUS
        assert RoutingDecision.from_dict(json.loads(json.dumps(d.to_dict()))) == d


def test_build_rejects_what_is_not_an_ownership_and_sets_aside_bad_items() -> None:
    with pytest.raises(InvalidRecord):
        RoutingIndex.build(ACCOUNTS, CONTACTS, None)  # type: ignore[arg-type]
    ownership = resolve_domain_ownership(ACCOUNTS, CONTACTS, POLICY)
    idx = RoutingIndex.build([*ACCOUNTS, "junk"], [*CONTACTS, 42], ownership,  # type: ignore[list-item]
                             overrides=["nope"])  # type: ignore[list-item]
    assert {r.reason for r in idx.rejections} >= {"not an Account", "not a Contact",
                                                   "not an Override"}
    assert route(comm("ok", "wile@acme.com"), idx).account_ids == ("acme",)
