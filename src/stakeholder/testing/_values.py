"""The values the world strategies draw: `World`, `Expectation` and `Book`.

They need no hypothesis, so `from stakeholder.testing import World` works in type
annotations of code that never draws one. Their reprs are short (counts, not contents)
and hypothesis prints them that way too, so a failing property stays readable; call
`describe()` for the whole thing, one line per record (e.g. in `hypothesis.note`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

import attrs

from stakeholder._model import Account, AccountKind, Communication, Contact
from stakeholder._ownership import DomainOwnership, OwnershipPolicy, resolve_domain_ownership
from stakeholder._routing import Override, RouteStatus, RoutingIndex, RoutingPolicy
from stakeholder._shared import SharedContactGroup

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Book", "Expectation", "SharedInput", "World"]

#: What `RoutingIndex.build(shared=...)` takes: the shared-contacts layer's groups, or a
#: mapping canonical email -> primary account id.
SharedInput = Iterable[SharedContactGroup] | Mapping[str, str] | None


class _Printer(Protocol):
    """The part of hypothesis's / IPython's pretty printer that `_repr_pretty_` uses."""

    def text(self, obj: str) -> None: ...


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@attrs.frozen(repr=False)
class Expectation:
    """The right answer for one communication: its `status`; for `ROUTED`, the
    `primary` account (or `None` when any of `accounts` may lead) and every account it
    must go to; for `AMBIGUOUS`, the `accounts` that must be the candidates."""

    scenario: str
    status: RouteStatus
    primary: str | None = None
    accounts: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        accounts = ",".join(sorted(self.accounts))
        return (
            f"Expectation({self.scenario}: {self.status.value}"
            f"{f' primary={self.primary}' if self.primary else ''}"
            f"{f' accounts={{{accounts}}}' if accounts else ''})"
        )[:300]


def _describe_accounts(accounts: Iterable[Account]) -> list[str]:
    lines = []
    for a in accounts:
        parts = [f"  {a.id}: {a.name!r}"]
        if a.kind is not AccountKind.CUSTOMER:
            parts.append(a.kind.value)
        if a.parent_id is not None:
            parts.append(f"parent={a.parent_id}")
        if a.domains:
            parts.append("domains=" + ",".join(sorted(a.domains)))
        lines.append(" ".join(parts))
    return lines


def _describe_contacts(contacts: Iterable[Contact]) -> list[str]:
    return [
        f"  {c.id} @ {c.account_id}: {c.email or '-'}{f' {c.phone}' if c.phone else ''}"
        for c in contacts
    ]


@attrs.frozen(repr=False)
class World:
    """Accounts, contacts, communications and the right answer for each communication
    (`expected`, by communication id). `ownership_policy` names the internal domain and
    the group's shared domain; `unrelated_account` is an account that no communication
    touches (for "adding it changes nothing" properties)."""

    accounts: tuple[Account, ...]
    contacts: tuple[Contact, ...]
    communications: tuple[Communication, ...]
    expected: Mapping[str, Expectation]
    ownership_policy: OwnershipPolicy
    unrelated_account: Account

    def ownership(
        self,
        accounts: Iterable[Account] | None = None,
        contacts: Iterable[Contact] | None = None,
    ) -> DomainOwnership:
        """`resolve_domain_ownership` over this world (or the `accounts`/`contacts` given)."""
        return resolve_domain_ownership(
            self.accounts if accounts is None else accounts,
            self.contacts if contacts is None else contacts,
            self.ownership_policy,
        )

    def index(
        self,
        *,
        accounts: Iterable[Account] | None = None,
        contacts: Iterable[Contact] | None = None,
        overrides: Iterable[Override] = (),
        policy: RoutingPolicy | None = None,
        shared: SharedInput = None,
    ) -> RoutingIndex:
        """A `RoutingIndex` over this world (or the `accounts`/`contacts` given)."""
        account_list = tuple(self.accounts if accounts is None else accounts)
        contact_list = tuple(self.contacts if contacts is None else contacts)
        return RoutingIndex.build(
            account_list,
            contact_list,
            self.ownership(account_list, contact_list),
            shared=shared,
            overrides=overrides,
            policy=policy,
        )

    def scenarios(self) -> Counter[str]:
        """How many communications each scenario produced."""
        return Counter(e.scenario for e in self.expected.values())

    def describe(self) -> str:
        """The whole world, one line per account, contact and communication."""
        lines = ["accounts:", *_describe_accounts(self.accounts), "contacts:"]
        lines += _describe_contacts(self.contacts)
        lines.append("communications:")
        for comm in self.communications:
            who = ", ".join(f"{p.role.value}:{p.address.strip()}" for p in comm.participants)
            lines.append(f"  {comm.id} [{self.expected[comm.id]!r}]: {who}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        scenarios = ", ".join(f"{k}×{v}" for k, v in sorted(self.scenarios().items()))
        text = (
            f"World({_count(len(self.accounts), 'account')}, "
            f"{_count(len(self.contacts), 'contact')}, "
            f"{_count(len(self.communications), 'communication')}: {scenarios})"
        )
        return text if len(text) <= 300 else text[:296] + "...)"

    def _repr_pretty_(self, p: _Printer, cycle: bool) -> None:
        """hypothesis and IPython print the short repr, not every field."""
        p.text(repr(self))


@attrs.frozen(repr=False)
class Book:
    """A CRM book of business drawn by `books()`: accounts (with parents and partners),
    contacts pointing at them, and the people planted in several accounts.

    `shared_people` maps each planted person's canonical email to the accounts holding
    a record of them (two or more); `declared` maps each account id to the domains it
    declares, `derived` to the domain its contacts are at (personal mail aside).
    """

    accounts: tuple[Account, ...]
    contacts: tuple[Contact, ...]
    shared_people: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    derived: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def declared(self) -> Mapping[str, frozenset[str]]:
        """Declared domains by account id (accounts declaring none are left out)."""
        return {a.id: a.domains for a in self.accounts if a.domains}

    def account(self, account_id: str) -> Account:
        """The account with this id (`KeyError` when there is none)."""
        for a in self.accounts:
            if a.id == account_id:
                return a
        raise KeyError(account_id)

    def contacts_of(self, account_id: str) -> Sequence[Contact]:
        """The contact records of one account, in book order."""
        return [c for c in self.contacts if c.account_id == account_id]

    def describe(self) -> str:
        """The whole book, one line per account and contact."""
        lines = ["accounts:", *_describe_accounts(self.accounts), "contacts:"]
        lines += _describe_contacts(self.contacts)
        return "\n".join(lines)

    def __repr__(self) -> str:
        partners = sum(a.kind is AccountKind.PARTNER for a in self.accounts)
        children = sum(a.parent_id is not None for a in self.accounts)
        return (
            f"Book({_count(len(self.accounts), 'account')} ({partners} partner, "
            f"{children} with a parent), {_count(len(self.contacts), 'contact')}, "
            f"{_count(len(self.shared_people), 'shared person')})"
        ).replace("shared persons", "shared people")

    def _repr_pretty_(self, p: _Printer, cycle: bool) -> None:
        """hypothesis and IPython print the short repr, not every field."""
        p.text(repr(self))
