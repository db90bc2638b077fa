"""`books()`: a CRM book of business (accounts and contacts) with known structure.

Every random choice is an integer drawn so that it shrinks towards the plainest book:
fewer accounts and contacts, no partners, no parents, no shared people, no personal
mail, company domains declared. A failing property therefore shrinks to something like
`a0 'Northwind' domains=northwind.com` with one contact `ann.lee@northwind.com`.
"""

from __future__ import annotations

import datetime as dt

import attrs
from hypothesis import strategies as st

from stakeholder._identity import EmailAddress
from stakeholder._model import Account, AccountKind, Contact
from stakeholder.testing._values import Book

__all__ = ["books"]

_WORDS = (
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Proseware",
    "Wingtip", "Lucerne", "Margie", "Trey", "Woodgrove", "Humongous", "Alpine",
)
_FIRST = ("ann", "bob", "cy", "di", "ed", "flo", "gus", "hal")
_LAST = (
    "lee", "kim", "fox", "ng", "roe", "day", "poe", "orr", "ash", "bay", "cole", "dunn",
    "eady", "fry",
)
_T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MAX_ACCOUNTS = len(_WORDS)


def _hit(roll: int, rate: float) -> bool:
    """True for a roll (0..99) with probability `rate`; roll 0, the shrink target, is
    always False unless `rate` is 1."""
    return roll >= round(100 * (1 - rate))


_ROLL = st.integers(0, 99)
# (personal roll, phone roll, share roll, which other account, created day, conversions,
#  deal stage): each part shrinks to the plainest contact.
_CONTACT = st.tuples(
    _ROLL, _ROLL, _ROLL, st.integers(0, 12), st.integers(0, 30), st.integers(0, 3),
    st.none() | st.integers(0, 3),
)
_ContactSpec = tuple[int, int, int, int, int, int, int | None]


@attrs.frozen
class _Rates:
    share: float
    personal: float
    phone: float
    partner: float
    parent: float
    site_domain: float
    declared: float


def _accounts(
    specs: list[tuple[int, int, int, int, int, list[_ContactSpec]]], rates: _Rates
) -> tuple[list[Account], dict[str, str]]:
    accounts: list[Account] = []
    domain_of: dict[str, str] = {}
    for i, (partner, parent, which, site, declared, _) in enumerate(specs):
        account_id = f"a{i}"
        parent_id = f"a{which % i}" if i > 0 and _hit(parent, rates.parent) else None
        domain = f"{_WORDS[i].lower()}.com"
        if parent_id is not None and _hit(site, rates.site_domain):
            domain = domain_of[parent_id]  # a site of a multi-location business
        domain_of[account_id] = domain
        kind = AccountKind.PARTNER if _hit(partner, rates.partner) else AccountKind.CUSTOMER
        undeclared = _hit(declared, 1 - rates.declared)
        accounts.append(
            Account(account_id, _WORDS[i], kind=kind, parent_id=parent_id,
                    domains=[] if undeclared else [domain])
        )
    return accounts, domain_of


def _contact(
    contact_id: str, account_id: str, email: str, *, name: str, phone: str | None,
    spec: _ContactSpec,
) -> Contact:
    return Contact(
        contact_id, account_id, email, phone=phone, name=name,
        created_at=_T0 + dt.timedelta(days=spec[4]), conversions=spec[5], deal_stage=spec[6],
    )


@st.composite
def _books(
    draw: st.DrawFn, *, min_accounts: int, max_accounts: int, min_contacts: int,
    max_contacts: int, rates: _Rates,
) -> Book:
    account_spec = st.tuples(
        _ROLL, _ROLL, st.integers(0, 12), _ROLL, _ROLL,
        st.lists(_CONTACT, min_size=min_contacts, max_size=max_contacts),
    )
    specs = draw(st.lists(account_spec, min_size=min_accounts, max_size=max_accounts))
    accounts, domain_of = _accounts(specs, rates)
    n = len(accounts)
    contacts: list[Contact] = []
    shared: dict[str, set[str]] = {}
    for i, (account, spec) in enumerate(zip(accounts, specs, strict=True)):
        for j, cspec in enumerate(spec[5]):
            first = _FIRST[j % len(_FIRST)] + (str(j // len(_FIRST)) if j >= len(_FIRST) else "")
            local, name = f"{first}.{_LAST[i]}", f"{first.title()} {_LAST[i].title()}"
            domain = "gmail.com" if _hit(cspec[0], rates.personal) else domain_of[account.id]
            phone = f"+4420{79460000 + len(contacts):08d}" if _hit(cspec[1], rates.phone) else None
            contacts.append(
                _contact(f"c{len(contacts)}", account.id, f"{local}@{domain}",
                         name=name, phone=phone, spec=cspec)
            )
            if n >= 2 and _hit(cspec[2], rates.share):
                other = accounts[(i + 1 + cspec[3] % (n - 1)) % n].id
                # the same person, written differently in the other account's CRM record
                written = f"{name} <{local.title()}@{domain.upper()}>"
                contacts.append(
                    _contact(f"c{len(contacts)}", other, written, name=name, phone=phone,
                             spec=cspec)
                )
                canonical = str(EmailAddress.parse(f"{local}@{domain}"))
                shared.setdefault(canonical, {account.id}).add(other)
    return Book(
        accounts=tuple(accounts),
        contacts=tuple(contacts),
        shared_people={email: frozenset(ids) for email, ids in shared.items()},
        derived=dict(domain_of),
    )


def books(
    *,
    min_accounts: int = 1,
    max_accounts: int = 6,
    min_contacts: int = 1,
    max_contacts: int = 4,
    share_rate: float = 0.2,
    personal_rate: float = 0.1,
    phone_rate: float = 0.0,
    partner_rate: float = 0.15,
    parent_rate: float = 0.25,
    site_domain_rate: float = 0.5,
    declared_rate: float = 0.7,
) -> st.SearchStrategy[Book]:
    """CRM books of business (`Book`): accounts with hierarchy and partners, contacts
    pointing at them, people planted in two accounts, declared and contact-derived
    domains. Shrinks to the plainest book that still fails.

    Sizes: `min_accounts`..`max_accounts` accounts (at most 14), each with
    `min_contacts`..`max_contacts` contacts. Rates (0 to 1, per draw):

    - `share_rate`: a contact is also a contact of another account (same email, written
      with other case and a display name, same phone); listed in `Book.shared_people`.
    - `personal_rate`: a contact uses personal mail (`gmail.com`) instead of the
      account's domain.
    - `phone_rate`: a contact has a phone number (London, E.164).
    - `partner_rate`: an account is a `PARTNER`; `parent_rate`: an account (not the
      first) has an earlier account as parent; `site_domain_rate`: such a child uses
      its parent's domain (a multi-location business); `declared_rate`: an account
      declares its domain (otherwise only its contacts show it).
    """
    if not 1 <= min_accounts <= max_accounts <= MAX_ACCOUNTS:
        raise ValueError(f"need 1 <= min_accounts <= max_accounts <= {MAX_ACCOUNTS}")
    if not 0 <= min_contacts <= max_contacts:
        raise ValueError("need 0 <= min_contacts <= max_contacts")
    rates = {
        "share_rate": share_rate, "personal_rate": personal_rate, "phone_rate": phone_rate,
        "partner_rate": partner_rate, "parent_rate": parent_rate,
        "site_domain_rate": site_domain_rate, "declared_rate": declared_rate,
    }
    for name, rate in rates.items():
        if not 0 <= rate <= 1:
            raise ValueError(f"{name} must be between 0 and 1, got {rate!r}")
    return _books(
        min_accounts=min_accounts, max_accounts=max_accounts,
        min_contacts=min_contacts, max_contacts=max_contacts,
        rates=_Rates(share_rate, personal_rate, phone_rate, partner_rate, parent_rate,
                     site_domain_rate, declared_rate),
    )
