"""Shared helpers for short reprs and notebook HTML (`_repr_html_`).

Every value that can hold many items keeps its `repr` under `REPR_LIMIT` characters and
says what it holds (counts, not contents); `_repr_html_` renders a small card: a title,
a few facts and at most `MAX_HTML_ROWS` rows of a table. All text is HTML-escaped here,
so callers pass plain values. Pure: no I/O, no optional dependency.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

__all__ = [
    "MAX_HTML_ROWS",
    "REPR_LIMIT",
    "PrettyPrinter",
    "count",
    "html_card",
    "html_table",
    "short_repr",
]

REPR_LIMIT = 300
MAX_HTML_ROWS = 20

_STYLE = (
    "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;"
    "border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:4px 0;"
    "display:inline-block;max-width:100%;overflow-x:auto;color:#1f2328;background:#fff"
)
_TABLE = "border-collapse:collapse;margin-top:6px"
_CELL = "border-bottom:1px solid #eaeef2;padding:2px 8px;text-align:left;vertical-align:top"


class PrettyPrinter(Protocol):
    """The part of IPython's / hypothesis's pretty printer a `_repr_pretty_` uses."""

    def text(self, obj: str) -> None: ...


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 account`, `3 accounts` (or the `plural` given)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def short_repr(name: str, *parts: str, limit: int = REPR_LIMIT) -> str:
    """`Name(part, part, ...)` cut to `limit` characters (ending `...)` when cut)."""
    text = f"{name}({', '.join(p for p in parts if p)})"
    return text if len(text) <= limit else text[: limit - 4] + "...)"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, frozenset, set)):
        items = sorted(value) if isinstance(value, (frozenset, set)) else value
        return html.escape(", ".join(str(v) for v in items))
    return html.escape(str(value))


def html_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    max_rows: int = MAX_HTML_ROWS,
    total: int | None = None,
) -> str:
    """An HTML table; every cell escaped; after `max_rows` rows, one line says how many
    more there are (`total` when the rows are a prefix of a longer sequence)."""
    head = "".join(f'<th style="{_CELL}">{html.escape(c)}</th>' for c in columns)
    body = []
    shown = 0
    for row in rows:
        if shown == max_rows:
            break
        body.append("<tr>" + "".join(f'<td style="{_CELL}">{_cell(v)}</td>' for v in row) + "</tr>")
        shown += 1
    more = (total if total is not None else shown) - shown
    tail = (
        f'<tr><td colspan="{len(columns)}" style="{_CELL};color:#656d76">'
        f"… {count(more, 'more row')}</td></tr>"
        if more > 0
        else ""
    )
    return (
        f'<table style="{_TABLE}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}{tail}</tbody></table>"
    )


def html_card(
    title: str,
    facts: Mapping[str, object] | Sequence[tuple[str, object]] = (),
    *,
    body: str = "",
) -> str:
    """A small bordered card: `title`, `facts` as `name: value` lines, then `body`
    (already HTML, e.g. from `html_table`)."""
    items = facts.items() if isinstance(facts, Mapping) else facts
    lines = "".join(
        f'<div><span style="color:#656d76">{html.escape(k)}:</span> {_cell(v)}</div>'
        for k, v in items
    )
    return (
        f'<div class="stakeholder" style="{_STYLE}">'
        f"<div style=\"font-weight:600;margin-bottom:4px\">{html.escape(title)}</div>"
        f"{lines}{body}</div>"
    )
