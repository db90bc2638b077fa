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

import attrs
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


@attrs.define
class _Draft:
    """A world being drawn: what the scenarios pick from."""

    suffix: str
    accounts: list[Account] = attrs.Factory(list)
    contacts: list[Contact] = attrs.Factory(list)
    own_domain: dict[str, str] = attrs.Factory(dict)
    unique_people: dict[str, list[str]] = attrs.Factory(dict)
    personal_people: dict[str, str] = attrs.Factory(dict)
    customer_ids: list[str] = attrs.Factory(list)
    shared_people: list[tuple[str, tuple[str, str]]] = attrs.Factory(list)
    partner_id: str | None = None
    parent_id: str | None = None
    group_domain: str | None = None

    def add_contact(self, account_id: str, email: str) -> None:
        name = email.split("@", maxsplit=1)[0]
        self.contacts.append(Contact(f"c{len(self.contacts)}", account_id, email, name=name))


def _customers(draw: st.DrawFn, w: _Draft, n: int) -> None:
    words = draw(st.permutations(_WORDS))
    for i in range(n):
        account_id = f"a{i}"
        domain = f"{words[i].lower()}{i}.{w.suffix}"
        w.accounts.append(Account(account_id, f"{words[i]} {i}", domains=[domain]))
        w.own_domain[account_id] = domain
        people = [f"u{j}.{i}@{domain}" for j in range(draw(st.integers(2, 3)))]
        w.unique_people[account_id] = people
        for email in people:
            w.add_contact(account_id, email)
        personal = f"{words[i].lower()}.fan{i}@gmail.com"
        w.personal_people[account_id] = personal
        w.add_contact(account_id, personal)
    w.customer_ids = [a.id for a in w.accounts]


def _others(draw: st.DrawFn, w: _Draft, *, partners: bool, groups: bool) -> None:
    """Shared people (contacts of two customers), a partner, a corporate group."""
    if len(w.customer_ids) >= 2:
        for k in range(draw(st.integers(0, 2))):
            pair = tuple(sorted(draw(st.permutations(w.customer_ids))[:2]))
            email = f"advisor{k}@adv{k}-partners.net"  # at a domain nobody claims
            for account_id in pair:
                w.add_contact(account_id, email)
            w.shared_people.append((email, (pair[0], pair[1])))
    if partners and draw(st.booleans()):
        w.partner_id = "p0"
        w.accounts.append(Account(w.partner_id, "Resellers Partner", kind=AccountKind.PARTNER,
                                  domains=[f"resell.{w.suffix}"]))
        w.own_domain[w.partner_id] = f"resell.{w.suffix}"
        w.unique_people[w.partner_id] = [f"rep{j}@resell.{w.suffix}" for j in range(2)]
        for email in w.unique_people[w.partner_id]:
            w.add_contact(w.partner_id, email)
    if groups and draw(st.booleans()):
        w.parent_id = "g"
        w.group_domain = f"group-corp.{w.suffix}"
        w.accounts.append(Account(w.parent_id, "Group Holding"))
        for site in ("g-1", "g-2"):
            w.accounts.append(Account(site, f"Group Site {site[-1]}", parent_id=w.parent_id,
                                      domains=[w.group_domain]))
            for j in range(2):
                w.add_contact(site, f"{site}.staff{j}@{w.group_domain}")


def _scenarios(w: _Draft) -> list[str]:
    scenarios = ["unique_contact", "known_personal", "domain_sync", "internal_only",
                 "personal_unknown"]
    if len(w.customer_ids) >= 2:
        scenarios.append("two_customers")
    if w.shared_people:
        scenarios += ["shared_alone", "shared_with_unique"]
    if w.partner_id is not None:
        scenarios += ["partner_only", "partner_with_customer"]
    if w.group_domain is not None:
        scenarios.append("hierarchy")
    return scenarios


def _expect(scenario: str, status: RouteStatus, primary: str | None = None,
            *accounts: str) -> Expectation:
    return Expectation(scenario, status, primary, frozenset(accounts))


def _core(
    draw: st.DrawFn, w: _Draft, scenario: str, a: str, m: int
) -> tuple[list[str], Expectation]:
    """The participants that make `scenario` (for customer `a`) and its right answer."""
    routed = RouteStatus.ROUTED
    if scenario == "unique_contact":
        return [draw(st.sampled_from(w.unique_people[a]))], _expect(scenario, routed, a, a)
    if scenario == "known_personal":
        return [w.personal_people[a]], _expect(scenario, routed, a, a)
    if scenario == "domain_sync":
        return [f"newcomer{m}@{w.own_domain[a]}"], _expect(scenario, routed, a, a)
    if scenario == "two_customers":
        b = draw(st.sampled_from([c for c in w.customer_ids if c != a]))
        core = [draw(st.sampled_from(w.unique_people[a])),
                draw(st.sampled_from(w.unique_people[b]))]
        return core, _expect(scenario, routed, None, a, b)
    if scenario in ("shared_alone", "shared_with_unique"):
        email, pair = draw(st.sampled_from(w.shared_people))
        if scenario == "shared_alone":
            return [email], _expect(scenario, RouteStatus.AMBIGUOUS, None, *pair)
        chosen = draw(st.sampled_from(pair))
        core = [email, draw(st.sampled_from(w.unique_people[chosen]))]
        return core, _expect(scenario, routed, chosen, chosen)
    if scenario in ("partner_only", "partner_with_customer"):
        assert w.partner_id is not None
        core = [draw(st.sampled_from(w.unique_people[w.partner_id]))]
        if scenario == "partner_only":
            return core, _expect(scenario, routed, w.partner_id, w.partner_id)
        core.append(draw(st.sampled_from(w.unique_people[a])))
        return core, _expect(scenario, routed, a, a, w.partner_id)
    if scenario == "hierarchy":
        assert w.parent_id is not None
        return [f"visitor{m}@{w.group_domain}"], _expect(scenario, routed, w.parent_id,
                                                         w.parent_id)
    if scenario == "internal_only":
        return [], _expect(scenario, RouteStatus.INTERNAL)
    return [f"stranger{m}@gmail.com"], _expect(scenario, RouteStatus.UNROUTED)


def _communication(
    draw: st.DrawFn, w: _Draft, m: int, *, shared_threads: bool
) -> tuple[Communication, Expectation]:
    scenario = draw(st.sampled_from(_scenarios(w)))
    a = draw(st.sampled_from(w.customer_ids))
    core, expectation = _core(draw, w, scenario, a, m)
    noise = []
    if scenario == "internal_only" or draw(st.booleans()):
        noise.append(f"staff{draw(st.integers(0, 2))}@{_INTERNAL}")
    if draw(st.booleans()):
        noise.append(f"no-reply@{w.own_domain[a]}")
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
    comm = Communication(
        f"m{m}",
        _T0 + dt.timedelta(minutes=m),
        cast,
        thread_id=f"t{draw(st.integers(0, 2))}" if shared_threads else f"t{m}",
        subject=draw(st.sampled_from(_SUBJECTS)),
    )
    return comm, expectation


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
    w = _Draft(suffix=draw(st.sampled_from(_SUFFIXES)))
    _customers(draw, w, n)
    _others(draw, w, partners=partners, groups=groups)
    unrelated = Account("zz-unrelated", "Unrelated Holdings", domains=[f"unrelated.{w.suffix}"])
    communications: list[Communication] = []
    expected: dict[str, Expectation] = {}
    for m in range(draw(st.integers(1, max_communications))):
        comm, expectation = _communication(draw, w, m, shared_threads=shared_threads)
        communications.append(comm)
        expected[comm.id] = expectation
    policy = OwnershipPolicy(
        internal_domains=[_INTERNAL],
        shared_domains=[w.group_domain] if w.group_domain else [],
    )
    return World(
        accounts=tuple(w.accounts),
        contacts=tuple(w.contacts),
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
