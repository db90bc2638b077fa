"""`stakeholder.report`: one self-contained HTML report of a tenant's routing.

`report_data(store, tenant, generated_at=...)` reads what the report needs from a store
(decisions, accounts, contacts, sync issues) and summarizes it (`summarize` does the
same from values); `render_html(data)` draws it with Plotly (the `report` extra), with
plotly.js inlined, so the file opens anywhere without a network. `write_report` does all
three. The command line is `stakeholder report --store URL --out report.html`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from stakeholder.report._data import DomainFinding, ReportData, summarize
from stakeholder.report._html import CSP, render_html
from stakeholder.storage import Store

__all__ = [
    "CSP",
    "DomainFinding",
    "ReportData",
    "render_html",
    "report_data",
    "summarize",
    "write_report",
]


def report_data(
    store: Store, tenant: str, *, generated_at: dt.datetime, top: int = 15
) -> ReportData:
    """Read a tenant's decisions, accounts, contacts and sync issues from `store` and
    summarize them (see `summarize`). `generated_at` is shown in the report."""
    return summarize(
        store.decisions.list(tenant),
        tenant=tenant,
        generated_at=generated_at,
        accounts=store.accounts.list(tenant),
        contacts=store.contacts.list(tenant),
        issues=store.sync_issues.list(tenant),
        top=top,
    )


def write_report(
    store: Store, tenant: str, out: str | Path, *, generated_at: dt.datetime, top: int = 15
) -> ReportData:
    """Write the HTML report of `tenant` to `out` (UTF-8) and return its numbers."""
    data = report_data(store, tenant, generated_at=generated_at, top=top)
    Path(out).write_text(render_html(data), encoding="utf-8")
    return data
