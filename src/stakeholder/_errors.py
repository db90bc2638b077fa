"""The error tree. Every error the library raises on purpose is a `StakeholderError`.

Each error also subclasses the builtin it resembles (`ValueError`, `LookupError`,
`ImportError`, ...) so that callers who catch builtins keep working, and each carries
structured fields (`raw`, `reason`, ...) rather than only a message.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "InputFileError",
    "InvalidDomain",
    "InvalidEmail",
    "InvalidPhone",
    "InvalidRecord",
    "MissingDependency",
    "StakeholderError",
    "StorageError",
    "UnknownAccount",
]

_MAX_SHOWN = 80


def _shown(raw: object) -> str:
    """`repr(raw)`, shortened so a 10,000-character input does not flood a log line."""
    text = repr(raw)
    if len(text) > _MAX_SHOWN:
        return f"{text[: _MAX_SHOWN - 15]}...<{len(text)} chars>"
    return text


class StakeholderError(Exception):
    """Root of every error `stakeholder` raises on purpose."""


class _InvalidValue(StakeholderError, ValueError):  # noqa: N818 - base of Invalid* names
    """A value that cannot be what it claims to be; carries `.raw` and `.reason`."""

    what = "value"

    def __init__(self, raw: object, reason: str) -> None:
        super().__init__(f"{_shown(raw)} is not {self.what}: {reason}")
        self.raw = raw
        self.reason = reason

    def __reduce__(self) -> tuple[type[_InvalidValue], tuple[object, str]]:
        return (type(self), (self.raw, self.reason))


class InvalidEmail(_InvalidValue):
    """`raw` is not an email address; `reason` says why."""

    what = "an email address"


class InvalidDomain(_InvalidValue):
    """`raw` is not a domain that can be registered; `reason` says why."""

    what = "a registrable domain"


class InvalidPhone(_InvalidValue):
    """`raw` is not a phone number; `reason` says why."""

    what = "a phone number"


class InvalidRecord(_InvalidValue):
    """A record (an account, a contact, a communication, a CRM row) is unusable."""

    what = "a usable record"


class UnknownAccount(StakeholderError, LookupError):  # noqa: N818 - named like InvalidEmail
    """An account id that the ownership result does not know; `reason` says why."""

    def __init__(self, account_id: object, reason: str) -> None:
        super().__init__(f"unknown account {account_id!r}: {reason}")
        self.account_id, self.reason = account_id, reason

    def __reduce__(self) -> tuple[type[UnknownAccount], tuple[object, str]]:
        return (type(self), (self.account_id, self.reason))


class ConfigurationError(StakeholderError, ValueError):
    """A policy or option contradicts itself (for example a value in two picklists)."""


class InputFileError(StakeholderError, OSError):
    """An input file cannot be used at all (missing, unreadable, unknown format).

    Bad *items* inside a usable file are never raised: they become `Rejection`s.
    """

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"cannot use input file {str(path)!r}: {reason}")
        self.path, self.reason = path, reason


class StorageError(StakeholderError, RuntimeError):
    """A storage back end failed; the batch it was writing left nothing behind."""


class MissingDependency(StakeholderError, ImportError):  # noqa: N818 - public name, kept
    """An optional extra is needed for this feature; the message names it."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the optional dependency {module!r}: "
            f"pip install 'stakeholder[{extra}]'",
            name=module,
        )
        self.feature, self.extra, self.module = feature, extra, module
