"""Profiles and where they come from: the `ProfileSource` protocol, the `PersonQuery`
a source is searched with, and the file-backed `SnapshotSource` (JSONL snapshots, one
per observation date) that tests and the demo use.

The library never touches the network: a user's provider is an object with `search`
and `fetch`, nothing more.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from stakeholder._errors import InputFileError, InvalidRecord
from stakeholder._model import Account, Contact, Rejection

__all__ = [
    "Observation",
    "PersonQuery",
    "Profile",
    "ProfileGone",
    "ProfileSource",
    "SnapshotSource",
    "normalise",
]

_SPACES = re.compile(r"\s+")


def normalise(value: str | None) -> str:
    """Text as compared: Unicode NFKC, case-folded, runs of spaces as one, trimmed; so
    that case and spacing are never changes. `None` is the empty string."""
    if not value:
        return ""
    if value.isascii():
        return " ".join(value.lower().split())
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InvalidRecord(value, f"{attribute.name} must be a timezone-aware datetime")


def _text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord(value, f"{attribute.name} must be a non-empty string")


def _optional(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _parse_time(value: object, what: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidRecord(value, f"{what} is not an ISO 8601 date-time") from None
    else:
        raise InvalidRecord(value, f"{what} must be an ISO 8601 date-time")
    if parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


@attrs.frozen
class Profile:
    """One observation of a public professional profile.

    `source` names the provider, `url` identifies the profile (the reference `fetch`
    takes); `company_domain` is the company's web domain where the source knows it;
    `observed_at` is when the source saw the profile this way.
    """

    source: str = attrs.field(validator=_text)
    url: str = attrs.field(validator=_text)
    name: str = attrs.field(validator=_text)
    observed_at: dt.datetime = attrs.field(validator=_aware)
    title: str | None = attrs.field(default=None, converter=_optional)
    company: str | None = attrs.field(default=None, converter=_optional)
    company_domain: str | None = attrs.field(default=None, converter=_optional)
    location: str | None = attrs.field(default=None, converter=_optional)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "url": self.url,
            "name": self.name,
            "title": self.title,
            "company": self.company,
            "company_domain": self.company_domain,
            "location": self.location,
            "observed_at": self.observed_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """A profile from a mapping (a JSONL line); `InvalidRecord` when unusable."""
        if not isinstance(data, Mapping):
            raise InvalidRecord(data, "a profile must be a JSON object")
        if data.get("gone"):
            raise InvalidRecord(data, "this line says the profile is gone")
        return cls(
            source=data.get("source", ""),
            url=data.get("url", ""),
            name=data.get("name", ""),
            observed_at=_parse_time(data.get("observed_at"), "observed_at"),
            title=data.get("title"),
            company=data.get("company"),
            company_domain=data.get("company_domain"),
            location=data.get("location"),
        )


@attrs.frozen
class ProfileGone:
    """What `fetch` answers for a profile that no longer exists (deleted or hidden)."""

    url: str = attrs.field(validator=_text)
    observed_at: dt.datetime = attrs.field(validator=_aware)
    reason: str = "the profile no longer exists"

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "observed_at": self.observed_at.isoformat(),
            "gone": True,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProfileGone:
        return cls(
            url=data.get("url", ""),
            observed_at=_parse_time(data.get("observed_at"), "observed_at"),
            reason=str(data.get("reason") or "the profile no longer exists"),
        )


@attrs.frozen
class Observation:
    """What the source answered for a tracked person's profile at one time: the
    `Profile`, or `ProfileGone`. `at` is its `observed_at`."""

    person_id: str = attrs.field(validator=_text)
    observed: Profile | ProfileGone

    @property
    def at(self) -> dt.datetime:
        return self.observed.observed_at

    @property
    def gone(self) -> bool:
        return isinstance(self.observed, ProfileGone)

    def to_dict(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "observed": self.observed.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Observation:
        raw = data["observed"]
        observed: Profile | ProfileGone = (
            ProfileGone.from_dict(raw) if raw.get("gone") else Profile.from_dict(raw)
        )
        return cls(data["person_id"], observed)


@attrs.frozen
class PersonQuery:
    """What a source is searched with: the person's name, company (account name),
    email, phone, title and any other configured `fields`."""

    person_id: str
    name: str | None = None
    company: str | None = None
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    fields: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls, contact: Contact, account: Account | None, *,
        fields: Mapping[str, str] | None = None,
    ) -> PersonQuery:
        """The query for a tracked contact of `account` (`fields`: other configured
        search fields, such as a LinkedIn id or a country)."""
        return cls(
            person_id=contact.id,
            name=contact.name,
            company=None if account is None else account.name,
            email=None if contact.email is None else str(contact.email),
            phone=contact.phone,
            title=contact.title,
            fields=tuple(sorted((fields or {}).items())),
        )


@runtime_checkable
class ProfileSource(Protocol):
    """A provider of profiles. Implement it for your provider; the library ships
    `SnapshotSource` (files) and never touches the network itself."""

    def search(self, query: PersonQuery) -> Sequence[Profile]:
        """Candidate profiles for the person (any order; matching ranks them)."""

    def fetch(self, url: str) -> Profile | ProfileGone:
        """The current state of one profile, or `ProfileGone`."""


def _name_key(name: str | None) -> str:
    tokens = normalise(name).split()
    return tokens[-1] if tokens else ""


class SnapshotSource:
    """Profiles from JSONL snapshot files: one file per observation date, one profile
    per line (`Profile.to_dict` form; a line `{"url": ..., "gone": true, ...}` says the
    profile was deleted). `at(date)` is the source as of one snapshot: `search` finds
    profiles by the person's last name (and the url, for a pasted one), `fetch`
    answers a profile missing from that snapshot as gone.
    """

    def __init__(
        self,
        snapshots: Mapping[dt.date, Sequence[Profile | ProfileGone]],
        *,
        rejections: Sequence[Rejection] = (),
        as_of: dt.date | None = None,
    ) -> None:
        self.snapshots = {d: tuple(v) for d, v in sorted(snapshots.items())}
        self.rejections = tuple(rejections)
        self.dates = tuple(self.snapshots)
        if as_of is None and self.dates:
            as_of = self.dates[-1]
        self.as_of = as_of
        current = self.snapshots.get(as_of, ()) if as_of is not None else ()
        self._by_url: dict[str, Profile | ProfileGone] = {p.url: p for p in current}
        self._by_name: dict[str, list[Profile]] = {}
        for p in current:
            if isinstance(p, Profile):
                self._by_name.setdefault(_name_key(p.name), []).append(p)

    @classmethod
    def from_folder(cls, folder: str | Path) -> SnapshotSource:
        """Read every `*.jsonl` file of `folder`; the date of a file is the date of its
        profiles' `observed_at` (the latest one). Bad lines are set aside in
        `rejections`, never raised. Raises `InputFileError` for a missing folder."""
        path = Path(folder)
        if not path.is_dir():
            raise InputFileError(str(path), "not a folder of JSONL snapshots")
        snapshots: dict[dt.date, list[Profile | ProfileGone]] = {}
        rejections: list[Rejection] = []
        for file in sorted(path.glob("*.jsonl")):
            items = list(_read_snapshot(file, rejections))
            if items:
                day = max(p.observed_at for p in items).astimezone(dt.UTC).date()
                snapshots.setdefault(day, []).extend(items)
        return cls(snapshots, rejections=rejections)

    def at(self, day: dt.date) -> SnapshotSource:
        """This source as of the snapshot of `day`."""
        if day not in self.snapshots:
            raise InvalidRecord(day, f"no snapshot on that date (have {len(self.dates)})")
        return SnapshotSource(self.snapshots, rejections=self.rejections, as_of=day)

    def search(self, query: PersonQuery) -> Sequence[Profile]:
        found = list(self._by_name.get(_name_key(query.name), ()))
        return sorted(found, key=lambda p: p.url)

    def fetch(self, url: str) -> Profile | ProfileGone:
        found = self._by_url.get(url)
        if found is not None:
            return found
        day = self.as_of or dt.date(1970, 1, 1)
        at = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        return ProfileGone(url, at, "not in the snapshot")

    def __repr__(self) -> str:
        return (
            f"SnapshotSource({len(self.dates)} snapshots, as_of={self.as_of}, "
            f"{len(self._by_url)} profiles, {len(self.rejections)} rejected lines)"
        )


def _read_snapshot(file: Path, rejections: list[Rejection]) -> Iterable[Profile | ProfileGone]:
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        rejections.append(Rejection.of(file.name, f"cannot read the file: {exc}"))
        return
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{file.name}:{number}"
        try:
            data = json.loads(line)
            if isinstance(data, dict) and data.get("gone"):
                yield ProfileGone.from_dict(data)
            else:
                yield Profile.from_dict(data)
        except (ValueError, TypeError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            rejections.append(Rejection.of(where, reason, line))
