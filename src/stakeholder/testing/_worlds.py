"""`worlds()`: coherent accounts, contacts and communications with known right answers.

A drawn `World` holds customer accounts (each with its own domain and contacts, one of
them at a personal mail domain), optionally a partner account and a corporate group whose
two sites share one domain, people who are contacts of two customers, our own staff at an
internal domain, and communications built from one *scenario* each, whose right answer
(`Expectation`) follows from the routing rules of docs/routing.md:

| scenario | participants (plus noise) | right answer |
| --- | --- | --- |
| `unique_contact` | a contact of exactly one account A | `ROUTED`, primary A |
| `known_personal` | A's contact whose address is at a personal domain | `ROUTED`, primary A |
| `domain_sync` | an unknown address at A's own domain | `ROUTED`, primary A |
| `shared_with_unique` | a shared person of A and B, and a contact of A only | `ROUTED`, primary A |
| `two_customers` | a contact of A only and a contact of B only | `ROUTED` to A and B |
| `hierarchy` | an unknown address at the group's shared domain | `ROUTED`, primary the parent |
| `partner_only` | a contact of the partner | `ROUTED`, primary the partner |
| `partner_with_customer` | a partner's contact and a contact of A only | `ROUTED`, A, partner too |
| `shared_alone` | a shared person of A and B | `AMBIGUOUS` between A and B |
| `internal_only` | our own staff | `INTERNAL` |
| `personal_unknown` | a stranger at a personal domain | `UNROUTED` |

Noise never changes the answer: our own staff, automated senders (`no-reply@...`) and
strangers at personal domains may join any scenario. Addresses are written with display
names, upper-case letters and sub-addresses (`+tag`) at random; participants come in
random order and roles. Subjects never name an account, and each communication has its
own thread (unless `shared_threads=True`), so no tie-break applies by accident.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from stakeholder._model import Account, AccountKind, Communication, Contact, Participant, Role
from stakeholder._ownership import OwnershipPolicy
from stakeholder._routing import RouteStatus
from stakeholder.testing._values import Expectation, World

__all__ = ["Expectation", "World", "worlds"]

SearchStrategy = st.SearchStrategy

_WORDS = (
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Proseware",
    "Wingtip", "Lucerne", "Margie", "Trey", "Woodgrove", "Humongous", "Alpine",
)
_SUBJECTS = (
    "", "Quarterly review", "Re: invoice 4471", "Fwd: onboarding call", "Renewal",
    "Question about the API", "RE: RE: meeting notes", "Kick-off",
)
_SUFFIXES = ("com", "io", "net", "co.uk", "de")
_INTERNAL = "ourco.io"
_T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def _render(draw: st.DrawFn, address: str, name: str) -> str:
    """`address` as a mail client might write it: case, display name, sub-address."""
    local, domain = address.split("@")
    if draw(st.booleans()):
        local = local + "+" + draw(st.sampled_from(("crm", "x", "news")))
    style = draw(st.integers(0, 3))
    if style == 1:
        local, domain = local.upper(), domain.upper()
    elif style == 2:
        domain = domain.capitalize()
    text = f"{local}@{domain}"
    form = draw(st.integers(0, 3))
    if form == 1:
        return f"{name} <{text}>"
    if form == 2:
        return f'"{name}" <{text}>'
    if form == 3:
        return f"  {text} "
    return text


@st.composite
def _worlds(
    draw: st.DrawFn,
    *,
    min_customers: int,
    max_customers: int,
    max_communications: int,
    partners: bool,
    groups: bool,
    shared_threads: bool,
) -> World:
    n = draw(st.integers(min_customers, max_customers))
    words = draw(st.permutations(_WORDS))
    suffix = draw(st.sampled_from(_SUFFIXES))
    accounts: list[Account] = []
    contacts: list[Contact] = []
    own_domain: dict[str, str] = {}
    unique_people: dict[str, list[str]] = {}
    personal_people: dict[str, str] = {}

    def add_contact(account_id: str, email: str) -> None:
        name = email.split("@", maxsplit=1)[0]
        contacts.append(Contact(f"c{len(contacts)}", account_id, email, name=name))

    for i in range(n):
        account_id = f"a{i}"
        domain = f"{words[i].lower()}{i}.{suffix}"
        accounts.append(Account(account_id, f"{words[i]} {i}", domains=[domain]))
        own_domain[account_id] = domain
        people = [f"u{j}.{i}@{domain}" for j in range(draw(st.integers(2, 3)))]
        unique_people[account_id] = people
        for email in people:
            add_contact(account_id, email)
        personal = f"{words[i].lower()}.fan{i}@gmail.com"
        personal_people[account_id] = personal
        add_contact(account_id, personal)
    customer_ids = [a.id for a in accounts]

    # people who are contacts of two customers (at a domain nobody claims)
    shared_people: list[tuple[str, tuple[str, str]]] = []
    if n >= 2:
        for k in range(draw(st.integers(0, 2))):
            pair = tuple(sorted(draw(st.permutations(customer_ids))[:2]))
            email = f"advisor{k}@adv{k}-partners.net"
            for account_id in pair:
                add_contact(account_id, email)
            shared_people.append((email, (pair[0], pair[1])))

    partner_id: str | None = None
    if partners and draw(st.booleans()):
        partner_id = "p0"
        accounts.append(Account(partner_id, "Resellers Partner", kind=AccountKind.PARTNER,
                                domains=[f"resell.{suffix}"]))
        own_domain[partner_id] = f"resell.{suffix}"
        unique_people[partner_id] = [f"rep{j}@resell.{suffix}" for j in range(2)]
        for email in unique_people[partner_id]:
            add_contact(partner_id, email)

    group_domain: str | None = None
    parent_id: str | None = None
    if groups and draw(st.booleans()):
        parent_id = "g"
        group_domain = f"group-corp.{suffix}"
        accounts.append(Account(parent_id, "Group Holding"))
        for site in ("g-1", "g-2"):
            accounts.append(Account(site, f"Group Site {site[-1]}", parent_id=parent_id,
                                    domains=[group_domain]))
            for j in range(2):
                add_contact(site, f"{site}.staff{j}@{group_domain}")

    unrelated = Account("zz-unrelated", "Unrelated Holdings", domains=[f"unrelated.{suffix}"])

    scenarios = ["unique_contact", "known_personal", "domain_sync", "internal_only",
                 "personal_unknown"]
    if n >= 2:
        scenarios.append("two_customers")
    if shared_people:
        scenarios += ["shared_alone", "shared_with_unique"]
    if partner_id is not None:
        scenarios += ["partner_only", "partner_with_customer"]
    if group_domain is not None:
        scenarios.append("hierarchy")

    communications: list[Communication] = []
    expected: dict[str, Expectation] = {}
    for m in range(draw(st.integers(1, max_communications))):
        scenario = draw(st.sampled_from(scenarios))
        core: list[str] = []
        expectation: Expectation
        a = draw(st.sampled_from(customer_ids))
        if scenario == "unique_contact":
            core = [draw(st.sampled_from(unique_people[a]))]
            expectation = Expectation(scenario, RouteStatus.ROUTED, a, frozenset({a}))
        elif scenario == "known_personal":
            core = [personal_people[a]]
            expectation = Expectation(scenario, RouteStatus.ROUTED, a, frozenset({a}))
        elif scenario == "domain_sync":
            core = [f"newcomer{m}@{own_domain[a]}"]
            expectation = Expectation(scenario, RouteStatus.ROUTED, a, frozenset({a}))
        elif scenario == "two_customers":
            b = draw(st.sampled_from([c for c in customer_ids if c != a]))
            core = [
                draw(st.sampled_from(unique_people[a])),
                draw(st.sampled_from(unique_people[b])),
            ]
            expectation = Expectation(scenario, RouteStatus.ROUTED, None, frozenset({a, b}))
        elif scenario in ("shared_alone", "shared_with_unique"):
            email, pair = draw(st.sampled_from(shared_people))
            core = [email]
            if scenario == "shared_alone":
                expectation = Expectation(scenario, RouteStatus.AMBIGUOUS, None, frozenset(pair))
            else:
                chosen = draw(st.sampled_from(pair))
                core.append(draw(st.sampled_from(unique_people[chosen])))
                expectation = Expectation(scenario, RouteStatus.ROUTED, chosen,
                                          frozenset({chosen}))
        elif scenario == "partner_only":
            assert partner_id is not None
            core = [draw(st.sampled_from(unique_people[partner_id]))]
            expectation = Expectation(scenario, RouteStatus.ROUTED, partner_id,
                                      frozenset({partner_id}))
        elif scenario == "partner_with_customer":
            assert partner_id is not None
            core = [draw(st.sampled_from(unique_people[partner_id])),
                    draw(st.sampled_from(unique_people[a]))]
            expectation = Expectation(scenario, RouteStatus.ROUTED, a,
                                      frozenset({a, partner_id}))
        elif scenario == "hierarchy":
            assert parent_id is not None
            core = [f"visitor{m}@{group_domain}"]
            expectation = Expectation(scenario, RouteStatus.ROUTED, parent_id,
                                      frozenset({parent_id}))
        elif scenario == "internal_only":
            expectation = Expectation(scenario, RouteStatus.INTERNAL)
        else:  # personal_unknown
            core = [f"stranger{m}@gmail.com"]
            expectation = Expectation(scenario, RouteStatus.UNROUTED)

        noise = []
        if scenario == "internal_only" or draw(st.booleans()):
            noise.append(f"staff{draw(st.integers(0, 2))}@{_INTERNAL}")
        if draw(st.booleans()):
            noise.append(f"no-reply@{own_domain[a]}")
        if scenario != "internal_only" and draw(st.booleans()):
            noise.append(f"passerby{m}@gmail.com")
        addresses = draw(st.permutations(core + noise))
        cast: list[Participant] = [
            Participant(
                _render(draw, address, address.split("@")[0].title()),
                role=Role.FROM if i == 0 else draw(st.sampled_from((Role.TO, Role.CC, Role.BCC))),
            )
            for i, address in enumerate(addresses)
        ]
        comm_id = f"m{m}"
        communications.append(
            Communication(
                comm_id,
                _T0 + dt.timedelta(minutes=m),
                cast,
                thread_id=f"t{draw(st.integers(0, 2))}" if shared_threads else f"t{m}",
                subject=draw(st.sampled_from(_SUBJECTS)),
            )
        )
        expected[comm_id] = expectation

    policy = OwnershipPolicy(
        internal_domains=[_INTERNAL],
        shared_domains=[group_domain] if group_domain else [],
    )
    return World(
        accounts=tuple(accounts),
        contacts=tuple(contacts),
        communications=tuple(communications),
        expected=expected,
        ownership_policy=policy,
        unrelated_account=unrelated,
    )


def worlds(
    *,
    min_customers: int = 1,
    max_customers: int = 5,
    max_communications: int = 12,
    partners: bool = True,
    groups: bool = True,
    shared_threads: bool = False,
) -> SearchStrategy[World]:
    """Coherent worlds (`World`) with a known right answer per communication.

    `min_customers`/`max_customers` bound the customer accounts (at most 14);
    `max_communications` the communications; `partners` and `groups` allow a partner
    account and a corporate group whose sites share a domain. With `shared_threads`,
    communications fall into three threads, so thread memory comes into play: a
    `shared_alone` communication may then be settled by its thread (its expectation,
    `AMBIGUOUS`, holds only without it).
    """
    if not 1 <= min_customers <= max_customers <= len(_WORDS):
        raise ValueError(f"need 1 <= min_customers <= max_customers <= {len(_WORDS)}")
    return _worlds(
        min_customers=min_customers,
        max_customers=max_customers,
        max_communications=max_communications,
        partners=partners,
        groups=groups,
        shared_threads=shared_threads,
    )
