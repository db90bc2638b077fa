"""Which known account a company is: by name (and aliases) or by a web domain the
account owns. Used to tell a departure from a move into another known account."""

from __future__ import annotations

from collections.abc import Iterable

from stakeholder._model import Account
from stakeholder._ownership import DomainOwnership
from stakeholder.sponsors._matching import company_domain, company_key

__all__ = ["AccountDirectory"]


class AccountDirectory:
    """Accounts indexed by company key (name and aliases, see `company_key`) and by
    owned domain (declared domains, and claimed ones when an ownership result is given:
    its owner, else its claimants). Look-ups answer the smallest account id on ties."""

    def __init__(
        self, accounts: Iterable[Account], *, ownership: DomainOwnership | None = None
    ) -> None:
        self.accounts = {a.id: a for a in accounts}
        self._by_name: dict[str, set[str]] = {}
        self._by_domain: dict[str, set[str]] = {}
        for account in self.accounts.values():
            for name in (account.name, *account.aliases):
                key = company_key(name)
                if key:
                    self._by_name.setdefault(key, set()).add(account.id)
            for domain in account.domains:
                self._by_domain.setdefault(domain, set()).add(account.id)
        if ownership is not None:
            for domain, entry in ownership.domains.items():
                owners = {entry.owner} if entry.owner is not None else set(entry.claimants)
                self._by_domain.setdefault(domain, set()).update(
                    a for a in owners if a in self.accounts
                )

    def named(self, company: str | None) -> tuple[str, ...]:
        """The accounts whose name or an alias is `company`."""
        return tuple(sorted(self._by_name.get(company_key(company), ())))

    def owning(self, domain: str | None) -> tuple[str, ...]:
        """The accounts owning `domain` (folded to its registrable domain)."""
        folded = company_domain(domain)
        return () if folded is None else tuple(sorted(self._by_domain.get(folded, ())))

    def belongs(self, account_id: str, company: str | None, domain: str | None) -> bool:
        """Whether a company (name, web domain) is the account itself."""
        return account_id in self.named(company) or account_id in self.owning(domain)

    def find(
        self, company: str | None, domain: str | None, *, other_than: str | None = None
    ) -> str | None:
        """The known account a company is: its domain's owner first, then by name;
        `None` when it is no known account (or only `other_than`)."""
        for found in (self.owning(domain), self.named(company)):
            ids = [a for a in found if a != other_than]
            if ids:
                return ids[0]
        return None

    def __repr__(self) -> str:
        return (
            f"AccountDirectory({len(self.accounts)} accounts, {len(self._by_name)} names, "
            f"{len(self._by_domain)} domains)"
        )
