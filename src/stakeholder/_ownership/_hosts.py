"""Host folding for ownership: canonical hosts to registrable domains, personal tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from stakeholder._identity import (
    PersonalDomains,
    _public_suffix_length,
    registrable_domain,
)

_EMAIL_HOST: Final = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


def _registrable_of_canonical_host(host: str) -> str:
    """`registrable_domain(host)` for a canonical host: the domain of a parsed
    `EmailAddress` or one of `Account.domains`.

    Those are canonical already (lower-case IDNA ASCII, checked when built), so a host
    of plain LDH labels goes straight to the Public Suffix List look-up, skipping the
    re-normalisation `registrable_domain` does for arbitrary input (a differential test
    keeps the two in agreement). Anything else takes the general path.
    """
    if len(host) > 253 or _EMAIL_HOST.fullmatch(host) is None:
        return registrable_domain(host)
    labels = host.split(".")
    suffix = _public_suffix_length(labels)
    if suffix >= len(labels):
        return registrable_domain(host)  # raises InvalidDomain with the usual reason
    return ".".join(labels[-(suffix + 1) :])


def _personal_test(personal: PersonalDomains) -> Callable[[str, str], bool]:
    """`(host, registrable) -> bool`: whether addresses at `host` are personal mail.

    Same answer as `personal.is_personal(host)`, from the two sets directly when
    `personal` is a plain `PersonalDomains` (a subclass keeps its own method).
    """
    if type(personal) is not PersonalDomains:
        return lambda host, _reg: personal.is_personal(host)
    sets = (personal.free, personal.disposable)

    def test(host: str, reg: str) -> bool:
        return any(host in s or reg in s for s in sets)

    return test


