"""`stakeholder.frames`: flat records of decisions, evidence, shared contacts and plans,
and their pandas / Arrow forms with the documented types."""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings

from stakeholder import (
    Account,
    Contact,
    MissingDependency,
    find_shared_contacts,
    frames,
    plan_shared_contact_sync,
    route_many,
)
from stakeholder.testing import Book, World
from stakeholder.testing import strategies as sst

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")

PANDAS_DTYPES = {
    frames.ColumnType.STRING: "string",
    frames.ColumnType.INT: "Int64",
    frames.ColumnType.FLOAT: "float64",
    frames.ColumnType.BOOL: "boolean",
    frames.ColumnType.TIMESTAMP: "datetime64[us, UTC]",
    frames.ColumnType.STRINGS: "object",
}


def _check_types(records: frames.Records) -> None:
    df = records.to_pandas()
    assert list(df.columns) == list(records.column_names)
    assert len(df) == len(records)
    for column in records.columns:
        assert str(df[column.name].dtype) == PANDAS_DTYPES[column.type], column
    table = records.to_arrow()
    assert table.num_rows == len(records)
    assert table.schema.names == list(records.column_names)
    assert all(column.doc for column in records.columns)


@settings(max_examples=25)
@given(sst.worlds(max_customers=4, max_communications=8))
def test_decision_and_evidence_rows(world: World) -> None:
    decisions = list(route_many(world.communications, world.index()))
    rows = frames.decision_records(decisions)
    evidence = frames.evidence_records(decisions)
    assert [r["comm_id"] for r in rows] == [d.comm_id for d in decisions]
    assert len(evidence) == sum(len(d.evidence) for d in decisions)
    assert Counter(r["comm_id"] for r in evidence) == Counter(
        {d.comm_id: len(d.evidence) for d in decisions if d.evidence}
    )
    for row, d in zip(rows, decisions, strict=True):
        assert row["account_ids"] == list(d.account_ids)
        assert row["primary_account_id"] == (d.account_ids[0] if d.account_ids else None)
        assert row["evidence_count"] == len(d.evidence)
    _check_types(rows)
    _check_types(evidence)
    df = rows.to_pandas()
    assert (df["occurred_at"].dt.tz is not None)
    assert df["comm_id"].is_unique


@settings(max_examples=25)
@given(sst.books(share_rate=0.5, phone_rate=0.3))
def test_shared_contact_rows_rank_each_group(book: Book) -> None:
    groups = find_shared_contacts(book.contacts)
    records = frames.shared_contact_records(groups)
    assert len(records) == sum(len(g.records) for g in groups)
    for g in groups:
        ranks = [r["rank"] for r in records if r["group_key"] == g.key]
        assert sorted(ranks) == list(range(1, len(g.records) + 1))
        primary = [r for r in records if r["group_key"] == g.key and r["is_primary"]]
        assert [r["contact_id"] for r in primary] == [g.primary.id]
    _check_types(records)


def test_plan_rows_cover_tag_changes_and_copies() -> None:
    accounts = [
        Account("corp", "Corp"),
        Account("elm", "Elm Park", parent_id="corp"),
        Account("oak", "Oak Lane", parent_id="corp"),
    ]
    contacts = [
        Contact("c1", "elm", email="jane@acme.com", deal_stage=3),
        Contact("c2", "oak", email="Jane@Acme.com", deal_stage=1),
    ]
    plan = plan_shared_contact_sync(
        accounts, contacts, corporate_account_id="corp", copy_to_corporate=True
    )
    records = frames.shared_plan_records(plan)
    assert len(records) == len(plan.tag_changes) + len(plan.copies) > 0
    assert {r["change"] for r in records} >= {"tag_change"}
    assert any("primary-shared-contact" in r["add_tags"] for r in records)
    _check_types(records)


def test_empty_results_give_typed_empty_tables() -> None:
    for records in (
        frames.decision_records([]),
        frames.evidence_records([]),
        frames.shared_contact_records([]),
    ):
        assert len(records) == 0
        _check_types(records)


def test_timestamps_are_utc() -> None:
    from stakeholder import RoutingDecision

    at = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    records = frames.decision_records([RoutingDecision("m1", "unrouted", occurred_at=at)])
    assert records.rows[0]["occurred_at"] == at
    assert records.rows[0]["occurred_at"].utcoffset() == dt.timedelta(0)  # type: ignore[union-attr]
    assert records.to_pandas()["occurred_at"][0].hour == 7


def test_reprs_are_short() -> None:
    records = frames.decision_records([])
    assert repr(records) == "Records(decision, 0 rows, 13 columns)"
    assert "<table" in records._repr_html_()


def test_missing_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now fails
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingDependency, match=r"stakeholder\[dataframe\]"):
        frames.decision_records([]).to_pandas()
    with pytest.raises(MissingDependency, match="pyarrow"):
        frames.to_arrow(frames.decision_records([]))


def test_crm_plan_rows() -> None:
    from stakeholder.crm import (
        AccountSyncPlan,
        AccountUpdate,
        FieldChange,
        ScheduledRemoval,
    )

    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    before, after = Account("a2", "Old Name"), Account("a2", "New Name")
    plan = AccountSyncPlan(
        now,
        dt.timedelta(days=30),
        add=[Account("a1", "Acme")],
        update=[AccountUpdate(before, after, (FieldChange("name", "Old Name", "New Name"),))],
        schedule_removal=[
            ScheduledRemoval("a3", "Gone", now, now + dt.timedelta(days=30), "left the list")
        ],
        upsert_contacts=[Contact("c1", "a1", email="jane@acme.com")],
        delete_contacts=["c9"],
    )
    records = frames.crm_plan_records(plan)
    assert [(r["action"], r["record_id"]) for r in records] == [
        ("add", "a1"), ("update", "a2"), ("schedule_removal", "a3"),
        ("upsert_contact", "c1"), ("delete_contact", "c9"),
    ]
    assert records.rows[1]["fields"] == ["name"]
    _check_types(records)


def test_public_names_are_documented() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "notebook.md").read_text("utf-8")
    for name in frames.__all__:
        assert name in text, name
