"""Flat records of the library's results, for pandas and Arrow.

Each `*_records` function turns results into `Records`: one plain row (a dict) per
item, with a fixed, documented set of typed columns, so an empty result still gives a
typed empty table. `Records.to_pandas()` / `to_arrow()` (or the free functions
`to_pandas` / `to_arrow`) import pandas / pyarrow only when called: install the
`dataframe` extra (`pip install 'stakeholder[dataframe]'`).

| `ColumnType` | pandas dtype | Arrow type | Python value in a row |
| --- | --- | --- | --- |
| `STRING` | `string` | `string` | `str` or `None` |
| `INT` | `Int64` | `int64` | `int` or `None` |
| `FLOAT` | `float64` | `float64` | `float` |
| `BOOL` | `boolean` | `bool` | `bool` |
| `TIMESTAMP` | `datetime64[us, UTC]` | `timestamp[us, tz=UTC]` | aware UTC `datetime` or `None` |
| `STRINGS` | `object` (lists of `str`) | `list<string>` | `list[str]` |
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs

from stakeholder._display import count, html_card, html_table, short_repr
from stakeholder._errors import MissingDependency

if TYPE_CHECKING:
    from stakeholder import (
        AccountSyncPlan,
        RoutingDecision,
        SharedContactGroup,
        SharedContactPlan,
    )

__all__ = [
    "CRM_PLAN_COLUMNS",
    "DECISION_COLUMNS",
    "EVIDENCE_COLUMNS",
    "PLAN_COLUMNS",
    "SHARED_CONTACT_COLUMNS",
    "Column",
    "ColumnType",
    "Records",
    "crm_plan_records",
    "decision_records",
    "evidence_records",
    "shared_contact_records",
    "shared_plan_records",
    "to_arrow",
    "to_pandas",
]

Row = Mapping[str, object]


class ColumnType(enum.StrEnum):
    """The type of a column (see the module's table for pandas and Arrow types)."""

    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    TIMESTAMP = "timestamp"
    STRINGS = "strings"


_PANDAS = {
    ColumnType.STRING: "string",
    ColumnType.INT: "Int64",
    ColumnType.FLOAT: "float64",
    ColumnType.BOOL: "boolean",
}


@attrs.frozen
class Column:
    """One column: its `name`, `type` and what it holds (`doc`)."""

    name: str
    type: ColumnType
    doc: str = ""


@attrs.frozen(repr=False)
class Records:
    """A flat table: `name` (what one row is), `columns` and `rows` (dicts keyed by
    column name). Iterate it for the rows; `len()` counts them."""

    name: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def to_pandas(self) -> Any:  # a pandas.DataFrame; pandas ships no type information
        """A `pandas.DataFrame` with the documented dtypes (needs the `dataframe` extra)."""
        return to_pandas(self)

    def to_arrow(self) -> Any:  # a pyarrow.Table; pyarrow ships no type information
        """A `pyarrow.Table` with the documented schema (needs the `dataframe` extra)."""
        return to_arrow(self)

    def __repr__(self) -> str:
        return short_repr(
            "Records", self.name, count(len(self.rows), "row"),
            count(len(self.columns), "column"),
        )

    def _repr_html_(self) -> str:
        names = self.column_names
        table = html_table(
            names, ([row[n] for n in names] for row in self.rows), total=len(self.rows)
        )
        return html_card(f"{self.name}: {count(len(self.rows), 'row')}", body=table)


def _import(module: str, feature: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(feature, "dataframe", module) from exc


def to_pandas(records: Records) -> Any:  # pandas.DataFrame (pandas ships no types)
    """`records` as a `pandas.DataFrame` with the documented dtypes; imports pandas."""
    pd = _import("pandas", "to_pandas()")
    data: dict[str, Any] = {}
    for column in records.columns:
        values = [row[column.name] for row in records.rows]
        if column.type is ColumnType.TIMESTAMP:
            data[column.name] = pd.Series(
                pd.to_datetime(values, utc=True), dtype="datetime64[us, UTC]"
            )
        elif column.type is ColumnType.STRINGS:
            lists = [list(cast(Iterable[str], v)) for v in values]
            data[column.name] = pd.Series(lists, dtype=object)
        else:
            data[column.name] = pd.Series(values, dtype=_PANDAS[column.type])
    return pd.DataFrame(data, columns=list(records.column_names))


def to_arrow(records: Records) -> Any:  # pyarrow.Table (pyarrow ships no types)
    """`records` as a `pyarrow.Table` with the documented schema; imports pyarrow."""
    pa = _import("pyarrow", "to_arrow()")
    types = {
        ColumnType.STRING: pa.string(),
        ColumnType.INT: pa.int64(),
        ColumnType.FLOAT: pa.float64(),
        ColumnType.BOOL: pa.bool_(),
        ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
        ColumnType.STRINGS: pa.list_(pa.string()),
    }
    schema = pa.schema([pa.field(c.name, types[c.type]) for c in records.columns])
    return pa.Table.from_pylist([dict(row) for row in records.rows], schema=schema)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(dt.UTC)


_STR, _INT, _FLOAT, _BOOL, _TIME, _LIST = (
    ColumnType.STRING, ColumnType.INT, ColumnType.FLOAT, ColumnType.BOOL, ColumnType.TIMESTAMP,
    ColumnType.STRINGS,
)

DECISION_COLUMNS = (
    Column("comm_id", _STR, "the communication's id"),
    Column("status", _STR, "routed, ambiguous, unrouted, internal or rejected"),
    Column("primary_account_id", _STR, "the first of account_ids, or null"),
    Column("account_ids", _LIST, "every account the communication goes to, primary first"),
    Column("candidates", _LIST, "the tied accounts of an ambiguous decision"),
    Column("rule", _STR, "the deciding rule"),
    Column("confidence", _FLOAT, "the rule's confidence, 0 to 1"),
    Column("occurred_at", _TIME, "when it happened, in UTC"),
    Column("thread_id", _STR, "the thread, or null"),
    Column("kind", _STR, "email, meeting or call"),
    Column("subject", _STR, "the subject line"),
    Column("reason", _STR, "why it was rejected, or a note"),
    Column("evidence_count", _INT, "how many evidence items the decision carries"),
)

EVIDENCE_COLUMNS = (
    Column("comm_id", _STR, "the decision's communication"),
    Column("position", _INT, "the evidence item's place in the decision, from 0"),
    Column("kind", _STR, "the EvidenceKind"),
    Column("strength", _STR, "strong, weak, none or set_aside"),
    Column("account_ids", _LIST, "the accounts it points at"),
    Column("address", _STR, "the participant's canonical address, or null"),
    Column("role", _STR, "the participant's role, or null"),
    Column("detail", _STR, "what the evidence says, in words"),
)


def decision_records(decisions: Iterable[RoutingDecision]) -> Records:
    """One row per routing decision (columns: `DECISION_COLUMNS`)."""
    rows = [
        {
            "comm_id": d.comm_id,
            "status": d.status.value,
            "primary_account_id": d.account_ids[0] if d.account_ids else None,
            "account_ids": list(d.account_ids),
            "candidates": list(d.candidates),
            "rule": d.rule,
            "confidence": float(d.confidence),
            "occurred_at": _utc(d.occurred_at),
            "thread_id": d.thread_id,
            "kind": d.kind.value,
            "subject": d.subject,
            "reason": d.reason,
            "evidence_count": len(d.evidence),
        }
        for d in decisions
    ]
    return Records("decision", DECISION_COLUMNS, tuple(rows))


def evidence_records(decisions: Iterable[RoutingDecision]) -> Records:
    """One row per evidence item of each decision (columns: `EVIDENCE_COLUMNS`)."""
    rows = [
        {
            "comm_id": d.comm_id,
            "position": i,
            "kind": e.kind.value,
            "strength": e.strength.value,
            "account_ids": list(e.account_ids),
            "address": e.address,
            "role": None if e.role is None else e.role.value,
            "detail": e.detail,
        }
        for d in decisions
        for i, e in enumerate(d.evidence)
    ]
    return Records("evidence", EVIDENCE_COLUMNS, tuple(rows))


SHARED_CONTACT_COLUMNS = (
    Column("group_key", _STR, "the person's key (smallest email, else smallest phone)"),
    Column("rank", _INT, "the record's place in the ranking: 1 is the primary"),
    Column("is_primary", _BOOL, "rank == 1"),
    Column("contact_id", _STR, "the contact record"),
    Column("account_id", _STR, "the record's account"),
    Column("email", _STR, "the record's canonical email, or null"),
    Column("phone", _STR, "the record's phone as given, or null"),
    Column("name", _STR, "the record's name, or null"),
    Column("decided_by", _STR, "the criterion that made the primary win, or null"),
    Column("match_on", _STR, "email, phone, either or both"),
    Column("group_size", _INT, "how many records the group holds"),
)


def shared_contact_records(groups: Iterable[SharedContactGroup]) -> Records:
    """One row per record of each shared-contact group, with the group key and the
    record's rank (columns: `SHARED_CONTACT_COLUMNS`)."""
    rows = []
    for g in groups:
        for rank, record in enumerate(g.ranking.records, start=1):
            rows.append(
                {
                    "group_key": g.key,
                    "rank": rank,
                    "is_primary": rank == 1,
                    "contact_id": record.id,
                    "account_id": record.account_id,
                    "email": None if record.email is None else str(record.email),
                    "phone": record.phone,
                    "name": record.name,
                    "decided_by": g.ranking.decided_by,
                    "match_on": g.match_on.value,
                    "group_size": len(g.records),
                }
            )
    return Records("shared contact record", SHARED_CONTACT_COLUMNS, tuple(rows))


PLAN_COLUMNS = (
    Column("change", _STR, "tag_change, or the corporate copy's action (create, update, remove)"),
    Column("contact_id", _STR, "the contact record changed or copied"),
    Column("account_id", _STR, "its account"),
    Column("group_key", _STR, "the shared person's key, or null"),
    Column("add_tags", _LIST, "tags to add, sorted"),
    Column("remove_tags", _LIST, "tags to remove, sorted"),
    Column("reason", _STR, "why, in words"),
)


def shared_plan_records(plan: SharedContactPlan) -> Records:
    """One row per change of a shared-contact plan: each tag change, then each
    corporate copy (columns: `PLAN_COLUMNS`)."""
    rows: list[Row] = [
        {
            "change": "tag_change",
            "contact_id": t.contact_id,
            "account_id": t.account_id,
            "group_key": None,
            "add_tags": sorted(t.add),
            "remove_tags": sorted(t.remove),
            "reason": t.reason,
        }
        for t in plan.tag_changes
    ]
    rows += [
        {
            "change": c.action.value,
            "contact_id": c.contact.id,
            "account_id": c.contact.account_id,
            "group_key": c.group_key,
            "add_tags": sorted(c.contact.tags),
            "remove_tags": [],
            "reason": c.reason,
        }
        for c in plan.copies
    ]
    return Records("plan change", PLAN_COLUMNS, tuple(rows))


CRM_PLAN_COLUMNS = (
    Column("action", _STR, "add, update, schedule_removal, cancel_removal, remove, "
           "upsert_contact or delete_contact"),
    Column("record_id", _STR, "the account or contact id"),
    Column("name", _STR, "the account's name, or null"),
    Column("fields", _LIST, "the fields an update changes"),
    Column("due", _TIME, "when a scheduled or cancelled removal is (was) due, or null"),
    Column("reason", _STR, "why, in words"),
)


def crm_plan_records(plan: AccountSyncPlan) -> Records:
    """One row per change of a CRM account-sync plan (columns: `CRM_PLAN_COLUMNS`)."""

    def row(action: str, record_id: str, name: str | None = None, *, fields: Iterable[str] = (),
            due: dt.datetime | None = None, reason: str = "") -> Row:
        return {"action": action, "record_id": record_id, "name": name,
                "fields": list(fields), "due": _utc(due), "reason": reason}

    rows = [row("add", a.id, a.name) for a in plan.add]
    rows += [row("update", u.after.id, u.after.name, fields=[c.field for c in u.changes])
             for u in plan.update]
    rows += [row("schedule_removal", s.account_id, s.name, due=s.due, reason=s.reason)
             for s in plan.schedule_removal]
    rows += [row("cancel_removal", c.account_id, c.name, due=c.was_due, reason=c.reason)
             for c in plan.cancel_removal]
    rows += [row("remove", r.account_id, r.name, due=r.due, reason=r.reason) for r in plan.remove]
    rows += [row("upsert_contact", c.id) for c in plan.upsert_contacts]
    rows += [row("delete_contact", contact_id) for contact_id in plan.delete_contacts]
    return Records("CRM plan change", CRM_PLAN_COLUMNS, tuple(rows))
