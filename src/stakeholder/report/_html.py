"""The report as one self-contained HTML file: Plotly charts with plotly.js inlined,
tables escaped, and a Content-Security-Policy that forbids every network fetch."""

from __future__ import annotations

import html
import importlib
from collections.abc import Mapping
from typing import Any

from stakeholder._display import count, html_table
from stakeholder._errors import MissingDependency
from stakeholder.report._data import ReportData, issue_kind

__all__ = ["render_html"]

#: No request may leave the page: scripts and styles are inline, images are data: URLs.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data:; font-src data:"
)
_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;
color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px}
.meta{color:#656d76;margin:0 0 16px}
.tiles{display:flex;gap:12px;flex-wrap:wrap}
.tile{border:1px solid #d0d7de;border-radius:8px;padding:10px 16px;min-width:110px}
.tile b{display:block;font-size:24px}
.empty{color:#656d76;font-style:italic}
table{font-size:13px}
"""
_STATUS_COLOURS = {
    "routed": "#2da44e", "ambiguous": "#bf8700", "unrouted": "#cf222e",
    "internal": "#8c959f", "rejected": "#6e7781",
}


def _plotly() -> tuple[Any, Any]:
    try:
        go = importlib.import_module("plotly.graph_objects")
        pio = importlib.import_module("plotly.io")
    except ImportError as exc:
        raise MissingDependency("stakeholder report", "report", "plotly") from exc
    return go, pio


def _whole_ticks(top: int) -> dict[str, object]:
    """Axis settings that label counts with whole numbers only."""
    return {"dtick": 1, "rangemode": "tozero"} if top <= 10 else {"tickformat": ",d"}


class _Charts:
    """Turns figures into HTML; the first one carries plotly.js, inline."""

    def __init__(self) -> None:
        self.go, self.pio = _plotly()
        self.first = True

    def html(self, figure: Any, div_id: str) -> str:
        figure.update_layout(
            template="plotly_white", height=340, margin={"l": 50, "r": 20, "t": 30, "b": 50},
            legend={"orientation": "h", "y": -0.2},
        )
        text: str = self.pio.to_html(
            figure, full_html=False, include_plotlyjs=self.first, div_id=div_id,
            config={"displaylogo": False, "displayModeBar": False, "responsive": True},
        )
        self.first = False
        return text

    def stacked(self, by_day: Mapping[str, Mapping[str, int]], div_id: str,
                colours: Mapping[str, str] | None = None) -> str:
        days = list(by_day)
        series = sorted({key for counts in by_day.values() for key in counts})
        figure = self.go.Figure(
            [
                self.go.Bar(
                    name=name, x=days, y=[by_day[d].get(name, 0) for d in days],
                    marker_color=(colours or {}).get(name),
                )
                for name in series
            ]
        )
        top = max((sum(c.values()) for c in by_day.values()), default=0)
        figure.update_layout(barmode="stack", yaxis_title="decisions", yaxis=_whole_ticks(top))
        return self.html(figure, div_id)

    def bars(self, counts: Mapping[str, int], div_id: str, axis: str) -> str:
        labels = list(counts)[::-1]  # largest at the top
        figure = self.go.Figure(
            [self.go.Bar(x=[counts[k] for k in labels], y=labels, orientation="h",
                         marker_color="#0969da")]
        )
        figure.update_layout(xaxis_title=axis, xaxis=_whole_ticks(max(counts.values())),
                             bargap=0.35, height=max(180, 30 * len(labels) + 100))
        return self.html(figure, div_id)


def _empty(what: str) -> str:
    return f'<p class="empty">{html.escape(what)}</p>'


def _tiles(data: ReportData) -> str:
    tiles = [("decisions", data.decisions), *sorted(data.totals.items())]
    tiles += [("accounts", data.accounts), ("contacts", data.contacts),
              ("sync issues", len(data.issues))]
    return '<div class="tiles">' + "".join(
        f'<div class="tile"><b>{n}</b>{html.escape(label)}</div>' for label, n in tiles
    ) + "</div>"


def _sections(data: ReportData, charts: _Charts) -> list[str]:
    none = "No decisions stored for this tenant."
    out = [
        '<h2 id="status">Decisions by status over time</h2>',
        charts.stacked(data.by_day_status, "chart-status", _STATUS_COLOURS)
        if data.by_day_status else _empty(none),
        '<h2 id="rule">Decisions by rule over time</h2>',
        charts.stacked(data.by_day_rule, "chart-rule") if data.by_day_rule else _empty(none),
        '<h2 id="findings">Top ambiguous and conflict domains, with their fix</h2>',
        html_table(
            ("domain", "finding", "accounts", "decisions", "fix"),
            [(f.domain, f.kind, f.accounts, f.decisions, f.fix) for f in data.findings],
            max_rows=len(data.findings),
        ) if data.findings else _empty("No ambiguous or conflicting domain."),
        '<h2 id="issues">Sync issues</h2>',
        html_table(
            ("domain", "kind", "accounts", "reason", "suggestion"),
            [(i.domain, issue_kind(i), i.account_ids, i.reason, i.suggestion)
             for i in data.issues],
            max_rows=len(data.issues),
        ) if data.issues else _empty("No sync issue."),
        '<h2 id="shared">Shared contacts by account</h2>',
    ]
    if data.shared_by_account:
        out.append(charts.bars(data.shared_by_account, "chart-shared", "people shared"))
    else:
        out.append(_empty("No contact appears in two accounts."))
    out.append('<h2 id="unrouted">Unrouted volume by domain</h2>')
    if data.unrouted_by_domain:
        out.append(charts.bars(data.unrouted_by_domain, "chart-unrouted", "unrouted decisions"))
    else:
        out.append(_empty("No unrouted decision with an address at a domain."))
    return out


def render_html(data: ReportData) -> str:
    """The whole report as one HTML document that needs no network to view."""
    charts = _Charts()
    body = "\n".join(_sections(data, charts))
    title = f"stakeholder report: {data.tenant}"
    meta = (
        f"Tenant {data.tenant!r}, generated {data.generated_at.isoformat(timespec='seconds')}: "
        f"{count(data.decisions, 'decision')}, {count(data.accounts, 'account')}, "
        f"{count(data.contacts, 'contact')}."
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>"
        f"<h1>{html.escape(title)}</h1><p class=\"meta\">{html.escape(meta)}</p>"
        f"{_tiles(data)}\n{body}\n</body></html>\n"
    )
