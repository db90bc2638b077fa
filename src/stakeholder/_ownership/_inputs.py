"""Ownership inputs: accounts and contacts by id, contacts counted per domain."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any, Final

from stakeholder._errors import InvalidDomain
from stakeholder._identity import EmailAddress, PersonalDomains
from stakeholder._model import Contact, Rejection
from stakeholder._ownership._hosts import (
    _registrable_of_canonical_host,
    personal_match,
    subtree_match,
)
from stakeholder._ownership._policy import OwnershipPolicy, SkipReason
from stakeholder._ownership._text import _article, _shown


def _dedupe(
    items: Iterable[Any], kind: type[Any], where: str
) -> tuple[dict[str, Any], frozenset[str], list[Rejection]]:
    """Items by id. Exact repeats are kept once (each extra copy is a rejection); an id
    carried by different records is set aside entirely, since keeping one would depend
    on input order."""
    by_id: dict[str, Any] = {}
    extra: dict[str, list[Any]] = {}
    rejections: list[Rejection] = []
    name = kind.__name__
    for item in items:
        if not isinstance(item, kind):
            rejections.append(
                Rejection.of(where, f"not {_article(name)} (got {type(item).__name__})", item)
            )
            continue
        item_id = item.id
        if item_id in by_id:
            extra.setdefault(item_id, []).append(item)
        else:
            by_id[item_id] = item
    conflicting: set[str] = set()
    for item_id, copies in extra.items():
        first = by_id[item_id]
        if all(copy == first for copy in copies):
            reason = f"exact duplicate of another {name} with id {_shown(item_id)}; counted once"
            rejections.extend(Rejection.of(where, reason, item_id, item_id) for _ in copies)
            continue
        conflicting.add(item_id)
        del by_id[item_id]
        total = len(copies) + 1
        reason = (
            f"{total} {name} records share the id {_shown(item_id)} and differ; all are "
            "set aside (which one is right is unknown)"
        )
        rejections.extend(Rejection.of(where, reason, item_id, item_id) for _ in range(total))
    return by_id, frozenset(conflicting), rejections


class _ContactCounter:
    """Counts each account's contacts per registrable domain, and skipped ones by reason.

    `count()` is the hot loop (one pass, ids checked on the way); `finish()` settles
    repeated ids order-independently, undoing the first copy of an id whose copies
    differ, and turns what is left into rejections.
    """

    def __init__(
        self,
        account_ids: Iterable[str],
        policy: OwnershipPolicy,
        declared: Collection[str] = frozenset(),
    ) -> None:
        self.per_account: dict[str, dict[str, int]] = {aid: {} for aid in account_ids}
        self.skipped: dict[str, int] = {}
        self.skipped_by_account: dict[str, dict[str, int]] = {}
        self.personal_usage: dict[str, int] = {}
        self.internal_usage: dict[str, int] = {}
        self.good: dict[str, str] = {}  # host -> claim key (declared host or registrable)
        self.skip_of: dict[str, tuple[str, str]] = {}  # host -> (reason, usage key)
        self.policy = policy
        self.personal = policy.personal_domains
        self.personal_of = _personal_of(policy.personal_domains)
        self.excluded_hosts = policy.excluded_hosts
        self.patterns = policy.exclusion_patterns
        self.declared = declared
        self.excluded_addresses = policy.excluded_addresses
        self.by_id: dict[str, Contact] = {}
        self.extra: dict[str, list[Contact]] = {}
        self.orphans: list[Contact] = []
        self.not_contacts: list[object] = []

    def fold(self, host: str) -> str | None:
        """The claim key of an email host, or None (the reason in `skip_of`).

        In order: an internal host is skipped; the longest declared host that holds it is
        its key, unless a more specific personal-list entry or exclusion covers it; an
        excluded or personal host is skipped; else its registrable domain is the key.
        (Once per distinct host; the common case, a company host under no list and no
        declaration, costs a few set look-ups beyond the Public Suffix List.)
        """
        policy = self.policy
        if policy.internal_domains:
            internal = policy.internal_match(host)
            if internal is not None:
                self.skip_of[host] = (_INTERNAL, internal)
                return None
        try:
            reg: str | None = _registrable_of_canonical_host(host)
        except InvalidDomain:
            reg = None
        declared = subtree_match(host, self.declared)
        personal = self.personal_of(host, reg or host)
        excluded = (
            policy.exclusion(host)
            if self.excluded_hosts or (self.patterns is not None and self.patterns.match(host))
            else None
        )
        if (
            declared is not None
            and (personal is None or declared.count(".") >= personal.count("."))
            and (
                excluded is None
                or declared.count(".") >= (host if "*" in excluded else excluded).count(".")
            )
        ):
            self.good[host] = declared
            return declared
        if excluded is not None:
            self.skip_of[host] = (_EXCLUDED_HOST, host if "*" in excluded else excluded)
            return None
        if personal is not None:
            self.skip_of[host] = (_PERSONAL, personal)
            return None
        if reg is None:
            self.skip_of[host] = (SkipReason.NO_REGISTRABLE_DOMAIN.value, host)
            return None
        self.good[host] = reg
        return reg

    def skip(self, account_id: str, reason: str, key: str, step: int = 1) -> None:
        _bump(self.skipped, reason, step)
        mine = self.skipped_by_account.get(account_id)
        if mine is None:
            mine = self.skipped_by_account[account_id] = {}
        _bump(mine, reason, step)
        if not mine:
            del self.skipped_by_account[account_id]
        if reason == _PERSONAL:
            _bump(self.personal_usage, key, step)
        elif reason == _INTERNAL:
            _bump(self.internal_usage, key, step)

    def count(self, contacts: Iterable[object]) -> None:
        by_id = self.by_id
        extra = self.extra
        accounts_get = self.per_account.get
        good_get = self.good.get
        skip_of_get = self.skip_of.get
        email_type = EmailAddress
        contact_type = Contact
        skip = self.skip
        excluded = self.excluded_addresses
        for contact in contacts:
            if not isinstance(contact, contact_type):
                self.not_contacts.append(contact)
                continue
            contact_id = contact.id
            if contact_id in by_id:
                copies = extra.get(contact_id)
                if copies is None:
                    extra[contact_id] = [contact]
                else:
                    copies.append(contact)
                continue
            by_id[contact_id] = contact
            counts = accounts_get(contact.account_id)
            if counts is None:
                self.orphans.append(contact)
                continue
            email = contact.email
            if isinstance(email, email_type):
                if excluded and f"{email.local}@{email.domain}" in excluded:
                    skip(contact.account_id, _EXCLUDED_ADDRESS, "")
                    continue
                host = email.domain
                reg = good_get(host)
                if reg is None:
                    skipped_as = skip_of_get(host)
                    if skipped_as is None:
                        reg = self.fold(host)
                    if reg is None:
                        reason, key = self.skip_of[host]
                        skip(contact.account_id, reason, key)
                        continue
                counts[reg] = counts.get(reg, 0) + 1
            elif email is None:
                skip(contact.account_id, _NO_EMAIL, "")
            else:
                skip(contact.account_id, _INVALID_EMAIL, "")

    def uncount(self, contact: Contact) -> None:
        """Undo `count` for one contact (that was counted, not an orphan)."""
        account_id = contact.account_id
        email = contact.email
        if isinstance(email, EmailAddress):
            if f"{email.local}@{email.domain}" in self.excluded_addresses:
                self.skip(account_id, _EXCLUDED_ADDRESS, "", -1)
                return
            reg = self.good.get(email.domain)
            if reg is not None:
                _bump(self.per_account[account_id], reg, -1)
            else:
                reason, key = self.skip_of[email.domain]
                self.skip(account_id, reason, key, -1)
        elif email is None:
            self.skip(account_id, _NO_EMAIL, "", -1)
        else:
            self.skip(account_id, _INVALID_EMAIL, "", -1)

    def finish(self, rejected_accounts: frozenset[str]) -> list[Rejection]:
        rejections = [
            Rejection.of(
                "contacts", f"not a Contact (got {type(item).__name__})", item
            )
            for item in self.not_contacts
        ]
        set_aside: set[str] = set()
        for contact_id, copies in self.extra.items():
            first = self.by_id[contact_id]
            if all(copy == first for copy in copies):
                reason = (
                    f"exact duplicate of another Contact with id {_shown(contact_id)}; "
                    "counted once"
                )
                rejections.extend(
                    Rejection.of("contacts", reason, contact_id, contact_id) for _ in copies
                )
                continue
            set_aside.add(contact_id)
            if first.account_id in self.per_account:
                self.uncount(first)
            total = len(copies) + 1
            reason = (
                f"{total} Contact records share the id {_shown(contact_id)} and differ; all "
                "are set aside (which one is right is unknown)"
            )
            rejections.extend(
                Rejection.of("contacts", reason, contact_id, contact_id) for _ in range(total)
            )
        for contact in self.orphans:
            if contact.id in set_aside:
                continue
            account_id = contact.account_id
            why = (
                "was set aside (see its rejection)"
                if account_id in rejected_accounts
                else "is not among the accounts"
            )
            rejections.append(
                Rejection.of(
                    "contacts", f"its account {_shown(account_id)} {why}", account_id, contact.id
                )
            )
        return rejections


_NO_EMAIL: Final = SkipReason.NO_EMAIL.value
_INVALID_EMAIL: Final = SkipReason.INVALID_EMAIL.value
_EXCLUDED_ADDRESS: Final = SkipReason.EXCLUDED_ADDRESS.value
_EXCLUDED_HOST: Final = SkipReason.EXCLUDED_HOST.value
_PERSONAL: Final = SkipReason.PERSONAL_DOMAIN.value
_INTERNAL: Final = SkipReason.INTERNAL_DOMAIN.value


def _bump(counter: dict[str, int], key: str, step: int) -> None:
    n = counter.get(key, 0) + step
    if n:
        counter[key] = n
    else:
        del counter[key]




def _personal_of(personal: PersonalDomains) -> Callable[[str, str], str | None]:
    """`(host, registrable) ->` the personal-list entry covering the host, or None: the
    two sets read directly for a plain `PersonalDomains`."""
    if type(personal) is not PersonalDomains:
        return lambda host, reg: personal_match(personal, host, reg)
    free, disposable = personal.free, personal.disposable

    def match(host: str, reg: str) -> str | None:
        if host in free or host in disposable:
            return host
        if reg in free or reg in disposable:
            return reg
        return None

    return match
