"""Domain ownership: the scenarios of issue 3, rejections and explanations."""

from __future__ import annotations

import copy
import json
import pickle
import random

import pytest

from stakeholder import (
    Account,
    ClaimKind,
    Contact,
    DomainClaim,
    DomainOwnership,
    DomainStatus,
    InvalidDomain,
    InvalidEmail,
    IssueKind,
    OwnershipPolicy,
    PersonalDomains,
    SkipReason,
    StakeholderError,
    SyncMode,
    UnknownAccount,
    normalize_host,
    registrable_domain,
    resolve_domain_ownership,
)


def contacts_of(account_id: str, *emails: str | None, start: int = 0) -> list[Contact]:
    return [
        Contact(id=f"{account_id}-c{i}", account_id=account_id, email=email)
        for i, email in enumerate(emails, start=start)
    ]


def at(domain: str, n: int, prefix: str = "p") -> list[str]:
    return [f"{prefix}{i}@{domain}" for i in range(n)]


def claim_kinds(result: DomainOwnership, account_id: str) -> dict[str, ClaimKind]:
    return {c.domain: c.kind for c in result.account(account_id).claims}


# --------------------------------------------------------------------------- dominant


def test_dominant_domain_is_the_most_frequent_contact_domain() -> None:
    accounts = [Account(id="a", name="Acme")]
    contacts = contacts_of("a", *at("acme.com", 3), *at("vendor.io", 1))
    result = resolve_domain_ownership(accounts, contacts)
    assert claim_kinds(result, "a") == {"acme.com": ClaimKind.DOMINANT}
    assert result.account("a").dominant == "acme.com"
    assert result.owner("acme.com") == "a"
    assert result.status("acme.com") is DomainStatus.UNIQUE
    assert result.claims == (DomainClaim("acme.com", "a", ClaimKind.DOMINANT, 3),)
    assert result.mode("a") is SyncMode.DOMAIN
    assert result.owner("vendor.io") is None


def test_dominant_tie_prefers_a_declared_domain_else_no_dominant_and_an_issue() -> None:
    contacts = contacts_of("a", *at("zeta.com", 2), *at("alpha.com", 2))
    plain = resolve_domain_ownership([Account(id="a", name="A")], contacts)
    # never broken by the spelling of the domains: no dominant domain, and an issue
    assert plain.account("a").dominant is None
    assert claim_kinds(plain, "a") == {}
    (issue,) = plain.issues
    assert issue.kind is IssueKind.DOMINANT_TIE
    assert issue.account_ids == ("a",)
    assert "alpha.com, zeta.com" in issue.reason

    declared = resolve_domain_ownership(
        [Account(id="a", name="A", domains=["zeta.com"])], contacts
    )
    assert declared.account("a").dominant == "zeta.com"
    # zeta.com is claimed once, as DECLARED (the strongest kind); alpha.com is not
    # dominant and has fewer than 3 contacts.
    assert claim_kinds(declared, "a") == {"zeta.com": ClaimKind.DECLARED}


def test_account_without_counted_contacts_has_no_dominant_claim() -> None:
    contacts = contacts_of("a", None, "not an email", *at("gmail.com", 5))
    result = resolve_domain_ownership([Account(id="a", name="A")], contacts)
    assert result.account("a").dominant is None
    assert result.claims == ()
    assert result.mode("a") is SyncMode.CONTACT


# --------------------------------------------------------------------------- secondary


@pytest.mark.parametrize(("n", "claimed"), [(2, False), (3, True)])
def test_secondary_needs_secondary_min_contacts(n: int, claimed: bool) -> None:
    accounts = [Account(id="a", name="Acme", domains=["acme.com"])]
    contacts = contacts_of("a", *at("acme.com", 5), *at("acme-labs.com", n))
    result = resolve_domain_ownership(accounts, contacts)
    kinds = claim_kinds(result, "a")
    assert kinds["acme.com"] is ClaimKind.DECLARED
    if claimed:
        assert kinds["acme-labs.com"] is ClaimKind.SECONDARY
        assert result.status("acme-labs.com") is DomainStatus.UNIQUE
    else:
        assert "acme-labs.com" not in kinds
        assert result.status("acme-labs.com") is None
        assert "fewer than secondary_min_contacts=3" in result.explain("acme-labs.com")


def test_secondary_threshold_is_configurable() -> None:
    accounts = [Account(id="a", name="Acme", domains=["acme.com"])]
    contacts = contacts_of("a", *at("acme.com", 5), *at("acme-labs.com", 2))
    result = resolve_domain_ownership(
        accounts, contacts, OwnershipPolicy(secondary_min_contacts=2)
    )
    assert claim_kinds(result, "a")["acme-labs.com"] is ClaimKind.SECONDARY


def test_secondary_domain_also_used_by_another_account_is_not_claimed() -> None:
    accounts = [
        Account(id="a", name="Acme", domains=["acme.com"]),
        Account(id="b", name="Beta", domains=["beta.com"]),
    ]
    contacts = contacts_of("a", *at("acme.com", 5), *at("agency.com", 4))
    contacts += contacts_of("b", *at("beta.com", 5), *at("agency.com", 1, prefix="q"))
    result = resolve_domain_ownership(accounts, contacts)
    assert result.status("agency.com") is None
    assert "agency.com" not in claim_kinds(result, "a")
    explanation = result.explain("agency.com")
    assert "no other account uses" in explanation or "also have contacts there" in explanation
    assert "b ('Beta')" in explanation


def test_secondary_domain_declared_by_another_account_goes_to_the_declarer() -> None:
    accounts = [
        Account(id="a", name="Acme", domains=["acme.com"]),
        Account(id="b", name="Agency", domains=["agency.com"]),
    ]
    contacts = contacts_of("a", *at("acme.com", 5), *at("agency.com", 4))
    result = resolve_domain_ownership(accounts, contacts)
    assert result.claimants("agency.com") == ("b",)
    assert result.status("agency.com") is DomainStatus.UNIQUE
    assert result.owner("agency.com") == "b"


def test_secondary_domain_dominant_for_another_account_goes_to_that_account() -> None:
    accounts = [Account(id="a", name="Acme", domains=["acme.com"]), Account(id="b", name="B")]
    contacts = contacts_of("a", *at("acme.com", 5), *at("agency.com", 3))
    contacts += contacts_of("b", *at("agency.com", 1, prefix="q"))
    result = resolve_domain_ownership(accounts, contacts)
    assert result.claimants("agency.com") == ("b",)
    assert claim_kinds(result, "b") == {"agency.com": ClaimKind.DOMINANT}


# --------------------------------------------------------------------------- personal, internal


def test_personal_domains_are_never_claimed_from_contacts() -> None:
    accounts = [Account(id="a", name="Acme", domains=["acme.com"])]
    contacts = contacts_of("a", *at("gmail.com", 10), *at("yahoo.com", 4), "x@acme.com")
    result = resolve_domain_ownership(accounts, contacts)
    assert claim_kinds(result, "a") == {"acme.com": ClaimKind.DECLARED}
    assert result.account("a").dominant == "acme.com"
    assert result.skipped[SkipReason.PERSONAL_DOMAIN] == 14
    assert result.owner("gmail.com") is None
    assert result.status("jane@gmail.com") is None
    assert "personal mail domain" in result.explain("gmail.com")
    assert "14 personal domain" in result.explain_account("a")


def test_a_declared_personal_host_is_honoured_and_reported() -> None:
    accounts = [Account(id="a", name="Acme", domains=["acme.com", "gmail.com"])]
    result = resolve_domain_ownership(accounts, contacts_of("a", "x@acme.com"))
    assert claim_kinds(result, "a") == {
        "acme.com": ClaimKind.DECLARED,
        "gmail.com": ClaimKind.DECLARED,
    }
    assert result.owner("gmail.com") == "a"
    issue = result.issue("gmail.com")
    assert issue is not None
    assert issue.kind is IssueKind.PERSONAL_DECLARED
    assert "personal mail list" in issue.reason
    assert "personal_declared" in result.explain("gmail.com")


def test_personal_domains_are_configurable() -> None:
    personal = PersonalDomains.default().without("gmail.com").with_domains("mailinator.net")
    accounts = [Account(id="g", name="Google", domains=["gmail.com"])]
    contacts = contacts_of("g", *at("mailinator.net", 3))
    result = resolve_domain_ownership(
        accounts, contacts, OwnershipPolicy(personal_domains=personal)
    )
    assert result.owner("gmail.com") == "g"
    assert result.owner("mailinator.net") is None


def test_internal_domains_are_never_claimed() -> None:
    policy = OwnershipPolicy(internal_domains={"OurCo.com."})
    assert policy.internal_domains == frozenset({"ourco.com"})
    accounts = [Account(id="a", name="Acme", domains=["acme.com", "ourco.com"])]
    contacts = contacts_of("a", *at("ourco.com", 5), *at("eu.ourco.com", 5, "q"), "x@acme.com")
    result = resolve_domain_ownership(accounts, contacts, policy)
    assert claim_kinds(result, "a") == {"acme.com": ClaimKind.DECLARED}
    assert result.skipped[SkipReason.INTERNAL_DOMAIN] == 10
    assert result.owner("ourco.com") is None
    assert policy.is_internal("jane.eu.ourco.com")
    assert "internal_domains" in result.explain("ourco.com")
    assert "10 contacts there were skipped" in result.explain("ourco.com")


# --------------------------------------------------------------------------- folding


def test_subdomains_fold_to_the_registrable_domain_under_the_folding_policy() -> None:
    accounts = [Account(id="a", name="Acme UK", domains=["www.acme.co.uk"])]
    contacts = contacts_of("a", "x@eu.acme.co.uk", "y@us.mail.acme.co.uk", "z@ACME.CO.UK")
    hosts = resolve_domain_ownership(accounts, contacts)
    # host level (the default): the declared host as declared, contacts fold elsewhere
    assert hosts.claims == (
        DomainClaim("acme.co.uk", "a", ClaimKind.DOMINANT, 3),
        DomainClaim("www.acme.co.uk", "a", ClaimKind.DECLARED, 0),
    )
    result = resolve_domain_ownership(
        accounts, contacts, OwnershipPolicy(fold_to_registrable=True)
    )
    assert result.claims == (DomainClaim("acme.co.uk", "a", ClaimKind.DECLARED, 3),)
    for query in ("acme.co.uk", "mail.acme.co.uk", "Jane@Sales.ACME.co.uk", "acme.co.uk."):
        assert result.owner(query) == "a"
    # The private section of the PSL: each github.io site is its own registrable domain.
    pages = resolve_domain_ownership(
        [Account(id="p", name="P", domains=["acme.github.io"])], []
    )
    assert pages.owner("acme.github.io") == "p"
    assert pages.owner("other.github.io") is None


def test_internationalised_domains_fold_to_their_ascii_form() -> None:
    accounts = [Account(id="b", name="Bücher", domains=["bücher.de"])]
    contacts = contacts_of("b", "anna@bücher.de", "ben@shop.xn--bcher-kva.de")
    result = resolve_domain_ownership(accounts, contacts)
    assert result.owner("xn--bcher-kva.de") == "b"
    assert result.owner("BÜCHER.de") == "b"
    assert result.claims[0].contacts == 2


# --------------------------------------------------------------------------- shared, conflict


def globex(parent: bool = False) -> list[Account]:
    sites = [
        Account(id="g-east", name="Globex East", parent_id="g" if parent else None),
        Account(id="g-west", name="Globex West", parent_id="g" if parent else None),
    ]
    return [Account(id="g", name="Globex Corporation"), *sites] if parent else sites


def globex_contacts() -> list[Contact]:
    return contacts_of("g-east", *at("globex.com", 4)) + contacts_of(
        "g-west", *at("globex.com", 2, "w"), *at("eu.globex.com", 1, "e")
    )


def test_a_domain_shared_by_default_is_a_conflict_with_one_sync_issue() -> None:
    result = resolve_domain_ownership(globex(), globex_contacts())
    assert result.status("globex.com") is DomainStatus.CONFLICT
    assert result.claimants("globex.com") == ("g-east", "g-west")
    assert result.owner("globex.com") is None
    assert result.hierarchy_owner("globex.com") is None
    assert len(result.issues) == 1
    issue = result.issues[0]
    assert issue.domain == "globex.com"
    assert issue.account_ids == ("g-east", "g-west")
    assert "not allowed" in issue.reason
    assert "--shared-domain globex.com" in issue.suggestion
    assert result.issue("globex.com") == issue
    assert result.mode("g-east") is SyncMode.CONTACT
    assert result.mode("g-west") is SyncMode.CONTACT
    assert result.mode_for("g-east", "globex.com") is SyncMode.CONTACT
    text = result.explain("globex.com")
    assert "CONFLICT" in text
    assert "Suggested fix" in text


@pytest.mark.parametrize(
    "policy",
    [OwnershipPolicy(shared_domains={"globex.com"}), OwnershipPolicy(allow_all_shared=True)],
)
def test_a_domain_allowed_as_shared_is_shared_without_issue(policy: OwnershipPolicy) -> None:
    result = resolve_domain_ownership(globex(), globex_contacts(), policy)
    assert result.status("globex.com") is DomainStatus.SHARED
    assert result.claimants("globex.com") == ("g-east", "g-west")
    assert result.issues == ()
    assert result.owner("globex.com") is None  # several claimants, no common ancestor
    assert result.mode("g-east") is SyncMode.CONTACT  # shared is not unique
    text = result.explain("globex.com")
    assert "SHARED" in text
    assert ("shared_domains" in text) or ("allow_all_shared" in text)


def test_a_shared_domain_under_one_parent_has_a_hierarchy_owner() -> None:
    result = resolve_domain_ownership(globex(parent=True), globex_contacts())
    assert result.status("globex.com") is DomainStatus.SHARED
    assert result.entry("globex.com") is not None
    assert result.entry("globex.com").rule == "hierarchy"  # type: ignore[union-attr]
    assert result.hierarchy_owner("globex.com") == "g"
    assert result.owner("globex.com") == "g"
    assert result.issues == ()
    assert result.mode_for("g", "globex.com") is SyncMode.DOMAIN
    assert result.mode_for("g-east", "globex.com") is SyncMode.CONTACT
    # Account-level mode follows the vendor rule: DOMAIN needs a UNIQUE domain.
    assert result.mode("g") is SyncMode.CONTACT
    assert "hierarchy owner" in result.explain("globex.com")
    assert "hierarchy owner of globex.com" in result.explain_account("g")
    # Allowed as shared too: still the hierarchy owner, still no issue.
    allowed = resolve_domain_ownership(
        globex(parent=True), globex_contacts(), OwnershipPolicy(shared_domains={"globex.com"})
    )
    assert allowed.hierarchy_owner("globex.com") == "g"
    assert allowed.issues == ()


def test_the_parent_claiming_too_is_its_own_hierarchy_owner() -> None:
    accounts = [Account(id="g", name="Globex", domains=["globex.com"]), *globex(parent=True)[1:]]
    result = resolve_domain_ownership(accounts, globex_contacts())
    # the children's contacts at a host their parent declares make no claim, and are
    # no issue either (a hierarchy is expected to share its parent's host)
    assert result.claimants("globex.com") == ("g",)
    assert result.owner("globex.com") == "g"
    assert result.issues == ()


def test_nearest_common_ancestor_is_chosen() -> None:
    accounts = [
        Account(id="root", name="Holding"),
        Account(id="eu", name="Europe", parent_id="root"),
        Account(id="fr", name="France", parent_id="eu", domains=["globex.eu"]),
        Account(id="de", name="Germany", parent_id="eu", domains=["globex.eu"]),
        Account(id="us", name="USA", parent_id="root", domains=["globex.com"]),
        Account(id="ca", name="Canada", parent_id="root", domains=["globex.com"]),
        Account(id="mx", name="Mexico", parent_id="us", domains=["globex.com"]),
    ]
    result = resolve_domain_ownership(accounts, [])
    assert result.hierarchy_owner("globex.eu") == "eu"
    assert result.hierarchy_owner("globex.com") == "root"


def test_a_parent_missing_from_the_data_gives_no_hierarchy_owner() -> None:
    result = resolve_domain_ownership(globex(parent=True)[1:], globex_contacts())
    assert result.status("globex.com") is DomainStatus.CONFLICT
    assert result.hierarchy_owner("globex.com") is None
    dangling = [r for r in result.rejections if r.where == "accounts.parent_id"]
    assert sorted(r.record_id or "" for r in dangling) == ["g-east", "g-west"]
    assert all("no account has that id" in r.reason for r in dangling)


def test_parent_cycles_are_reported_and_ignored() -> None:
    accounts = [
        Account(id="a", name="A", parent_id="b", domains=["loop.com"]),
        Account(id="b", name="B", parent_id="c", domains=["loop.com"]),
        Account(id="c", name="C", parent_id="a"),
        Account(id="d", name="D", parent_id="a", domains=["loop.com"]),
    ]
    result = resolve_domain_ownership(accounts, [])
    cycle = [r for r in result.rejections if "cycle" in r.reason]
    assert sorted(r.record_id or "" for r in cycle) == ["a", "b", "c"]
    assert all("a -> b -> c -> a" in r.reason for r in cycle)
    assert result.account("d").parent_id == "a"
    assert result.account("a").parent_id is None
    # a, b, d: after dropping the cycle's links, a is an ancestor of d but not of b.
    assert result.status("loop.com") is DomainStatus.CONFLICT
    # A self-parent cannot even be built.
    with pytest.raises(StakeholderError):
        Account(id="s", name="S", parent_id="s")


def test_a_long_parent_chain_resolves_without_recursion() -> None:
    n = 5000
    accounts = [
        Account(id=f"n{i}", name=f"N{i}", parent_id=f"n{i - 1}" if i else None)
        for i in range(n)
    ]
    accounts += [
        Account(id="leaf-a", name="LA", parent_id=f"n{n - 1}", domains=["chain.com"]),
        Account(id="leaf-b", name="LB", parent_id=f"n{n - 2}", domains=["chain.com"]),
    ]
    result = resolve_domain_ownership(accounts, [])
    assert result.hierarchy_owner("chain.com") == f"n{n - 2}"


# --------------------------------------------------------------------------- modes


def test_modes_per_account_and_per_domain() -> None:
    accounts = [
        Account(id="a", name="Acme", domains=["acme.com", "globex.com"]),
        Account(id="b", name="Globex", domains=["globex.com"]),
    ]
    result = resolve_domain_ownership(accounts, [])
    assert result.mode("a") is SyncMode.DOMAIN
    assert result.mode("b") is SyncMode.CONTACT
    assert result.mode_for("a", "acme.com") is SyncMode.DOMAIN
    assert result.mode_for("a", "globex.com") is SyncMode.CONTACT
    assert result.mode_for("b", "acme.com") is SyncMode.CONTACT
    assert result.account("a").unique_domains == ("acme.com",)
    assert "domain sync" in result.explain_account("a")
    assert "contact sync" in result.explain_account("b")


# --------------------------------------------------------------------------- bad input


def test_contacts_without_usable_email_are_counted_as_skipped() -> None:
    long = "x" * 10_000 + "@acme.com"
    contacts = contacts_of(
        "a",
        None,
        "   ",
        "no-at-sign",
        long,
        "bell\x07@acme.com",
        "jane@аcme.com",  # Cyrillic "а": a look-alike domain
        "robert'); DROP TABLE contacts;--@acme.com",
        "jane@co.uk",
        "ok@acme.com",
    )
    result = resolve_domain_ownership([Account(id="a", name="A")], contacts)
    account = result.account("a")
    assert account.contacts == len(contacts)
    assert account.counted + sum(n for _r, n in account.skipped) == len(contacts)
    assert sum(result.skipped.values()) == len(contacts) - account.counted
    assert result.skipped[SkipReason.NO_EMAIL] == 2
    assert result.skipped[SkipReason.INVALID_EMAIL] >= 4
    assert result.rejections == ()
    assert result.owner("acme.com") == "a"


def test_contacts_of_unknown_accounts_are_rejected_with_a_reason() -> None:
    accounts = [Account(id="a", name="A")]
    contacts = contacts_of("a", "x@acme.com") + contacts_of("ghost", "y@ghost.com")
    result = resolve_domain_ownership(accounts, contacts)
    assert [(r.where, r.record_id) for r in result.rejections] == [("contacts", "ghost-c0")]
    assert "'ghost'" in result.rejections[0].reason or "ghost" in result.rejections[0].reason
    assert result.owner("ghost.com") is None


def test_duplicate_account_ids_differing_are_all_set_aside() -> None:
    accounts = [
        Account(id="a", name="Acme", domains=["acme.com"]),
        Account(id="a", name="Acme Inc", domains=["acme.io"]),
        Account(id="b", name="B", parent_id="a", domains=["b.com"]),
    ]
    contacts = contacts_of("a", "x@acme.com")
    result = resolve_domain_ownership(accounts, contacts)
    assert "a" not in result.accounts
    assert result.claims == (DomainClaim("b.com", "b", ClaimKind.DECLARED, 0),)
    reasons = [(r.where, r.record_id, r.reason) for r in result.rejections]
    assert sum(1 for w, i, _ in reasons if w == "accounts" and i == "a") == 2
    assert any(w == "contacts" and "set aside" in why for w, _i, why in reasons)
    assert any(w == "accounts.parent_id" and "set aside" in why for w, _i, why in reasons)
    with pytest.raises(UnknownAccount, match="set aside"):
        result.mode("a")


def test_exact_duplicates_are_counted_once() -> None:
    account = Account(id="a", name="Acme", domains=["acme.com"])
    contact = Contact(id="c", account_id="a", email="x@acme.com")
    result = resolve_domain_ownership([account, account], [contact, contact, contact])
    assert result.claims == (DomainClaim("acme.com", "a", ClaimKind.DECLARED, 1),)
    assert len(result.rejections) == 3
    assert all("counted once" in r.reason for r in result.rejections)


def test_duplicate_contact_ids_differing_are_all_set_aside() -> None:
    contacts = [
        Contact(id="c", account_id="a", email="x@acme.com"),
        Contact(id="c", account_id="a", email="y@acme.com"),
    ]
    result = resolve_domain_ownership([Account(id="a", name="A")], contacts)
    assert result.claims == ()
    assert [r.record_id for r in result.rejections] == ["c", "c"]


def test_items_of_the_wrong_type_are_rejected_not_raised() -> None:
    result = resolve_domain_ownership(
        [Account(id="a", name="A"), "not an account", None],  # type: ignore[list-item]
        [42, Contact(id="c", account_id="a", email="x@a.com")],  # type: ignore[list-item]
    )
    assert result.owner("a.com") == "a"
    reasons = sorted(r.reason for r in result.rejections)
    assert reasons == [
        "not a Contact (got int)",
        "not an Account (got NoneType)",
        "not an Account (got str)",
    ]


def test_a_declared_public_suffix_is_rejected() -> None:
    result = resolve_domain_ownership([Account(id="a", name="A", domains=["co.uk"])], [])
    assert result.claims == ()
    assert [(r.where, r.record_id) for r in result.rejections] == [("accounts.domains", "a")]
    assert "public suffix" in result.rejections[0].reason


def test_empty_input() -> None:
    result = resolve_domain_ownership([], [])
    assert result.claims == ()
    assert result.to_records() == []
    assert "not claimed" in result.explain("acme.com")
    assert "<table>" in result._repr_html_()


# --------------------------------------------------------------------------- policy


def test_policy_folds_and_validates_domains() -> None:
    policy = OwnershipPolicy(shared_domains=["Mail.Globex.com", "globex.com."])
    assert policy.shared_domains == frozenset({"globex.com", "mail.globex.com"})
    assert policy.is_shared("globex.com")
    with pytest.raises(InvalidDomain):
        OwnershipPolicy(internal_domains={"co.uk"})
    with pytest.raises(InvalidDomain):
        OwnershipPolicy(shared_domains={"10.0.0.1"})
    with pytest.raises(ValueError, match="secondary_min_contacts"):
        OwnershipPolicy(secondary_min_contacts=0)
    with pytest.raises(TypeError):
        OwnershipPolicy(secondary_min_contacts=True)


# --------------------------------------------------------------------------- look-ups


def test_lookups_reject_what_is_not_a_domain() -> None:
    result = resolve_domain_ownership(globex(), globex_contacts())
    with pytest.raises(InvalidDomain):
        result.owner("10.0.0.1")
    with pytest.raises(InvalidDomain):
        result.explain("")
    with pytest.raises(InvalidEmail):
        result.status("@@")
    with pytest.raises(UnknownAccount) as info:
        result.explain_account("nobody")
    assert isinstance(info.value, LookupError)
    assert info.value.account_id == "nobody"
    with pytest.raises(UnknownAccount):
        result.mode_for("nobody", "globex.com")


def test_the_routing_lookup_maps_registrable_domains_to_entries() -> None:
    result = resolve_domain_ownership(globex(parent=True), globex_contacts())
    entry = result.domains["globex.com"]
    assert entry.status is DomainStatus.SHARED
    assert entry.claimants == ("g-east", "g-west")
    assert entry.owner == "g"
    assert entry.hierarchy_owner == "g"
    assert entry.issue is None
    with pytest.raises(TypeError):
        result.domains["x.com"] = entry  # type: ignore[index]


# --------------------------------------------------------------------------- explanations, export


def test_explain_names_counts_rule_and_policy() -> None:
    accounts = [Account(id="a", name="Acme", domains=["acme.com"])]
    contacts = contacts_of("a", *at("acme.com", 5), *at("labs.io", 3), *at("gmail.com", 2))
    result = resolve_domain_ownership(accounts, contacts)
    text = result.explain("labs.io")
    assert "labs.io: UNIQUE" in text
    assert "a ('Acme')" in text
    assert "secondary: 3 contacts" in text
    assert "secondary_min_contacts=3" in text
    assert "Rule:" in text
    assert "Policy:" in text
    account_text = result.explain_account("a")
    assert "8 counted" in account_text
    assert "2 personal domain" in account_text
    assert "acme.com" in account_text
    assert "labs.io" in account_text


def test_unclaimed_domain_explanations_say_why() -> None:
    accounts = [Account(id="a", name="A", domains=["a.com"]), Account(id="b", name="B")]
    contacts = contacts_of("a", *at("a.com", 9), *at("x.com", 5))
    contacts += contacts_of("b", *at("b.com", 9), *at("x.com", 4, prefix="q"))
    result = resolve_domain_ownership(accounts, contacts)
    text = result.explain("x.com")
    assert "not claimed" in text
    assert "2 accounts have contacts there" in text
    assert "b ('B') (4 contacts)" in text
    assert "a secondary claim needs a domain no other account uses" in text
    assert "never-seen.com is not claimed" in result.explain("never-seen.com")


def test_records_are_plain_and_json_ready() -> None:
    result = resolve_domain_ownership(globex(parent=True), globex_contacts())
    records = result.to_records()
    assert [(r["domain"], r["account_id"]) for r in records] == [
        ("globex.com", "g-east"),
        ("globex.com", "g-west"),
    ]
    assert records[0]["kind"] == "dominant"
    assert records[0]["contacts"] == 4
    assert records[0]["hierarchy_owner"] == "g"
    assert records[0]["sync_issue"] is False
    for record in records:
        assert all(type(v) in (str, int, bool, type(None)) for v in record.values())
    assert json.loads(json.dumps(result.to_dict()))["summary"]["shared"] == 1
    assert {r["account_id"] for r in result.account_records()} == {"g", "g-east", "g-west"}


def test_html_is_escaped() -> None:
    accounts = [
        Account(id="<script>alert(1)</script>", name="X", domains=["x.com"]),
        Account(id="y&z", name="Y", domains=["x.com"]),
    ]
    page = resolve_domain_ownership(accounts, [])._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "y&amp;z" in page
    assert "Sync issues" in page


def test_repr_is_a_short_summary() -> None:
    text = repr(resolve_domain_ownership(globex(), globex_contacts()))
    assert text.startswith("<DomainOwnership 2 accounts, 1 domains")
    assert "1 sync issues" in text


def test_same_result_whatever_the_order() -> None:
    accounts = [
        *globex(parent=True),
        Account(id="a", name="A", domains=["a.com", "globex.com"]),
        Account(id="a", name="A2"),
        Account(id="x", name="X", parent_id="y"),
        Account(id="y", name="Y", parent_id="x"),
    ]
    contacts = globex_contacts() + contacts_of("a", *at("side.io", 3), None, "bad")
    contacts += contacts_of("x", *at("side.io", 1, "q"), *at("ex.com", 2))
    expected = resolve_domain_ownership(accounts, contacts)
    rng = random.Random(7)
    for _ in range(5):
        rng.shuffle(accounts)
        rng.shuffle(contacts)
        again = resolve_domain_ownership(accounts, contacts)
        assert again == expected
        assert again.to_dict() == expected.to_dict()


def test_results_pickle_and_copy() -> None:
    result = resolve_domain_ownership(globex(parent=True), globex_contacts())
    again = pickle.loads(pickle.dumps(result))
    assert again == result
    assert again.mode("g-east") is result.mode("g-east")
    assert copy.deepcopy(result) == result


def test_accounts_are_a_sorted_read_only_mapping() -> None:
    result = resolve_domain_ownership(list(reversed(globex(parent=True))), globex_contacts())
    assert list(result.accounts) == ["g", "g-east", "g-west"]
    assert "g" in result.accounts
    assert "nobody" not in result.accounts
    assert len(result.accounts) == 3
    assert result.accounts == {a.account_id: a for a in result.accounts.values()}
    with pytest.raises(KeyError):
        result.accounts["nobody"]
    assert result.usage("globex.com") == (("g-east", 4), ("g-west", 3))


def test_a_conflicting_duplicate_contact_of_an_unknown_account() -> None:
    contacts = [
        Contact(id="c", account_id="ghost", email="x@acme.com"),
        Contact(id="c", account_id="a", email="y@acme.com"),
        Contact(id="d", account_id="a", email="z@acme.com"),
    ]
    for order in (contacts, contacts[::-1]):
        result = resolve_domain_ownership([Account(id="a", name="A")], order)
        assert result.claims == (DomainClaim("acme.com", "a", ClaimKind.DOMINANT, 1),)
        assert [r.record_id for r in result.rejections] == ["c", "c"]
        assert result.skipped == {}


@pytest.mark.parametrize(
    "host",
    [
        line.split()[0].lower()
        for line in ["example.com", "b.example.com", "a.b.example.com", "example.example", "foo.github.io", "a.b.c.kobe.jp", "city.kobe.jp", "www.city.kobe.jp", "k12.ak.us", "test.k12.ak.us", "xn--85x722f.com.cn", "www.xn--85x722f.xn--55qx5d.cn", "shishi.xn--fiqs8s", "co.uk", "acme.co.uk", "mail.acme.co.uk", "s3.amazonaws.com", "a.s3.amazonaws.com", "dyndns.org", "x.dyndns.org"]
        if line
    ],
)
def test_the_fast_fold_agrees_with_registrable_domain(host: str) -> None:
    from stakeholder._ownership import _registrable_of_canonical_host

    try:
        expected: str | None = registrable_domain(host)
    except InvalidDomain:
        expected = None
    try:
        got: str | None = _registrable_of_canonical_host(host)
    except InvalidDomain:
        got = None
    assert got == expected


def test_the_fast_fold_agrees_on_the_psl_vectors() -> None:
    from conftest import shared_data
    from stakeholder._ownership import _registrable_of_canonical_host

    checked = 0
    for line in shared_data("psl", "tests.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) != 2 or line.startswith("//") or parts[0] == "null":
            continue
        try:
            host = normalize_host(parts[0])
            expected: str | None = registrable_domain(host)
        except InvalidDomain:
            continue
        try:
            got: str | None = _registrable_of_canonical_host(host)
        except InvalidDomain:
            got = None
        assert got == expected, host
        checked += 1
    assert checked


def test_html_shows_conflicts_first_and_says_what_is_cut() -> None:
    accounts = [Account(id=f"a{i}", name=f"A{i}", domains=[f"d{i:03}.com"]) for i in range(60)]
    accounts.append(Account(id="z", name="Z", domains=["d059.com"]))
    page = resolve_domain_ownership(accounts, [])._repr_html_()
    assert page.index("d059.com") < page.index("d000.com")
    assert "10 more rows not shown" in page
