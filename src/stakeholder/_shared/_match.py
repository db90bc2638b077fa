"""What links two records of one person."""

from __future__ import annotations

import enum

from stakeholder._errors import ConfigurationError


class MatchOn(enum.StrEnum):
    """What links two records of one person.

    - `EMAIL`: the same canonical email address.
    - `PHONE`: the same E.164 phone number.
    - `EMAIL_OR_PHONE` (default): either; links chain transitively (A~B by email and
      B~C by phone put A, B and C in one group).
    - `EMAIL_AND_PHONE`: the same email *and* the same phone. The pair is the match key,
      so no chain can form: a record with that email and another phone is someone else
      (or a stale record). Records lacking either value are ignored in this mode.
    """

    EMAIL = "email"
    PHONE = "phone"
    EMAIL_OR_PHONE = "either"
    EMAIL_AND_PHONE = "both"

    @property
    def uses_email(self) -> bool:
        return self is not MatchOn.PHONE

    @property
    def uses_phone(self) -> bool:
        return self is not MatchOn.EMAIL


def _to_match_on(value: object) -> MatchOn:
    if isinstance(value, MatchOn):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        for member in MatchOn:
            if text in (member.value, member.name.lower()):
                return member
    choices = ", ".join(m.value for m in MatchOn)
    raise ConfigurationError(f"match_on must be one of {choices}, not {value!r}")
