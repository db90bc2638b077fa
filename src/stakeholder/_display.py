"""Shared helpers for short reprs and notebook HTML (`_repr_html_`).

Every value that can hold many items keeps its `repr` under `REPR_LIMIT` characters and
says what it holds (counts, not contents); `_repr_html_` renders a small card: a title,
a few facts and at most `MAX_HTML_ROWS` rows of a table. All text is HTML-escaped here,
so callers pass plain values. Pure: no I/O, no optional dependency.
"""

from __future__ import annotations

import datetime as dt
import enum
import html
from collections.abc import Collection, Iterable, Mapping, Sequence, Sized
from typing import TYPE_CHECKING, Protocol

import attrs

if TYPE_CHECKING:  # annotations only: this module imports nothing of ours at run time
    from stakeholder import Contact, RoutingIndex, SharedContactGroup, SharedContacts

__all__ = [
    "MAX_HTML_ROWS",
    "REPR_LIMIT",
    "PrettyPrinter",
    "attrs_html",
    "attrs_repr",
    "brief",
    "count",
    "html_card",
    "html_table",
    "repr_pretty",
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


# ----------------------------------------------------------- generic attrs values
#
# A class opts in with two lines in its body (attrs keeps a hand-written `__repr__`):
#
#     __repr__ = attrs_repr
#     _repr_pretty_ = repr_pretty        # what hypothesis and IPython print
#
# and, for the values a person looks at, `_repr_html_ = attrs_html`.

_BRIEF = 60  # longest text shown for one field


def _is_empty_default(field: attrs.Attribute[object], value: object) -> bool:
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return isinstance(value, Sized) and len(value) == 0
    return default is not attrs.NOTHING and _equal(value, default)


def _equal(a: object, b: object) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - a value that cannot compare is simply shown
        return False


def brief(value: object, *, limit: int = _BRIEF) -> str:
    """A few characters that say what `value` is: short texts and small collections in
    full, anything larger as a count (`[12 × Contact]`, `{40,211 domains}`)."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= limit else text[: limit - 4] + "...'"
    if isinstance(value, Mapping):
        return f"{{{count(len(value), 'entry', 'entries')}}}"
    if isinstance(value, (list, tuple, frozenset, set)):
        return _brief_collection(value, limit)
    if attrs.has(type(value)) or hasattr(type(value), "_repr_html_"):
        text = repr(value)
        return text if len(text) <= max(limit, 100) else f"{type(value).__name__}(…)"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _brief_collection(value: Collection[object], limit: int) -> str:
    items = sorted(value, key=str) if isinstance(value, (frozenset, set)) else list(value)
    open_, close = ("{", "}") if isinstance(value, (frozenset, set)) else ("[", "]")
    if isinstance(value, tuple):
        open_, close = "(", ")"
    if len(items) <= 3:
        inner = ", ".join(brief(v, limit=limit) for v in items)
        if len(inner) <= limit:
            if isinstance(value, tuple) and len(items) == 1:
                inner += ","
            return f"{open_}{inner}{close}"
    kinds = {type(v).__name__ for v in items}
    if len(kinds) == 1 and attrs.has(type(items[0])):
        return f"{open_}{len(items):,} × {kinds.pop()}{close}"
    noun = "item" if len(items) == 1 else "items"
    return f"{open_}{len(items):,} {noun}{close}"


def _shown_fields(value: object) -> list[tuple[str, object]]:
    cls = type(value)
    if not attrs.has(cls):
        return []
    return [
        (f.name, getattr(value, f.name))
        for f in attrs.fields(cls)
        if f.repr and not _is_empty_default(f, getattr(value, f.name))
    ]


def attrs_repr(self: object) -> str:
    """`Name(field=..., ...)` of an attrs value: fields left at their default omitted,
    collections over three items shown as counts, at most `REPR_LIMIT` characters."""
    parts = [f"{name}={brief(value)}" for name, value in _shown_fields(self)]
    return short_repr(type(self).__name__, *parts)


def repr_pretty(self: object, p: PrettyPrinter, cycle: bool) -> None:
    """`_repr_pretty_`: IPython and hypothesis print the short repr (hypothesis would
    otherwise print every field of an attrs value in full)."""
    p.text(repr(self))


def _collection_rows(items: Sequence[object]) -> tuple[list[str], list[list[object]]]:
    """Columns and rows for a table of attrs values (their non-default fields)."""
    columns: list[str] = []
    for item in items[:MAX_HTML_ROWS]:
        for name, _ in _shown_fields(item):
            if name not in columns:
                columns.append(name)
    rows = [
        [brief(getattr(item, c), limit=40) if not isinstance(getattr(item, c), str)
         else getattr(item, c) for c in columns]
        for item in items[:MAX_HTML_ROWS]
    ]
    return columns, rows


def attrs_html(self: object) -> str:
    """`_repr_html_` of an attrs value: a card with its short fields, and a table of its
    largest collection of attrs values (first `MAX_HTML_ROWS` rows)."""
    facts: list[tuple[str, object]] = []
    biggest: tuple[str, Sequence[object]] | None = None
    for name, value in _shown_fields(self):
        if isinstance(value, (list, tuple)) and value and attrs.has(type(value[0])):
            if biggest is None or len(value) > len(biggest[1]):
                biggest = (name, value)
            facts.append((name, count(len(value), type(value[0]).__name__)))
        else:
            facts.append((name, brief(value, limit=120)))
    body = ""
    if biggest is not None:
        columns, rows = _collection_rows(biggest[1])
        body = f"<div style=\"margin-top:6px\">{html.escape(biggest[0])}:</div>" + html_table(
            columns, rows, total=len(biggest[1])
        )
    return html_card(type(self).__name__, facts, body=body)


# ------------------------------------------------------------- specific values


def _record(contact: Contact) -> str:
    return f"{contact.id}@{contact.account_id}"


def shared_group_repr(self: SharedContactGroup) -> str:
    """`SharedContactGroup`: the person, how many records in which accounts, the primary."""
    ids = self.account_ids
    accounts = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
    return short_repr(
        "SharedContactGroup", f"key={brief(self.key)}",
        f"{count(len(self.records), 'record')} in {count(len(ids), 'account')} ({accounts})",
        f"primary={_record(self.primary)}", f"match_on={brief(self.match_on)}",
    )


def shared_group_html(self: SharedContactGroup) -> str:
    """`SharedContactGroup` as a card: the records, best first, with their rank."""
    rows = [
        (rank, c.id, c.account_id, c.email, c.phone, c.name, "primary" if rank == 1 else "")
        for rank, c in enumerate(self.ranking.records, start=1)
    ]
    facts = [("person", self.key), ("decided by", self.ranking.decided_by or "-"),
             ("matched on", brief(self.match_on))]
    table = html_table(("rank", "record", "account", "email", "phone", "name", ""), rows)
    return html_card(f"Shared contact: {count(len(rows), 'record')}", facts, body=table)


def shared_contacts_repr(self: SharedContacts) -> str:
    """`SharedContacts` (a list of groups with a report): counts only."""
    return short_repr(
        "SharedContacts", count(len(self), "group"),
        count(sum(len(g.records) for g in self), "record"),
        f"{self.report.received} received", count(len(self.report.rejections), "rejection"),
    )


def shared_contacts_html(self: SharedContacts) -> str:
    """`SharedContacts` as a card: one row per person."""
    rows = [
        (g.key, len(g.records), ", ".join(g.account_ids), _record(g.primary),
         g.ranking.decided_by or "-")
        for g in self
    ]
    table = html_table(("person", "records", "accounts", "primary", "decided by"), rows)
    return html_card(f"Shared contacts: {count(len(rows), 'person', 'people')}", body=table)


def routing_index_html(self: RoutingIndex) -> str:
    """`RoutingIndex`: what it was built from."""
    facts = [
        ("accounts", len(self.accounts)),
        ("partners", brief(self.partner_ids)),
        ("internal domains", brief(self.internal_domains)),
        ("policy", brief(self.policy, limit=120)),
        ("rejected inputs", len(self.rejections)),
        ("summary", repr(self)),
    ]
    return html_card("RoutingIndex", facts)
