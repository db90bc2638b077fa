"""Per-address verdicts: automated addresses, role ranks, the cached verdict."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from stakeholder._errors import InvalidEmail
from stakeholder._identity import (
    EmailAddress,
)
from stakeholder._model import (
    Role,
)
from stakeholder._routing._values import Evidence, EvidenceKind, Strength

_new = object.__new__
_set = object.__setattr__


_AUTOMATED_LOCAL: Final = re.compile(
    r"""
    (?:.*[-_.])?no[-_.]?reply(?:[-_.].*)?
    | (?:.*[-_.])?do[-_.]?not[-_.]?reply(?:[-_.].*)?
    | mailer[-_.]?daemon(?:[-_.].*)? | postmaster | mail[-_.]?delivery[-_.]?subsystem
    | (?:.*[-_.])?bounces?(?:[-_.].*)? | bounce[0-9a-f]*
    | calendar[-_.]?(?:notification|server|invites?)s?
    | notifications? | auto[-_.]?(?:reply|responder|confirm)
    | owner[-_.].+ | .+[-_.](?:owner|request)
    """,
    re.VERBOSE,
)
_AUTOMATED_HOSTS: Final = (
    "resource.calendar.google.com",
    "group.calendar.google.com",
    "bounces.google.com",
)
_AUTOMATED_HOST_SUFFIXES: Final = tuple("." + h for h in _AUTOMATED_HOSTS)


def is_automated_address(address: EmailAddress | str) -> bool:
    """Whether `address` belongs to a machine rather than a person: no-reply and
    do-not-reply senders, mailer daemons and postmasters, bounce addresses, calendar
    notifications (`calendar-notification@google.com`), calendar resources, and list
    robots (`owner-*`, `*-request`, `*-owner`).

    >>> is_automated_address("No-Reply <no-reply@billing.acme.com>")
    True
    >>> is_automated_address("jane@acme.com")
    False
    """
    if isinstance(address, str):
        try:
            address = EmailAddress.parse(address)
        except InvalidEmail:
            return False
    host = address.domain
    if host in _AUTOMATED_HOSTS or host.endswith(_AUTOMATED_HOST_SUFFIXES):
        return True
    return _AUTOMATED_LOCAL.fullmatch(address.local) is not None


# Verdict classes: what one address contributes.
_INVALID, _INTERNAL, _AUTOMATED, _STRONG, _WEAK, _NONE, _BROAD = range(7)

_ROLE_RANK: Final[Mapping[str, int]] = {
    Role.FROM.value: 0,
    Role.ORGANIZER.value: 1,
    Role.TO.value: 2,
    Role.CC.value: 3,
    Role.ATTENDEE.value: 4,
    Role.BCC.value: 5,
}
_SENDER_RANKS: Final = 1  # ranks 0 and 1 (from, organizer) are the sender
_AUTOMATED_ARGS: Final = (
    _AUTOMATED,
    EvidenceKind.AUTOMATED,
    Strength.SET_ASIDE,
    (),
    "automated sender (no-reply, mailer daemon, bounce, list robot or "
    "calendar notification); set aside",
)


_NO_EVIDENCE: Final = (None,) * len(_ROLE_RANK)


class _Verdict(list[Evidence | None]):
    """What one address (canonical, or raw when invalid) contributes to a decision.

    Cached per index; its `Evidence` objects are built once per role and shared by every
    decision that uses them (they are frozen). The verdict *is* the list of those, by
    role rank (`verdict[rank]`, None until first used): one object per address rather
    than two, which matters to the cycle collector when millions of new addresses
    survive a cold batch."""

    __slots__ = ("accounts", "by_contact", "cls", "detail", "key", "kind", "strength")

    def __init__(  # noqa: PLR0917 - private, built in one place per kind of verdict
        self,
        key: str,
        cls: int,
        kind: EvidenceKind,
        strength: Strength,
        accounts: tuple[str, ...],
        detail: str,
    ) -> None:
        self.key = key
        self.cls = cls
        self.kind = kind
        self.strength = strength
        self.accounts = accounts
        self.detail = detail
        self.by_contact = kind is EvidenceKind.UNIQUE_CONTACT
        self.extend(_NO_EVIDENCE)

    def evidence(self, rank: int, role: Role) -> Evidence:
        found = self[rank]
        if found is None:
            # built without converters: every field is already of its declared type
            found = _new(Evidence)
            _set(found, "kind", self.kind)
            _set(found, "strength", self.strength)
            _set(found, "account_ids", self.accounts)
            _set(found, "address", self.key if len(self.key) <= 200 else self.key[:200] + "...")
            _set(found, "role", role)
            _set(found, "detail", self.detail)
            self[rank] = found
        return found


