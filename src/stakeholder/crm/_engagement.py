"""Engagement metrics per account, from routing decisions, ready to push back to a CRM.

Pure: decisions and the time in, an `EngagementReport` out; `write_engagement_csv` and
`write_engagement_json` write it as the rows of a CRM bulk update.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import attrs

from stakeholder._display import attrs_html, attrs_repr
from stakeholder._errors import ConfigurationError, InvalidEmail
from stakeholder._identity import EmailAddress
from stakeholder._model import CommKind
from stakeholder._routing import EvidenceKind, RouteStatus, RoutingDecision, Strength

__all__ = [
    "AccountEngagement",
    "EngagementFields",
    "EngagementReport",
    "WindowCounts",
    "engagement_metrics",
    "write_engagement_csv",
    "write_engagement_json",
]

#: Evidence that ties an external person to an account (set-aside kinds excluded).
STAKEHOLDER_EVIDENCE: Final = frozenset(
    {
        EvidenceKind.OVERRIDE,
        EvidenceKind.UNIQUE_CONTACT,
        EvidenceKind.DOMAIN_OWNER,
        EvidenceKind.SHARED_CONTACT,
        EvidenceKind.SHARED_DOMAIN,
        EvidenceKind.HIERARCHY_OWNER,
        EvidenceKind.PARTNER,
    }
)
_COUNTED_STRENGTHS: Final = frozenset({Strength.STRONG, Strength.WEAK})
_PER_WINDOW: Final = ("emails", "meetings", "calls", "stakeholders")
"""The per-window fields, in output order: `EngagementFields` templates and
`WindowCounts` counts of the same names."""


def _name(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"an output field name must be a non-empty string, got {value!r}")
    return value.strip()


@attrs.frozen
class EngagementFields:
    """Output field names for the CRM. Per-window names are templates with ``{days}``;
    a field set to `None` is left out. `account_id` names the column the CRM matches
    records on (``Id`` for a Salesforce bulk update, ``Record ID`` for a HubSpot import).
    """

    account_id: str = attrs.field(default="account_id", converter=_name)
    last_touch: str | None = attrs.field(default="last_touch_at", converter=_name)
    emails: str | None = attrs.field(default="emails_{days}d", converter=_name)
    meetings: str | None = attrs.field(default="meetings_{days}d", converter=_name)
    calls: str | None = attrs.field(default="calls_{days}d", converter=_name)
    stakeholders: str | None = attrs.field(default="stakeholders_{days}d", converter=_name)

    def __attrs_post_init__(self) -> None:
        if self.account_id is None:
            raise ConfigurationError("the account id field cannot be left out")
        for name in _PER_WINDOW:
            template = getattr(self, name)
            if template is not None and "{days}" not in template:
                raise ConfigurationError(
                    f"the {name} field name {template!r} needs a {{days}} placeholder"
                )

    @classmethod
    def salesforce(cls) -> EngagementFields:
        """Custom-field API names for a Salesforce Account bulk update (create the
        fields in Setup first, or rename them with `attrs.evolve`)."""
        return cls(
            account_id="Id",
            last_touch="Last_Touch__c",
            emails="Emails_{days}d__c",
            meetings="Meetings_{days}d__c",
            calls="Calls_{days}d__c",
            stakeholders="Stakeholders_{days}d__c",
        )

    @classmethod
    def hubspot(cls) -> EngagementFields:
        """Internal property names for a HubSpot companies import (create the
        properties first, or rename them with `attrs.evolve`)."""
        return cls(
            account_id="Record ID",
            last_touch="last_touch_date",
            emails="emails_last_{days}_days",
            meetings="meetings_last_{days}_days",
            calls="calls_last_{days}_days",
            stakeholders="stakeholders_last_{days}_days",
        )

    def columns(self, windows: Iterable[int]) -> list[str]:
        """The output columns, in order, for `windows`."""
        out = [self.account_id]
        if self.last_touch is not None:
            out.append(self.last_touch)
        for days in windows:
            for name in _PER_WINDOW:
                template = getattr(self, name)
                if template is not None:
                    out.append(template.format(days=days))
        if len(set(out)) != len(out):
            raise ConfigurationError(f"the output field names repeat: {out!r}")
        return out


@attrs.frozen
class WindowCounts:
    """Activity in the `days` before `now`: communications by kind, and the distinct
    external people (canonical addresses) who took part for the account."""

    days: int
    emails: int = 0
    meetings: int = 0
    calls: int = 0
    stakeholders: int = 0


@attrs.frozen
class AccountEngagement:
    """One account's engagement: its last touch (the newest routed communication at or
    before `now`, or `None`) and the counts per window."""

    account_id: str
    last_touch: dt.datetime | None
    windows: tuple[WindowCounts, ...]

    def window(self, days: int) -> WindowCounts:
        for counts in self.windows:
            if counts.days == days:
                return counts
        raise KeyError(days)

    def to_record(self, fields: EngagementFields) -> dict[str, object]:
        record: dict[str, object] = {fields.account_id: self.account_id}
        if fields.last_touch is not None:
            record[fields.last_touch] = (
                None
                if self.last_touch is None
                else self.last_touch.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        for counts in self.windows:
            for name in _PER_WINDOW:
                template = getattr(fields, name)
                if template is not None:
                    record[template.format(days=counts.days)] = getattr(counts, name)
        return record


@attrs.frozen
class EngagementReport:
    """Engagement of every account, sorted by account id, as of `now`; `skipped`
    counts the decisions not counted and why (not routed, no time, after `now`, or
    for an account outside the requested ones)."""

    now: dt.datetime
    windows: tuple[int, ...]
    accounts: tuple[AccountEngagement, ...]
    skipped: tuple[tuple[str, int], ...] = ()
    fields: EngagementFields = EngagementFields()

    __repr__ = attrs_repr
    _repr_html_ = attrs_html

    def get(self, account_id: str) -> AccountEngagement | None:
        return next((a for a in self.accounts if a.account_id == account_id), None)

    def columns(self) -> list[str]:
        return self.fields.columns(self.windows)

    def to_records(self) -> list[dict[str, object]]:
        """One plain dict per account, keyed by the CRM field names."""
        return [a.to_record(self.fields) for a in self.accounts]

    def explain(self) -> str:
        touched = sum(1 for a in self.accounts if a.last_touch is not None)
        lines = [
            f"engagement of {len(self.accounts)} account(s) as of {self.now.isoformat()} "
            f"(windows: {', '.join(f'{d} days' for d in self.windows)}); "
            f"{touched} with a last touch"
        ]
        lines += [f"  skipped {count} decision(s): {why}" for why, count in self.skipped]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "windows": list(self.windows),
            "skipped": dict(self.skipped),
            "records": self.to_records(),
        }


def _windows(value: Iterable[int]) -> tuple[int, ...]:
    out = sorted(set(value))
    if not out or any(isinstance(d, bool) or not isinstance(d, int) or d <= 0 for d in out):
        raise ConfigurationError(f"windows must be positive whole days, got {value!r}")
    return tuple(out)


def _canonical(address: str) -> str:
    try:
        return str(EmailAddress.parse(address))
    except InvalidEmail:
        return address.strip().lower()


def engagement_metrics(
    decisions: Iterable[RoutingDecision],
    *,
    now: dt.datetime,
    windows: Iterable[int] = (30, 90),
    account_ids: Iterable[str] | None = None,
    field_names: EngagementFields | None = None,
) -> EngagementReport:
    """Per account: the last touch, and per window of `windows` days before `now`
    (``now - days < occurred_at <= now``) the number of emails, meetings and calls and
    the distinct external stakeholders.

    A communication counts for every account in its decision's `account_ids` when the
    decision is `ROUTED`. A stakeholder is an address whose evidence (a known contact,
    an owned or shared domain, a partner, an override) points at that account with
    strong or weak strength; internal, automated, personal and invalid addresses are
    never stakeholders. With `account_ids`, the report has exactly those accounts
    (zeros where nothing happened, so a bulk update also resets stale values).
    Decisions without a time, after `now`, not routed or for other accounts are
    counted in `skipped`.
    """
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise ConfigurationError(f"now must be a timezone-aware datetime, got {now!r}")
    days_list = _windows(windows)
    fields = field_names if field_names is not None else EngagementFields()
    fields.columns(days_list)  # validates that the names do not repeat
    wanted = None if account_ids is None else set(account_ids)
    longest = dt.timedelta(days=days_list[-1])

    last: dict[str, dt.datetime] = {}
    # per account, per communication: (occurred_at, kind, stakeholder addresses)
    touches: dict[str, dict[str, tuple[dt.datetime, CommKind, frozenset[str]]]] = defaultdict(
        dict
    )
    skipped: dict[str, int] = defaultdict(int)
    for decision in decisions:
        if decision.status is not RouteStatus.ROUTED or not decision.account_ids:
            skipped[f"status {decision.status.value}"] += 1
            continue
        when = decision.occurred_at
        if when is None:
            skipped["no time"] += 1
            continue
        if when > now:
            skipped["after now"] += 1
            continue
        targets = [
            a for a in dict.fromkeys(decision.account_ids) if wanted is None or a in wanted
        ]
        if not targets:
            skipped["for other accounts"] += 1
            continue
        for account_id in targets:
            if account_id not in last or when > last[account_id]:
                last[account_id] = when
            if now - when >= longest:
                continue
            stakeholders = frozenset(
                _canonical(e.address)
                for e in decision.evidence
                if e.address is not None
                and e.kind in STAKEHOLDER_EVIDENCE
                and e.strength in _COUNTED_STRENGTHS
                and account_id in e.account_ids
            )
            touches[account_id][decision.comm_id] = (when, decision.kind, stakeholders)

    ids = sorted(wanted) if wanted is not None else sorted(last)
    accounts = []
    for account_id in ids:
        per_window = []
        for days in days_list:
            start = now - dt.timedelta(days=days)
            inside = [t for t in touches.get(account_id, {}).values() if t[0] > start]
            people: set[str] = set()
            for _, _, addresses in inside:
                people |= addresses
            kinds = [t[1] for t in inside]
            per_window.append(
                WindowCounts(
                    days,
                    emails=kinds.count(CommKind.EMAIL),
                    meetings=kinds.count(CommKind.MEETING),
                    calls=kinds.count(CommKind.CALL),
                    stakeholders=len(people),
                )
            )
        accounts.append(AccountEngagement(account_id, last.get(account_id), tuple(per_window)))
    return EngagementReport(
        now=now,
        windows=days_list,
        accounts=tuple(accounts),
        skipped=tuple(sorted(skipped.items())),
        fields=fields,
    )


def write_engagement_csv(report: EngagementReport, path: str | os.PathLike[str]) -> Path:
    """Write the report as CSV (header = the CRM field names; UTF-8; an empty cell for
    no last touch). Returns the path written."""
    p = Path(path)
    columns = report.columns()
    with p.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for record in report.to_records():
            writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return p


def write_engagement_json(report: EngagementReport, path: str | os.PathLike[str]) -> Path:
    """Write the report as a JSON array of records keyed by the CRM field names
    (``null`` for no last touch). Returns the path written."""
    p = Path(path)
    with p.open("w", encoding="utf-8") as handle:
        json.dump(report.to_records(), handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    return p
