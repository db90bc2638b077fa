"""Record readers: accounts, contacts and overrides from CSV, JSONL and JSON."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stakeholder import (
    Account,
    AccountKind,
    AccountStatus,
    Contact,
    InputFileError,
    Rejection,
)
from stakeholder.ingest import ReadResult, read_accounts, read_contacts, read_overrides
from stakeholder.testing import strategies

ACCOUNT_COLUMNS = ["id", "name", "kind", "status", "parent_id", "domains", "aliases"]
CONTACT_COLUMNS = [
    "id", "account_id", "email", "phone", "name", "title", "created_at", "conversions",
    "first_conversion_at", "deal_stage", "tags",
]


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return path


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def reasons(result: ReadResult[Any]) -> dict[str | None, str]:
    return {r.record_id: r.reason for r in result.rejections}


GOOD_ACCOUNTS: list[dict[str, Any]] = [
    {"id": "a1", "name": "Acme", "kind": "customer", "status": "active",
     "domains": ["acme.com", "acme.co.uk"], "aliases": ["ACME Corp", "Acme Inc"]},
    {"id": "a2", "name": "Globex Paris", "kind": "customer", "parent_id": "a3",
     "domains": ["globex.com"]},
    {"id": "a3", "name": "Globex", "kind": "partner", "status": "churned"},
]
BAD_ACCOUNTS: list[tuple[dict[str, Any], str]] = [
    ({"id": "a1", "name": "Acme again"}, "duplicate id 'a1'"),
    ({"name": "No id"}, "missing id"),
    ({"id": "b2"}, "missing name"),
    ({"id": "b3", "name": "Vendor", "kind": "vendor"}, "bad kind 'vendor'"),
    ({"id": "b4", "name": "Gone", "status": "deleted"}, "bad status 'deleted'"),
    ({"id": "b5", "name": "IP", "domains": ["10.0.0.1"]}, "IP address"),
    ({"id": "b6", "name": "Self", "parent_id": "b6"}, "its own parent"),
]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "csv.gz", "jsonl.gz", "json"])
def test_accounts_good_rows_kept_bad_rows_rejected_with_reason(tmp_path: Path, fmt: str) -> None:
    rows = GOOD_ACCOUNTS + [row for row, _ in BAD_ACCOUNTS]
    path = _write(tmp_path / f"accounts.{fmt}", ACCOUNT_COLUMNS, rows)
    result = read_accounts(path)
    assert [a.id for a in result.items] == ["a1", "a2", "a3"]
    acme = result.items[0]
    assert acme.name == "Acme"
    assert acme.domains == {"acme.com", "acme.co.uk"}
    assert acme.aliases == {"ACME Corp", "Acme Inc"}
    assert result.items[1].parent_id == "a3"
    assert result.items[2].kind is AccountKind.PARTNER
    assert result.items[2].status is AccountStatus.CHURNED
    assert len(result.rejections) == len(BAD_ACCOUNTS)
    for rejection, (_, expected) in zip(result.rejections, BAD_ACCOUNTS, strict=True):
        assert expected in rejection.reason
        assert rejection.where.startswith(str(path) + ":")
    assert "first one is kept" in result.rejections[0].reason


def _write(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> Path:
    name = path.name
    if name.endswith(".gz"):
        inner = _write(path.with_suffix(""), columns, rows)
        path.write_bytes(gzip.compress(inner.read_bytes()))
        return path
    if name.endswith(".csv"):
        return write_csv(path, columns, rows)
    if name.endswith(".json"):
        path.write_text(json.dumps(rows), encoding="utf-8")
        return path
    return write_jsonl(path, rows)


def test_csv_domains_split_on_semicolons_commas_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        'id,name,domains,aliases\na1,Acme,"acme.com, ACME.org;acme.net  acme.io",Acme Inc; ACME\n',
        encoding="utf-8",
    )
    (account,) = read_accounts(path).items
    assert account.domains == {"acme.com", "acme.org", "acme.net", "acme.io"}
    assert account.aliases == {"Acme Inc", "ACME"}


def test_csv_header_is_case_and_space_insensitive_and_extra_columns_ignored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.csv"
    path.write_text("\ufeff ID , Name ,Website Notes\na1,Acme,ignored\n", encoding="utf-8")
    result = read_accounts(path)
    assert result.items == (Account(id="a1", name="Acme"),)
    assert result.rejections == ()


def test_empty_cells_mean_missing(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "id,account_id,email,phone,created_at,conversions,deal_stage,tags\nc1,a1,,,,,,\n",
        encoding="utf-8",
    )
    (contact,) = read_contacts(path).items
    assert contact.email is None
    assert contact.phone is None
    assert contact.created_at is None
    assert contact.conversions == 0
    assert contact.deal_stage is None
    assert contact.tags == frozenset()


GOOD_CONTACTS: list[dict[str, Any]] = [
    {"id": "c1", "account_id": "a1", "email": "Jane <Jane@Acme.com>", "phone": "+1 415 555 0100",
     "name": "Jane Doe", "title": "CTO", "created_at": "2024-01-02T10:00:00+02:00",
     "conversions": 3, "first_conversion_at": "2024-01-03", "deal_stage": 4,
     "tags": ["vip", "beta"]},
    {"id": "c2", "account_id": "a1", "email": "not an email", "created_at": "2024-01-02T10:00:00"},
]
BAD_CONTACTS: list[tuple[dict[str, Any], str]] = [
    ({"id": "c1", "account_id": "a1"}, "duplicate id 'c1'"),
    ({"account_id": "a1"}, "missing id"),
    ({"id": "d2"}, "missing account_id"),
    ({"id": "d3", "account_id": "zz"}, "unknown account 'zz'"),
    ({"id": "d4", "account_id": "a1", "created_at": "yesterday"}, "unparsable datetime"),
    ({"id": "d5", "account_id": "a1", "first_conversion_at": "2024-13-01"}, "unparsable datetime"),
    ({"id": "d6", "account_id": "a1", "conversions": "three"}, "bad integer in conversions"),
    ({"id": "d7", "account_id": "a1", "deal_stage": "2.5"}, "bad integer in deal_stage"),
    ({"id": "d8", "account_id": "a1", "conversions": -1}, "conversions must be >= 0"),
]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "ndjson", "csv.gz"])
def test_contacts_good_rows_kept_bad_rows_rejected_with_reason(tmp_path: Path, fmt: str) -> None:
    rows = GOOD_CONTACTS + [row for row, _ in BAD_CONTACTS]
    path = _write(tmp_path / f"contacts.{fmt}", CONTACT_COLUMNS, rows)
    result = read_contacts(path, known_account_ids=["a1", "a2"])
    assert [c.id for c in result.items] == ["c1", "c2"]
    jane, raw = result.items
    assert jane.email_address is not None
    assert str(jane.email_address) == "jane@acme.com"
    assert jane.name == "Jane Doe"
    assert jane.created_at == dt.datetime(2024, 1, 2, 8, tzinfo=dt.UTC)
    assert jane.first_conversion_at == dt.datetime(2024, 1, 3, tzinfo=dt.UTC)
    assert (jane.conversions, jane.deal_stage, jane.tags) == (3, 4, frozenset({"vip", "beta"}))
    # an unparsable email is kept as raw text; a naive datetime is UTC
    assert raw.email == "not an email"
    assert raw.email_error
    assert raw.created_at == dt.datetime(2024, 1, 2, 10, tzinfo=dt.UTC)
    assert len(result.rejections) == len(BAD_CONTACTS)
    for rejection, (_, expected) in zip(result.rejections, BAD_CONTACTS, strict=True):
        assert expected in rejection.reason, rejection


def test_unknown_accounts_are_only_checked_when_known_ids_are_given(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", [{"id": "c1", "account_id": "zz"}])
    assert len(read_contacts(path).items) == 1
    assert reasons(read_contacts(path, known_account_ids=set())) == {"c1": "unknown account 'zz'"}


def test_csv_and_jsonl_agree(tmp_path: Path) -> None:
    rows = GOOD_CONTACTS + [row for row, _ in BAD_CONTACTS]
    from_csv = read_contacts(write_csv(tmp_path / "c.csv", CONTACT_COLUMNS, rows))
    from_jsonl = read_contacts(write_jsonl(tmp_path / "c.jsonl", rows))
    assert from_csv.items == from_jsonl.items
    assert _kinds(from_csv) == _kinds(from_jsonl)
    accounts = GOOD_ACCOUNTS + [row for row, _ in BAD_ACCOUNTS]
    a_csv = read_accounts(write_csv(tmp_path / "a.csv", ACCOUNT_COLUMNS, accounts))
    a_jsonl = read_accounts(write_jsonl(tmp_path / "a.jsonl", accounts))
    assert a_csv.items == a_jsonl.items
    assert _kinds(a_csv) == _kinds(a_jsonl)


def _kinds(result: ReadResult[Any]) -> list[tuple[str | None, str]]:
    """(record id, reason without the file position of the first duplicate)."""
    return [(r.record_id, r.reason.split(" (first seen")[0]) for r in result.rejections]


@given(seed=st.integers(0, 2**32 - 1))
def test_row_order_matters_only_for_which_duplicate_is_first(seed: int) -> None:
    import tempfile

    rows = GOOD_ACCOUNTS + [row for row, _ in BAD_ACCOUNTS]
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    with tempfile.TemporaryDirectory() as tmp:
        base = read_accounts(write_jsonl(Path(tmp) / "a.jsonl", rows))
        other = read_accounts(write_jsonl(Path(tmp) / "b.jsonl", shuffled))
    first_a1 = next(r for r in shuffled if r.get("id") == "a1")
    assert {a.id for a in other.items} == {a.id for a in base.items}
    assert next(a for a in other.items if a.id == "a1").name == first_a1["name"]
    assert {a for a in other.items if a.id != "a1"} == {a for a in base.items if a.id != "a1"}
    assert len(other.rejections) == len(base.rejections)
    assert sorted(map(str, _kinds(other))) == sorted(map(str, _kinds(base)))


def test_hostile_values_are_rejections_not_exceptions(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [
        {"id": "x" * 10_000, "name": "Long id"},
        {"id": "n1", "name": "N" * 10_000},
        {"id": "a\x00b", "name": "NUL"},
        {"id": "q1", "name": "Robert'); DROP TABLE accounts;--"},
        {"id": "q2", "name": "Ctrl\x01\x02"},
        {"id": "i1", "name": "IDN", "domains": ["bücher.de"]},
        {"id": "l1", "name": "Look-alike", "domains": ["аpple.com"]},  # Cyrillic "а"
        {"id": True, "name": "bool id"},
        {"id": "t1", "name": ["list"]},
        {"id": "t2", "name": "Dict domains", "domains": {"a": 1}},
        {"id": 42, "name": "Integer id"},
    ]
    result = read_accounts(write_jsonl(tmp_path / "a.jsonl", rows))
    assert len(result.items) + len(result.rejections) == len(rows)
    by_id = {a.id: a for a in result.items}
    assert by_id["q1"].name == "Robert'); DROP TABLE accounts;--"
    assert by_id["i1"].domains == {"xn--bcher-kva.de"}
    assert by_id["42"].name == "Integer id"
    assert len(by_id["x" * 10_000].id) == 10_000
    rejected = {r.record_id: r.reason for r in result.rejections if r.record_id}
    reasons = [r.reason for r in result.rejections]
    assert "id contains a NUL character" in reasons
    assert "id must be text, got True" in reasons
    assert "look-alike" in rejected["l1"]
    assert rejected["t1"] == "name must be text, got list"
    assert rejected["t2"] == "domains must be a list of strings, got dict"
    for rejection in result.rejections:
        assert rejection.reason
        assert len(rejection.raw) <= 250


def test_malformed_csv_rows_are_rejected_and_line_numbers_follow_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        'id,name\na1,"two\nlines"\na2,"b"c\na3,' + "x" * 200_000 + '\na4,ok\na5,"open\n',
        encoding="utf-8",
    )
    result = read_accounts(path)
    assert [(a.id, a.name) for a in result.items] == [("a1", "two\nlines"), ("a4", "ok")]
    assert [r.where for r in result.rejections] == [f"{path}:4", f"{path}:5", f"{path}:7"]
    assert all(r.reason.startswith("unreadable CSV row") for r in result.rejections)


def test_csv_rows_with_too_many_cells_and_broken_json_are_rejected(tmp_path: Path) -> None:
    csv_path = tmp_path / "a.csv"
    csv_path.write_text("id,name\na1,Acme\na2,Two,extra\n\n  \na3,Three\n", encoding="utf-8")
    result = read_accounts(csv_path)
    assert [a.id for a in result.items] == ["a1", "a3"]
    (rejection,) = result.rejections
    assert "3 cells" in rejection.reason
    assert rejection.where == f"{csv_path}:3"
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"id": "a1", "name": "A"}\n{broken\n[1, 2]\n"text"\n\n', encoding="utf-8")
    result = read_accounts(jsonl)
    assert [a.id for a in result.items] == ["a1"]
    assert [r.where for r in result.rejections] == [f"{jsonl}:2", f"{jsonl}:3", f"{jsonl}:4"]
    assert "invalid JSON" in result.rejections[0].reason
    assert "expected a JSON object" in result.rejections[1].reason


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.csv", None, "no such file"),
        ("a.txt", b"id,name\n", "unknown extension"),
        ("a", b"id,name\n", "unknown extension"),
        ("empty.csv", b"", "empty file"),
        ("latin1.csv", "id,name\na1,Caf\u00e9\n".encode("latin-1"), "not UTF-8"),
        ("garbage.csv", b"id,name\n" + bytes(range(256)) * 4, "not UTF-8"),
        ("binary.csv", bytes(range(256)) * 4, "not UTF-8"),
        ("wide.csv", b"x" * 10_000 + b"\n", "lacks required column"),
        ("nocols.csv", b"identifier,title\n1,2\n", "lacks required column"),
        ("bad.csv.gz", b"\x1f\x8bnot really gzip", "corrupt gzip"),
        ("bad.json", b"{not json", "invalid JSON"),
        ("scalar.json", b"42", "expected a JSON array"),
    ],
)
def test_unusable_files_raise_input_file_error(
    tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError) as info:
        read_accounts(path)
    assert reason in info.value.reason
    assert len(info.value.reason) < 400
    assert str(info.value.path) == str(path)


def test_a_directory_is_not_a_record_file(tmp_path: Path) -> None:
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    with pytest.raises(InputFileError, match="directory"):
        read_contacts(folder)


def test_empty_jsonl_reads_as_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    assert read_accounts(path) == ReadResult((), ())


def test_read_result_explains_itself(tmp_path: Path) -> None:
    rows = GOOD_ACCOUNTS + [row for row, _ in BAD_ACCOUNTS]
    result = read_accounts(write_jsonl(tmp_path / "a.jsonl", rows))
    text = result.explain()
    assert text.startswith(f"{len(result.items)} read, {len(result.rejections)} rejected")
    assert all(r.reason in text for r in result.rejections)
    data = result.to_dict()
    assert data["read"] == len(result.items)
    assert data["rejections"] == [r.to_dict() for r in result.rejections]
    assert all(isinstance(r, Rejection) for r in result.rejections)


OVERRIDE_COLUMNS = ["account_ids", "author", "reason", "at", "comm_id", "thread_id"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_overrides(tmp_path: Path, fmt: str) -> None:
    rows = [
        {"account_ids": ["a1", "a2"], "author": "kim", "reason": "joint deal",
         "at": "2024-05-01T09:00:00Z", "comm_id": "m1"},
        {"account_ids": ["a3"], "author": "lee", "reason": "moved", "at": "2024-05-02",
         "thread_id": "t9"},
        {"account_ids": ["a1"], "author": "kim", "reason": "both", "at": "2024-05-01",
         "comm_id": "m1", "thread_id": "t1"},
        {"account_ids": ["a1"], "author": "kim", "reason": "neither", "at": "2024-05-01"},
        {"account_ids": [], "author": "kim", "reason": "no accounts", "at": "2024-05-01",
         "comm_id": "m2"},
        {"account_ids": ["a1"], "reason": "anonymous", "at": "2024-05-01", "comm_id": "m3"},
        {"account_ids": ["a1"], "author": "kim", "reason": "when?", "at": "soon",
         "comm_id": "m4"},
    ]
    path = _write(tmp_path / f"overrides.{fmt}", OVERRIDE_COLUMNS, rows)
    if fmt == "csv":  # CSV lists are ';'-separated by _write; check ',' too
        text = path.read_text(encoding="utf-8").replace("a1;a2", '"a1, a2"')
        path.write_text(text, encoding="utf-8")
    result = read_overrides(path)
    first, second = result.items
    assert first.account_ids == ("a1", "a2")
    assert first.comm_id == "m1"
    assert first.at == dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC)
    assert second.thread_id == "t9"
    assert second.at == dt.datetime(2024, 5, 2, tzinfo=dt.UTC)
    got = [r.reason for r in result.rejections]
    assert got[0] == got[1] == "an override needs exactly one of comm_id or thread_id"
    assert got[2] == "missing account_ids"
    assert got[3] == "missing author"
    assert "unparsable datetime" in got[4]


@pytest.mark.parametrize("path", [None, 5, "", "   ", "a\x00b.csv", b"accounts.csv"])
def test_what_is_not_a_path_is_an_input_file_error(path: object) -> None:
    with pytest.raises(InputFileError, match="not a file path"):
        read_accounts(path)  # type: ignore[arg-type]
    with pytest.raises(InputFileError, match="not a file path"):
        read_contacts(path)  # type: ignore[arg-type]


def account_row(account: Account) -> dict[str, Any]:
    return {
        "id": account.id, "name": account.name, "kind": account.kind.value,
        "status": account.status.value, "parent_id": account.parent_id,
        "domains": sorted(account.domains), "aliases": sorted(account.aliases),
    }


def contact_row(contact: Contact) -> dict[str, Any]:
    def when(value: dt.datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": contact.id, "account_id": contact.account_id,
        "email": None if contact.email is None else str(contact.email),
        "phone": contact.phone, "name": contact.name, "title": contact.title,
        "created_at": when(contact.created_at), "conversions": contact.conversions,
        "first_conversion_at": when(contact.first_conversion_at),
        "deal_stage": contact.deal_stage, "tags": sorted(contact.tags),
    }


def _unique(values: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for value in values:
        if value.id not in seen:
            seen.add(value.id)
            out.append(value)
    return out


@given(
    accounts=st.lists(strategies.accounts(), max_size=8).map(_unique),
    contacts=st.lists(strategies.contacts(), max_size=8).map(_unique),
)
def test_written_records_read_back_equal_from_csv_and_jsonl(
    accounts: list[Account], contacts: list[Contact]
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        a_rows = [account_row(a) for a in accounts]
        c_rows = [contact_row(c) for c in contacts]
        for fmt in ("csv", "jsonl"):
            a = read_accounts(_write(root / f"a.{fmt}", ACCOUNT_COLUMNS, a_rows))
            c = read_contacts(_write(root / f"c.{fmt}", CONTACT_COLUMNS, c_rows))
            assert (a.items, a.rejections) == (tuple(accounts), ())
            assert (c.items, c.rejections) == (tuple(contacts), ())
