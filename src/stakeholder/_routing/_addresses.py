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


# Verdict classes: what one address contributes. Strong evidence first (a strong verdict
# has `cls <= _STRONG`), `_CONTACT` for a known contact of one (non-partner-only) account.
_CONTACT, _STRONG, _WEAK, _NONE, _BROAD, _INTERNAL, _AUTOMATED, _INVALID = range(8)

_ROLE_RANK: Final[Mapping[str, int]] = {
    Role.FROM.value: 0,
    Role.ORGANIZER.value: 1,
    Role.TO.value: 2,
    Role.CC.value: 3,
    Role.ATTENDEE.value: 4,
    Role.BCC.value: 5,
}
_SENDER_RANKS: Final = 1  # ranks 0 and 1 (from, organizer) are the sender

_Verdict = tuple[str, int, str, str, tuple[str, ...], str]
"""What one address (canonical, or raw when invalid) contributes to a decision:
`(key, cls, kind, strength, account_ids, detail)`, the evidence kind and strength as their
string values. Cached per index. Plain strings, ints and a tuple of strings, so that the
cycle collector stops tracking it after its first pass: a cold batch leaves millions of
verdicts alive, and the collector would otherwise walk them all again and again."""

_VerdictArgs = tuple[int, str, str, tuple[str, ...], str]
"""A verdict less its key (one per host: every unknown address there shares it)."""

_AUTOMATED_ARGS: Final[_VerdictArgs] = (
    _AUTOMATED,
    EvidenceKind.AUTOMATED.value,
    Strength.SET_ASIDE.value,
    (),
    "automated sender (no-reply, mailer daemon, bounce, list robot or "
    "calendar notification); set aside",
)

_KINDS: Final[Mapping[str, EvidenceKind]] = {k.value: k for k in EvidenceKind}
_STRENGTHS: Final[Mapping[str, Strength]] = {s.value: s for s in Strength}


def _verdict_args(
    cls: int, kind: EvidenceKind, strength: Strength, accounts: tuple[str, ...], detail: str
) -> _VerdictArgs:
    """A verdict less its key, from the enum members (stored as their values)."""
    return (cls, kind.value, strength.value, accounts, detail)


def _evidence_of(verdict: _Verdict, role: Role) -> Evidence:
    """The `Evidence` a verdict gives in `role`: built without converters, every field
    is already of its declared type (the router caches it per address and role)."""
    key, _, kind, strength, accounts, detail = verdict
    found = _new(Evidence)
    _set(found, "kind", _KINDS[kind])
    _set(found, "strength", _STRENGTHS[strength])
    _set(found, "account_ids", accounts)
    _set(found, "address", key if len(key) <= 200 else key[:200] + "...")
    _set(found, "role", role)
    _set(found, "detail", detail)
    return found
