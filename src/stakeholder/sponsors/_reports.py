"""Reports as records (lists of plain dicts: `pandas.DataFrame(records)` reads them):
sponsor coverage gaps of key accounts and changes across accounts over a period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from stakeholder._model import Account
from stakeholder.sponsors._changes import ProfileUpdate
from stakeholder.sponsors._status import TrackingRecord, TrackingStatus

__all__ = ["changes_report", "coverage_gaps"]


def coverage_gaps(
    accounts: Iterable[Account],
    records: Iterable[TrackingRecord],
    *,
    key: Callable[[Account], bool] = lambda account: True,
) -> list[dict[str, Any]]:
    """One record per key account (those `key` keeps) with no Tracked sponsor, by id:
    its id, name, how many people are tracked in some other status, and which."""
    by_account: dict[str, list[TrackingRecord]] = {}
    for record in records:
        by_account.setdefault(record.account_id, []).append(record)
    out: list[dict[str, Any]] = []
    for account in sorted(accounts, key=lambda a: a.id):
        if not key(account):
            continue
        mine = by_account.get(account.id, [])
        if any(r.status is TrackingStatus.TRACKED for r in mine):
            continue
        statuses = sorted({r.status.value for r in mine})
        out.append({
            "account_id": account.id,
            "account_name": account.name,
            "tracked": 0,
            "other_records": len(mine),
            "other_statuses": ", ".join(statuses),
            "gap": "no sponsor is tracked" if not mine else "no sponsor is Tracked yet",
        })
    return out


def changes_report(
    updates: Iterable[ProfileUpdate],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    account_ids: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """The changes observed in [since, until) across accounts (or `account_ids`), one
    record each, ordered by observation time, account, person and field."""
    wanted = None if account_ids is None else set(account_ids)
    chosen = [
        u for u in updates
        if (since is None or u.observed_at >= since)
        and (until is None or u.observed_at < until)
        and (wanted is None or u.account_id in wanted)
    ]
    chosen.sort(key=lambda u: (u.observed_at, u.account_id, u.person_id, u.field.value, u.id))
    return [
        {
            "observed_at": u.observed_at.isoformat(),
            "account_id": u.account_id,
            "person_id": u.person_id,
            "field": u.field.value,
            "before": u.before,
            "after": u.after,
            "signal": u.signal.value,
            "opportunity_account_id": u.opportunity_account_id,
            "state": u.state.value,
            "update_id": u.id,
        }
        for u in chosen
    ]
