"""Host folding for ownership: canonical hosts to registrable domains, personal tests."""

from __future__ import annotations

import pkgutil
import re
from collections.abc import Callable, Collection, Iterator
from typing import Final

import idna

from stakeholder._errors import InvalidDomain
from stakeholder._identity import (
    PersonalDomains,
    _psl_rule_to_ascii,
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




# --------------------------------------------------------------------------- host level

DEFAULT_FORWARDING_PATTERNS: Final = ("alum.*", "alumni.*")
"""Hosts that forward mail for people rather than speak for an organisation: alumni
forwarders (`alum.mit.edu`, `alumni.stanford.edu`). Patterns are shell-style
(`fnmatch`), matched against the whole host."""

_ICANN_RULES: set[str] = set()
_ICANN_WILDCARDS: set[str] = set()
_ICANN_EXCEPTIONS: set[str] = set()


def _load_icann() -> None:
    """The ICANN section of the bundled Public Suffix List (its private section, where
    hosting providers and universities list their own hosts, left out)."""
    if _ICANN_RULES:
        return
    blob = pkgutil.get_data("tldextract", ".tld_set_snapshot")
    if blob is None:  # pragma: no cover - only if tldextract's packaging changes
        raise RuntimeError("tldextract's bundled Public Suffix List snapshot is missing")
    rules: set[str] = set()
    in_icann = False
    for line in blob.decode("utf-8").splitlines():
        text = line.strip()
        if text.startswith("// ===BEGIN ICANN"):
            in_icann = True
        elif text.startswith("// ===END ICANN"):
            break
        elif in_icann and text and not text.startswith("//"):
            rule = text.split(" ", 1)[0]
            try:
                ascii_rule = _psl_rule_to_ascii(rule.lstrip("!"))
            except idna.IDNAError:  # pragma: no cover - the PSL only lists valid names
                continue
            if rule.startswith("!"):
                _ICANN_EXCEPTIONS.add(ascii_rule)
            elif ascii_rule.startswith("*."):
                _ICANN_WILDCARDS.add(ascii_rule[2:])
            else:
                rules.add(ascii_rule)
    _ICANN_RULES.update(rules)  # last: a non-empty rule set means "loaded"


def is_icann_suffix(host: str) -> bool:
    """Whether `host` (canonical) is itself a public suffix in the PSL's ICANN section
    (`co.uk`, `de`): nobody can own it, whatever an account declares."""
    _load_icann()
    if host in _ICANN_EXCEPTIONS:
        return False
    if host in _ICANN_RULES or "." not in host:
        return True
    return host.split(".", 1)[1] in _ICANN_WILDCARDS


def declared_host(host: str, fold: bool) -> str:
    """The claim key of a declared host (canonical, from `Account.domains`): the host as
    declared, or its registrable domain when `fold` (the registrable-folding policy).
    Raises `InvalidDomain` for a host nobody can own (an ICANN public suffix)."""
    if fold:
        return _registrable_of_canonical_host(host)
    if is_icann_suffix(host):
        raise InvalidDomain(host, f"{host!r} is a public suffix; nobody can register it")
    return host


def host_suffixes(host: str) -> Iterator[str]:
    """`host`, then each parent domain: `a.b.c` gives `a.b.c`, `b.c`, `c`."""
    yield host
    at = host.find(".")
    while at >= 0:
        yield host[at + 1 :]
        at = host.find(".", at + 1)


def subtree_match(host: str, entries: Collection[str]) -> str | None:
    """The longest of `entries` that is `host` or a parent domain of it, or None."""
    if not entries:
        return None
    if host in entries:
        return host
    at = host.find(".")
    while at >= 0:  # (no generator: this runs once per new host on the cold path)
        candidate = host[at + 1 :]
        if candidate in entries:
            return candidate
        at = host.find(".", at + 1)
    return None


def personal_match(personal: PersonalDomains, host: str, reg: str) -> str | None:
    """The entry of the personal lists that makes `host` personal (the host itself or
    its registrable domain `reg`), or None."""
    if type(personal) is not PersonalDomains:
        return (host if personal.is_personal(host) else None)
    for candidate in (host, reg):
        if candidate in personal.free or candidate in personal.disposable:
            return candidate
    return None


def labels(host: str) -> int:
    """How many labels `host` has: how specific a match on it is."""
    return host.count(".") + 1
